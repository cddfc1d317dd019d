"""The one stylization pipeline, on any runtime and without torch for the common request:
:class:`Pipeline` (:mod:`~adain.pipeline.core`), the step's maths around the networks
(:mod:`~adain.pipeline.step`), tiles (:mod:`~adain.pipeline.tiling`), the caches of style
statistics and content codes (:mod:`~adain.pipeline.caches`) and request validation
(:mod:`~adain.pipeline.request`)."""

from __future__ import annotations

from adain._lazy import lazy_exports

_EXPORTS = {
    "Pipeline": "core",
    "COLOR_MODES": "request",
    "StyleLike": "request",
    "Variant": "request",
    "check_request": "request",
    "check_working_size": "request",
    "is_stats": "request",
    "adain_target": "step",
    "code_stats": "step",
    "pad_to_multiple": "step",
    "MIN_TILE": "tiling",
    "check_tile": "tiling",
    "stylize_tiled": "tiling",
    "tile_boxes": "tiling",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
