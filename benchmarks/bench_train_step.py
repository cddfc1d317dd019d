"""Where the time of one training step goes, and the whole step in Lightning.

Profiles the small16x recipe (batch 8, 256² crops of images resized to 512; style loss through the
distillation heads) part by part on the current machine — data (decode/resize/crop of 16 files),
encoder targets, decoder forward, loss (encoder of the output + heads + statistics), backward,
optimiser — then times real ``Trainer.fit`` steps (data loading in workers, overlapped).

    python benchmarks/bench_train_step.py --encoder-weights ../shared/weights/cd16x_wct/4SE.pth \
        --content ../shared/datasets/train/content --style ../shared/datasets/train/style

``--loader legacy`` uses the loader of the first release (full-size float decode and resize) for
the "before" row.
"""

from __future__ import annotations

import contextlib
import statistics
import time
from pathlib import Path

import lightning as L
import numpy as np
import torch
from _harness import Table, header, parser
from torch.utils.data import DataLoader

from adain.io.images import load_image, resize_image
from adain.training.data import ContentStyleDataModule, PairStream, find_images
from adain.training.module import AdaINLitModule


class StepTimer(L.Callback):
    """Seconds between the ends of consecutive steps (waiting for data included)."""

    def __init__(self) -> None:
        self.ends: list[float] = []

    def on_train_batch_end(self, *args: object) -> None:
        self.ends.append(time.perf_counter())

    @property
    def times(self) -> list[float]:
        return [b - a for a, b in zip(self.ends, self.ends[1:])]


class LegacyStream(PairStream):
    """The first release's reading: decode at full size to float32, resize float planes."""

    def read(self, f: Path) -> np.ndarray:
        img = resize_image(load_image(f), self.image_size)
        return (img.numpy().transpose(1, 2, 0) * 255.0 + 0.5).astype(np.uint8)


class LegacyData(ContentStyleDataModule):
    def train_dataloader(self) -> DataLoader:
        loader = super().train_dataloader()
        ds = loader.dataset
        legacy = LegacyStream(
            ds.contents,
            ds.styles,
            ds.image_size,
            ds.crop_size,
            ds.batch_size,
            ds.seed,
            ds.start,
            ds.rank,
            ds.world_size,
        )
        return DataLoader(
            legacy, batch_size=None, num_workers=loader.num_workers, prefetch_factor=loader.prefetch_factor
        )


def autocast(precision: str) -> contextlib.AbstractContextManager:
    return torch.autocast("cpu", dtype=torch.bfloat16) if precision.startswith("bf16") else contextlib.nullcontext()


def profile_parts(module: AdaINLitModule, stream: PairStream, steps: int, precision: str) -> dict[str, float]:
    """Median seconds of each part of a step (synchronous, in this process)."""
    opt = torch.optim.Adam(module.net.decoder.parameters(), lr=1e-4)
    names = (
        "data: decode/resize/crop",
        "encoder: targets",
        "decoder forward",
        "loss: encoder of output + stats",
        "backward",
        "optimizer",
    )
    parts: dict[str, list[float]] = {k: [] for k in names}
    for i in range(steps + 1):
        t = [time.perf_counter()]
        content, style, _ = stream.batch(i)
        t.append(time.perf_counter())
        with autocast(precision):
            target, s_stats = module.compute_targets(content, style)
            t.append(time.perf_counter())
            out = module._decode(module._mf(target))
            t.append(time.perf_counter())
            losses = module.output_losses(out, target, s_stats)
        t.append(time.perf_counter())
        losses["loss"].backward()
        t.append(time.perf_counter())
        opt.step()
        opt.zero_grad(set_to_none=True)
        t.append(time.perf_counter())
        if i == 0:
            continue  # warm-up
        for k, a, b in zip(names, t, t[1:]):
            parts[k].append(b - a)
    return {k: statistics.median(v) for k, v in parts.items()}


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--encoder-weights", default="../shared/weights/cd16x_wct/4SE.pth")
    p.add_argument("--content", default="../shared/datasets/train/content")
    p.add_argument("--style", default="../shared/datasets/train/style")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--crop-size", type=int, default=256)
    p.add_argument("--image-size", type=int, default=512)
    p.add_argument("--steps", type=int, default=6)
    p.add_argument("--loader", default="fast", choices=["fast", "legacy"])
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--precision", default="auto", help="Trainer precision (auto: picked for this machine)")
    p.add_argument("--no-channels-last", action="store_true")
    p.add_argument("--decoder-widths", type=int, nargs=4, default=None, help="e.g. 32 64 64 128 (default: mirror)")
    p.add_argument("--fit-steps", type=int, default=12, help="Trainer.fit steps to time (0: skip)")
    p.add_argument(
        "--malloc",
        default="keep",
        choices=["keep", "default"],
        help="keep: glibc keeps freed blocks for reuse (what adain-train does); default: untouched glibc",
    )
    args = p.parse_args()
    if args.malloc == "keep":
        from adain.runtime.hardware import keep_freed_memory

        keep_freed_memory()

    torch.manual_seed(0)
    from adain.runtime.precision import default_precision

    precision = default_precision() if args.precision == "auto" else args.precision
    module = AdaINLitModule(
        "vgg19_small16x",
        args.encoder_weights,
        style_features="aux",
        lr=3e-4,
        channels_last=not args.no_channels_last,
        decoder_widths=args.decoder_widths,
    )
    contents, styles = find_images(args.content, "content"), find_images(args.style, "style")
    stream_cls = LegacyStream if args.loader == "legacy" else PairStream
    stream = stream_cls(contents, styles, args.image_size, args.crop_size, args.batch_size, seed=0)
    parts = profile_parts(module, stream, args.steps, precision)
    total = sum(parts.values())
    print(header(args.json))
    print(
        f"# one step: batch {args.batch_size}, {args.crop_size}² crops, loader {args.loader}, precision {precision}, "
        f"channels_last {not args.no_channels_last}"
    )
    table = Table(["part", "seconds", "share (%)", "note"], args.json)
    for k, v in parts.items():
        table.row(**{"part": k, "seconds": v, "share (%)": round(100 * v / total)})
    table.row(**{"part": "sum (synchronous)", "seconds": total})
    if args.fit_steps:
        dm_cls = LegacyData if args.loader == "legacy" else ContentStyleDataModule
        dm = dm_cls(
            args.content,
            args.style,
            image_size=args.image_size,
            crop_size=args.crop_size,
            batch_size=args.batch_size,
            num_workers=args.workers,
        )
        timer = StepTimer()
        trainer = L.Trainer(
            max_steps=args.fit_steps,
            accelerator="cpu",
            devices=1,
            precision=precision,
            logger=False,
            enable_checkpointing=False,
            enable_progress_bar=False,
            enable_model_summary=False,
            callbacks=[timer],
            num_sanity_val_steps=0,
        )
        t0 = time.perf_counter()
        trainer.fit(module, dm)
        wall = time.perf_counter() - t0
        steady = timer.times[2:] or timer.times
        note = f"s/step, median of {len(steady)} steps after warm-up ({wall:.1f} s wall for {args.fit_steps} steps)"
        table.row(
            **{"part": f"Trainer.fit, {args.workers} worker(s)", "seconds": statistics.median(steady), "note": note}
        )


if __name__ == "__main__":
    main()
