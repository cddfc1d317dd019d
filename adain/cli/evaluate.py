"""``adain-evaluate``: stylize every content x style and score the outputs with an independent VGG
(the metrics live in :mod:`adain.methods.evaluation`).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import torch
from torch import Tensor

from adain.cli.common import Parser, model_ref, run_command
from adain.errors import AdainError, UsageError
from adain.io.atomic import refuse_inputs
from adain.io.files import list_images
from adain.methods.evaluation import (
    EVAL_LAYERS,
    EvalEncoder,
    _default_eval_weights,
    evaluate,
    report_label,
    report_paths,
    summarize,
    write_reports,
)

__all__ = ["build_parser", "evaluate_main", "main"]


#: the largest shorter side scored (4096² float images and their VGG features already need ~3 GB)
MAX_EVAL_SIZE = 4096


def eval_size(text: str) -> int:
    """``--size``/``--video-size``: a shorter side from 16 to :data:`MAX_EVAL_SIZE`."""
    v = int(text)
    if not 16 <= v <= MAX_EVAL_SIZE:
        raise argparse.ArgumentTypeError(f"must be between 16 and {MAX_EVAL_SIZE}, got {v}")
    return v


def build_parser() -> argparse.ArgumentParser:
    p = Parser(
        prog="adain-evaluate",
        description=__doc__.split("\n\n")[0],
    )
    p.add_argument("--content", nargs="+", help="content images/directories (required unless --video)")
    p.add_argument("--style", nargs="+", help="style images/directories (with --video: the clips' style, optional)")
    p.add_argument(
        "--video",
        nargs="+",
        metavar=("SOURCE", "STYLIZED"),
        help="temporal consistency instead: the warping error of each STYLIZED clip against SOURCE's "
        "motion (and of SOURCE itself, the floor), plus the style loss over sampled frames with --style",
    )
    p.add_argument(
        "--video-size", type=eval_size, default=360, help="with --video: shorter side the clips are scored at"
    )
    p.add_argument("--max-frames", type=int, default=None, help="with --video: score only the first N frames")
    p.add_argument("--model", default="small16x", type=model_ref, metavar="MODEL", help="name, model folder or Hub id")
    p.add_argument("--checkpoint", help="an adain-train checkpoint instead of --model")
    p.add_argument("--encoder-weights", help="model encoder weights")
    p.add_argument("--decoder-weights", help="model decoder weights (e.g. a reconstruction decoder for a baseline)")
    p.add_argument(
        "--reference", choices=["content", "style"], help="score the content/style image itself instead of a model"
    )
    p.add_argument(
        "--eval-weights", help="genuine normalised VGG-19 for measuring (default: cached vgg_normalised.pth)"
    )
    p.add_argument("--eval-layers", default=",".join(EVAL_LAYERS), help="comma-separated evaluation layers")
    p.add_argument(
        "--size", type=eval_size, default=512, help=f"shorter side of contents and styles (16 to {MAX_EVAL_SIZE})"
    )
    p.add_argument(
        "--json", action="store_true", help="print the summary (or each clip's row) as JSON on stdout instead"
    )
    p.add_argument("--label", default=None, help="name of the reports (default: model/reference name)")
    p.add_argument("--output", default="evaluation", help="directory for CSV, markdown and grid")
    p.add_argument("--device", default="auto")
    p.add_argument(
        "--precision",
        default="fp32",
        choices=["auto", "fp32", "bf16", "fp16", "int8"],
        help="of the stylization network (int8: --backend openvino)",
    )
    p.add_argument("--calibration", metavar="DIR", help="images to calibrate --precision int8 on")
    p.add_argument(
        "--backend",
        default="torch",
        choices=["auto", "torch", "openvino", "onnxruntime"],
        help="runtime of the stylization network (the evaluator always runs in torch fp32)",
    )
    p.add_argument("--overwrite", action="store_true")
    p.add_argument("--quiet", action="store_true")
    from adain.cli.options import add_optimize_options

    add_optimize_options(p)
    return p


def _run_video(args: argparse.Namespace) -> int:
    from adain.methods.evaluation import evaluate_video

    if len(args.video) < 2:
        raise UsageError("--video needs the source clip and at least one stylized clip")
    if args.video_size < 16 or (args.max_frames is not None and args.max_frames < 2):
        raise UsageError("--video-size must be >= 16 and --max-frames >= 2")
    for clip in args.video:
        if not Path(clip).is_file():
            raise AdainError(f"{clip}: no such video")
    evaluator, style = None, None
    if args.style:
        style = list_images(args.style)[0]
        weights = args.eval_weights or _default_eval_weights()
        if weights is None:
            raise AdainError("no evaluation VGG for the style loss: pass --eval-weights PATH (or drop --style)")
        evaluator = EvalEncoder(weights, [x for x in args.eval_layers.split(",") if x])
    rows = evaluate_video(args.video[0], args.video[1:], args.video_size, args.max_frames, style, evaluator)
    floor = float(rows[0]["warping_error"])
    print("| clip | warping error (×10⁻³) | × source |" + (" style loss |" if style else ""))
    print("|---|---|---|" + ("---|" if style else ""))
    if args.json:
        for row in rows:
            print(json.dumps({k: (v if isinstance(v, str) else float(v)) for k, v in row.items()}))
        return 0
    for k, row in enumerate(rows):
        we = float(row["warping_error"])
        sl = f" {float(row['style_loss']):.3f} |" if "style_loss" in row else (" – |" if style else "")
        name = f"{row['clip']} (source: the floor)" if k == 0 else row["clip"]
        print(f"| {name} | {we * 1e3:.3f} | {we / max(floor, 1e-12):.1f} |{sl}")
    return 0


def _run(args: argparse.Namespace) -> int:
    from adain.methods.stylizer import Stylizer
    from adain.runtime.torch_backend import resolve_device

    if args.video:
        return _run_video(args)
    if not args.content or not args.style:
        from adain.errors import UsageError

        raise UsageError("--content and --style are required (or --video SOURCE STYLIZED…)")
    contents, styles = list_images(args.content), list_images(args.style)
    eval_weights = args.eval_weights or _default_eval_weights()
    if eval_weights is None:
        raise AdainError(
            "no evaluation VGG: pass --eval-weights PATH (vgg_normalised.pth or vgg_normalised_conv3_1.pth)"
        )
    device = resolve_device(args.device)
    evaluator = EvalEncoder(eval_weights, [s for s in args.eval_layers.split(",") if s], device)
    if args.reference == "content":

        def fn(c: Tensor, s: Tensor) -> Tensor:
            return c

        label = args.label or "reference_content"
    elif args.reference == "style":

        def fn(c: Tensor, s: Tensor) -> Tensor:
            return s

        label = args.label or "reference_style"
    else:
        if args.checkpoint:
            st = Stylizer.from_checkpoint(
                args.checkpoint,
                args.encoder_weights,
                device=str(device),
                precision=args.precision,
                backend=args.backend,
                calibration=args.calibration,
            )
        else:
            st = Stylizer.from_pretrained(
                args.model,
                args.encoder_weights,
                args.decoder_weights,
                device=str(device),
                precision=args.precision,
                backend=args.backend,
                calibration=args.calibration,
            )

        from adain.cli.options import optimization_request, options_from_args
        from adain.methods.gatys.request import stylize_optimized
        from adain.pipeline.request import StylizeRequest

        request = optimization_request(args)
        label = args.label or (Path(args.checkpoint).stem if args.checkpoint else args.model)
        if request is None:

            def fn(c: Tensor, s: Tensor) -> Tensor:
                return st.stylize(c, s, content_size=0, style_size=0)
        else:
            options = options_from_args(args, request[1])
            net = st.loss_network(args.loss_heads)
            originals = StylizeRequest(content_size=0, style_size=0)

            def fn(c: Tensor, s: Tensor) -> Tensor:
                out = stylize_optimized(st.pipeline, net, c, s, request[0], options, originals)
                return torch.from_numpy(out)

            label = args.label or (
                f"{label}_refine{request[1]}" if args.method == "adain" else f"{label}_gatys_{request[0]}{request[1]}"
            )
    out_dir = Path(args.output)
    if out_dir.exists() and not out_dir.is_dir():
        raise AdainError(f"{out_dir}: --output is a file; give a folder for the reports")
    for out in report_paths(out_dir, label).values():  # before the long part
        refuse_inputs(
            out, [*contents, *styles, args.checkpoint, args.encoder_weights, args.decoder_weights, eval_weights]
        )
        if out.exists() and not args.overwrite:
            raise AdainError(f"{out}: exists (use --overwrite, or --label for another name)")
    label = report_label(label)
    rows, grid = evaluate(fn, contents, styles, evaluator, args.size, progress=not args.quiet)
    try:
        paths = write_reports(rows, grid, Path(args.output), label, args.overwrite)
    except OSError as e:
        raise AdainError(f"{args.output}: cannot write the reports ({e.strerror or e})") from None
    mean = summarize(rows)
    if args.json:
        summary = {"label": label, "pairs": len(rows), **{k: float(v) for k, v in mean.items()}}
        print(json.dumps({**summary, "reports": {k: str(v) for k, v in paths.items()}}))
        return 0
    print(
        f"{label}: {len(rows)} pairs  content {mean['content_loss']:.3f}  style {mean['style_loss']:.3f}  "
        f"gram {mean['gram_loss']:.3f}  colour {mean['color_distance']:.3f}  {mean['seconds']:.3f} s/image  "
        f"-> {paths['md']}"
    )
    return 0


def _check(args: argparse.Namespace) -> None:
    """Option mistakes that argparse cannot see, in one line before any work."""
    if not [x for x in args.eval_layers.split(",") if x.strip()]:
        raise UsageError("--eval-layers names no layer (e.g. relu1_1,relu2_1,relu3_1)")


def evaluate_main(args: Sequence[str] | None = None) -> int:
    ns = build_parser().parse_args(args)

    def body() -> int:
        _check(ns)
        return _run(ns)

    return run_command("adain-evaluate", body)


def main() -> None:
    sys.exit(evaluate_main())


if __name__ == "__main__":  # pragma: no cover
    main()
