"""The runtime factory: imports only the backend asked for."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from adain.runtime.base import Runtime, resolve_backend
from adain.runtime.config import RunConfig

if TYPE_CHECKING:
    from adain.weights.source import ModelSource

__all__ = ["make_runtime"]


def make_runtime(source: ModelSource, run: RunConfig | None = None, **fields: Any) -> Runtime:
    """A runtime for a model (see :class:`adain.weights.source.ModelSource`) as ``run`` says
    (default: :class:`~adain.runtime.config.RunConfig`'s defaults) with ``fields`` changed
    (``backend="torch"``, ``precision="fp32"``, …)."""
    r = RunConfig.make(run, **fields)
    name = resolve_backend(r.backend, r.device)
    if name == "torch":
        from adain.runtime.torch_backend import TorchRuntime

        return TorchRuntime(
            source.build(), r.device, r.precision, channels_last=r.channels_last, compile=r.compile, label=source.label
        )
    from adain.runtime.graph_backend import GraphRuntime

    return GraphRuntime(source, name, r.precision, announce=r.verbose, calibration=r.calibration)
