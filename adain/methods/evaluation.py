"""``adain-evaluate``: stylize every content × style and measure quality with an independent VGG.

Metrics per pair (lower is better for all three):

* **content loss** — MSE between the channel-normalised (instance-normalised) deepest evaluation
  features of the output and of the content (as in AdaAttN/StyTr² style evaluations);
* **style loss** — Σ over evaluation layers of ‖μ(out) − μ(style)‖² + ‖σ(out) − σ(style)‖², each
  squared norm averaged over channels (the AdaIN training loss, measured by another network);
* **gram loss** — Σ over layers of the MSE between Gram matrices ``F Fᵀ / HW``;
* **colour distance** — needs no network: the Hellinger distance between the CIELAB colour
  histograms (8 L* × 16 a* × 16 b* bins) of the output and of the style, in [0, 1] (0: the same
  colour distribution) — what a photo that keeps its own colours against a strongly coloured
  style shows and the VGG statistics can blur;
* **seconds** per stylization (model only, inputs already decoded).

The evaluation encoder is chosen independently of the model: by default the genuine normalised
VGG-19 (``vgg_normalised_conv3_1.pth`` up to relu3_1, or the full canonical file), so a model is
not graded by the network it was trained against. ``--reference content|style`` scores the content
or the style image itself as the "output", the two ends of the trade-off.
"""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor
from torchvision.utils import make_grid
from tqdm.auto import tqdm

from adain.errors import AdainError, ImageError, OutputExistsError, UsageError, WeightsError, os_reason
from adain.io.atomic import atomic_write, refuse_inputs
from adain.io.images import load_image, resize_image, save_image
from adain.nets.encoder import STAGES, Encoder, build_encoder, load_encoder_state_dict
from adain.ops.losses import gram_matrix
from adain.ops.stats import calc_mean_std, instance_normalize
from adain.weights.loading import load_state_dict_file
from adain.weights.registry import cache_dir

__all__ = [
    "evaluate_video",
    "EVAL_LAYERS",
    "color_distance",
    "color_histogram",
    "EvalEncoder",
    "PairMetrics",
    "content_distance",
    "check_report_paths",
    "default_eval_weights",
    "find_eval_weights",
    "evaluate",
    "evaluation_summary",
    "format_summary",
    "pair_metrics",
    "report_label",
    "report_paths",
    "style_distances",
    "summarize",
    "video_table",
    "write_reports",
]


EVAL_LAYERS = ("relu1_1", "relu2_1", "relu3_1")


class EvalEncoder:
    """A genuine normalised VGG-19 used only for measuring (never for training)."""

    def __init__(
        self, weights: str | Path, layers: Sequence[str] = EVAL_LAYERS, device: str | torch.device = "cpu"
    ) -> None:
        unknown = set(layers) - set(STAGES)
        if unknown:
            raise UsageError(f"unknown evaluation layers {sorted(unknown)}")
        self.layers = tuple(s for s in STAGES if s in layers)
        sd = load_state_dict_file(weights)
        self.encoder: Encoder = build_encoder("vgg19_normalised", self.layers[-1])
        try:
            load_encoder_state_dict(self.encoder, sd, str(weights))
        except ValueError as e:
            raise WeightsError(str(e)) from None
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
    color_distance: float
    seconds: float


#: bins of the colour histogram: L* in [0, 100], a* and b* in [-128, 128]
COLOR_BINS = (8, 16, 16)


def color_histogram(img: Tensor) -> Tensor:
    """The normalised CIELAB histogram (:data:`COLOR_BINS`) of an RGB image ``(3, H, W)`` in [0, 1]."""
    import cv2
    import numpy as np

    rgb = np.ascontiguousarray(img.detach().float().clamp(0, 1).permute(1, 2, 0).cpu().numpy())
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2Lab).reshape(-1, 3)  # float input: L* 0..100, a*/b* about ±128
    hist, _ = np.histogramdd(lab, bins=COLOR_BINS, range=((0, 100), (-128, 128), (-128, 128)))
    return torch.from_numpy(hist / max(hist.sum(), 1.0))


def color_distance(a: Tensor, b: Tensor) -> float:
    """Hellinger distance between two colour histograms (:func:`color_histogram`), in [0, 1]."""
    bc = float(torch.sqrt(a * b).sum())
    return max(0.0, 1.0 - bc) ** 0.5


def content_distance(out: Tensor, content: Tensor) -> float:
    """MSE of channel-normalised features (same shape)."""
    return float(torch.mean((instance_normalize(out) - instance_normalize(content)) ** 2))


def style_distances(out: dict[str, Tensor], style: dict[str, Tensor], layers: Sequence[str]) -> tuple[float, float]:
    """(mean/std style loss, Gram loss) summed over ``layers``; spatial sizes may differ."""
    s_loss, g_loss = 0.0, 0.0
    for layer in layers:
        mo, so = calc_mean_std(out[layer])
        ms, ss = calc_mean_std(style[layer])
        s_loss += float(torch.mean((mo - ms) ** 2) + torch.mean((so - ss) ** 2))
        g_loss += float(torch.mean((gram_matrix(out[layer]) - gram_matrix(style[layer])) ** 2))
    return s_loss, g_loss


