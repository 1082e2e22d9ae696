"""Optional packages: import one, or fail with one line naming the extra that installs it.

Layer: bottom (imports chainrule.errors only). Every command and function that needs an
optional package calls :func:`require` before doing any work, so a plain ``pip install
chainrule`` never ends in a traceback halfway through a run.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from .errors import MissingExtraError

#: The extra (``pyproject.toml``'s optional-dependencies) that installs each optional package.
EXTRA_OF = {
    "click": "cli",
    "rich": "cli",
    "matplotlib": "cli",
    "sklearn": "datasets",
    "sympy": "sympy",
    "dask": "distributed",
    "distributed": "distributed",
    "numba": "jit",
    "cupy": "gpu",
    "array_api_compat": "gpu",
    "starlette": "web",
    "uvicorn": "web",
}
_DISTRIBUTION = {
    "sklearn": "scikit-learn",
    "cupy": "cupy-cuda12x",
    "array_api_compat": "array-api-compat",
}


def install_hint(extra: str) -> str:
    """The command that installs ``extra``, quoted for the shell: pip install 'chainrule[cli]'."""
    return f"pip install 'chainrule[{extra}]'"


def require(module: str, purpose: str) -> ModuleType:
    """Import ``module`` (an optional package), or raise MissingExtraError naming its extra.

    ``purpose`` says who needs it, e.g. ``"steps.plot"``:

    >>> require("numpy", "the tests").__name__
    'numpy'
    """
    top = module.partition(".")[0]
    try:
        return importlib.import_module(module)
    except ImportError as error:
        package = _DISTRIBUTION.get(top, top)
        missing = (error.name or top).partition(".")[0]
        why = "is not installed" if missing == top else f"cannot be imported ({error})"
        raise MissingExtraError(
            f"{purpose} needs {package}, which {why}: {install_hint(EXTRA_OF[top])}", name=top
        ) from None
