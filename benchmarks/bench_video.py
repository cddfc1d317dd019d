"""Temporal consistency of stylized video: warping error, style loss and frames/s per mode.

    python benchmarks/bench_video.py ../shared/images/video/cutBunny.mp4 \
        --styles ../shared/images/style/mondrian.jpg ../shared/images/style/la_muse.jpg \
                 ../shared/images/style/brushstrokes.jpg \
        [--frames 0] [--size 360] [--eval-weights ../shared/weights/wct_normalised_vgg/vgg_normalised_conv3_1.pth] \
        [--strip docs/video_consistency.jpg]

For each style and mode (``off`` = per frame, ``ema``, ``flow``) the clip is stylized through
:func:`adain.methods.video.stylize_video` (the CLI's path: real decoding, encoding to H.264 and
decoding again, so the numbers are of the file a user gets), then scored: the warping error
(×10⁻³, :func:`adain.methods.temporal.warping_error`, the content's own flow; the source clip is
the floor), the mean/std style loss over every 10th frame (the independent genuine-VGG evaluator
when ``--eval-weights`` is given, else the model's encoder), and frames/s of the whole command
(decode + stylize + flow + encode). ``--strip`` writes frames of ``off`` above ``flow``.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
from _harness import Table, header, parser

from adain.methods.temporal import source_motion, warping_error
from adain.methods.video import VideoOptions, read_frames, stylize_video
from adain.pipeline.core import Pipeline


def _style_loss(frames: list[np.ndarray], style: Path, eval_weights: Path | None, pipe: Pipeline) -> float:
    import torch

    from adain.io.images import load_image, resize_image
    from adain.methods.evaluation import EvalEncoder, style_distances

    if eval_weights is not None:
        ev = EvalEncoder(eval_weights)
        feats, layers = ev.features, ev.layers
    else:
        enc = pipe.runtime.torch_network().encoder

        def feats(x: torch.Tensor) -> dict[str, torch.Tensor]:
            with torch.no_grad():
                return enc(x[None] if x.dim() == 3 else x, enc.stages)

        layers = enc.stages
    fs = feats(resize_image(load_image(style), 512))
    return float(np.mean([style_distances(feats(torch.from_numpy(f)), fs, layers)[0] for f in frames]))


def main() -> None:
    p = parser(__doc__)
    p.add_argument("video", type=Path)
    p.add_argument("--styles", type=Path, nargs="+", required=True)
    p.add_argument("--frames", type=int, default=0, help="first N frames (0: all)")
    p.add_argument("--size", type=int, default=360)
    p.add_argument("--model", default="small16x")
    p.add_argument("--backend", default="auto")
    p.add_argument("--modes", nargs="+", default=["off", "ema", "flow"])
    p.add_argument("--strength", type=float, default=0.8)
    p.add_argument("--eval-weights", type=Path, default=None)
    p.add_argument("--strip", type=Path, default=None, help="write a frame strip: per frame (top) vs flow (bottom)")
    a = p.parse_args()
    pipe = Pipeline.from_pretrained(a.model, backend=a.backend, verbose=False)
    limit = a.frames or None
    src = list(read_frames(a.video, a.size, limit))
    motion = source_motion(src)  # once for every clip
    floor = warping_error(src, motion=motion)
    print(header(a.json))
    print(f"# {pipe.runtime.describe()}; {a.video.name}: {len(src)} frames at {a.size} p; source warping error "
          f"(floor) {floor * 1e3:.3f} ×10⁻³")  # fmt: skip
    columns = ["style", "mode", "warping error (×10⁻³)", "vs per frame (%)", "style loss", "style vs per frame (%)"]
    columns.append("frames/s")
    table = Table(columns, a.json, digits=2)
    kept: dict[str, list[np.ndarray]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for style in a.styles:
            base: dict[str, float] = {}
            for mode in a.modes:
                out = Path(tmp) / f"{style.stem}_{mode}.mp4"
                t = time.perf_counter()
                options = VideoOptions(
                    content_size=a.size, temporal=mode, temporal_strength=a.strength, max_frames=limit
                )
                stylize_video(pipe, a.video, style, out, options, progress=False)
                fps = len(src) / (time.perf_counter() - t)
                frames = list(read_frames(out, a.size, limit))
                we = warping_error(src, frames, motion=motion)
                sl = _style_loss(frames[::10], style, a.eval_weights, pipe)
                base.setdefault("we", we)
                base.setdefault("sl", sl)
                values = [style.stem, mode, we * 1e3, 100 * (we / base["we"] - 1), sl, 100 * (sl / base["sl"] - 1), fps]
                table.row(**dict(zip(columns, values)))
                if style == a.styles[0]:
                    kept[mode] = frames
    if a.strip is not None and "off" in kept and "flow" in kept:
        from adain.io.images import save_image

        picks = np.linspace(len(src) // 4, len(src) // 4 + 9, 4).astype(int)  # consecutive-ish frames
        rows = [np.concatenate([kept[m][k] for k in picks], axis=2) for m in ("off", "flow")]
        save_image(np.concatenate(rows, axis=1), a.strip, overwrite=True, quality=90)
        print(f"wrote {a.strip} (top: per frame, bottom: flow; frames {', '.join(map(str, picks))})")


if __name__ == "__main__":
    main()
