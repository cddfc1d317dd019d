"""Blending maths that needs no torch: style weights, weighted style statistics, the alpha mix.

AdaIN is affine in the target statistics, so a blend of styles ``Σ_k w_k · AdaIN(c, s_k)`` (paper,
Sec. 7) is one AdaIN with the weighted mean and the weighted std; and the content/style trade-off
is ``α · t + (1 − α) · f(c)`` (Eq. 14). These functions work on NumPy arrays and torch tensors
alike (only arithmetic operators), so every backend and the training code share one definition.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, TypeVar

from adain.errors import UsageError

__all__ = [
    "DEFAULT_EPS",
    "adain_affine",
    "adain_mix",
    "check_alpha",
    "code_stats",
    "mix_alpha",
    "mix_stats",
    "normalize_weights",
    "pad_to_multiple",
]


#: variance epsilon of every channel statistic (instance normalisation's)
DEFAULT_EPS = 1e-5


A = TypeVar("A")


def check_alpha(alpha: float, name: str = "alpha") -> float:
    """``alpha`` as a float in [0, 1].

    Raises:
        UsageError: outside [0, 1] or not a number (``name`` is how the message calls it).
    """
    try:
        a = float(alpha)
    except (TypeError, ValueError):
        raise UsageError(f"{name} must be a number in [0, 1], got {alpha!r}") from None
    if not 0.0 <= a <= 1.0:
        raise UsageError(f"{name} must be in [0, 1], got {alpha}")
    return a


def normalize_weights(weights: Sequence[float] | Any, n: int) -> list[float]:
    """Validate blending weights and scale them to sum to one.

    Raises:
        UsageError: wrong count, non-finite or negative values, or a zero sum.
    """
    w = [float(v) for v in (weights.flatten().tolist() if hasattr(weights, "flatten") else weights)]
    if len(w) != n:
        raise UsageError(f"got {len(w)} style weights for {n} styles")
    if not all(math.isfinite(v) for v in w):
        raise UsageError(f"style weights must be finite, got {w}")
    if any(v < 0 for v in w):
        raise UsageError(f"style weights must be non-negative, got {w}")
    total = sum(w)
    if total <= 0 or not math.isfinite(total):
        raise UsageError(f"style weights must not sum to zero, got {w}")
    return [v / total for v in w]


def mix_stats(stats: Sequence[tuple[A, A]], weights: Sequence[float] | None = None) -> tuple[A, A]:
    """Weighted mean and weighted std of K styles' ``(mean, std)`` (equal weights by default)."""
    if len(stats) == 0:
        raise UsageError("at least one style is needed")
    w = normalize_weights([1.0] * len(stats) if weights is None else weights, len(stats))
    if len(stats) == 1:
        return stats[0]
    mean = sum(wi * m for wi, (m, _) in zip(w, stats))
    std = sum(wi * s for wi, (_, s) in zip(w, stats))
    return mean, std  # type: ignore[return-value]


def mix_alpha(target: A, code: A, alpha: float) -> A:
    """``α · target + (1 − α) · code`` (paper Eq. 14); ``target`` itself when ``α = 1``."""
    if alpha == 1.0:
        return target
    return alpha * target + (1.0 - alpha) * code  # type: ignore[operator, return-value]


# ----------------------------------------------------------------------------- NumPy codes
def pad_to_multiple(x: Any, multiple: int) -> Any:
    """Pad H and W of a NumPy array or a 4-D torch tensor (bottom/right) up to a multiple of
    ``multiple``, and to at least ``2·multiple`` (the deepest code then has at least 2×2 cells,
    which its reflection-padded convolutions need, so even a 1×1 image works): reflection, or
    replication for images too small to reflect. Crop the result back with ``[..., :H, :W]``."""
    h, w = x.shape[-2:]
    ph, pw = max((-h) % multiple, 2 * multiple - h), max((-w) % multiple, 2 * multiple - w)
    if not (ph or pw):
        return x
    reflect = ph < h and pw < w
    if not hasattr(x, "__array_interface__") and hasattr(x, "new_zeros"):  # a torch tensor
        import torch.nn.functional as F

        return F.pad(x, (0, pw, 0, ph), mode="reflect" if reflect else "replicate")
    import numpy as np

    width = [(0, 0)] * (x.ndim - 2) + [(0, ph), (0, pw)]
    return np.pad(x, width, mode="reflect" if reflect else "edge")


def code_stats(code: Any, eps: float = DEFAULT_EPS) -> tuple[Any, Any]:
    """Channel ``(mean, std)`` of a NumPy code ``(N, C, h, w)``, each ``(N, C, 1, 1)`` float32:
    biased variance + ``eps`` as :func:`adain.ops.stats.calc_mean_std`, sums in float64 (without
    a float64 copy of the code: a multi-level code holds 15× the relu4_1 values)."""
    import numpy as np

    c = np.asarray(code, dtype=np.float32)
    n, ch = c.shape[:2]
    flat = c.reshape(n, ch, -1)
    count = max(flat.shape[-1], 1)
    mean = flat.sum(-1, dtype=np.float64) / count
    square = np.einsum("ncx,ncx->nc", flat, flat, dtype=np.float64) / count
    std = np.sqrt(np.maximum(square - mean * mean, 0.0) + eps)
    return mean.astype(np.float32)[..., None, None], std.astype(np.float32)[..., None, None]


def adain_affine(mean: A, std: A, c_mean: A, c_std: A, alpha: Any = 1.0) -> tuple[A, A]:
    """``(gain, shift)`` per channel with ``code · gain + shift = α · AdaIN(code → (mean, std)) +
    (1 − α) · code``, for a code of statistics ``(c_mean, c_std)``: both terms are affine in the
    code, so AdaIN with the alpha mix is one multiply-add per value. NumPy or torch; ``alpha`` may
    be a tensor (a graph input: the mix is then always written out)."""
    scale = std / c_std  # type: ignore[operator]
    gain, shift = scale, mean - c_mean * scale  # type: ignore[operator]
    if not isinstance(alpha, (int, float)) or alpha != 1.0:
        gain, shift = alpha * gain + (1.0 - alpha), alpha * shift
    return gain, shift  # type: ignore[return-value]


def adain_mix(code: Any, mean: Any, std: Any, alpha: float) -> Any:
    """``α · AdaIN(code → (mean, std)) + (1 − α) · code`` for a NumPy code, float32 C-contiguous
    (:func:`adain_affine`: one multiply-add per value)."""
    import numpy as np

    code = np.asarray(code, dtype=np.float32)
    gain, shift = adain_affine(np.asarray(mean, np.float32), np.asarray(std, np.float32), *code_stats(code), alpha)
    out = code * np.asarray(gain, np.float32)
    out += np.asarray(shift, np.float32)
    return out
