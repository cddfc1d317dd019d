"""How a model runs, as one value: :class:`RunConfig`."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Union

from adain._fields import replace_known
from adain.runtime.base import check_backend
from adain.runtime.precision import check_precision

__all__ = ["RunConfig"]


@dataclass(frozen=True)
class RunConfig:
    """Where and how a model runs; checked when made.

    Attributes:
        backend: ``auto`` (OpenVINO for CPU work when installed, torch for GPUs), ``torch``,
            ``openvino`` or ``onnxruntime``.
        device: ``auto``, ``cpu``, ``cuda``, ``cuda:1``, ``mps``.
        precision: ``auto`` (bf16 on CUDA GPUs and on CPUs that are fast at it), ``fp32``,
            ``bf16``, ``fp16`` or ``int8`` (graph backends); statistics and AdaIN stay fp32.
        channels_last: NHWC memory format (torch).
        compile: ``torch.compile`` encoder and decoder (torch).
        calibration: a folder of images to calibrate ``int8`` on (default: the package's
            synthetic set; :mod:`adain.runtime.quantize`).
        verbose: say on stderr when a model is converted for a graph backend (first run only).
    """

    backend: str = "auto"
    device: str = "auto"
    precision: str = "auto"
    channels_last: bool = True
    compile: bool = False
    calibration: Union[str, os.PathLike[str], None] = None
    verbose: bool = True

    def __post_init__(self) -> None:
        check_backend(self.backend)
        check_precision(self.precision)
        if not isinstance(self.device, str):  # a torch.device
            object.__setattr__(self, "device", str(self.device))

    @classmethod
    def make(cls, run: RunConfig | None = None, **fields: Any) -> RunConfig:
        """``run`` (default: the defaults) with ``fields`` changed; an unknown name is refused."""
        return replace_known(run or cls(), "run option", fields)
