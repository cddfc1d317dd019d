"""The one stylization pipeline, on any runtime and without torch for the common request:
:class:`Pipeline` (:mod:`~adain.pipeline.core`), the step's maths around the networks
(:mod:`~adain.pipeline.step`), tiles (:mod:`~adain.pipeline.tiling`), the caches of style
statistics and content codes (:mod:`~adain.pipeline.caches`), request validation
(:mod:`~adain.pipeline.request`) and the model options as one value (:mod:`~adain.pipeline.spec`)."""

from __future__ import annotations

from adain._lazy import lazy_exports

_EXPORTS = {  # submodule: the names it defines
    "core": "Pipeline",
    "request": "COLOR_MODES StyleLike StylizeRequest Variant check_request check_working_size is_stats",
    "spec": "ModelSpec",
    "step": "adain_target code_stats pad_to_multiple",
    "tiling": "MIN_TILE check_tile stylize_tiled tile_boxes",
}
__all__, __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
