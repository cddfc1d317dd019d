"""Stylizing huge images in tiles with bounded memory and no seams.

Two passes over tiles. Pass 1 encodes each tile (with context) and accumulates the sums of the
content code over the tile's interior, giving the *whole image's* channel statistics. Pass 2
stylizes each tile through :meth:`Pipeline.run <adain.pipeline.Pipeline.run>` with those global
statistics. Each tile is extended by ``margin`` pixels of real context on every side (more than
the encoder+decoder receptive field), so tile interiors equal the untiled result to float
precision and there are no seams to hide; tile offsets are multiples of the encoder stride so
pooling grids line up. Peak memory is that of one extended tile, whatever the image size.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from .errors import UsageError
from .mixing import DEFAULT_EPS

if TYPE_CHECKING:
    from .pipeline import Pipeline
    from .runtime import Stats

__all__ = ["MIN_TILE", "stylize_tiled", "tile_boxes"]

#: the smallest tile worth its overhead (smaller tiles recompute mostly margin)
MIN_TILE = 64


def tile_boxes(h: int, w: int, tile: int) -> list[tuple[int, int]]:
    """Top-left corners of the tiles covering ``h × w``."""
    return [(y0, x0) for y0 in range(0, h, tile) for x0 in range(0, w, tile)]


def stylize_tiled(
    pipeline: Pipeline,
    x: np.ndarray,
    stats: Sequence[Stats],
    weights: Sequence[float] | None,
    alpha: float,
    tile: int,
) -> np.ndarray:
    """Stylize ``x`` ``(1, 3, H, W)`` tile by tile; returns ``(3, H, W)`` in [0, 1]."""
    from .pipeline import pad_to_multiple

    if tile < MIN_TILE:
        raise UsageError(f"tile must be at least {MIN_TILE} px (or 0 to never tile), got {tile}")
    rt = pipeline.runtime
    m = rt.downsampling
    tile = tile - tile % m
    margin = pipeline.tile_margin - pipeline.tile_margin % m
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
        code = rt.encode(xp[:, :, ey0:ey1, ex0:ex1])
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
        out = pipeline.run(xp[:, :, ey0:ey1, ex0:ex1], stats, weights, alpha, content_stats=c_stats)
        ty, tx = min(tile, H - y0), min(tile, W - x0)
        canvas[:, y0 : y0 + ty, x0 : x0 + tx] = out[0, :, y0 - ey0 : y0 - ey0 + ty, x0 - ex0 : x0 - ex0 + tx]
    return canvas[:, :h, :w]
