"""int8 against fp32 (OpenVINO): fidelity on real pairs, and speed of the whole step and the decoder.

For each model (small16x: the shipped weights; canonical: the VGG-19 architecture with random
weights, PSNR only: of the raw network outputs rescaled by fp32's 1st–99th percentile, since
random weights saturate the clamped picture), converts to int8 with the package's calibration
(or ``--calibration DIR``), prints the gate's verdict, then stylizes ``--pairs`` content × style pairs from ``--shared``
at 512 px with fp32 and int8 and reports the PSNR of int8 against fp32 (median, min), and the
median time of a 512×512 stylization and of a decode (the studio's slider path) per precision.

    python benchmarks/bench_int8.py --shared ../shared [--pairs 20] [--calibration ../shared/datasets/train/content]
"""

from __future__ import annotations

import itertools
import os
import statistics
import tempfile
from pathlib import Path

import numpy as np
from _harness import Table, header, median_seconds, parser


def _ms(t: dict, precision: str, k: int) -> str:
    return f"{t[precision][k]:.0f}" if precision in t else "–"


def median_ms(fn, repeats: int) -> float:  # noqa: ANN001
    return 1e3 * median_seconds(fn, repeats)


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--shared", default="../shared")
    p.add_argument("--pairs", type=int, default=20)
    p.add_argument("--models", nargs="+", default=["small16x", "canonical"])
    p.add_argument("--calibration", help="a folder of images (default: the package's synthetic set)")
    a = p.parse_args()
    os.environ.setdefault("ADAIN_COMPILED_DIR", tempfile.mkdtemp(prefix="bench-int8-"))

    from adain.pipeline import Pipeline
    from adain.runtime.hardware import cpu_flags
    from adain.runtime.quantize import psnr_8bit
    from adain.weights.source import ModelSource

    shared = Path(a.shared)
    contents = sorted((shared / "images/content").glob("*.jpg"))
    styles = sorted((shared / "images/style").glob("*.jpg"))
    pairs = list(itertools.product(contents, styles))[:: max(1, len(contents) * len(styles) // a.pairs)][: a.pairs]
    rows = []
    for model in a.models:
        if model == "canonical":
            import torch

            from adain.nets.encoder import build_encoder
            from adain.nets.network import AdaINNet

            torch.manual_seed(0)
            source = ModelSource.from_net(AdaINNet(build_encoder("vgg19_normalised")).eval(), "canonical-random")

            def make(precision: str, source: ModelSource = source) -> Pipeline:
                return Pipeline.from_source(
                    source, backend="openvino", precision=precision, verbose=False, calibration=a.calibration
                )
        else:

            def make(precision: str, model: str = model) -> Pipeline:
                return Pipeline.from_pretrained(
                    model, backend="openvino", precision=precision, verbose=False, calibration=a.calibration
                )

        from adain.runtime.hardware import cpu_has_fast_bf16

        # (bf16 only where the CPU has it: an AVX2-capped oneDNN has no bf16 pooling at all)
        pipes = {prec: make(prec) for prec in ("fp32", "bf16", "int8") if prec != "bf16" or cpu_has_fast_bf16()}
        gate = pipes["int8"].runtime.gate
        ran = pipes["int8"].runtime.precision
        psnrs = []
        for c, s in pairs:
            if model == "canonical":  # random weights saturate the clamped picture: compare raw outputs
                f32, q = pipes["fp32"], pipes[ran]
                x_c = f32.load(str(c), 512)[..., : 512 // 8 * 8, :]
                x_c = x_c[..., : x_c.shape[-1] // 8 * 8]
                st = f32.style_stats(str(s), 512)
                ref, out = f32.runtime.stylize(x_c, *st, 1.0), q.runtime.stylize(x_c, *st, 1.0)
                lo, hi = np.percentile(ref, [1, 99])
                ref, out = (ref - lo) / (hi - lo), (out - lo) / (hi - lo)
            else:
                ref = pipes["fp32"].stylize(str(c), str(s), content_size=512)
                out = pipes[ran].stylize(str(c), str(s), content_size=512)
            psnrs.append(psnr_8bit(out, ref))
        rng = np.random.default_rng(0)
        x = rng.random((1, 3, 512, 512), dtype=np.float32)
        stats = [pipes["fp32"].style_stats(rng.random((3, 512, 512), dtype=np.float32), size=0)]
        timing = {}
        for prec, pipe in pipes.items():
            code = pipe.runtime.encode(x)
            timing[prec] = (
                median_ms(lambda pipe=pipe: pipe.run(x, stats), a.repeats),
                median_ms(lambda pipe=pipe, code=code: pipe.runtime.decode(code), a.repeats),
            )
        rows.append((model, gate, ran, psnrs, timing))

    flags = cpu_flags()
    kind = "AMX" if "amx_int8" in flags else "AVX512-VNNI" if "avx512_vnni" in flags else "AVX2"
    print(header(a.json))
    print(f"# int8 vs fp32, OpenVINO, 512 px, {len(pairs)} pairs from {shared / 'images'}; CPU: {kind}")
    columns = ["model", "gate", "int8 graphs", "PSNR vs fp32 median / min", "512² fp32 / bf16 / int8 (ms)"]
    table = Table([*columns, "decode fp32 / bf16 / int8 (ms)"], a.json)
    for model, gate, ran, psnrs, t in rows:
        verdict = ("passed: " if gate.passed else "failed: ") + gate.summary() if gate else "-"
        graphs = "+".join(gate.graphs) if gate and gate.graphs else f"none (ran {ran})"
        values = [
            model,
            verdict,
            graphs,
            f"{statistics.median(psnrs):.1f} / {min(psnrs):.1f} dB",
            f"{t['fp32'][0]:.0f} / {_ms(t, 'bf16', 0)} / {t['int8'][0]:.0f}",
            f"{t['fp32'][1]:.0f} / {_ms(t, 'bf16', 1)} / {t['int8'][1]:.0f}",
        ]
        table.row(**dict(zip(table.columns, values)))


if __name__ == "__main__":
    main()
