"""The options of ``adain-stylize``: the parser, and the checks of what was parsed (one line per
mistake, before any output is written) that turn it into the plain :class:`~adain.pipeline.request.StylizeRequest`."""

from __future__ import annotations

import argparse
from pathlib import Path

from adain.cli.common import Parser, add_model_options, given, size_type, split_list
from adain.cli.options import add_optimize_options
from adain.errors import AdainError, UsageError
from adain.io.files import is_video, list_images
from adain.io.images import DEFAULT_MAX_PIXELS, label_map_to_masks, probe_size, read_image, to_mask
from adain.io.styles import resolve_style
from adain.methods.jobs import OUT_EXTS
from adain.ops.mixing import normalize_weights
from adain.pipeline.request import StylizeRequest, check_working_size
from adain.pipeline.strokes import check_stroke_scale
from adain.pipeline.tiling import check_tile
from adain.weights.registry import MODELS

__all__ = [
    "PROG",
    "build_parser",
    "check_creative",
    "check_inputs",
    "check_options",
    "refuse_unused",
    "request_from_args",
    "resolve_inputs",
]

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
    md.add_argument("--batch-size", type=int, default=4, help="contents of the same size stylized together")
    sc = p.add_argument_group("batches at scale (Lightning Trainer.predict; resumable: existing outputs are skipped)")
    sc.add_argument("--devices", default=None, help="use Trainer.predict on this many devices (e.g. 2, or auto)")
    sc.add_argument("--num-nodes", type=int, default=1, help="nodes for multi-node runs (with --devices)")
    sc.add_argument("--strategy", default="auto", help="Lightning strategy, e.g. ddp (with --devices)")
    sc.add_argument("--accelerator", default="auto", help="Lightning accelerator: auto, cpu, gpu (with --devices)")


def request_from_args(args: argparse.Namespace, masks: list[Path] | None) -> StylizeRequest:
    return StylizeRequest(
        alpha=args.alpha,
        weights=args.style_weights,
        content_size=args.content_size,
        style_size=args.style_size,
        crop=args.crop,
        preserve_color=args.preserve_color,
        masks=masks,
        tile=args.tile,
        stroke_scale=args.stroke_scale,
        grid=args.grid,
        temporal=temporal_mode(args),
        temporal_strength=args.temporal_strength,
        temporal_smoothing=args.temporal_smoothing,
        batch_size=args.batch_size,
        max_pixels=args.max_pixels,
        overwrite=args.overwrite,
        quiet=bool(args.quiet),
    )


#: options only the optimisation reads (``--method gatys``, ``--refine N``)
OPTIMIZE_ONLY = (
    "loss",
    "style_weight",
    "content_weight",
    "tv_weight",
    "optimizer",
    "lr",
    "style_layers",
    "scales",
    "seed",
    "loss_heads",
)
#: options of ``--method gatys`` alone
GATYS_ONLY = ("iterations", "init")
#: options of the ``--devices`` path alone
DEVICES_ONLY = ("num_nodes", "strategy", "accelerator")


def _flag(dest: str) -> str:
    return "--" + dest.replace("_", "-")


def resolve_inputs(args: argparse.Namespace) -> argparse.Namespace:
    """A copy of ``args`` with the positional ``CONTENT STYLE`` moved into ``--content``/``--style``
    and named styles (``matisse``) turned into the shipped files."""
    content, style, pos = args.content, args.style, list(args.inputs)
    if pos:
        if content is None and style is None and len(pos) == 2:
            content, style = [pos[0]], [pos[1]]
        elif content is None and style is not None and len(pos) == 1:
            content = [pos[0]]
        else:
            raise UsageError(
                f"positional inputs are CONTENT STYLE, or CONTENT with --style; got {len(pos)} "
                f"({' '.join(pos)}); use --content and --style for several"
            )
    if style:
        style = [resolve_style(s) for s in split_list(style)]
    return argparse.Namespace(**{**vars(args), "content": content, "style": style, "inputs": []})


