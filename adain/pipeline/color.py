"""Colour preservation on NumPy images for the pipeline (no torch): the same definitions as
:func:`adain.ops.color.coral` and :func:`adain.ops.color.luminance_transfer` (tested equal).
"""

from __future__ import annotations

import numpy as np

from adain.errors import UsageError

__all__ = ["coral_np", "luminance_transfer_np"]

_RGB2YCBCR = np.array([[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]])
_OFFSET = np.array([0.0, 0.5, 0.5])


def _check(img: np.ndarray, name: str) -> np.ndarray:
    if img.ndim != 3 or img.shape[0] != 3:
        raise UsageError(f"{name} must be a (3, H, W) image, got shape {img.shape}")
    return img


def _sym_pow(mat: np.ndarray, power: float, eps: float = 1e-5) -> np.ndarray:
    evals, evecs = np.linalg.eigh(mat)
    return evecs @ np.diag(np.maximum(evals, eps) ** power) @ evecs.T


def coral_np(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """``source`` ``(3, H, W)`` re-coloured to ``target``'s RGB mean and covariance (not clamped)."""
    x = _check(source, "source").reshape(3, -1).astype(np.float64)
    t = _check(target, "target").reshape(3, -1).astype(np.float64)
    ms, mt = x.mean(axis=1, keepdims=True), t.mean(axis=1, keepdims=True)
    cs, ct = np.cov(x, bias=True), np.cov(t, bias=True)
    transform = _sym_pow(ct, 0.5) @ _sym_pow(cs, -0.5)
    return (transform @ (x - ms) + mt).reshape(source.shape).astype(np.float32)


def luminance_transfer_np(stylized: np.ndarray, content: np.ndarray) -> np.ndarray:
    """Keep ``stylized``'s luminance (BT.601 Y) and ``content``'s chroma; ``(3, H, W)`` each."""
    if stylized.shape != content.shape:
        raise UsageError(f"shapes differ: {stylized.shape} vs {content.shape}")
    _check(stylized, "stylized")
    y = np.tensordot(_RGB2YCBCR[0], stylized.astype(np.float64), axes=1)
    cbcr = np.tensordot(_RGB2YCBCR[1:], content.astype(np.float64), axes=1) + _OFFSET[1:, None, None]
    ycc = np.concatenate([y[None], cbcr]) - _OFFSET[:, None, None]
    return np.tensordot(np.linalg.inv(_RGB2YCBCR), ycc, axes=1).astype(np.float32)
