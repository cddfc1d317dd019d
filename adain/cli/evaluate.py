"""``adain-evaluate``: stylize every content x style and score the outputs with an independent VGG
(the metrics live in :mod:`adain.methods.evaluation`).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from adain.cli.common import run_command
from adain.cli.model_options import ModelOptions, add_model_options, make_pipeline
from adain.cli.parser import Parser
from adain.errors import AdainError, ImageError, UsageError, WeightsError

if TYPE_CHECKING:
    from torch import Tensor

__all__ = ["build_parser", "evaluate_main", "main"]

PROG = "adain-evaluate"
#: the largest shorter side scored (4096² float images and their VGG features already need ~3 GB)
MAX_EVAL_SIZE = 4096
EVAL_LAYERS = "relu1_1,relu2_1,relu3_1"  # adain.methods.evaluation.EVAL_LAYERS (not imported for --help)


def eval_size(text: str) -> int:
    """``--size``/``--video-size``: a shorter side from 16 to :data:`MAX_EVAL_SIZE`."""
    v = int(text)
    if not 16 <= v <= MAX_EVAL_SIZE:
        raise argparse.ArgumentTypeError(f"must be between 16 and {MAX_EVAL_SIZE}, got {v}")
    return v


def build_parser() -> argparse.ArgumentParser:
    from adain.cli.options import add_optimize_options

    p = Parser(prog=PROG, description=__doc__.split("\n\n")[0])
    p.add_argument("--content", nargs="+", help="content images/directories (required unless --video)")
    p.add_argument("--style", nargs="+", help="style images/directories (with --video: the clips' style, optional)")
    p.add_argument(
        "--video",
        nargs="+",
        metavar=("SOURCE", "STYLIZED"),
        help="temporal consistency instead: the warping error of each STYLIZED clip against SOURCE's "
        "motion (and of SOURCE itself, the floor), plus the style loss over sampled frames with --style",
    )
    p.add_argument("--video-size", type=eval_size, default=360, help="with --video: shorter side of the clips")
    p.add_argument("--max-frames", type=int, default=None, help="with --video: score only the first N frames")
    p.add_argument(
        "--reference", choices=["content", "style"], help="score the content/style image itself instead of a model"
    )
    p.add_argument(
        "--eval-weights", help="genuine normalised VGG-19 for measuring (default: cached vgg_normalised.pth)"
    )
    p.add_argument("--eval-layers", default=EVAL_LAYERS, help="comma-separated evaluation layers")
    p.add_argument(
        "--size", type=eval_size, default=512, help=f"shorter side of contents and styles (16 to {MAX_EVAL_SIZE})"
    )
    p.add_argument(
        "--json", action="store_true", help="print the summary (or each clip's row) as JSON on stdout instead"
    )
    p.add_argument("--label", default=None, help="name of the reports (default: model/reference name)")
    p.add_argument("--output", default="evaluation", help="directory for CSV, markdown and grid")
    p.add_argument("--overwrite", action="store_true")
    p.add_argument("--quiet", action="store_true")
    add_model_options(p)
    add_optimize_options(p)
    return p


def _layers(args: argparse.Namespace) -> list[str]:
    layers = [x.strip() for x in args.eval_layers.split(",") if x.strip()]
    if not layers:
        raise UsageError("--eval-layers names no layer (e.g. relu1_1,relu2_1,relu3_1)")
    return layers


def _eval_weights(args: argparse.Namespace, what: str) -> str | Path:
    from adain.methods.evaluation import default_eval_weights

    weights = args.eval_weights or default_eval_weights()
    if weights is None:
        raise WeightsError(
            f"no evaluation VGG {what}: pass --eval-weights PATH (vgg_normalised.pth or its first 18 modules)"
        )
    return weights


def _run_video(args: argparse.Namespace) -> int:
    from adain.io.files import list_images
    from adain.methods.evaluation import EvalEncoder, evaluate_video

    if len(args.video) < 2:
        raise UsageError("--video needs the source clip and at least one stylized clip")
    if args.max_frames is not None and args.max_frames < 2:
        raise UsageError("--max-frames must be >= 2")
    for clip in args.video:
        if not Path(clip).is_file():
            raise ImageError(f"{clip}: no such video")
    evaluator, style = None, None
    if args.style:
        style = list_images(args.style)[0]
        evaluator = EvalEncoder(_eval_weights(args, "for the style loss (or drop --style)"), _layers(args))
    rows = evaluate_video(args.video[0], args.video[1:], args.video_size, args.max_frames, style, evaluator)
    if args.json:
        for row in rows:
            print(json.dumps({k: (v if isinstance(v, str) else float(v)) for k, v in row.items()}))
        return 0
    floor = float(rows[0]["warping_error"])
    print("| clip | warping error (×10⁻³) | × source |" + (" style loss |" if style else ""))
    print("|---|---|---|" + ("---|" if style else ""))
    for k, row in enumerate(rows):
        we = float(row["warping_error"])
        sl = f" {float(row['style_loss']):.3f} |" if "style_loss" in row else (" – |" if style else "")
        name = f"{row['clip']} (source: the floor)" if k == 0 else row["clip"]
        print(f"| {name} | {we * 1e3:.3f} | {we / max(floor, 1e-12):.1f} |{sl}")
    return 0


def _stylize_fn(args: argparse.Namespace) -> tuple[Callable[[Tensor, Tensor], Tensor], str]:
    """What is scored (the model's output, or a reference image) and the report's label."""
    if args.reference:
        ref = args.reference
        return (lambda c, s: c) if ref == "content" else (lambda c, s: s), args.label or f"reference_{ref}"
    import torch

    from adain.cli.options import optimization_request, options_from_args
    from adain.methods.gatys.request import stylize_optimized
    from adain.methods.stylizer import Stylizer
    from adain.pipeline.request import StylizeRequest

    st = Stylizer.from_pipeline(make_pipeline(ModelOptions.from_args(args), PROG))
    label = args.label or (Path(args.checkpoint).stem if args.checkpoint else args.model)
    originals = StylizeRequest(content_size=0, style_size=0)  # the evaluation resized them already
    request = optimization_request(args)
    if request is None:
        return lambda c, s: st.stylize(c, s, originals), label
    init, iterations = request
    options, net = options_from_args(args, iterations), st.loss_network(args.loss_heads)
    kind = f"refine{iterations}" if args.method == "adain" else f"gatys_{init}{iterations}"
    fn = lambda c, s: torch.from_numpy(stylize_optimized(st.pipeline, net, c, s, init, options, originals))  # noqa: E731
    return fn, args.label or f"{label}_{kind}"


def _run(args: argparse.Namespace) -> int:
    from adain.io.files import list_images
    from adain.methods.evaluation import (
        EvalEncoder,
        check_report_paths,
        evaluate,
        report_label,
        summarize,
        write_reports,
    )
    from adain.runtime.torch_backend import resolve_device

    if args.video:
        return _run_video(args)
    if not args.content or not args.style:
        raise UsageError("--content and --style are required (or --video SOURCE STYLIZED…)")
    contents, styles = list_images(args.content), list_images(args.style)
    eval_weights = _eval_weights(args, "")
    evaluator = EvalEncoder(eval_weights, _layers(args), resolve_device(args.device))
    fn, label = _stylize_fn(args)
    inputs = [*contents, *styles, args.checkpoint, args.encoder_weights, args.decoder_weights, eval_weights]
    check_report_paths(Path(args.output), label, inputs, args.overwrite)  # before the long part
    label = report_label(label)
    rows, grid = evaluate(fn, contents, styles, evaluator, args.size, progress=not args.quiet)
    try:
        paths = write_reports(rows, grid, Path(args.output), label, args.overwrite)
    except OSError as e:
        if isinstance(e, AdainError):  # an existing report (written meanwhile): its own message
            raise
        raise AdainError(f"{args.output}: cannot write the reports ({e.strerror or e})") from None
    mean = summarize(rows)
    if args.json:
        summary = {"label": label, "pairs": len(rows), **{k: float(v) for k, v in mean.items()}}
        print(json.dumps({**summary, "reports": {k: str(v) for k, v in paths.items()}}))
    else:
        print(
            f"{label}: {len(rows)} pairs  content {mean['content_loss']:.3f}  style {mean['style_loss']:.3f}  "
            f"gram {mean['gram_loss']:.3f}  colour {mean['color_distance']:.3f}  {mean['seconds']:.3f} s/image  "
            f"-> {paths['md']}"
        )
    return 0


def evaluate_main(args: Sequence[str] | None = None) -> int:
    ns = build_parser().parse_args(args)
    return run_command(PROG, lambda: (_layers(ns), _run(ns))[1])


def main() -> None:
    sys.exit(evaluate_main())


if __name__ == "__main__":  # pragma: no cover
    main()
