"""Several feature levels as one code: space-to-depth packing onto the deepest level's grid.

A multi-level decoder (AdaIN on skip connections, :class:`~adain.nets.decoder.Decoder` with
``skips``) reads relu1_1 … relu3_1 besides relu4_1. Packing level ``l`` (stride ``2^l``) space to
depth by ``2^(L-1-l)`` puts every level on the code's ``H/8 × W/8`` grid, so the
rest of the package — channel statistics, AdaIN, blends, alpha, masks, tiles, caches, the graph
runtimes and the web app — handles the multi-level code exactly as the one-level code: channel
for channel. A packed channel is one level's channel on one of its sub-grids (phase ``(i, j)`` of
an ``s × s`` cell), so AdaIN of the packed code normalises each level on each sub-grid: the
level's own statistics up to sampling (each sub-grid is a regular subsample of the same image),
and exactly what the decoder was trained with.

The packing is ONNX's ``SpaceToDepth`` (blocks first: channel ``(i·s + j)·C + c`` holds phase
``(i, j)`` of channel ``c``) and its inverse ``DepthToSpace`` in ``DCR`` mode, and exports as those
two operators: graph runtimes run them as one native kernel each, where a general 6-D transpose
(``pixel_unshuffle``'s order) costs as much as the 1×1 convolutions of every skip together.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from adain.ops.mixing import DEFAULT_EPS, adain_affine
from adain.ops.stats import TensorStats, calc_mean_std

__all__ = [
    "depth_to_space",
    "level_adain_mix",
    "level_factors",
    "level_stats",
    "pack_levels",
    "packed_widths",
    "space_to_depth",
    "unpack_levels",
]


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
        parts.append(space_to_depth(x, f) if f > 1 else x)
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
        out.append(depth_to_space(part, f) if f > 1 else part)
    return out


def _s2d(x: Tensor, f: int) -> Tensor:
    n, c, h, w = x.shape
    return x.reshape(n, c, h // f, f, w // f, f).permute(0, 3, 5, 1, 2, 4).reshape(n, f * f * c, h // f, w // f)


def _d2s(x: Tensor, f: int) -> Tensor:
    n, c, h, w = x.shape
    return x.reshape(n, f, f, c // (f * f), h, w).permute(0, 3, 4, 1, 5, 2).reshape(n, c // (f * f), h * f, w * f)


class _Blocks(torch.autograd.Function):
    """Space to depth (``to_depth``) or back; the backward is the other direction; exports as the
    ONNX operator of the same name."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, f: int, to_depth: bool) -> Tensor:  # noqa: D102
        ctx.f, ctx.to_depth = f, to_depth
        return _s2d(x, f) if to_depth else _d2s(x, f)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None, None]:  # noqa: D102
        return (_d2s(grad, ctx.f) if ctx.to_depth else _s2d(grad, ctx.f)), None, None

    @staticmethod
    def symbolic(g: Any, x: Any, f: int, to_depth: bool) -> Any:  # noqa: D102 - ONNX export
        if to_depth:
            return g.op("SpaceToDepth", x, blocksize_i=f)
        return g.op("DepthToSpace", x, blocksize_i=f, mode_s="DCR")


def space_to_depth(x: Tensor, f: int) -> Tensor:
    """``(N, C, H, W)`` → ``(N, f²·C, H/f, W/f)``, channel ``(i·f + j)·C + c`` = ``x[:, c, i::f, j::f]``
    (ONNX ``SpaceToDepth``)."""
    return _Blocks.apply(x, f, True)


def depth_to_space(x: Tensor, f: int) -> Tensor:
    """The inverse of :func:`space_to_depth` (ONNX ``DepthToSpace``, ``DCR`` mode)."""
    return _Blocks.apply(x, f, False)


# ----------------------------------------------------------------------------- one level at a time
# What the one-call stylize path and the style statistics use: each level is packed, mixed and
# unpacked on its own, so the levels are never concatenated into one code and split again (graph
# runtimes copy both ways; the space-to-depth kernels are native and cheap).
def level_stats(x: Tensor, f: int, eps: float = DEFAULT_EPS) -> TensorStats:
    """``calc_mean_std(space_to_depth(x, f))``: the packed channels' statistics of one level."""
    return calc_mean_std(space_to_depth(x, f) if f > 1 else x, eps)


def level_adain_mix(
    x: Tensor, mean: Tensor, std: Tensor, f: int, alpha: float | Tensor, eps: float = DEFAULT_EPS
) -> Tensor:
    """``α · AdaIN + (1 − α) · x`` of one level ``(N, C, H, W)`` to its packed target statistics
    ``(N or 1, f²·C, 1, 1)``, returned in the level's own layout. ``alpha`` may be a tensor (a
    graph input: the mix is then always written out)."""
    v = (space_to_depth(x, f) if f > 1 else x).float()
    gain, shift = adain_affine(mean, std, *calc_mean_std(v, eps), alpha)  # one pass over v
    out = v * gain + shift
    return depth_to_space(out, f) if f > 1 else out
