"""Which encoder layers survive int8: PSNR against fp32 with one layer, all, or a set in int8.

For a model (default: the built-in small16x), exports its ``encode``/``decode`` graphs, quantizes
the encoder with NNCF as ``--precision int8`` does (the same calibration samples and NNCF call,
:mod:`adain.runtime.quantize`) but with every convolution outside the chosen set kept float, and
reports the gate's PSNR (8-bit, median / min) of the stylized output against fp32 on held-out
training pairs — the last ``--pairs`` contents and styles of ``--train`` (what ``data.val_holdout``
holds out; never the evaluation images) — at ``--sizes``. Rows: each convolution alone, the whole
encoder, the whole encoder with the int8 decoder, and the full-resolution layers only. Also counts
relu4_1 channels that are exactly 0 on every pair in fp32 and whether int8 keeps them at 0.

    python experiments/analysis/int8_layers.py --train ../shared/datasets/train [--model small16x] [--pairs 8]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

import numpy as np


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--train", type=Path, default=Path("../shared/datasets/train"))
    p.add_argument("--model", default="small16x")
    p.add_argument("--pairs", type=int, default=8)
    p.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    a = p.parse_args()

    from adain.io.files import list_images
    from adain.io.images import read_image_resized
    from adain.ops.mixing import pad_to_multiple
    from adain.runtime.onnx_export import export_graph
    from adain.runtime.quantize import _calibration_samples, _convolutions, _Graphs, _measure, _quantize, _quiet_nncf
    from adain.weights.source import pretrained_source

    _quiet_nncf()
    net = pretrained_source(a.model, None, None, True, "warn").build()
    d = Path(tempfile.mkdtemp(prefix="int8-layers-"))
    for g in ("encode", "decode"):
        export_graph(net, g, d / f"{g}.onnx")
    graphs = _Graphs(d)  # the fp32 references, compiled as the gate compiles them
    stride = net.downsampling
    enc_samples, dec_samples, _ = _calibration_samples(graphs, None, stride)
    enc32, dec32 = graphs.fp32["encode"], graphs.fp32["decode"]

    def quantize(graph: str, samples: list[np.ndarray], keep_float: list[str] | None = None) -> Any:
        return graphs.compile(_quantize(graphs, graph, samples, keep_float))

    convs = _convolutions(graphs.core.read_model(str(d / "encode.onnx")))
    short = [c.split("/")[2] if c.count("/") >= 2 else c for c in convs]

    contents = sorted(list_images([a.train / "content"]))[-a.pairs :]
    styles = sorted(list_images([a.train / "style"]))[-a.pairs :]

    pairs = {size: [(read_image_resized(c, size), read_image_resized(s, size)) for c, s in zip(contents, styles)]
             for size in a.sizes}  # fmt: skip

    def score(enc: Any, dec: Any) -> str:
        """PSNR of the candidate against fp32 (median / min) at each size: the gate's measure."""
        cells = []
        for size in a.sizes:
            median, low, _, _ = _measure(graphs, enc, dec, pairs[size], stride)
            cells.append(f"{median:.1f} / {low:.1f}")
        return " | ".join(cells)

    print(f"# {a.model}: encoder int8 sensitivity, {a.pairs} held-out training pairs, PSNR vs fp32 (median / min)")
    print("| int8 layers | decoder | " + " | ".join(f"{s} px" for s in a.sizes) + " |")
    print("|---|---|" + "---|" * len(a.sizes))
    for k in range(1, len(convs)):
        e8 = quantize("encode", enc_samples, [c for i, c in enumerate(convs) if i != k])
        print(f"| {short[k]} alone | fp32 | {score(e8, dec32)} |", flush=True)
    e8 = quantize("encode", enc_samples, [convs[0]])
    d8 = quantize("decode", dec_samples)  # as --precision int8: its RGB output layer float
    print(f"| all but {short[0]} | fp32 | {score(e8, dec32)} |")
    print(f"| all but {short[0]} | int8 | {score(e8, d8)} |")
    print(f"| none | int8 | {score(enc32, d8)} |")
    full_res = [i for i, n in enumerate(short) if n[:5] in ("conv1", "conv2") and i > 0]
    e8_fr = quantize("encode", enc_samples, [c for i, c in enumerate(convs) if i not in full_res])
    print(f"| {', '.join(short[i] for i in full_res)} | int8 | {score(e8_fr, d8)} |", flush=True)

    last = pairs[a.sizes[-1]]
    codes = [(graphs.run(enc32, x), graphs.run(e8, x)) for x in (pad_to_multiple(c[None], stride) for c, _ in last)]
    silent32 = np.logical_and.reduce([c32.max(axis=(0, 2, 3)) == 0 for c32, _ in codes])
    silent8 = np.logical_and.reduce([c8.max(axis=(0, 2, 3)) == 0 for _, c8 in codes])
    print(
        f"\nrelu4_1 channels exactly 0 on every pair: fp32 {int(silent32.sum())} of {silent32.size}; "
        f"of those, still 0 in int8: {int((silent32 & silent8).sum())}"
    )


if __name__ == "__main__":
    main()
