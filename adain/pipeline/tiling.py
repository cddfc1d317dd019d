"""Stylizing huge images in tiles with bounded memory and no seams.

Two passes over tiles. Pass 1 encodes each tile (with context) and accumulates the sums of the
content code over the tile's interior, giving the *whole image's* channel statistics. Pass 2
stylizes each tile with those global statistics. Each tile is extended by ``margin`` pixels of
real context on every side (more than the encoder+decoder receptive field), so tile interiors
equal the untiled result to float precision and there are no seams to hide; tile offsets are
multiples of the encoder stride so pooling grids line up. Peak memory is that of one extended
tile, whatever the image size.

The loop knows nothing of the pipeline: it is given the encoder and the step as functions
(:meth:`Pipeline.render <adain.pipeline.core.Pipeline.render>` decides when to tile).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from adain.errors import UsageError
from adain.ops.mixing import DEFAULT_EPS
from adain.pipeline.step import pad_to_multiple
from adain.runtime.base import Stats

__all__ = ["MIN_TILE", "check_tile", "stylize_tiled", "tile_boxes"]


#: the smallest tile worth its overhead (smaller tiles recompute mostly margin)
MIN_TILE = 64


def check_tile(tile: int | None, name: str = "tile") -> int | None:
    """``tile`` if it is ``None`` (automatic), 0 (never tile) or at least :data:`MIN_TILE`.

    Raises:
        UsageError: anything else (``name`` is how the message calls the option).
    """
    if tile is not None and tile < 0:
        raise UsageError(f"{name} must be >= 0, got {tile}")
    if tile and tile < MIN_TILE:
        raise UsageError(f"{name} must be 0 (never tile) or at least {MIN_TILE}, got {tile}")
    return tile


def tile_boxes(h: int, w: int, tile: int) -> list[tuple[int, int]]:
    """Top-left corners of the tiles covering ``h × w``."""
    return [(y0, x0) for y0 in range(0, h, tile) for x0 in range(0, w, tile)]


def stylize_tiled(
    x: np.ndarray,
    tile: int,
    margin: int,
    stride: int,
    encode: Callable[[np.ndarray], np.ndarray],
    step: Callable[[np.ndarray, Stats], np.ndarray],
) -> np.ndarray:
    """Stylize ``x`` ``(1, 3, H, W)`` tile by tile; returns ``(3, H, W)`` in [0, 1].

    Args:
        tile: tile size (rounded down to a multiple of ``stride``).
        margin: context around each tile (rounded down to a multiple of ``stride``).
        stride: the encoder's total stride.
        encode: padded image → code.
        step: (extended tile, whole-image content statistics) → ``(1, 3, h, w)`` stylized tile.
    """
    check_tile(tile)
    m = stride
    tile = tile - tile % m
    margin = margin - margin % m
    h, w = x.shape[-2:]
    xp = pad_to_multiple(x, m)
    H, W = xp.shape[-2:]
    boxes = tile_boxes(H, W, tile)

    def extended(y0: int, x0: int) -> tuple[int, int, int, int]:
        return max(0, y0 - margin), max(0, x0 - margin), min(H, y0 + tile + margin), min(W, x0 + tile + margin)

    s1 = s2 = None
    total = 0
    for y0, x0 in boxes:  # pass 1: statistics of the whole content code
        ey0, ex0, ey1, ex1 = extended(y0, x0)
        code = encode(xp[:, :, ey0:ey1, ex0:ex1])
        iy, ix = (y0 - ey0) // m, (x0 - ex0) // m
        inner = code[:, :, iy : iy + min(tile, H - y0) // m, ix : ix + min(tile, W - x0) // m].astype(np.float64)
        a, b = inner.sum(axis=(2, 3), keepdims=True), (inner**2).sum(axis=(2, 3), keepdims=True)
        s1, s2 = (a, b) if s1 is None else (s1 + a, s2 + b)
        total += inner.shape[2] * inner.shape[3]
    mean = s1 / total
    var = np.maximum(s2 / total - mean**2, 0.0)
    c_stats = (mean.astype(np.float32), np.sqrt(var + DEFAULT_EPS).astype(np.float32))
    canvas = np.empty((3, H, W), dtype=np.float32)
    for y0, x0 in boxes:  # pass 2: stylize each tile with the global statistics
        ey0, ex0, ey1, ex1 = extended(y0, x0)
        out = step(xp[:, :, ey0:ey1, ex0:ex1], c_stats)
        ty, tx = min(tile, H - y0), min(tile, W - x0)
        canvas[:, y0 : y0 + ty, x0 : x0 + tx] = out[0, :, y0 - ey0 : y0 - ey0 + ty, x0 - ex0 : x0 - ex0 + tx]
    return canvas[:, :h, :w]
