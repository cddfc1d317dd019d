"""The one stylization pipeline, on any runtime and without torch for the common request:
:class:`Pipeline` (:mod:`~adain.pipeline.core`), the step's maths around the networks
(:mod:`~adain.pipeline.step`), tiles (:mod:`~adain.pipeline.tiling`), the caches of style
statistics and content codes (:mod:`~adain.pipeline.caches`) and request validation
(:mod:`~adain.pipeline.request`)."""

from __future__ import annotations

from adain.pipeline.core import Pipeline
from adain.pipeline.request import (
    COLOR_MODES,
    StyleLike,
    Variant,
    check_request,
    check_working_size,
    is_stats,
)
from adain.pipeline.step import pad_to_multiple
from adain.pipeline.tiling import MIN_TILE, stylize_tiled, tile_boxes

__all__ = [
    "COLOR_MODES",
    "MIN_TILE",
    "Pipeline",
    "StyleLike",
    "Variant",
    "check_request",
    "check_working_size",
    "is_stats",
    "pad_to_multiple",
    "stylize_tiled",
    "tile_boxes",
]
