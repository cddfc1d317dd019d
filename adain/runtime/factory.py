"""The runtime factory: imports only the backend asked for."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from adain.runtime.base import Runtime, resolve_backend

if TYPE_CHECKING:
    from adain.weights.source import ModelSource

__all__ = ["make_runtime"]


def make_runtime(
    source: ModelSource,
    backend: str = "auto",
    device: str = "auto",
    precision: str = "auto",
    channels_last: bool = True,
    compile: bool = False,
    verbose: bool = True,
    calibration: str | os.PathLike[str] | None = None,
) -> Runtime:
    """A runtime for a model (see :class:`adain.weights.source.ModelSource`) on the chosen backend.

    ``verbose``: say on stderr when a model is converted for a graph backend (first run only).
    ``calibration``: a folder of images to calibrate ``precision="int8"`` on (default: the
    package's synthetic set; see :mod:`adain.runtime.quantize`).
    """
    name = resolve_backend(backend, device)
    if name == "torch":
        from adain.runtime.torch_backend import TorchRuntime

        return TorchRuntime(
            source.build(), device, precision, channels_last=channels_last, compile=compile, label=source.label
        )
    from adain.runtime.graph_backend import GraphRuntime

    return GraphRuntime(source, name, precision, announce=verbose, calibration=calibration)