def pair_metrics(
    out: dict[str, Tensor], content: dict[str, Tensor], style: dict[str, Tensor], layers: Sequence[str]
) -> tuple[float, float, float]:
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
    hist_s = {p: color_histogram(x) for p, x in imgs_s.items()}
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
                resized = torch.nn.functional.interpolate(
                    out[None], size=imgs_c[c].shape[-2:], mode="bilinear", antialias=True, align_corners=False
                )
                f_out = evaluator.features(resized)
            deepest = evaluator.layers[-1]
            cl = content_distance(f_out[deepest], feats_c[c][deepest])
            colour = color_distance(color_histogram(out), hist_s[s])
            rows.append(PairMetrics(c.name, s.name, cl, sl, gl, colour, seconds))
            cells.append(resize_image(out.float().clamp(0, 1), thumb, crop=True))
            bar.update()
    bar.close()
    grid = make_grid(torch.stack(cells), nrow=len(styles) + 1, padding=2, pad_value=1.0)
    return rows, grid


def summarize(rows: Sequence[PairMetrics]) -> dict[str, float]:
    n = max(len(rows), 1)
    keys = ("content_loss", "style_loss", "gram_loss", "color_distance", "seconds")
    return {k: sum(getattr(r, k) for r in rows) / n for k in keys}


def report_label(label: str) -> str:
    """A report label as a plain file name inside the output folder: a model folder's or file's
    path gives its name, a Hub id ``owner/name`` gives ``owner_name``; anything but letters,
    digits and ``._+@-`` becomes ``_`` (no path ever leaves the folder)."""
    text = label.rstrip("/\\")
    if Path(text).expanduser().exists():
        text = Path(text).name
    text = re.sub(r"[^\w.+@-]", "_", text.replace("/", "_")).strip(".") or "report"
    return text[:120]


def check_report_paths(out_dir: Path, label: str, inputs: Sequence[Any], overwrite: bool) -> None:
    """Before an evaluation: ``out_dir`` is a folder (or will be), and no report would replace an
    input or (without ``overwrite``) an existing file."""
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError(f"{out_dir}: --output is a file; give a folder for the reports")
    for out in report_paths(out_dir, label).values():
        refuse_inputs(out, list(inputs))
        if out.exists() and not overwrite:
            raise OutputExistsError(f"{out}: exists (use --overwrite, or --label for another name)")


def report_paths(out_dir: Path, label: str) -> dict[str, Path]:
    """The files :func:`write_reports` writes (named after :func:`report_label`)."""
    label = report_label(label)
    return {"csv": out_dir / f"{label}.csv", "md": out_dir / f"{label}.md", "grid": out_dir / f"{label}_grid.jpg"}


def write_reports(
    rows: Sequence[PairMetrics], grid: Tensor, out_dir: Path, label: str, overwrite: bool = False
) -> dict[str, Path]:
    """The CSV, markdown table and grid of an evaluation in ``out_dir`` (:func:`report_paths`).

    Raises:
        OutputExistsError: a report exists and ``overwrite`` is off.
        AdainError: the folder cannot be written (``out_dir: cannot write the reports (why)``).
    """
    try:
        return _write_reports(rows, grid, out_dir, label, overwrite)
    except OSError as e:
        if isinstance(e, AdainError):  # an existing report (written meanwhile): its own message
            raise
        raise AdainError(f"{out_dir}: cannot write the reports ({os_reason(e)})") from None


def evaluation_summary(label: str, rows: Sequence[PairMetrics], paths: dict[str, Path]) -> dict[str, Any]:
    """An evaluation's result as one record: label, pairs, the mean metrics and the report files."""
    mean = {k: float(v) for k, v in summarize(rows).items()}
    return {"label": label, "pairs": len(rows), **mean, "reports": {k: str(v) for k, v in paths.items()}}


def format_summary(record: dict[str, Any]) -> str:
    """:func:`evaluation_summary` as the line ``adain-evaluate`` prints."""
    r = record
    return (
        f"{r['label']}: {r['pairs']} pairs  content {r['content_loss']:.3f}  style {r['style_loss']:.3f}  "
        f"gram {r['gram_loss']:.3f}  colour {r['color_distance']:.3f}  {r['seconds']:.3f} s/image  "
        f"-> {r['reports']['md']}"
    )


