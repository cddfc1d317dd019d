"""The options of ``adain-stylize`` (their checks: :mod:`adain.cli.stylize_checks`)."""

from __future__ import annotations

import argparse

from adain.cli.model_options import add_model_options
from adain.cli.options import add_optimize_options
from adain.cli.parser import Parser, bounded, size_type
from adain.io.images import DEFAULT_MAX_PIXELS
from adain.methods.jobs import OUT_EXTS
from adain.weights.registry import MODELS

__all__ = ["PROG", "build_parser"]

PROG = "adain-stylize"


def build_parser() -> argparse.ArgumentParser:
    p = Parser(
        prog=PROG,
        description="Arbitrary style transfer with AdaIN (Huang & Belongie, 2017).",
    )
    _io_options(p.add_argument_group("inputs and outputs"))
    _stylization_options(p.add_argument_group("stylization"), p.add_argument_group("creative control and big inputs"))
    add_optimize_options(p)
    _scale_options(add_model_options(p), p)
    out = p.add_argument_group("messages and scripting")
    out.add_argument(
        "-q", "--quiet", action="count", default=0, help="no progress bars or notes; twice: no result line either"
    )
    out.add_argument("-v", "--verbose", action="count", default=0, help="say more (library log messages)")
    out.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object per output on stdout (inputs, output, size, model, backend, precision, seconds)",
    )
    out.add_argument("--info", action="store_true", help="what this install can do (versions, CPU, backends, models)")
    out.add_argument("--list-styles", action="store_true", help="list the paintings --style accepts by name")
    return p


def _io_options(io: argparse._ArgumentGroup) -> None:
    io.add_argument(
        "inputs",
        nargs="*",
        metavar="CONTENT STYLE",
        help="shorthand for --content CONTENT --style STYLE (or just CONTENT with --style); "
        "CONTENT - reads the image from stdin",
    )
    io.add_argument("--content", nargs="+", metavar="PATH", help="content image(s), directories or a video")
    io.add_argument(
        "--style",
        nargs="+",
        metavar="PATH",
        help="style image(s) or directories, or a shipped painting by name (--list-styles)",
    )
    io.add_argument(
        "--style-weights",
        nargs="+",
        type=float,
        metavar="W",
        help="blend all styles into one output with these weights (normalised to sum 1)",
    )
    io.add_argument(
        "-o",
        "--output",
        default="output",
        metavar="PATH",
        help="output directory, or a file name when there is exactly one output; - writes it to stdout",
    )
    io.add_argument(
        "--ext",
        default=None,
        choices=OUT_EXTS,
        help="output format (default: the content's extension, jpg if unknown; png on stdout)",
    )
    io.add_argument("--overwrite", action="store_true", help="replace existing output files")
    io.add_argument(
        "--skip-existing",
        action="store_true",
        help="resume: leave outputs that already exist alone and make only the missing ones",
    )
    io.add_argument(
        "--max-pixels",
        type=int,
        default=DEFAULT_MAX_PIXELS,
        help="refuse input images with more pixels (decompression-bomb guard)",
    )


def _stylization_options(st: argparse._ArgumentGroup, cr: argparse._ArgumentGroup) -> None:
    st.add_argument("--alpha", type=float, default=1.0, help="style strength in [0, 1]")
    st.add_argument(
        "--content-size", type=size_type, default=512, help="shorter side of the content; 0 keeps the original"
    )
    st.add_argument("--style-size", type=size_type, default=512, help="shorter side of the style; 0 keeps the original")
    st.add_argument("--crop", action="store_true", help="centre-crop content and style to squares")
    st.add_argument(
        "--stroke-scale",
        type=float,
        default=1.0,
        metavar="S",
        help="brush strokes S times as large at the same output size (0.25 to 8; below 1 costs 1/S^2 the time)",
    )
    cr.add_argument(
        "--mask",
        nargs="+",
        metavar="PATH",
        help="one mask per style (region k gets style k; uncovered areas keep the content), "
        "or one label map with one grey level per style; also m1.png,m2.png",
    )
    cr.add_argument(
        "--preserve-color",
        default="none",
        choices=["none", "coral", "luminance"],
        help="keep the content's colours: coral = recolour the style first (paper); luminance = stylize luminance only",
    )
    cr.add_argument(
        "--grid",
        choices=["alpha", "blend", "styles"],
        help="labelled pictures: alpha = content, style and alpha 0/.25/.5/.75/1 in one image; "
        "blend = 5x5 bilinear interpolation of exactly 4 styles; styles = the content under every style",
    )
    cr.add_argument(
        "--tile",
        type=int,
        default=None,
        metavar="N",
        help="stylize in NxN tiles (bounded memory; automatic above the model's 1 GiB budget: "
        "~4 MP for small16x on CPU, ~1 MP for canonical); 0 never tiles",
    )
    cr.add_argument(
        "--temporal",
        choices=["flow", "ema", "off"],
        default=None,
        help="video: temporal consistency (default flow: texture carried along the optical flow, "
        "scene cuts reset; ema: moving average of content statistics; off: every frame alone)",
    )
    cr.add_argument(
        "--temporal-strength",
        type=float,
        default=0.8,
        metavar="S",
        help="video, --temporal flow: how much of the previous frame's colour and shading is kept, in [0, 1) (0.8)",
    )
    cr.add_argument(
        "--temporal-smoothing",
        type=float,
        default=0.0,
        metavar="BETA",
        help="video: the ema mode's beta (implies --temporal ema; kept for old scripts)",
    )


def _scale_options(md: argparse._ArgumentGroup, p: argparse.ArgumentParser) -> None:
    md.add_argument(
        "--download",
        metavar="MODEL",
        choices=sorted(MODELS),
        help="download a model's weights into the cache (sha256-checked) and exit",
    )
    md.add_argument("--batch-size", type=bounded(int, 1), default=4, help="contents of the same size stylized together")
    sc = p.add_argument_group("batches at scale (Lightning Trainer.predict; resumable: existing outputs are skipped)")
    sc.add_argument("--devices", default=None, help="use Trainer.predict on this many devices (e.g. 2, or auto)")
    sc.add_argument("--num-nodes", type=int, default=1, help="nodes for multi-node runs (with --devices)")
    sc.add_argument("--strategy", default="auto", help="Lightning strategy, e.g. ddp (with --devices)")
    sc.add_argument("--accelerator", default="auto", help="Lightning accelerator: auto, cpu, gpu (with --devices)")
