"""The checks of what ``adain-stylize`` parsed (one line per mistake, before any output is
written), and the :class:`~adain.pipeline.request.StylizeRequest` they turn it into."""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path
from typing import Any

from adain.cli.parser import fields_from, given, split_list
from adain.errors import UsageError
from adain.io.files import is_video
from adain.io.styles import resolve_style
from adain.methods.jobs import resolve_masks
from adain.ops.mixing import check_alpha
from adain.pipeline.request import StylizeRequest
from adain.pipeline.strokes import check_stroke_scale
from adain.pipeline.tiling import check_tile

__all__ = [
    "check_creative",
    "check_options",
    "refuse_unused",
    "request_from_args",
    "resolve_inputs",
    "method_tag",
    "temporal_mode",
]


def request_from_args(args: argparse.Namespace, masks: list[Any] | None) -> StylizeRequest:
    return fields_from(
        StylizeRequest,
        args,
        weights=args.style_weights,
        masks=masks,
        temporal=temporal_mode(args),
        quiet=bool(args.quiet),
    )


#: options only the optimisation reads (``--method gatys``, ``--refine N``)
OPTIMIZE_ONLY = tuple(
    "loss style_weight content_weight tv_weight optimizer lr style_layers scales seed loss_heads".split()
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
    check_alpha(args.alpha, "--alpha")
    check_stroke_scale(args.stroke_scale, "--stroke-scale")
    if args.max_pixels < 1:
        raise UsageError(f"--max-pixels must be a positive pixel count, got {args.max_pixels}")
    if args.skip_existing and args.overwrite:
        raise UsageError("--skip-existing and --overwrite contradict each other; choose one")
    check_tile(args.tile, "--tile")
    if not 0.0 <= args.temporal_smoothing < 1.0:
        raise UsageError(f"--temporal-smoothing must be in [0, 1), got {args.temporal_smoothing}")
    if not 0.0 <= args.temporal_strength < 1.0:
        raise UsageError(f"--temporal-strength must be in [0, 1), got {args.temporal_strength}")
    if args.temporal in ("flow", "off") and args.temporal_smoothing:
        raise UsageError(f"--temporal-smoothing is the ema mode's beta; it contradicts --temporal {args.temporal}")
    if args.devices is not None:
        from adain.methods.predict import check_devices

        check_devices(args.devices, args.num_nodes, args.strategy, args.accelerator)
    videos = [c for c in args.content if is_video(c)]
    if videos and len(args.content) > 1:
        raise UsageError(
            f"{videos[0]}: a video must be the only --content (stylize images and videos in separate runs)"
        )


def check_creative(
    args: argparse.Namespace, contents: list[Path], styles: list[Path], optimize: tuple[str, int] | None
) -> StylizeRequest:
    """Checks of the creative flags against the inputs; returns the request (with the mask files)."""
    videos = [c for c in contents if is_video(c)]  # (a video is the only content: check_options)
    if videos and (args.grid or args.preserve_color == "coral"):
        raise UsageError(f"{videos[0]}: --grid and --preserve-color coral work on images, not video")
    if not videos and (args.temporal_smoothing or args.temporal):
        raise UsageError("--temporal and --temporal-smoothing apply to video contents only")
    if args.stroke_scale != 1.0:
        clashes = {
            "--grid": bool(args.grid),
            "--refine/--method gatys": optimize is not None,
            "--devices": args.devices is not None,
        }
        for other in (k for k, used in clashes.items() if used):
            raise UsageError(f"--stroke-scale works on images and videos; it cannot be combined with {other}")
    if optimize is not None:
        what = "--refine" if args.method == "adain" else "--method gatys"
        if videos:
            raise UsageError(f"{videos[0]}: {what} works on images; video stays AdaIN-only (drop {what})")
        if args.grid or args.tile or args.devices is not None:
            raise UsageError(
                f"{what} makes one optimised image per output; it cannot be combined with --grid, --tile or --devices"
            )
    # the request's own rules (grids, masks, weights, tiles) before any mask file is read
    request = request_from_args(args, split_list(args.mask) if args.mask else None)
    request.styles_of(styles)
    if request.masks is None:
        return request
    return replace(
        request, masks=resolve_masks(request.masks, videos[0] if videos else None, len(styles), args.max_pixels)
    )


def method_tag(args: argparse.Namespace) -> str:
    """The optimisation in output names: ``gatys``, ``refine10``, or nothing."""
    return "gatys" if args.method == "gatys" else f"refine{args.refine}" if args.refine else ""
