"""Public names that a package imports from its submodules on first use.

``import clustra`` (and ``clustra.metrics``, ``clustra.selection``,
``clustra.plot``) must stay cheap: numba, scikit-learn and matplotlib load
only when a name that needs them is first used. Each package lists its
names and where they live (:func:`by_module` writes the list module by module);
:func:`lazy_exports` makes the module-level
``__getattr__`` and ``__dir__`` that resolve them (PEP 562), caching each
in the package's namespace so that the lookup runs once.
"""

from __future__ import annotations

import importlib
import sys


def by_module(groups: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """``{name: module}`` from ``{module: names}``, in the order given."""
    return {name: module for module, names in groups.items() for name in names}


def lazy_exports(package: str, names: dict[str, str], submodules: tuple[str, ...] = ()):
    """``(__getattr__, __dir__)`` for ``package``.

    ``names`` maps a public name to the module defining it, relative to the
    package (``".internal"``); ``submodules`` are submodules reachable as
    attributes (``clustra.metrics``) before they have been imported.
    """

    def __getattr__(name: str):
        if name in names:
            value = getattr(importlib.import_module(names[name], package), name)
        elif name in submodules:
            value = importlib.import_module(f".{name}", package)
        else:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        namespace = vars(sys.modules[package])
        return sorted(set(namespace) | set(namespace.get("__all__", ())) | set(submodules))

    return __getattr__, __dir__
