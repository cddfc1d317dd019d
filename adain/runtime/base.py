"""Runtimes: where the networks run (torch, OpenVINO, ONNX Runtime), behind one small interface.

A :class:`Runtime` offers the four network calls the pipeline needs, on float32 NumPy arrays:

* ``style_stats(images)`` → the channel ``(mean, std)`` of the relu4_1 code, ``(N, C, 1, 1)``;
* ``stylize(images, mean, std, alpha)`` → images: encode, AdaIN to the given statistics, the alpha
  mix, decode — the whole common request in one call (one graph on OpenVINO/ONNX Runtime);
* ``encode(images)`` → code and ``decode(code)`` → images, for the requests that need maths
  between the two (masks, tiles, video smoothing).

Inputs must already be padded to a multiple of :attr:`Runtime.downsampling`; outputs are
unclamped float32. Device, precision and memory format are the runtime's business; nothing
above it knows which backend runs. This module imports neither torch nor a backend: the
factory :func:`make_runtime` imports only the one asked for.
"""

from __future__ import annotations

import importlib.util
from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from adain.errors import UsageError
from adain.runtime.hardware import nvidia_gpu_present

if TYPE_CHECKING:
    from adain.nets.network import AdaINNet

__all__ = ["BACKENDS", "Runtime", "Stats", "available_backends", "check_backend", "resolve_backend"]


Stats = tuple[np.ndarray, np.ndarray]


#: backend names accepted everywhere (``--backend``, ``backend=``)
BACKENDS = ("auto", "torch", "openvino", "onnxruntime")


class Runtime(ABC):
    """The network calls of AdaIN on one backend (see the module docstring)."""

    #: ``torch``, ``openvino`` or ``onnxruntime``
    backend: str
    #: the precision the convolutions run in: ``fp32``, ``bf16`` or ``fp16``
    precision: str
    #: ``cpu``, ``cuda:0``, …
    device: str
    #: total stride of the encoder (inputs are padded to a multiple of it)
    downsampling: int
    #: a directory private to this model and precision where results may be cached across runs
    #: (style statistics), or ``None`` (no cache: e.g. a network in memory that may change)
    cache_dir: Path | None = None
    #: the model, for messages (``small16x``, ``run.ckpt``)
    label: str = "model"
    #: the model's peak memory per input pixel in one pass (sizes automatic tiles)
    bytes_per_pixel: int = 984
    #: how much more a tiled image costs per tile pixel: tiles come in up to four shapes, and the
    #: buffers of each stay (graph runtimes keep them per shape: ≈ 1.5–2× on OpenVINO; torch's
    #: allocator keeps freed blocks of other sizes: ≈ 1.2×)
    tile_overhead: float = 1.25

    @abstractmethod
    def torch_network(self) -> AdaINNet:
        """The model as a torch :class:`~adain.nets.network.AdaINNet` (graph backends build it once,
        on the CPU), for what needs gradients or Lightning: the optimisation method, ``Trainer.predict``."""

    @abstractmethod
    def style_stats(self, images: np.ndarray) -> Stats:
        """``(N, 3, H, W)`` → ``(mean, std)``, each ``(N, C, 1, 1)`` float32."""

    @abstractmethod
    def stylize(self, images: np.ndarray, mean: np.ndarray, std: np.ndarray, alpha: float) -> np.ndarray:
        """``(N, 3, H, W)`` + target statistics ``(N or 1, C, 1, 1)`` → ``(N, 3, H, W)``."""

    @abstractmethod
    def encode(self, images: np.ndarray) -> np.ndarray:
        """``(N, 3, H, W)`` → code ``(N, C, H/d, W/d)``."""

    @abstractmethod
    def decode(self, code: np.ndarray) -> np.ndarray:
        """code ``(N, C, h, w)`` → ``(N, 3, h·d, w·d)``."""

    def describe(self) -> str:
        return f"{self.backend} {self.precision} on {self.device}"

    def warm_up(self) -> None:  # noqa: B027 - optional: most runtimes have nothing to prepare
        """Load and compile what a plain request runs, ahead of it (e.g. in a thread while inputs
        are decoded); a failure here is left for the request itself to report. No-op by default."""


def available_backends() -> list[str]:
    """The installed backends, without importing them."""
    names = {"torch": "torch", "openvino": "openvino", "onnxruntime": "onnxruntime"}
    return [b for b, mod in names.items() if importlib.util.find_spec(mod) is not None]


def check_backend(backend: str) -> str:
    """``backend`` if it is one of :data:`BACKENDS`, else a :class:`UsageError`."""
    if backend not in BACKENDS:
        raise UsageError(f"unknown backend {backend!r}; choose from {', '.join(BACKENDS)}")
    return backend


def resolve_backend(backend: str, device: str = "auto") -> str:
    """``auto`` → OpenVINO for CPU work when it is installed, torch for GPUs (or without OpenVINO).

    Raises:
        UsageError: unknown backend, a backend that is not installed, or a GPU device asked of a
            CPU-only backend.
    """
    check_backend(backend)
    installed = available_backends()
    wants_gpu = device not in ("auto", "cpu") or (device == "auto" and nvidia_gpu_present())
    if backend == "auto":
        if not wants_gpu and "openvino" in installed:
            return "openvino"
        return "torch"
    if backend not in installed:
        from adain.errors import EXTRAS

        extra = f' (pip install "adain[{EXTRAS[backend]}]")' if backend in EXTRAS else ""
        raise UsageError(f"--backend {backend}: the {backend} package is not installed{extra}")
    if backend != "torch" and device not in ("auto", "cpu"):
        raise UsageError(f"--backend {backend} runs on the CPU; use --device cpu (or --backend torch for {device})")
    return backend
