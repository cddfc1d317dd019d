"""``adain-studio``: the engine (handlers without Gradio, :mod:`~adain.cli.studio.engine`), the page
(:mod:`~adain.cli.studio.page`) and the command (:mod:`~adain.cli.studio.command`)."""

from __future__ import annotations

from adain.cli.studio.command import build_parser, main, studio_main
from adain.cli.studio.engine import MAX_STYLES, StudioEngine, painted_mask
from adain.cli.studio.page import build_app

__all__ = ["MAX_STYLES", "StudioEngine", "build_app", "build_parser", "main", "painted_mask", "studio_main"]