def refuse_unused(args: argparse.Namespace, video: bool) -> None:
    """An option the chosen mode would ignore is a mistake, said in one line with the mode it belongs to."""
    for dest in GATYS_ONLY:
        if given(args, dest) and args.method != "gatys":
            raise UsageError(f"{_flag(dest)} applies to --method gatys only (this run is --method {args.method})")
    if args.method == "adain" and not args.refine:
        for dest in OPTIMIZE_ONLY:
            if given(args, dest):
                hint = "; did you mean --style-weights (the blend of several styles)?" if dest == "style_weight" else ""
                raise UsageError(
                    f"{_flag(dest)} is a setting of the optimisation (--method gatys or --refine N); "
                    f"plain AdaIN would ignore it{hint}"
                )
    if args.devices is None:
        for dest in DEVICES_ONLY:
            if given(args, dest):
                raise UsageError(f"{_flag(dest)} applies with --devices only (Lightning's Trainer.predict)")
    if given(args, "temporal_strength") and not (video and temporal_mode(args) == "flow"):
        raise UsageError("--temporal-strength applies to a video with --temporal flow only")


def temporal_mode(args: argparse.Namespace) -> str:
    """``--temporal``, else ``ema`` when only ``--temporal-smoothing`` is given, else ``flow``."""
    return args.temporal or ("ema" if args.temporal_smoothing else "flow")


def check_options(args: argparse.Namespace) -> None:
    if not args.content or not args.style:
        raise UsageError("--content and --style are required (or --download MODEL)")
    if not 0.0 <= args.alpha <= 1.0:
        raise UsageError(f"--alpha must be in [0, 1], got {args.alpha}")
    check_stroke_scale(args.stroke_scale, "--stroke-scale")
    if args.max_pixels < 1:
        raise UsageError(f"--max-pixels must be a positive pixel count, got {args.max_pixels}")
    if args.batch_size < 1:
        raise UsageError(f"--batch-size must be >= 1, got {args.batch_size}")
    if args.skip_existing and args.overwrite:
        raise UsageError("--skip-existing and --overwrite contradict each other; choose one")
    check_tile(args.tile, "--tile")
    if not 0.0 <= args.temporal_smoothing < 1.0:
        raise AdainError(f"--temporal-smoothing must be in [0, 1), got {args.temporal_smoothing}")
    if not 0.0 <= args.temporal_strength < 1.0:
        raise UsageError(f"--temporal-strength must be in [0, 1), got {args.temporal_strength}")
    if args.temporal in ("flow", "off") and args.temporal_smoothing:
        raise UsageError(f"--temporal-smoothing is the ema mode's beta; it contradicts --temporal {args.temporal}")
    if args.devices is not None and not (
        args.devices in ("auto", "-1") or (args.devices.isdigit() and 1 <= int(args.devices) <= 1024)
    ):
        raise UsageError(f"--devices must be a device count from 1 to 1024, -1 (all) or auto, got {args.devices!r}")
    if not 1 <= args.num_nodes <= 100_000:
        raise UsageError(f"--num-nodes must be between 1 and 100000, got {args.num_nodes}")
    if args.devices is not None:
        from adain.methods.predict import check_devices

        check_devices(args.num_nodes, args.strategy, args.accelerator)
    videos = [c for c in args.content if is_video(c)]
    if videos and len(args.content) > 1:
        raise AdainError(
            f"{videos[0]}: a video must be the only --content (stylize images and videos in separate runs)"
        )


