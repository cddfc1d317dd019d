"""Stroke size as a control: strokes ``S``× as large at the same output resolution.

AdaIN's decoder paints strokes of a fixed number of pixels, so the same painting gives tiny
strokes on a 4K photo and huge ones on a thumbnail. Here the photo is stylized on a canvas ``S``×
smaller (``S`` > 1: bigger strokes) or larger (``S`` < 1: finer strokes) and the result is brought
back to the output size; for ``S`` > 1 the photo's own fine detail (its luminance above the
canvas's resolution) is added back, so edges stay as sharp as the output's resolution allows.
"""

from __future__ import annotations

import numpy as np

from adain.errors import UsageError
from adain.io.images import resize_planes

__all__ = [
    "MAX_STROKE_SCALE",
    "MIN_STROKE_SCALE",
    "canvas_shape",
    "check_stroke_scale",
    "restore_scale",
    "texture_scale",
]

#: the range of ``stroke_scale`` (below 1/4 the canvas grows 16× in pixels; above 8 little is left)
MIN_STROKE_SCALE, MAX_STROKE_SCALE = 0.25, 8.0


def check_stroke_scale(scale: float, name: str = "stroke scale") -> float:
    """``scale`` if it is in [:data:`MIN_STROKE_SCALE`, :data:`MAX_STROKE_SCALE`], else a one-line
    error naming it as ``name`` (the option's name on the command line)."""
    if not MIN_STROKE_SCALE <= scale <= MAX_STROKE_SCALE:  # NaN fails too
        raise UsageError(f"{name} must be between {MIN_STROKE_SCALE:g} and {MAX_STROKE_SCALE:g}, got {scale:g}")
    return scale


def canvas_shape(h: int, w: int, scale: float) -> tuple[int, int]:
    """The ``(h, w)`` the network paints on for an ``h × w`` output with strokes ``scale``× as large."""
    return max(1, round(h / scale)), max(1, round(w / scale))


def restore_scale(painted: np.ndarray, content: np.ndarray, detail: float = 1.0) -> np.ndarray:
    """Bring a canvas-sized result back to the content's size.

    Args:
        painted: ``(3, h, w)`` result on the canvas, in [0, 1].
        content: ``(3, H, W)`` the content at the output size.
        detail: how much of the content's luminance detail finer than the canvas is added back
            (only when the canvas is smaller than the output).

    Returns:
        ``(3, H, W)`` in [0, 1].
    """
    (h, w), (big_h, big_w) = painted.shape[-2:], content.shape[-2:]
    out = resize_planes(np.ascontiguousarray(painted, dtype=np.float32), big_h, big_w)
    if detail and h * w < big_h * big_w:
        coarse = resize_planes(resize_planes(np.ascontiguousarray(content, dtype=np.float32), h, w), big_h, big_w)
        fine = (content - coarse).mean(axis=0, keepdims=True)  # luminance only: colour stays the painting's
        out = out + detail * fine
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def texture_scale(image: np.ndarray, sigma: float = 16.0) -> float:
    """The image's characteristic texture wavelength in pixels: ``2π·std(T) / std(∇T)`` (the
    inverse RMS frequency) of its luminance texture ``T`` (the luminance minus a Gaussian blur
    of ``sigma`` px, so the picture's layout does not count). It grows about ``S``× when the
    strokes are ``S``× as large; below ``S`` = 1 the finer strokes are partly averaged away at
    the output's resolution and the measure stops following them.

    Args:
        image: ``(3, H, W)`` in [0, 1].
        sigma: the high-pass's Gaussian, in pixels.
    """
    y = np.asarray(image, dtype=np.float64).mean(axis=0)
    fy, fx = np.fft.fftfreq(y.shape[0])[:, None], np.fft.fftfreq(y.shape[1])[None, :]
    low = np.real(np.fft.ifft2(np.fft.fft2(y) * np.exp(-2 * (np.pi * sigma) ** 2 * (fx**2 + fy**2))))
    t = y - low
    gy, gx = np.diff(t, axis=0), np.diff(t, axis=1)
    slope = np.sqrt(0.5 * (gy.var() + gx.var()))
    return float(2 * np.pi * t.std() / max(slope, 1e-12))
