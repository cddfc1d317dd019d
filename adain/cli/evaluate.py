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
from adain.cli.model_options import add_model_options, make_pipeline, model_spec
from adain.cli.parser import Parser, bounded
from adain.errors import UsageError

if TYPE_CHECKING:
    from torch import Tensor

__all__ = ["build_parser", "evaluate_main", "main"]

PROG = "adain-evaluate"
#: the largest shorter side scored (4096² float images and their VGG features already need ~3 GB)
MAX_EVAL_SIZE = 4096
EVAL_LAYERS = "relu1_1,relu2_1,relu3_1"  # adain.methods.evaluation.EVAL_LAYERS (not imported for --help)


#: ``--size``/``--video-size``: a shorter side from 16 to :data:`MAX_EVAL_SIZE`
eval_size = bounded(int, 16, MAX_EVAL_SIZE)


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
    p.add_argument(
        "--max-frames", type=bounded(int, 2), default=None, help="with --video: score only the first N frames"
    )
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


def _run_video(args: argparse.Namespace) -> int:
    from adain.io.files import list_images
    from adain.methods.evaluation import EvalEncoder, evaluate_video, find_eval_weights, video_table

    evaluator, style = None, None
    if args.style:
        style = list_images(args.style)[0]
        weights = find_eval_weights(args.eval_weights, "for the style loss (or drop --style)")
        evaluator = EvalEncoder(weights, _layers(args))
    rows = evaluate_video(args.video[0], args.video[1:], args.video_size, args.max_frames, style, evaluator)
    as_json = lambda row: json.dumps({k: (v if isinstance(v, str) else float(v)) for k, v in row.items()})  # noqa: E731
    print("\n".join(map(as_json, rows)) if args.json else video_table(rows))
    return 0


def _stylize_fn(args: argparse.Namespace) -> tuple[Callable[[Tensor, Tensor], Tensor], str]:
    """What is scored (the model's output, or a reference image) and the report's label."""
    if args.reference:
        ref = args.reference
        return (lambda c, s: c) if ref == "content" else (lambda c, s: s), args.label or f"reference_{ref}"
    import torch

    from adain.cli.options import optimization_request, options_from_args
    from adain.methods.gatys.request import optimizer_for
    from adain.methods.stylizer import Stylizer
    from adain.pipeline.request import StylizeRequest

    st = Stylizer.from_pipeline(make_pipeline(model_spec(args), PROG))
    model = Path(args.checkpoint).stem if args.checkpoint else args.model
    originals = StylizeRequest(content_size=0, style_size=0)  # the evaluation resized them already
    request = optimization_request(args)
    if request is None:
        return lambda c, s: st.stylize(c, s, originals), args.label or model
    init, iterations = request
    optimize = optimizer_for(st.pipeline, args.loss_heads, init, options_from_args(args, iterations), originals)
    kind = f"refine{iterations}" if args.method == "adain" else f"gatys_{init}{iterations}"
    return (lambda c, s: torch.from_numpy(optimize(c, s))), args.label or f"{model}_{kind}"


def _run(args: argparse.Namespace) -> int:
    from adain.io.files import list_images
    from adain.methods.evaluation import (
        EvalEncoder,
        check_report_paths,
        evaluate,
        evaluation_summary,
        find_eval_weights,
        format_summary,
        report_label,
        write_reports,
    )
    from adain.runtime.torch_backend import resolve_device

    if args.video:
        return _run_video(args)
    if not args.content or not args.style:
        raise UsageError("--content and --style are required (or --video SOURCE STYLIZED…)")
    contents, styles = list_images(args.content), list_images(args.style)
    eval_weights = find_eval_weights(args.eval_weights)
    evaluator = EvalEncoder(eval_weights, _layers(args), resolve_device(args.device))
    fn, label = _stylize_fn(args)
    inputs = [*contents, *styles, args.checkpoint, args.encoder_weights, args.decoder_weights, eval_weights]
    check_report_paths(Path(args.output), label, inputs, args.overwrite)  # before the long part
    label = report_label(label)
    rows, grid = evaluate(fn, contents, styles, evaluator, args.size, progress=not args.quiet)
    record = evaluation_summary(label, rows, write_reports(rows, grid, Path(args.output), label, args.overwrite))
    print(json.dumps(record) if args.json else format_summary(record))
    return 0


def evaluate_main(args: Sequence[str] | None = None) -> int:
    ns = build_parser().parse_args(args)
    return run_command(PROG, lambda: (_layers(ns), _run(ns))[1], -1 if ns.quiet else 0)


def main() -> None:
    sys.exit(evaluate_main())


if __name__ == "__main__":  # pragma: no cover
    main()
