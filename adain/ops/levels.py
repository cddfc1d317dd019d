"""Several feature levels as one code: space-to-depth packing onto the deepest level's grid.

A multi-level decoder (AdaIN on skip connections, :class:`~adain.nets.decoder.Decoder` with
``skips``) reads relu1_1 … relu3_1 besides relu4_1. Packing level ``l`` (stride ``2^l``) with
``pixel_unshuffle`` by ``2^(L-1-l)`` puts every level on the code's ``H/8 × W/8`` grid, so the
rest of the package — channel statistics, AdaIN, blends, alpha, masks, tiles, caches, the graph
runtimes and the web app — handles the multi-level code exactly as the one-level code: channel
for channel. A packed channel is one level's channel on one of its sub-grids (phase ``(i, j)`` of
an ``s × s`` cell), so AdaIN of the packed code normalises each level on each sub-grid: the
level's own statistics up to sampling (each sub-grid is a regular subsample of the same image),
and exactly what the decoder was trained with.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["level_factors", "pack_levels", "packed_widths", "unpack_levels"]


def level_factors(levels: Sequence[int]) -> tuple[int, ...]:
    """The space-to-depth factor of each level (``2^(deepest − l)``), levels shallow to deep."""
    deepest = max(levels)
    return tuple(2 ** (deepest - lv) for lv in levels)


def packed_widths(widths: Sequence[int], levels: Sequence[int]) -> tuple[int, ...]:
    """Channels each level takes in the packed code: its width × factor²."""
    return tuple(w * f * f for w, f in zip(widths, level_factors(levels)))


def pack_levels(features: Sequence[Tensor], levels: Sequence[int]) -> Tensor:
    """``features[k]`` ``(N, C_k, H/2^l_k, W/2^l_k)`` → one code ``(N, Σ C_k·f_k², H/2^L, W/2^L)``.

    Raises:
        ValueError: a level whose size is not its factor times the deepest level's.
    """
    if len(features) != len(levels) or not features:
        raise ValueError(f"{len(features)} feature maps for levels {list(levels)}")
    h, w = features[-1].shape[-2:]
    parts = []
    for x, f in zip(features, level_factors(levels)):
        if tuple(x.shape[-2:]) != (h * f, w * f):
            raise ValueError(f"a level of size {tuple(x.shape[-2:])} does not pack by {f} onto {h}×{w}")
        parts.append(F.pixel_unshuffle(x, f) if f > 1 else x)
    return parts[0] if len(parts) == 1 else torch.cat(parts, dim=1)


def unpack_levels(code: Tensor, widths: Sequence[int], levels: Sequence[int]) -> list[Tensor]:
    """The inverse of :func:`pack_levels`: ``widths`` are the levels' own channel counts.

    Raises:
        ValueError: the code's channels are not what the widths pack to.
    """
    sizes = packed_widths(widths, levels)
    if code.dim() != 4 or code.shape[1] != sum(sizes):
        raise ValueError(f"expected a packed code of shape (N, {sum(sizes)}, h, w), got {tuple(code.shape)}")
    if len(sizes) == 1:
        return [code]
    out = []
    for part, f in zip(code.split(list(sizes), dim=1), level_factors(levels)):
        out.append(F.pixel_shuffle(part, f) if f > 1 else part)
    return out
