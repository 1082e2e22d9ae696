"""The engine core: primitive registry, grad mode, and the reverse and forward sweeps.

Layer: core. Imports nothing else from chainrule.
"""
