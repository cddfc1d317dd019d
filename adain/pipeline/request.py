"""Validation of a stylization request, one message per mistake, the same for the library and the
CLIs: alpha, weights, colour mode, tiles and masks, and the working size after resizing.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Union

import numpy as np

from adain.errors import ImageError, UsageError
from adain.io.images import ImageLike, is_tensor
from adain.ops.mixing import check_alpha, normalize_weights
from adain.pipeline.tiling import check_tile
from adain.runtime.base import Stats

__all__ = [
    "COLOR_MODES",
    "StylizeRequest",
    "StyleLike",
    "Variant",
    "check_request",
    "check_working_size",
    "is_stats",
    "source_name",
    "to_np_stats",
]

COLOR_MODES = ("none", "coral", "luminance")
#: a style: an image, or precomputed ``(mean, std)`` statistics
StyleLike = Union[ImageLike, Stats, tuple[Any, Any]]
#: one output of a content: (style weights or None for equal, alpha)
Variant = tuple[Union[Sequence[float], None], float]


@dataclass(frozen=True)
class StylizeRequest:
    """What every output of a run is made with, as plain values: the style mix, sizes, colour,
    masks, grid, tiles, stroke scale, video consistency; and how the run goes (batch size, pixel
    limit, overwrite, progress). ``adain-stylize`` builds one from its options; the jobs of
    :mod:`adain.methods.jobs` and :func:`~adain.methods.video.stylize_video` take their values from it."""

    alpha: float = 1.0
    style_weights: list[float] | None = None
    content_size: int = 512
    style_size: int = 512
    crop: bool = False
    preserve_color: str = "none"
    masks: list[Path] | None = None
    grid: str | None = None
    tile: int | None = None
    temporal_smoothing: float = 0.0
    temporal: str = "flow"
    temporal_strength: float = 0.8
    batch_size: int = 4
    max_pixels: int = 100_000_000
    overwrite: bool = False
    quiet: bool = False
    stroke_scale: float = 1.0

    @property
    def plain(self) -> bool:
        """Plain or blended stylization of images: batched, with prefetching."""
        return self.masks is None and self.grid is None and self.preserve_color == "none" and self.stroke_scale == 1.0


def is_stats(obj: object) -> bool:
    """A precomputed ``(mean, std)`` pair (NumPy arrays or tensors)."""
    return isinstance(obj, tuple) and len(obj) == 2 and all(isinstance(t, np.ndarray) or is_tensor(t) for t in obj)


def to_np_stats(stats: Any) -> Stats:
    """A ``(mean, std)`` pair of arrays or tensors as float32 arrays."""
    m, s = stats
    conv = lambda t: t.detach().float().cpu().numpy() if is_tensor(t) else np.asarray(t, dtype=np.float32)
    return conv(m), conv(s)


def source_name(image: Any, default: str = "image") -> str:
    """How messages name an input: its path, else ``default``."""
    return str(image) if isinstance(image, (str, os.PathLike)) else default


def check_working_size(h: int, w: int, size: int, crop: bool, max_pixels: int, source: str) -> tuple[int, int]:
    """The ``(H, W)`` an image will be processed at; refuse it above ``max_pixels``.

    Memory of a request is bounded by the pixels it processes (tiles bound it further above
    :attr:`Pipeline.max_untiled_pixels`), so the limit applies after resizing, not only to the file.
    """
    from adain.io.images import resized_shape

    nh, nw = resized_shape(h, w, size)
    if crop:
        nh = nw = min(nh, nw)
    if nh * nw > max_pixels:
        raise ImageError(
            f"{source}: {w}x{h} would be processed at {nw}x{nh} = {nh * nw / 1e6:.0f} MP, above the limit of "
            f"{max_pixels / 1e6:.0f} MP (lower --content-size/--style-size, or raise --max-pixels)"
        )
    return nh, nw


def check_request(
    style: Any,
    alpha: float,
    weights: Sequence[float] | None,
    preserve_color: str,
    tile: int | None,
    masks: Sequence[Any] | None,
) -> list[Any]:
    """Validate a request's options (one message per mistake, the same for library and CLIs);
    returns the styles as a list."""
    check_alpha(alpha)
    styles = list(style) if isinstance(style, (list, tuple)) and not is_stats(style) else [style]
    if not styles:
        raise UsageError("at least one style is needed")
    if weights is not None:
        normalize_weights(weights, len(styles))
    if preserve_color not in COLOR_MODES:
        raise UsageError(f"preserve_color must be none, coral or luminance, got {preserve_color!r}")
    check_tile(tile)
    if masks is not None:
        if tile:
            raise UsageError("masks and tiling cannot be combined")
        if weights is not None:
            raise UsageError("masks assign one style per region; they cannot be combined with style weights")
    return styles
