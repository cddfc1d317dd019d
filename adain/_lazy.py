"""Lazy re-exports (PEP 562): a package names what it offers without importing it.

``import adain`` and the command-line fast path must not import torch until something that needs
it is used, so the packages whose modules differ in cost (:mod:`adain.ops`, :mod:`adain.weights`,
:mod:`adain.runtime`, :mod:`adain.methods`) export their names through :func:`lazy_exports`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, exports: Mapping[str, str], namespace: dict[str, Any]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``: ``exports`` maps each public name to the
    submodule (relative to ``package``) that defines it; a name is imported on first use and then
    kept in ``namespace`` (the package's globals).

    Example::

        __getattr__, __dir__ = lazy_exports(__name__, {"Pipeline": "core"}, globals())
    """

    def __getattr__(name: str) -> Any:
        if name in exports:
            value = getattr(importlib.import_module(f"{package}.{exports[name]}"), name)
            namespace[name] = value
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted({*exports, *(k for k in namespace if not k.startswith("_"))})

    return __getattr__, __dir__
