"""Studio latency: the live preview after an alpha move, and full renders, per model and backend.

Times :class:`adain.studio.engine.StudioEngine` (the page's handlers, without the browser): after one
warm-up preview (which encodes the content and computes the style statistics), ``preview`` is
called again with a new alpha — the decoder-only path a slider move takes — and ``render`` at 512
and 1024 px (the path of ``adain-stylize``). Median of ``--repeats``. Canonical weights are random
(speed does not depend on the values); small16x is the shipped model.

    python benchmarks/bench_studio.py CONTENT STYLE [--backends auto torch] [--repeats 5]
"""

from __future__ import annotations

import itertools
import tempfile
import time

from _harness import Table, header, median_seconds, parser


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


def main() -> None:
    p = parser(__doc__)
    p.add_argument("content")
    p.add_argument("style")
    p.add_argument("--models", nargs="+", default=["small16x", "canonical"])
    p.add_argument("--backends", nargs="+", default=["auto", "torch"])
    p.add_argument("--precisions", nargs="+", default=["auto"], help="e.g. auto fp32 int8 (graph backends)")
    a = p.parse_args()
    from adain.pipeline.caches import CodeCache, StyleStatsCache
    from adain.studio.engine import StudioEngine

    print(header(a.json))
    columns = ["model", "backend", "preview after an alpha move (ms)", "first preview (ms)", "render 512 (s)"]
    table = Table([*columns, "render 1024 (s)"], a.json, digits=2)
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
        move = median_seconds(lambda: engine.preview(a.content, [a.style], alpha=next(alphas)), a.repeats, warmup=0)
        r512 = median_seconds(lambda: engine.render(a.content, [a.style], size=512), a.repeats)
        r1024 = median_seconds(lambda: engine.render(a.content, [a.style], size=1024), max(1, a.repeats // 2))
        name = f"{getattr(rt, 'backend', 'torch')} {rt.precision}"
        values = [model, name, round(move * 1000), round(first * 1000), r512, r1024]
        table.row(**dict(zip(table.columns, values)))


if __name__ == "__main__":
    main()
