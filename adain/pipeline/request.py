"""Validation of a stylization request, one message per mistake, the same for the library and the
CLIs: alpha, weights, colour mode, tiles and masks, and the working size after resizing.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Union

import numpy as np

from adain._fields import replace_known
from adain.errors import ImageError, UsageError
from adain.io.images import ImageLike, is_tensor
from adain.ops.mixing import check_alpha, normalize_weights
from adain.pipeline.strokes import check_stroke_scale
from adain.pipeline.tiling import check_tile
from adain.runtime.base import Stats

__all__ = [
    "COLOR_MODES",
    "GRIDS",
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
#: the grids a run can make instead of one image per output
GRIDS = ("alpha", "blend", "styles")
#: a style: an image, or precomputed ``(mean, std)`` statistics
StyleLike = Union[ImageLike, Stats, tuple[Any, Any]]
#: one output of a content: (style weights or None for equal, alpha)
Variant = tuple[Union[Sequence[float], None], float]


@dataclass(frozen=True)
class StylizeRequest:
    """What a stylization makes, as plain values, for the library and every command alike.

    Attributes:
        alpha: 0 = content code only, 1 = full style (paper Eq. 14); in [0, 1].
        weights: blending weights for several styles (normalised to sum 1); default equal.
        content_size: shorter side of the content before encoding; 0 keeps the original.
        style_size: shorter side of each style before encoding; 0 keeps the original.
        crop: centre-crop content and styles to squares.
        preserve_color: ``none``; ``coral`` (style re-coloured to the content's colour mean and
            covariance before stylizing, as in the paper); ``luminance`` (stylize, then keep the
            content's chroma, YCbCr).
        masks: spatial control — one mask per style (region k gets style k; uncovered pixels keep
            the content), or one label map with one grey level per style.
        tile: stylize in tiles of this size (bounded memory for huge images); ``None`` tiles
            automatically above :attr:`Pipeline.max_untiled_pixels`; 0 never tiles.
        stroke_scale: strokes this many times as large at the same output size (0.25 to 8;
            :mod:`adain.pipeline.strokes`): 2 paints on a canvas half the size, 0.5 on one twice
            the size (4× the time).
        grid: ``alpha``, ``blend`` or ``styles`` for a grid instead of one image (runs only).
        temporal, temporal_strength, temporal_smoothing: video consistency
            (:class:`~adain.methods.video.VideoOptions`).
        batch_size, max_pixels, overwrite, quiet: how a run of many outputs goes.

    ``alpha``, the colour mode, tiles, stroke scale and masks are checked when a request is made
    (:class:`~adain.errors.UsageError`); what depends on the styles, by :meth:`styles_of`.
    """

    alpha: float = 1.0
    weights: Sequence[float] | None = None
    content_size: int = 512
    style_size: int = 512
    crop: bool = False
    preserve_color: str = "none"
    masks: Sequence[Any] | None = None
    tile: int | None = None
    stroke_scale: float = 1.0
    grid: str | None = None
    temporal: str = "flow"
    temporal_strength: float = 0.8
    temporal_smoothing: float = 0.0
    batch_size: int = 4
    max_pixels: int = 100_000_000
    overwrite: bool = False
    quiet: bool = False

    def __post_init__(self) -> None:
        check_alpha(self.alpha)
        if self.preserve_color not in COLOR_MODES:
            raise UsageError(f"preserve_color must be none, coral or luminance, got {self.preserve_color!r}")
        check_tile(self.tile)
        check_stroke_scale(self.stroke_scale)
        if self.masks is not None and self.tile:
            raise UsageError("masks and tiling cannot be combined (--mask, --tile)")
        if self.masks is not None and self.weights is not None:
            raise UsageError(
                "masks (--mask) assign one style per region; they cannot be combined with --style-weights, the "
                "style weights of a blend"
            )
        if self.grid is not None and self.grid not in GRIDS:
            raise UsageError(f"grid must be alpha, blend or styles, got {self.grid!r}")
        if self.grid and (self.masks is not None or self.weights is not None):
            raise UsageError("--grid cannot be combined with masks (--mask) or style weights (--style-weights)")

    @classmethod
    def make(cls, request: StylizeRequest | None = None, **fields: Any) -> StylizeRequest:
        """``request`` (default: the defaults) with ``fields`` changed; an unknown name is refused."""
        return replace_known(request or cls(), "stylization option", fields)

    def styles_of(self, style: Any) -> list[Any]:
        """``style`` (one, or a list) as a list, checked against the request (one weight per style,
        four styles for a blend grid)."""
        styles = list(style) if isinstance(style, (list, tuple)) and not is_stats(style) else [style]
        if not styles:
            raise UsageError("at least one style is needed")
        if self.weights is not None:
            normalize_weights(self.weights, len(styles))
        if self.grid == "blend" and len(styles) != 4:
            raise UsageError(f"--grid blend needs exactly 4 styles, got {len(styles)}")
        return styles

    @property
    def together(self) -> bool:
        """Each output takes all the styles (blend weights, masks, a blend or style grid), instead of
        one output per style."""
        return self.weights is not None or self.masks is not None or self.grid in ("blend", "styles")

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
    returns the styles as a list (:meth:`StylizeRequest.styles_of`)."""
    request = StylizeRequest(alpha=alpha, weights=weights, preserve_color=preserve_color, tile=tile, masks=masks)
    return request.styles_of(style)
