"""``python -m chainrule``: the same as the ``chainrule`` command.

Layer: cli.
"""

from .cli import main

if __name__ == "__main__":
    main(prog_name="chainrule")
