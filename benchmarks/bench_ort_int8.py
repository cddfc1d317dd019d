"""Is ONNX Runtime's int8 competitive? Static quantization (``onnxruntime.quantization``, per-channel
weights, uint8 activations, the package's dead-leaves calibration codes) of small16x's ``decode``
graph, QDQ and QOperator formats: PSNR against fp32 and the median time of a 512² decode.

    python benchmarks/bench_ort_int8.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from _harness import Table, header, median_seconds, parser


def main() -> None:
    a = parser(__doc__).parse_args()
    import onnxruntime as ort
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    from adain.ops.mixing import adain_mix, code_stats, pad_to_multiple
    from adain.pipeline import Pipeline
    from adain.runtime.quantize import dead_leaves, psnr_8bit

    rt = Pipeline.from_pretrained("small16x", backend="onnxruntime", verbose=False).runtime
    enc_path, dec_path = rt.graph_path("encode"), rt.graph_path("decode")  # type: ignore[attr-defined]
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL

    def session(path: Path | str) -> ort.InferenceSession:
        return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])

    enc, dec = session(enc_path), session(dec_path)

    def encode(x: np.ndarray) -> np.ndarray:
        return enc.run(None, {"image": x})[0]

    codes = []
    for i in range(0, 32, 2):
        c = encode(pad_to_multiple(dead_leaves(256, i)[None], 8))
        m, s = code_stats(encode(pad_to_multiple(dead_leaves(256, i + 1)[None], 8)))
        codes += [adain_mix(c, m, s, a) for a in (1.0, 0.5)]

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.it = iter(codes)

        def get_next(self) -> dict | None:
            x = next(self.it, None)
            return None if x is None else {"code": x}

    x = pad_to_multiple(dead_leaves(512, 777)[None], 8)
    m, s = code_stats(encode(pad_to_multiple(dead_leaves(512, 778)[None], 8)))
    code = adain_mix(encode(x), m, s, 1.0)

    def median_ms(sess: ort.InferenceSession) -> int:
        return round(1e3 * median_seconds(lambda: sess.run(None, {"code": code}), a.repeats))

    ref = dec.run(None, {"code": code})[0]
    print(header(a.json))
    table = Table(["ONNX Runtime decode 512²", "PSNR vs fp32 (dB)", "ms"], a.json, digits=1)
    table.row(**{"ONNX Runtime decode 512²": "fp32", "ms": median_ms(dec)})
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in (QuantFormat.QDQ, QuantFormat.QOperator):
            out = Path(tmp) / f"decode_{fmt.name}.onnx"
            quantize_static(
                str(dec_path), str(out), Reader(), quant_format=fmt, per_channel=True,
                activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
            )  # fmt: skip
            q = session(out)
            psnr = float(psnr_8bit(q.run(None, {"code": code})[0], ref))
            table.row(**{"ONNX Runtime decode 512²": f"int8 {fmt.name}", "PSNR vs fp32 (dB)": psnr, "ms": median_ms(q)})


if __name__ == "__main__":
    main()
