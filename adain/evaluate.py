"""``adain-evaluate``: stylize every content × style and measure quality with an independent VGG.

Metrics per pair (lower is better for all three):

* **content loss** — MSE between the channel-normalised (instance-normalised) deepest evaluation
  features of the output and of the content (as in AdaAttN/StyTr² style evaluations);
* **style loss** — Σ over evaluation layers of ‖μ(out) − μ(style)‖² + ‖σ(out) − σ(style)‖², each
  squared norm averaged over channels (the AdaIN training loss, measured by another network);
* **gram loss** — Σ over layers of the MSE between Gram matrices ``F Fᵀ / HW``;
* **seconds** per stylization (model only, inputs already decoded).

The evaluation encoder is chosen independently of the model: by default the genuine normalised
VGG-19 (``vgg_normalised_conv3_1.pth`` up to relu3_1, or the full canonical file), so a model is
not graded by the network it was trained against. ``--reference content|style`` scores the content
or the style image itself as the "output", the two ends of the trade-off.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import Tensor
from torchvision.utils import make_grid
from tqdm.auto import tqdm

from . import functional as AF
from .encoder import STAGES, Encoder, build_encoder, load_encoder_state_dict
from .errors import AdainError
from .io import list_images, load_image, resize_image, save_image
from .weights import MODELS, cache_dir, load_state_dict_file

__all__ = ["EvalEncoder", "PairMetrics", "evaluate", "evaluate_main", "pair_metrics"]

EVAL_LAYERS = ("relu1_1", "relu2_1", "relu3_1")


class EvalEncoder:
    """A genuine normalised VGG-19 used only for measuring (never for training)."""

    def __init__(self, weights: str | Path, layers: Sequence[str] = EVAL_LAYERS, device: str | torch.device = "cpu") -> None:
        unknown = set(layers) - set(STAGES)
        if unknown:
            raise AdainError(f"unknown evaluation layers {sorted(unknown)}")
        self.layers = tuple(s for s in STAGES if s in layers)
        sd = load_state_dict_file(weights)
        self.encoder: Encoder = build_encoder("vgg19_normalised", self.layers[-1])
        try:
            load_encoder_state_dict(self.encoder, sd, str(weights))
        except ValueError as e:
            raise AdainError(str(e)) from None
        self.encoder.to(device)
        self.device = torch.device(device)

    @torch.inference_mode()
    def features(self, img: Tensor) -> dict[str, Tensor]:
        return self.encoder(img.to(self.device).unsqueeze(0) if img.dim() == 3 else img.to(self.device))


@dataclass
class PairMetrics:
    content: str
    style: str
    content_loss: float
    style_loss: float
    gram_loss: float
    seconds: float


def content_distance(out: Tensor, content: Tensor) -> float:
    """MSE of channel-normalised features (same shape)."""
    return float(torch.mean((AF.instance_normalize(out) - AF.instance_normalize(content)) ** 2))


def style_distances(out: dict[str, Tensor], style: dict[str, Tensor], layers: Sequence[str]) -> tuple[float, float]:
    """(mean/std style loss, Gram loss) summed over ``layers``; spatial sizes may differ."""
    s_loss, g_loss = 0.0, 0.0
    for layer in layers:
        mo, so = AF.calc_mean_std(out[layer])
        ms, ss = AF.calc_mean_std(style[layer])
        s_loss += float(torch.mean((mo - ms) ** 2) + torch.mean((so - ss) ** 2))
        g_loss += float(torch.mean((AF.gram_matrix(out[layer]) - AF.gram_matrix(style[layer])) ** 2))
    return s_loss, g_loss


def pair_metrics(out: dict[str, Tensor], content: dict[str, Tensor], style: dict[str, Tensor], layers: Sequence[str]) -> tuple[float, float, float]:
    """(content loss, style loss, gram loss) from evaluation features of output, content and style."""
    s_loss, g_loss = style_distances(out, style, layers)
    return content_distance(out[layers[-1]], content[layers[-1]]), s_loss, g_loss


def evaluate(
    stylize: Callable[[Tensor, Tensor], Tensor],
    contents: Sequence[Path],
    styles: Sequence[Path],
    evaluator: EvalEncoder,
    size: int = 512,
    progress: bool = True,
    thumb: int = 128,
) -> tuple[list[PairMetrics], Tensor]:
    """Score every content × style; returns per-pair metrics and a contents × styles grid image."""
    imgs_c = {p: resize_image(load_image(p), size) for p in contents}
    imgs_s = {p: resize_image(load_image(p), size) for p in styles}
    feats_c = {p: evaluator.features(x) for p, x in imgs_c.items()}
    feats_s = {p: evaluator.features(x) for p, x in imgs_s.items()}
    rows: list[PairMetrics] = []
    cells = [torch.ones(3, thumb, thumb)] + [resize_image(imgs_s[s], thumb, crop=True) for s in styles]
    bar = tqdm(total=len(contents) * len(styles), desc="evaluating", unit="pair", disable=not progress or None)
    for c in contents:
        cells.append(resize_image(imgs_c[c], thumb, crop=True))
        for s in styles:
            t0 = time.perf_counter()
            out = stylize(imgs_c[c], imgs_s[s])
            seconds = time.perf_counter() - t0
            # the references return an input unchanged: reuse its features instead of re-encoding
            f_out = feats_c[c] if out is imgs_c[c] else feats_s[s] if out is imgs_s[s] else evaluator.features(out)
            sl, gl = style_distances(f_out, feats_s[s], evaluator.layers)
            if out.shape[-2:] != imgs_c[c].shape[-2:]:  # e.g. the style reference: compare at content size
                resized = torch.nn.functional.interpolate(out[None], size=imgs_c[c].shape[-2:], mode="bilinear",
                                                          antialias=True, align_corners=False)
                f_out = evaluator.features(resized)
            deepest = evaluator.layers[-1]
            cl = content_distance(f_out[deepest], feats_c[c][deepest])
            rows.append(PairMetrics(c.name, s.name, cl, sl, gl, seconds))
            cells.append(resize_image(out.float().clamp(0, 1), thumb, crop=True))
            bar.update()
    bar.close()
    grid = make_grid(torch.stack(cells), nrow=len(styles) + 1, padding=2, pad_value=1.0)
    return rows, grid


def summarize(rows: Sequence[PairMetrics]) -> dict[str, float]:
    n = max(len(rows), 1)
    return {k: sum(getattr(r, k) for r in rows) / n for k in ("content_loss", "style_loss", "gram_loss", "seconds")}


def write_reports(rows: Sequence[PairMetrics], grid: Tensor, out_dir: Path, label: str, overwrite: bool = False) -> dict[str, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"csv": out_dir / f"{label}.csv", "md": out_dir / f"{label}.md", "grid": out_dir / f"{label}_grid.jpg"}
    for p in paths.values():
        if p.exists() and not overwrite:
            raise AdainError(f"{p}: exists (use --overwrite)")
    mean = summarize(rows)
    tmp_csv = paths["csv"].with_suffix(".csv.part")
    with open(tmp_csv, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(asdict(rows[0])))
        w.writeheader()
        for r in rows:
            w.writerow(asdict(r))
        w.writerow({"content": "MEAN", "style": "", **mean})
    tmp_csv.replace(paths["csv"])
    md = [f"# {label}: {len(rows)} pairs", "",
          "| model | pairs | content loss | style loss | gram loss | s/image |", "|---|---|---|---|---|---|",
          f"| {label} | {len(rows)} | {mean['content_loss']:.3f} | {mean['style_loss']:.3f} | "
          f"{mean['gram_loss']:.3f} | {mean['seconds']:.3f} |", "",
          "| content | style | content loss | style loss | gram loss | s |", "|---|---|---|---|---|---|"]
    md += [f"| {r.content} | {r.style} | {r.content_loss:.3f} | {r.style_loss:.3f} | {r.gram_loss:.3f} | {r.seconds:.3f} |" for r in rows]
    tmp_md = paths["md"].with_suffix(".md.part")
    tmp_md.write_text("\n".join(md) + "\n")
    tmp_md.replace(paths["md"])
    save_image(grid, paths["grid"], overwrite=overwrite)
    return paths


def _default_eval_weights() -> Path | None:
    full = cache_dir() / "vgg_normalised.pth"
    return full if full.is_file() else None


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="adain-evaluate", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--content", nargs="+", required=True, help="content images/directories")
    p.add_argument("--style", nargs="+", required=True, help="style images/directories")
    p.add_argument("--model", default="small16x", choices=sorted(MODELS))
    p.add_argument("--checkpoint", help="an adain-train checkpoint instead of --model")
    p.add_argument("--encoder-weights", help="model encoder weights")
    p.add_argument("--decoder-weights", help="model decoder weights (e.g. a reconstruction decoder for a baseline)")
    p.add_argument("--reference", choices=["content", "style"], help="score the content/style image itself instead of a model")
    p.add_argument("--eval-weights", help="genuine normalised VGG-19 for measuring (default: cached vgg_normalised.pth)")
    p.add_argument("--eval-layers", default=",".join(EVAL_LAYERS), help="comma-separated evaluation layers")
    p.add_argument("--size", type=int, default=512, help="shorter side of contents and styles")
    p.add_argument("--label", default=None, help="name of the reports (default: model/reference name)")
    p.add_argument("--output", default="evaluation", help="directory for CSV, markdown and grid")
    p.add_argument("--device", default="auto")
    p.add_argument("--precision", default="fp32", choices=["auto", "fp32", "bf16", "fp16"])
    p.add_argument("--backend", default="torch", choices=["auto", "torch", "openvino", "onnxruntime"],
                   help="runtime of the stylization network (the evaluator always runs in torch fp32)")
    p.add_argument("--overwrite", action="store_true")
    p.add_argument("--quiet", action="store_true")
    from .optimize_options import add_optimize_options

    add_optimize_options(p)
    return p


def _run(args: argparse.Namespace) -> int:
    from .inference import Stylizer, resolve_device

    contents, styles = list_images(args.content), list_images(args.style)
    eval_weights = args.eval_weights or _default_eval_weights()
    if eval_weights is None:
        raise AdainError("no evaluation VGG: pass --eval-weights PATH (vgg_normalised.pth or vgg_normalised_conv3_1.pth)")
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
            st = Stylizer.from_checkpoint(args.checkpoint, args.encoder_weights, device=str(device),
                                          precision=args.precision, backend=args.backend)
        else:
            st = Stylizer.from_pretrained(args.model, args.encoder_weights, args.decoder_weights, device=str(device),
                                          precision=args.precision, backend=args.backend)

        from .optimize import stylize_optimized
        from .optimize_options import optimization_request, options_from_args

        request = optimization_request(args)
        label = args.label or (Path(args.checkpoint).stem if args.checkpoint else args.model)
        if request is None:
            def fn(c: Tensor, s: Tensor) -> Tensor:
                return st.stylize(c, s, content_size=0, style_size=0)
        else:
            options = options_from_args(args, request[1])
            net = st.loss_network(args.loss_heads)

            def fn(c: Tensor, s: Tensor) -> Tensor:
                out = stylize_optimized(st.pipeline, net, c, s, request[0], options, content_size=0, style_size=0)
                return torch.from_numpy(out)
            label = args.label or (f"{label}_refine{request[1]}" if args.method == "adain"
                                   else f"{label}_gatys_{request[0]}{request[1]}")
    rows, grid = evaluate(fn, contents, styles, evaluator, args.size, progress=not args.quiet)
    try:
        paths = write_reports(rows, grid, Path(args.output), label, args.overwrite)
    except OSError as e:
        raise AdainError(f"{args.output}: cannot write the reports ({e.strerror or e})") from None
    mean = summarize(rows)
    print(f"{label}: {len(rows)} pairs  content {mean['content_loss']:.3f}  style {mean['style_loss']:.3f}  "
          f"gram {mean['gram_loss']:.3f}  {mean['seconds']:.3f} s/image  -> {paths['md']}")
    return 0


def evaluate_main(args: Sequence[str] | None = None) -> int:
    ns = build_parser().parse_args(args)
    try:
        return _run(ns)
    except AdainError as e:
        print(f"adain-evaluate: error: {e}", file=sys.stderr)
        return 2


def main() -> None:
    sys.exit(evaluate_main())


if __name__ == "__main__":  # pragma: no cover
    main()
