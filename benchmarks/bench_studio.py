"""Studio latency: the live preview after an alpha move, and full renders, per model and backend.

Times :class:`adain.studio.engine.StudioEngine` (the page's handlers, without the browser): after one
warm-up preview (which encodes the content and computes the style statistics), ``preview`` is
called again with a new alpha — the decoder-only path a slider move takes — and ``render`` at 512
and 1024 px (the path of ``adain-stylize``). Median of ``--repeats``. Canonical weights are random
(speed does not depend on the values); small16x is the shipped model.

    python benchmarks/bench_studio.py CONTENT STYLE [--backends auto torch] [--repeats 5]
"""

from __future__ import annotations

import argparse
import itertools
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def _pipeline(model: str, backend: str, precision: str = "auto"):  # noqa: ANN202
    import torch

    from adain.nets.encoder import build_encoder
    from adain.nets.network import AdaINNet
    from adain.pipeline.core import Pipeline
    from adain.weights.source import ModelSource

    if model == "small16x":
        return Pipeline.from_pretrained("small16x", backend=backend, precision=precision, verbose=False)
    torch.manual_seed(0)
    net = AdaINNet(build_encoder("vgg19_normalised")).eval()
    return Pipeline.from_source(
        ModelSource.from_net(net, "canonical-random"), backend=backend, precision=precision, verbose=False
    )


def _median(fn, repeats: int) -> float:  # noqa: ANN001
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("content")
    p.add_argument("style")
    p.add_argument("--models", nargs="+", default=["small16x", "canonical"])
    p.add_argument("--backends", nargs="+", default=["auto", "torch"])
    p.add_argument("--precisions", nargs="+", default=["auto"], help="e.g. auto fp32 int8 (graph backends)")
    p.add_argument("--repeats", type=int, default=5)
    a = p.parse_args()
    import torch

    from adain.pipeline.caches import CodeCache, StyleStatsCache
    from adain.studio.engine import StudioEngine

    print(
        f"CPU: {platform.processor() or platform.machine()}, "
        f"torch capability {torch.backends.cpu.get_cpu_capability()}, "
        f"{torch.get_num_threads()} threads"
    )
    print(
        "| model | backend | preview 384 px after an alpha move | first preview (encode + stats) "
        "| render 512 px | render 1024 px |"
    )
    print("|---|---|---|---|---|---|")
    for model, backend, precision in itertools.product(a.models, a.backends, a.precisions):
        if backend == "torch" and precision == "int8":
            continue
        pipe = _pipeline(model, backend, precision)
        engine = StudioEngine(pipe, preview_size=384, output_dir=tempfile.mkdtemp())
        rt = engine.pipeline.runtime
        engine.preview(a.content, [a.style], alpha=1.0)  # converts/compiles the graphs if needed
        engine.pipeline.codes = CodeCache(4)  # a new upload: nothing encoded, no statistics
        engine.pipeline.styles = StyleStatsCache(None)
        t = time.perf_counter()
        engine.preview(a.content, [a.style], alpha=1.0)
        first = time.perf_counter() - t
        alphas = iter([0.1 * (k % 9 + 1) for k in range(1000)])
        move = _median(lambda: engine.preview(a.content, [a.style], alpha=next(alphas)), a.repeats)
        engine.render(a.content, [a.style], size=512)
        r512 = _median(lambda: engine.render(a.content, [a.style], size=512), a.repeats)
        r1024 = _median(lambda: engine.render(a.content, [a.style], size=1024), max(1, a.repeats // 2))
        name = f"{getattr(rt, 'backend', 'torch')} {rt.precision}"
        print(
            f"| {model} | {name} | {move * 1000:.0f} ms | {first * 1000:.0f} ms | {r512:.2f} s | {r1024:.2f} s |",
            flush=True,
        )


if __name__ == "__main__":
    main()
