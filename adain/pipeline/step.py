"""The maths of the one step around the networks: padding to the encoder's stride, and the AdaIN
target of a code (blends, masks, given content statistics) mixed with the code by alpha.

Arrays are float32 NumPy and nothing here imports torch: the graph runtimes (OpenVINO, ONNX
Runtime) run every request without it. The definitions are the torch ops' (:func:`adain.ops.stats.blend_stats`,
:func:`adain.ops.masks.masked_adain`, :func:`adain.ops.masks.resize_masks`; tested equal).
:func:`pad_to_multiple` and :func:`code_stats` are :mod:`adain.ops.mixing`'s.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from adain.errors import UsageError
from adain.ops.mixing import DEFAULT_EPS, adain_affine, code_stats, mix_alpha, mix_stats, pad_to_multiple
from adain.runtime.base import Stats

__all__ = ["adain_target", "code_stats", "pad_to_multiple", "resize_masks_np"]


def _area_axis(x: np.ndarray, axis: int, out: int) -> np.ndarray:
    """Adaptive average pooling along ``axis`` (torch's ``area``: window ``[⌊i·n/out⌋, ⌈(i+1)·n/out⌉)``)."""
    n = x.shape[axis]
    i = np.arange(out)
    start, end = (i * n) // out, -((-(i + 1) * n) // out)
    csum = np.concatenate([np.zeros_like(np.take(x, [0], axis=axis)), np.cumsum(x, axis=axis, dtype=np.float64)], axis)
    total = np.take(csum, end, axis=axis) - np.take(csum, start, axis=axis)
    shape = [1] * x.ndim
    shape[axis] = out
    return (total / (end - start).reshape(shape)).astype(np.float32)


def _bilinear_axis(x: np.ndarray, axis: int, out: int) -> np.ndarray:
    """Linear interpolation along ``axis`` as torch's ``bilinear`` with ``align_corners=False``."""
    n = x.shape[axis]
    src = np.maximum((np.arange(out) + 0.5) * (n / out) - 0.5, 0.0)
    i0 = np.minimum(np.floor(src).astype(np.int64), n - 1)
    i1 = np.minimum(i0 + 1, n - 1)
    shape = [1] * x.ndim
    shape[axis] = out
    frac = (src - i0).reshape(shape).astype(np.float32)
    return np.take(x, i0, axis=axis) * (1 - frac) + np.take(x, i1, axis=axis) * frac


def resize_masks_np(masks: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Area-average soft masks ``(N, K, H, W)`` down (or bilinear up) to ``size``, in [0, 1]."""
    m = np.asarray(masks, dtype=np.float32)
    if m.ndim != 4:
        raise UsageError(f"masks must be (N, K, H, W), got shape {m.shape}")
    area = m.shape[-2] >= size[0] and m.shape[-1] >= size[1]
    resize = _area_axis if area else _bilinear_axis
    return np.clip(resize(resize(m, 2, size[0]), 3, size[1]), 0.0, 1.0)


def _masked_adain(code: np.ndarray, stats: Sequence[Stats], masks: np.ndarray, eps: float) -> np.ndarray:
    if masks.shape[1] != len(stats):
        raise UsageError(f"{masks.shape[1]} masks for {len(stats)} styles")
    m = np.clip(masks, 0.0, 1.0)
    m = m / np.maximum(m.sum(axis=1, keepdims=True), 1.0)  # overlapping regions share a pixel
    out = code * (1.0 - m.sum(axis=1, keepdims=True))
    for k, (s_mean, s_std) in enumerate(stats):
        mk = m[:, k : k + 1]
        if float(mk.sum()) == 0.0:
            continue
        total = np.maximum(mk.sum(axis=(2, 3), keepdims=True), 1e-8)
        mean = (code * mk).sum(axis=(2, 3), keepdims=True) / total
        std = np.sqrt(((code - mean) ** 2 * mk).sum(axis=(2, 3), keepdims=True) / total + eps)
        gain, shift = adain_affine(np.asarray(s_mean, np.float32), np.asarray(s_std, np.float32), mean, std)
        out = out + mk * (code * gain + shift)
    return out.astype(np.float32)


def adain_target(
    code: np.ndarray,
    stats: Sequence[Stats],
    weights: Sequence[float] | None = None,
    alpha: float = 1.0,
    content_stats: Stats | None = None,
    masks: np.ndarray | None = None,
    eps: float = DEFAULT_EPS,
) -> np.ndarray:
    """What the decoder receives: AdaIN of ``code`` to the (blended) style statistics, mixed with
    the code by ``alpha`` (paper Eq. 14).

    Args:
        code: ``(N, C, h, w)`` content code.
        stats: K styles' ``(mean, std)``.
        weights: blend weights of the K styles (``None``: equal).
        alpha: style strength in [0, 1].
        content_stats: content ``(mean, std)`` to normalise with instead of the code's own (tiles:
            the whole image's; video: a moving average).
        masks: ``(1 or N, K, H', W')`` soft masks (resized to the code): region k gets style k.
        eps: variance epsilon of the code's own statistics.
    """
    c = np.asarray(code, dtype=np.float32)
    if masks is not None:
        target = _masked_adain(c, stats, resize_masks_np(masks, c.shape[-2:]), eps)
        return np.ascontiguousarray(mix_alpha(target, c, alpha), dtype=np.float32)
    mean, std = mix_stats([(np.asarray(m, np.float32), np.asarray(s, np.float32)) for m, s in stats], weights)
    c_mean, c_std = code_stats(c, eps) if content_stats is None else content_stats
    gain, shift = adain_affine(mean, std, np.asarray(c_mean, np.float32), np.asarray(c_std, np.float32), alpha)
    out = c * np.asarray(gain, np.float32)
    out += np.asarray(shift, np.float32)
    return out
