"""The torch runtime: an :class:`~adain.nets.network.AdaINNet` on a torch device.

Convolutions run in the chosen precision under autocast (bf16 on CUDA GPUs and on CPUs that are
fast at it, see :mod:`adain.runtime.precision`); statistics and AdaIN always in float32. Channels-last
memory format is the default (faster convolutions on CPU and GPU, identical results up to
rounding).
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator

import numpy as np
import torch
from torch import Tensor

from adain.errors import UsageError
from adain.nets.names import model_bytes_per_pixel
from adain.nets.network import AdaINNet
from adain.runtime.base import Runtime, Stats
from adain.runtime.precision import resolve_precision_name

__all__ = ["DTYPES", "TorchRuntime", "resolve_device", "resolve_precision"]


DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``auto`` → CUDA if available, else MPS, else CPU; an unavailable explicit choice is an error."""
    if isinstance(device, torch.device):
        return device
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        dev = torch.device(device)
    except RuntimeError:
        raise UsageError(f"--device {device}: not a device (use auto, cpu, cuda, cuda:N or mps)") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise UsageError(f"--device {device}: no CUDA GPU is available (use --device cpu or auto)")
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise UsageError(f"--device {device}: MPS is not available on this machine")
    return dev


def resolve_precision(precision: str, device: torch.device) -> torch.dtype:
    """``auto`` → bf16 on CPUs fast at bf16 and on CUDA GPUs with bf16, else fp32."""
    if precision == "int8":
        raise UsageError("--precision int8 runs on the OpenVINO backend (--backend openvino, on a CPU), not torch")
    cuda_bf16 = device.type == "cuda" and torch.cuda.is_bf16_supported()
    return DTYPES[resolve_precision_name(precision, device.type, cuda_bf16)]


class TorchRuntime(Runtime):
    """Run an :class:`AdaINNet` with torch.

    Args:
        net: encoder + decoder.
        device: ``auto``, ``cpu``, ``cuda``, ``cuda:1``, ``mps`` or a ``torch.device``.
        precision: ``auto``, ``fp32``, ``bf16`` or ``fp16`` (convolutions only).
        channels_last: NHWC memory format.
        compile: ``torch.compile`` encoder and decoder (first call pays the compilation).
        prepare: move the network to the device/memory format and set eval mode. ``False`` uses
            it as it is (a module being trained, whose state must not change).
        label: the model, for messages.
    """

    backend = "torch"

    def __init__(
        self,
        net: AdaINNet,
        device: str | torch.device = "auto",
        precision: str = "auto",
        channels_last: bool = True,
        compile: bool = False,
        prepare: bool = True,
        label: str = "model",
    ) -> None:
        self.torch_device = resolve_device(device) if prepare else next(net.parameters()).device
        self.dtype = resolve_precision(precision, self.torch_device)
        self.precision = {v: k for k, v in DTYPES.items()}[self.dtype]
        self.device = str(self.torch_device)
        self.channels_last = channels_last
        self.net = net
        if prepare:
            net.to(self.torch_device).eval()
            if channels_last:
                net.to(memory_format=torch.channels_last)
        if compile:
            net.encoder.forward = torch.compile(net.encoder.forward, dynamic=True)  # type: ignore[method-assign]
            net.decoder.forward = torch.compile(net.decoder.forward, dynamic=True)  # type: ignore[method-assign]
        self.downsampling = net.downsampling
        self.label = label
        self.bytes_per_pixel = model_bytes_per_pixel(net.encoder.name, list(net.decoder.widths), net.code_stages[:-1])

    def torch_network(self) -> AdaINNet:
        return self.net

    # ------------------------------------------------------------------ plumbing
    def tensor(self, x: np.ndarray | Tensor) -> Tensor:
        if isinstance(x, np.ndarray):
            with warnings.catch_warnings():  # read-only inputs (shared image views): never written to
                warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
                x = torch.from_numpy(np.ascontiguousarray(x))
        t = x.to(self.torch_device)
        return t.contiguous(memory_format=torch.channels_last) if self.channels_last and t.dim() == 4 else t

    @staticmethod
    def array(t: Tensor) -> np.ndarray:
        return t.detach().float().cpu().contiguous().numpy()

    @contextlib.contextmanager
    def compute(self) -> Iterator[None]:
        with torch.inference_mode():
            if self.dtype == torch.float32:
                yield
            else:
                with torch.autocast(self.torch_device.type, dtype=self.dtype):
                    yield

    # ------------------------------------------------------------------ Runtime
    def style_stats(self, images: np.ndarray) -> Stats:
        with self.compute():
            mean, std = self.net.style_stats(self.tensor(images))
        return self.array(mean), self.array(std)

    def stylize(self, images: np.ndarray, mean: np.ndarray, std: np.ndarray, alpha: float) -> np.ndarray:
        with self.compute():
            return self.array(self.net.stylize(self.tensor(images), self.tensor(mean), self.tensor(std), alpha))

    def encode(self, images: np.ndarray) -> np.ndarray:
        with self.compute():
            return self.array(self.net.encode(self.tensor(images)))

    def decode(self, code: np.ndarray) -> np.ndarray:
        with self.compute():
            return self.array(self.net.decode(self.tensor(code)))
