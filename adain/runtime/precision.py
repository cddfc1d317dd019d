"""The one precision resolver: what ``auto`` means on this machine, for inference and training.

AVX2-only CPUs emulate bf16 convolutions (10-100x slower than fp32); CPUs with AVX512-BF16 or
AMX and CUDA GPUs with bf16 run them about twice as fast. Every backend and the trainer ask here.
"""

from __future__ import annotations

from adain.errors import UsageError
from adain.runtime.hardware import cpu_has_fast_bf16, nvidia_gpu_present

__all__ = ["PRECISIONS", "check_precision", "default_precision", "resolve_precision_name"]


#: precision names accepted everywhere (``--precision``, ``precision=``); ``int8`` runs on the
#: OpenVINO backend only (see :mod:`adain.runtime.quantize`)
PRECISIONS = ("auto", "fp32", "bf16", "fp16", "int8")


def check_precision(precision: str) -> str:
    """``precision`` if it is one of :data:`PRECISIONS`, else a :class:`UsageError`."""
    if precision not in PRECISIONS:
        raise UsageError(f"unknown precision {precision!r}; choose from {', '.join(PRECISIONS)}")
    return precision


def resolve_precision_name(precision: str, device_type: str, cuda_bf16: bool = True) -> str:
    """``auto`` → ``bf16`` on CUDA GPUs with bf16 and on CPUs fast at bf16, else ``fp32``.

    Args:
        precision: one of :data:`PRECISIONS`.
        device_type: ``cpu``, ``cuda`` or ``mps``.
        cuda_bf16: whether the CUDA device supports bf16.

    Raises:
        UsageError: unknown precision.
    """
    check_precision(precision)
    if precision != "auto":
        return precision
    if device_type == "cuda" and cuda_bf16:
        return "bf16"
    if device_type == "cpu" and cpu_has_fast_bf16():
        return "bf16"
    return "fp32"


def default_precision() -> str:
    """Trainer precision for this machine (:func:`resolve_precision_name` of ``auto`` in
    Lightning's names): ``bf16-mixed`` on CUDA GPUs with bf16 and on CPUs with AMX/AVX512-BF16
    (about 2× faster there), ``32-true`` elsewhere (AVX2-only CPUs emulate bf16 convolutions,
    10–100× slower than fp32)."""
    device_type, cuda_bf16 = "cpu", False
    if nvidia_gpu_present():
        import torch

        if torch.cuda.is_available():
            device_type, cuda_bf16 = "cuda", torch.cuda.is_bf16_supported()
    return {"bf16": "bf16-mixed", "fp16": "16-mixed"}.get(
        resolve_precision_name("auto", device_type, cuda_bf16), "32-true"
    )
