"""Which encoder layers survive int8: PSNR against fp32 with one layer, all, or a set in int8.

For a model (default: the built-in small16x), exports its ``encode``/``decode`` graphs, quantizes
the encoder with NNCF as ``--precision int8`` does (``MIXED`` preset, the package's dead-leaves
calibration, the first convolution float) but with every convolution outside the chosen set kept
float, and reports the PSNR (8-bit, median / min) of the stylized output against fp32 on held-out
training pairs — the last ``--pairs`` contents and styles of ``--train`` (what ``data.val_holdout``
holds out; never the evaluation images) — at ``--sizes``. Rows: each convolution alone, the whole
encoder, the whole encoder with the int8 decoder, and the full-resolution layers only. Also counts
relu4_1 channels that are exactly 0 on every pair in fp32 and whether int8 keeps them at 0.

    python benchmarks/int8_layers.py --train ../shared/datasets/train [--model small16x] [--pairs 8]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--train", type=Path, default=REPO.parent / "shared/datasets/train")
    p.add_argument("--model", default="small16x")
    p.add_argument("--pairs", type=int, default=8)
    p.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    a = p.parse_args()

    import nncf
    import openvino as ov

    from adain.io.files import list_images
    from adain.io.images import read_image_resized
    from adain.ops.mixing import adain_mix, code_stats, pad_to_multiple
    from adain.runtime.onnx_export import export_graph
    from adain.runtime.quantize import _quiet_nncf, calibration_images, psnr_8bit
    from adain.weights.source import pretrained_source

    _quiet_nncf()
    net = pretrained_source(a.model, None, None, True, "warn").build()
    d = Path(tempfile.mkdtemp(prefix="int8-layers-"))
    for g in ("encode", "decode"):
        export_graph(net, g, d / f"{g}.onnx")
    core = ov.Core()

    def compile_(model: Any) -> Any:
        return core.compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})

    def run(compiled: Any, x: np.ndarray) -> np.ndarray:
        return np.array(compiled.create_infer_request().infer([x])[compiled.outputs[0]])

    enc32, dec32 = compile_(str(d / "encode.onnx")), compile_(str(d / "decode.onnx"))
    stride = net.downsampling
    calib, _ = calibration_images(None, 32)
    calib = [pad_to_multiple(c[None], stride) for c in calib]
    dec_samples = []
    for c, s in zip(calib[::2], calib[1::2]):
        m, sd = code_stats(run(enc32, s))
        dec_samples += [adain_mix(run(enc32, c), m, sd, w) for w in (1.0, 0.5)]

    def quantize(graph: str, samples: list[np.ndarray], keep_float: list[str]) -> Any:
        model = core.read_model(str(d / f"{graph}.onnx"))
        q = nncf.quantize(
            model,
            nncf.Dataset(samples),
            preset=nncf.QuantizationPreset.MIXED,
            subset_size=len(samples),
            ignored_scope=nncf.IgnoredScope(names=keep_float),
        )
        return compile_(q)

    model = core.read_model(str(d / "encode.onnx"))
    convs = [op.get_friendly_name() for op in model.get_ordered_ops() if op.get_type_name() == "Convolution"]
    dmodel = core.read_model(str(d / "decode.onnx"))
    dconvs = [op.get_friendly_name() for op in dmodel.get_ordered_ops() if op.get_type_name() == "Convolution"]
    short = [c.split("/")[2] if c.count("/") >= 2 else c for c in convs]

    contents = sorted(list_images([a.train / "content"]))[-a.pairs :]
    styles = sorted(list_images([a.train / "style"]))[-a.pairs :]

    def load(path: Path, size: int) -> np.ndarray:
        return pad_to_multiple(read_image_resized(path, size)[None], stride)

    pairs = {size: [(load(c, size), load(s, size)) for c, s in zip(contents, styles)] for size in a.sizes}

    def score(enc: Any, dec: Any) -> str:
        cells = []
        for size in a.sizes:
            ps = []
            for c, s in pairs[size]:
                m, sd = code_stats(run(enc32, s))
                ref = run(dec32, adain_mix(run(enc32, c), m, sd, 1.0))
                ps.append(psnr_8bit(run(dec, adain_mix(run(enc, c), m, sd, 1.0)), ref))
            cells.append(f"{np.median(ps):.1f} / {min(ps):.1f}")
        return " | ".join(cells)

    print(f"# {a.model}: encoder int8 sensitivity, {a.pairs} held-out training pairs, PSNR vs fp32 (median / min)")
    print("| int8 layers | decoder | " + " | ".join(f"{s} px" for s in a.sizes) + " |")
    print("|---|---|" + "---|" * len(a.sizes))
    for k in range(1, len(convs)):
        e8 = quantize("encode", calib, [c for i, c in enumerate(convs) if i != k])
        print(f"| {short[k]} alone | fp32 | {score(e8, dec32)} |", flush=True)
    e8 = quantize("encode", calib, [convs[0]])
    d8 = quantize("decode", dec_samples, [dconvs[-1]])
    print(f"| all but {short[0]} | fp32 | {score(e8, dec32)} |")
    print(f"| all but {short[0]} | int8 | {score(e8, d8)} |")
    print(f"| none | int8 | {score(enc32, d8)} |")
    full_res = [i for i, n in enumerate(short) if n[:5] in ("conv1", "conv2") and i > 0]
    e8_fr = quantize("encode", calib, [c for i, c in enumerate(convs) if i not in full_res])
    print(f"| {', '.join(short[i] for i in full_res)} | int8 | {score(e8_fr, d8)} |", flush=True)

    last = pairs[a.sizes[-1]]
    silent32 = np.logical_and.reduce([run(enc32, c).max(axis=(0, 2, 3)) == 0 for c, _ in last])
    silent8 = np.logical_and.reduce([run(e8, c).max(axis=(0, 2, 3)) == 0 for c, _ in last])
    print(
        f"\nrelu4_1 channels exactly 0 on every pair: fp32 {int(silent32.sum())} of {silent32.size}; "
        f"of those, still 0 in int8: {int((silent32 & silent8).sum())}"
    )


if __name__ == "__main__":
    main()
