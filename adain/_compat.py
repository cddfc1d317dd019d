"""Module paths of the flat layout (0.1), kept importable for one release and marked deprecated.

``adain/`` used to be 31 flat modules; they now live in the layer subpackages. ``import
adain.grids`` (and every other old path below) still works through a meta-path finder installed
by ``adain/__init__.py``: the old name becomes a module whose attributes are looked up, in order,
in the modules that hold them now, with a :class:`DeprecationWarning` naming the new home.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types
import warnings
from collections.abc import Sequence
from typing import Any

__all__ = ["MOVED", "install"]


#: old module (under ``adain.``) → the modules that now hold its names
MOVED: dict[str, tuple[str, ...]] = {
    "callbacks": ("adain.training.callbacks",),
    "checkpoint": ("adain.weights.loading",),
    "datamodule": ("adain.training.data",),
    "decoder": ("adain.nets.decoder",),
    "discriminator": ("adain.nets.discriminator",),
    "encoder": ("adain.nets.encoder",),
    "evaluate": ("adain.cli.evaluate", "adain.methods.evaluation"),
    "export": ("adain.cli.export",),
    "graphs": ("adain.runtime.graph_backend", "adain.runtime.onnx_export", "adain.weights.source"),
    "grids": ("adain.methods.grids",),
    "hardware": ("adain.runtime.hardware", "adain.runtime.precision"),
    "inference": ("adain.methods.stylizer", "adain.runtime.torch_backend"),
    "lit_module": ("adain.training.module", "adain.weights.loading"),
    "mixing": ("adain.ops.mixing",),
    "model": ("adain.nets.network", "adain.weights.loading", "adain.weights.registry"),
    "optimize": ("adain.methods.gatys",),
    "optimize_options": ("adain.methods.gatys.options", "adain.cli.options"),
    "predict": ("adain.methods.predict",),
    "runtime_torch": ("adain.runtime.torch_backend",),
    "studio": ("adain.cli.studio",),
    "tiling": ("adain.pipeline.tiling",),
    "train_cli": ("adain.cli.train", "adain.runtime.precision"),
    "video": ("adain.methods.video",),
}


def _moved_module(name: str, targets: Sequence[str]) -> types.ModuleType:
    module = types.ModuleType(name, f"Deprecated alias of {', '.join(targets)}.")

    def __getattr__(attr: str) -> Any:
        for target in targets:
            mod = importlib.import_module(target)
            if hasattr(mod, attr):
                return getattr(mod, attr)
        raise AttributeError(f"module {name!r} has no attribute {attr!r} (it moved to {', '.join(targets)})")

    module.__getattr__ = __getattr__  # type: ignore[method-assign]
    return module


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        old = fullname.removeprefix("adain.")
        if fullname.startswith("adain.") and old in MOVED:
            return importlib.machinery.ModuleSpec(fullname, self)
        return None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        old = spec.name.removeprefix("adain.")
        warnings.warn(
            f"{spec.name} is deprecated and goes in the next release; use {MOVED[old][0]}",
            DeprecationWarning,
            stacklevel=3,
        )
        return _moved_module(spec.name, MOVED[old])

    def exec_module(self, module: types.ModuleType) -> None:
        pass


def install() -> None:
    """Make the old module paths importable (idempotent)."""
    if not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.append(_Finder())
