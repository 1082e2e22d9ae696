"""Every public name has a docstring: the API reference is generated from them.

Public names are each module's ``__all__`` (or, without one, the names it defines that do
not start with an underscore), and the public methods and properties of public classes;
a method may inherit its docstring from the class it overrides.
"""

from __future__ import annotations

import importlib
import inspect
from types import ModuleType

import pytest

PUBLIC_MODULES = [
    "chainrule",
    "chainrule.linalg",
    "chainrule.nn",
    "chainrule.optim",
    "chainrule.data",
    "chainrule.symbolic",
    "chainrule.fd",
    "chainrule.errors",
]


def public_names(module: ModuleType) -> list[str]:
    names = getattr(module, "__all__", None)
    if names is not None:
        return list(names)
    return [
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and getattr(value, "__module__", None) == module.__name__
    ]


def documented(value: object) -> bool:
    doc = value.__doc__ if isinstance(value, property) else inspect.getdoc(value)
    return bool(doc and doc.strip())


def undocumented(module: ModuleType) -> list[str]:
    """The public functions, classes and class members of ``module`` with no docstring."""
    missing: list[str] = []
    for name in public_names(module):
        value = getattr(module, name)
        if not (callable(value) or inspect.ismodule(value)):
            continue  # constants document themselves in the module's docstring
        if not documented(value):
            missing.append(name)
        if not inspect.isclass(value):
            continue
        for member in dir(value):
            raw = inspect.getattr_static(value, member)
            if member.startswith("_") or not (callable(raw) or isinstance(raw, property)):
                continue
            if not documented(raw if isinstance(raw, property) else getattr(value, member)):
                missing.append(f"{name}.{member}")
    return missing


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_every_public_name_has_a_docstring(module_name):
    module = importlib.import_module(module_name)
    assert documented(module), f"{module_name} has no module docstring"
    missing = undocumented(module)
    assert not missing, f"{module_name}: no docstring for " + ", ".join(missing)


def test_the_check_sees_a_missing_docstring():
    module = ModuleType("example")
    source = 'def f():\n    pass\n\nclass C:\n    "A class."\n    def m(self):\n        pass'
    exec(source, vars(module))
    assert undocumented(module) == ["f", "C.m"]