def _write_reports(
    rows: Sequence[PairMetrics], grid: Tensor, out_dir: Path, label: str, overwrite: bool
) -> dict[str, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = report_paths(out_dir, label)
    for p in paths.values():
        if p.exists() and not overwrite:
            raise OutputExistsError(f"{p}: exists (use --overwrite)")
    mean = summarize(rows)
    table = io.StringIO(newline="")
    w = csv.DictWriter(table, fieldnames=list(asdict(rows[0])))
    w.writeheader()
    for r in rows:
        w.writerow(asdict(r))
    w.writerow({"content": "MEAN", "style": "", **mean})
    atomic_write(paths["csv"], lambda f: f.write(table.getvalue().encode()), overwrite=True)
    md = [
        f"# {label}: {len(rows)} pairs",
        "",
        "| model | pairs | content loss | style loss | gram loss | colour distance | s/image |",
        "|---|---|---|---|---|---|---|",
        f"| {label} | {len(rows)} | {mean['content_loss']:.3f} | {mean['style_loss']:.3f} | "
        f"{mean['gram_loss']:.3f} | {mean['color_distance']:.3f} | {mean['seconds']:.3f} |",
        "",
        "| content | style | content loss | style loss | gram loss | colour distance | s |",
        "|---|---|---|---|---|---|---|",
    ]
    md += [
        f"| {r.content} | {r.style} | {r.content_loss:.3f} | {r.style_loss:.3f} | {r.gram_loss:.3f} | "
        f"{r.color_distance:.3f} | {r.seconds:.3f} |"
        for r in rows
    ]
    atomic_write(paths["md"], lambda f: f.write(("\n".join(md) + "\n").encode()), overwrite=True)
    save_image(grid, paths["grid"], overwrite=overwrite)
    return paths


def find_eval_weights(weights: str | Path | None = None, purpose: str = "") -> str | Path:
    """``weights``, else the cached default (:func:`default_eval_weights`).

    Raises:
        WeightsError: neither is there (``purpose``: what they were needed for, with a hint).
    """
    found = weights or default_eval_weights()
    if found is None:
        raise WeightsError(
            f"no evaluation VGG {purpose}".rstrip()
            + ": pass --eval-weights PATH (vgg_normalised.pth or its first 18 modules)"
        )
    return found


def default_eval_weights() -> Path | None:
    """The cached canonical ``vgg_normalised.pth``, the default evaluation VGG (``None`` if absent)."""
    full = cache_dir() / "vgg_normalised.pth"
    return full if full.is_file() else None


def evaluate_video(
    source: str | Path,
    stylized: Sequence[str | Path],
    size: int = 360,
    max_frames: int | None = None,
    style: str | Path | None = None,
    evaluator: EvalEncoder | None = None,
    every: int = 10,
) -> list[dict[str, float | str]]:
    """Temporal consistency of stylized clips against their source: one row per clip (the source
    itself first, as the floor) with its warping error (:func:`adain.methods.temporal.warping_error`,
    the source's own flow, frames at shorter side ``size``) and, given a ``style`` and an
    ``evaluator``, the mean/std style loss over every ``every``-th frame.

    Raises:
        UsageError: no stylized clip.
        AdainError: missing or unreadable clips, fewer than two frames, clips of different lengths.
    """
    from adain.methods.temporal import source_motion, warping_error
    from adain.methods.video import read_frames

    if not stylized:
        raise UsageError("a video evaluation needs the source clip and at least one stylized clip")
    for clip in (source, *stylized):
        if not Path(clip).is_file():
            raise ImageError(f"{clip}: no such video")
    src = list(read_frames(source, size, max_frames))
    fs = None
    if style is not None and evaluator is not None:
        fs = evaluator.features(resize_image(load_image(style), 512))
    motion = source_motion(src) if len(src) >= 2 else None  # once, for the floor and every clip
    rows: list[dict[str, float | str]] = [
        {"clip": Path(source).name, "warping_error": warping_error(src, motion=motion)}
    ]
    for clip in stylized:
        frames = list(read_frames(clip, size, max_frames))
        row: dict[str, float | str] = {
            "clip": Path(clip).name,
            "warping_error": warping_error(src, frames, motion=motion),
        }
        if fs is not None and evaluator is not None:
            losses = [
                style_distances(evaluator.features(torch.from_numpy(f)), fs, evaluator.layers)[0]
                for f in frames[::every]
            ]
            row["style_loss"] = float(sum(losses) / len(losses))
        rows.append(row)
    return rows


def video_table(rows: Sequence[dict[str, float | str]]) -> str:
    """:func:`evaluate_video`'s rows as a markdown table: warping error (×10⁻³), its ratio to the
    source's (the floor) and, where measured, the style loss."""
    style = any("style_loss" in row for row in rows)
    floor = float(rows[0]["warping_error"])
    lines = ["| clip | warping error (×10⁻³) | × source |" + (" style loss |" if style else "")]
    lines.append("|---|---|---|" + ("---|" if style else ""))
    for k, row in enumerate(rows):
        we = float(row["warping_error"])
        sl = f" {float(row['style_loss']):.3f} |" if "style_loss" in row else (" – |" if style else "")
        name = f"{row['clip']} (source: the floor)" if k == 0 else row["clip"]
        lines.append(f"| {name} | {we * 1e3:.3f} | {we / max(floor, 1e-12):.1f} |{sl}")
    return "\n".join(lines)
