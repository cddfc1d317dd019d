"""Lazy re-exports (PEP 562): a package names what it offers without importing it.

``import adain`` and the command-line fast path must not import torch until something that needs
it is used, so the packages whose modules differ in cost (:mod:`adain.ops`, :mod:`adain.weights`,
:mod:`adain.runtime`, :mod:`adain.methods`) export their names through :func:`lazy_exports`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str,
    exports: Mapping[str, str],
    namespace: dict[str, Any],
    extra: Iterable[str] = (),
) -> tuple[list[str], Callable[[str], Any], Callable[[], list[str]]]:
    """``__all__``, ``__getattr__`` and ``__dir__`` for ``package``.

    ``exports`` maps each submodule (relative to ``package``) to the public names it defines
    (separated by spaces); a name is imported on first use and then kept in ``namespace`` (the package's globals).
    ``extra`` names what the package defines itself (listed in ``__all__`` only).

    Example::

        __all__, __getattr__, __dir__ = lazy_exports(__name__, {"core": "Pipeline"}, globals())
    """
    extra = tuple(extra)
    where = {name: module for module, names in exports.items() for name in names.split()}

    def __getattr__(name: str) -> Any:
        if name in where:
            value = getattr(importlib.import_module(f"{package}.{where[name]}"), name)
            namespace[name] = value
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted({*where, *extra, *(k for k in namespace if not k.startswith("_"))})

    return sorted([*where, *extra]), __getattr__, __dir__