def check_creative(
    args: argparse.Namespace, contents: list[Path], styles: list[Path], optimize: tuple[str, int] | None
) -> list[Path] | None:
    """Checks of the creative flags against the inputs; returns the mask files (or None)."""
    videos = [c for c in contents if is_video(c)]
    if videos and len(contents) > 1:
        raise AdainError(f"{videos[0]}: a video must be the only --content")
    if videos and (args.grid or args.preserve_color == "coral"):
        raise AdainError(f"{videos[0]}: --grid and --preserve-color coral work on images, not video")
    if not videos and (args.temporal_smoothing or args.temporal):
        raise AdainError("--temporal and --temporal-smoothing apply to video contents only")
    if args.stroke_scale != 1.0:
        clashes = {
            "a video": bool(videos),
            "--grid": bool(args.grid),
            "--refine/--method gatys": optimize is not None,
            "--devices": args.devices is not None,
        }
        for other in (k for k, used in clashes.items() if used):
            raise UsageError(f"--stroke-scale works on single images; it cannot be combined with {other}")
    if optimize is not None:
        what = "--refine" if args.method == "adain" else "--method gatys"
        if videos:
            raise AdainError(f"{videos[0]}: {what} works on images; video stays AdaIN-only (drop {what})")
        if args.grid or args.tile or args.devices is not None:
            raise UsageError(
                f"{what} makes one optimised image per output; it cannot be combined with --grid, --tile or --devices"
            )
    if args.grid == "blend" and len(styles) != 4:
        raise AdainError(f"--grid blend needs exactly 4 styles, got {len(styles)}")
    if args.grid and (args.mask or args.style_weights is not None):
        raise AdainError("--grid cannot be combined with --mask or --style-weights")
    if args.style_weights is not None:
        try:
            normalize_weights(args.style_weights, len(styles))
        except UsageError as e:
            raise UsageError(f"--style-weights: {e}") from None
    if args.mask is None:
        return None
    if args.style_weights is not None:
        raise AdainError("--mask assigns one style per region; it cannot be combined with --style-weights")
    if args.tile:
        raise AdainError("--mask cannot be combined with --tile")
    raw = split_list(args.mask)
    if videos and any(Path(m).is_dir() or is_video(m) for m in raw):  # masks per frame
        if len(raw) not in (1, len(styles)):
            raise AdainError(
                f"{raw[0]}: got {len(raw)} mask sources for {len(styles)} styles (one per style, or one label map)"
            )
        for m in raw:
            if not (Path(m).is_dir() or is_video(m)):
                raise AdainError(f"{m}: per-frame masks are videos or folders of frames; give all masks that way")
            if Path(m).is_dir():
                list_images([m])  # a folder without frames fails here
        from adain.methods.video import check_mask_frames

        check_mask_frames(videos[0], [Path(m) for m in raw], len(styles), None, args.max_pixels)  # before any work
        return [Path(m) for m in raw]
    masks = list_images(raw)
    loaded = [to_mask(m, args.max_pixels) for m in masks]
    if len(masks) == 1 and len(styles) > 1:
        label_map_to_masks(loaded[0], len(styles), str(masks[0]))
    elif len(masks) != len(styles):
        raise AdainError(
            f"{masks[0]}: got {len(masks)} masks for {len(styles)} styles (one per style, or one label map)"
        )
    return masks


def check_inputs(args: argparse.Namespace, contents: list[Path], styles: list[Path], optimizing: bool) -> None:
    """Before anything is written: every style decodes, and every input's working size (after
    resizing) is within --max-pixels, so a bad file or a huge request fails the run up front."""
    from adain.methods.gatys.options import check_optimize_size

    for f in dict.fromkeys(styles):
        check_working_size(*probe_size(f, args.max_pixels), args.style_size, args.crop, args.max_pixels, str(f))
        read_image(f, args.max_pixels)
    for f in contents:
        if is_video(f):
            from adain.methods.video import probe_video_size

            check_working_size(*probe_video_size(f), args.content_size, False, args.max_pixels, str(f))
        else:
            nh, nw = check_working_size(
                *probe_size(f, args.max_pixels), args.content_size, args.crop, args.max_pixels, str(f)
            )
            if optimizing:
                check_optimize_size(nh, nw, str(f))
