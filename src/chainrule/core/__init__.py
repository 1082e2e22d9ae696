"""The engine core: primitive registry, grad mode, array backends, and the reverse and forward
sweeps.

Layer: core. Imports nothing else from chainrule but its errors and the optional-package
helper (chainrule.extras), which the array backends use to name the ``gpu`` extra.
"""
