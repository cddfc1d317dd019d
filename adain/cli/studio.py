"""``adain-studio``: options, the model, and the server."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from adain.cli.common import command_logging
from adain.cli.model_options import add_model_options, make_pipeline, model_spec
from adain.cli.parser import Parser, bounded, size_type
from adain.errors import AdainError, UsageError
from adain.io.files import list_images
from adain.io.images import DEFAULT_MAX_PIXELS
from adain.runtime.offline import block_telemetry
from adain.studio.engine import StudioEngine
from adain.studio.page import build_app

if TYPE_CHECKING:
    import gradio as gr

__all__ = ["PROG", "build_parser", "main", "studio_main"]


PROG = "adain-studio"


# ====================================================================== the command
def build_parser() -> argparse.ArgumentParser:
    p = Parser(
        prog=PROG,
        description="A local web app for AdaIN style transfer, with live preview.",
    )
    s = p.add_argument_group("server")
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0 exposes it to your network)")
    s.add_argument("--port", type=int, default=7860, help="port (0: any free port)")
    s.add_argument("--share", action="store_true", help="also publish a temporary public gradio.live link")
    s.add_argument("--styles", metavar="DIR", help="a folder of style images shown as a clickable gallery")
    s.add_argument("--max-upload-mb", type=bounded(float, 0.01), default=25.0, help="largest accepted upload")
    s.add_argument(
        "--max-pixels", type=bounded(int, 1), default=DEFAULT_MAX_PIXELS, help="refuse images with more pixels"
    )
    s.add_argument(
        "--queue-size", type=bounded(int, 1), default=16, help="requests that may wait; more are refused politely"
    )
    s.add_argument("--preview-size", type=bounded(int, 16), default=384, help="longer side of the live preview")
    s.add_argument(
        "--webcam-size", type=bounded(int, 16), default=256, help="shorter side webcam frames are stylized at"
    )
    s.add_argument(
        "--max-render-pixels",
        type=bounded(int, 64 * 64),
        default=4096 * 4096,
        help="largest render (bigger requests are rendered at the largest size within it, with a note)",
    )
    s.add_argument("--style-size", type=size_type, default=512, help="shorter side styles are encoded at")
    s.add_argument("--output-dir", metavar="DIR", help="where renders are kept (default: a temporary folder)")
    s.add_argument("--quiet", action="store_true", help="less output on the console")
    add_model_options(p)
    return p


def studio_main(args: Sequence[str] | None = None) -> int:
    """Entry point of ``adain-studio``: 0 after a clean shutdown, 2 on bad options/model."""
    ns = build_parser().parse_args(args)
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # before gradio is imported: no usage pings
    block_telemetry()
    with command_logging(-1 if ns.quiet else 0):  # the package's log on stderr, as every command's
        return _serve(ns)


def _serve(ns: argparse.Namespace) -> int:
    try:
        demo = _prepare(ns)
    except AdainError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 2
    try:
        demo.launch(
            server_name=ns.host,
            server_port=ns.port or None,
            share=ns.share,
            inbrowser=False,
            max_file_size=int(ns.max_upload_mb * 1024 * 1024),
            quiet=ns.quiet,
            show_error=True,
            allowed_paths=[str(Path(ns.styles).resolve())] if ns.styles else None,
            footer_links=["api"],
        )
    except OSError as e:
        print(f"{PROG}: error: cannot serve on {ns.host}:{ns.port}: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
    return 0


def _prepare(ns: argparse.Namespace) -> gr.Blocks:
    if not 0 <= ns.port <= 65535:
        raise UsageError(f"--port must be in 0..65535, got {ns.port}")
    if ns.styles:
        if not Path(ns.styles).is_dir():
            raise UsageError(f"{ns.styles}: --styles must be a folder of images")
        list_images([ns.styles])  # one line if it holds no image
    pipe = make_pipeline(model_spec(ns), PROG)
    rt = pipe.runtime
    engine = StudioEngine(pipe, ns.preview_size, ns.style_size, ns.output_dir, ns.max_render_pixels, ns.webcam_size)
    line = f"model **{rt.label}** · {rt.backend} · {rt.device} · {rt.precision}"
    if ns.precision == "auto" and engine.upgrade_to_int8() is not None:
        line += " (converting to int8 in the background: the preview speeds up when it passes its check)"
    demo = build_app(engine, ns.styles, line)
    demo.queue(max_size=ns.queue_size, default_concurrency_limit=1)
    return demo


def main() -> None:
    sys.exit(studio_main())


if __name__ == "__main__":  # pragma: no cover
    main()
