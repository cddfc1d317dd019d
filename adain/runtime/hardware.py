"""What the machine can do fast, decided without importing torch.

The CPUs this project runs on differ: AVX2-only CPUs emulate bf16 convolutions (10-100x slower
than fp32), CPUs with AVX512-BF16 or AMX run them about twice as fast as fp32. ``auto`` precision
must pick per machine, and tests must be able to simulate the other kind of CPU: the flags come
from ``/proc/cpuinfo`` unless ``$ADAIN_CPU_FLAGS`` overrides them (space-separated, e.g.
``"avx2"`` or ``"avx2 avx512_bf16"``), which is how the suite exercises both outcomes of ``auto``
on every machine.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from functools import lru_cache
from pathlib import Path

__all__ = ["cpu_flags", "cpu_has_fast_bf16", "cpu_has_fast_int8", "keep_freed_memory", "nvidia_gpu_present"]


_FAST_BF16_FLAGS = frozenset({"amx_bf16", "avx512_bf16"})

#: int8 dot products: AVX2 (vpmaddubsw), VNNI (AVX-512 or AVX), AMX tiles
_FAST_INT8_FLAGS = frozenset({"avx2", "avx512_vnni", "avx_vnni", "amx_int8"})


@lru_cache(maxsize=1)
def _proc_cpu_flags() -> frozenset[str]:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags (``$ADAIN_CPU_FLAGS`` wins over ``/proc/cpuinfo``)."""
    override = os.environ.get("ADAIN_CPU_FLAGS")
    if override is not None:
        return frozenset(override.replace(",", " ").split())
    return _proc_cpu_flags()


def cpu_has_fast_bf16() -> bool:
    """True on x86 CPUs with AMX-BF16 or AVX512-BF16, where bf16 convolutions beat fp32."""
    return bool(cpu_flags() & _FAST_BF16_FLAGS)


def cpu_has_fast_int8() -> bool:
    """True on x86 CPUs with int8 dot-product instructions (AVX2 and up), where OpenVINO's int8
    convolutions beat fp32 (about 2.5× on AVX2, more with VNNI or AMX)."""
    return bool(cpu_flags() & _FAST_INT8_FLAGS)


def nvidia_gpu_present() -> bool:
    """An NVIDIA driver is loaded (checked without importing torch or CUDA)."""
    return Path("/proc/driver/nvidia/version").exists()


# glibc mallopt(3) parameters
_M_TRIM_THRESHOLD = -1


_M_MMAP_MAX = -4


def keep_freed_memory() -> bool:
    """Let glibc's malloc keep freed memory for reuse instead of returning it to the kernel.

    PyTorch on CPU has no caching allocator: every large tensor is a fresh ``mmap`` whose pages
    the kernel zero-fills on first touch, and is unmapped again when freed. On a training step
    (hundreds of 30–130 MB activations) that page-faulting cost more than the arithmetic of
    every element-wise op (an out-of-place ReLU of 33 MB: 15 ms; into reused memory: 2.5 ms).
    With ``mmap`` disabled for large blocks and a high trim threshold, freed blocks stay in the
    heap and the next step reuses them. The process keeps its peak memory instead of returning
    it between steps — right for a training or batch job, which is where this is called.

    Returns True when applied; False (no change) off glibc (macOS, Windows, musl) or when
    ``ADAIN_MALLOC=default`` asks to leave the allocator alone.
    """
    if os.environ.get("ADAIN_MALLOC", "") == "default" or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_MMAP_MAX, 0)) and bool(mallopt(_M_TRIM_THRESHOLD, 2**31 - 1))
