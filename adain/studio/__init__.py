"""The studio: a local web page (Gradio) to try styles on a photo interactively — live preview,
alpha and blend grids, painted masks, full-resolution renders. :class:`StudioEngine` holds the
state and does the work; :func:`build_app` lays it out as a page; ``adain-studio``
(:mod:`adain.cli.studio`) serves it.
"""

from __future__ import annotations

from adain._lazy import lazy_exports

_EXPORTS = {  # submodule: the names it defines
    "engine": "MAX_STYLES OUTPUT_SIZES StudioEngine painted_mask",
    "page": "build_app",
}
__all__, __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
