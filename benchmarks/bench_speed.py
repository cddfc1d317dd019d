"""Speed benchmark: every runtime (backend × precision) × model × resolution, plus whole processes.

Prints one markdown table and the machine (CPU model, torch's CPU capability, whether the CPU is
fast at bf16). Every row runs in a fresh subprocess so its peak memory (RSS on CPU,
``max_memory_allocated`` on CUDA) is its own. In-process rows time :meth:`Pipeline.run
<adain.pipeline.Pipeline.run>` (encode + AdaIN + decode, pad/crop/clamp included) on one random
content with cached style statistics, median of ``--repeats`` after a warm-up. Rows:

* ``torch fp32 eager`` — the reference point: NCHW, fp32;
* ``torch fp32 channels_last``, ``torch bf16 channels_last`` (bf16 only where the CPU is fast at it,
  or with ``--all``: emulated bf16 on AVX2 CPUs takes minutes);
* ``onnxruntime fp32``, ``openvino fp32``, ``openvino bf16`` (bf16 as above), ``openvino int8``
  (with NNCF installed; quantized and gated once per model, outside the timing; a model that
  fails the gate shows as ``openvino fp32`` in that row);
* ``default`` — what ``adain-stylize`` picks here (``--backend auto --precision auto``).

Whole-process rows run ``adain-stylize`` twice on one 512-px pair (the second, warm-cache run is
reported: wall time and the child's peak RSS), and ``adain-stylize --help``.

    python benchmarks/bench_speed.py                                  # CPU (+ CUDA rows with a GPU)
    python benchmarks/bench_speed.py --sizes 256 512 1024 --repeats 5 --cli CONTENT STYLE
    python benchmarks/bench_speed.py --sizes 512 --simulate-avx2    # an AVX2-only CPU, on a newer one

Canonical weights are random (speed does not depend on the values); small16x is the shipped model.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from _harness import Table, header, median_seconds, parser, random_canonical_files, user_env


# ----------------------------------------------------------------------------- one row
def peak_mb(device: str) -> float:
    import resource

    if device.startswith("cuda"):
        import torch

        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def one_row(spec: dict, repeats: int, weights_dir: Path) -> dict:
    import numpy as np

    from adain.pipeline.core import Pipeline

    model, backend, precision, device = spec["model"], spec["backend"], spec["precision"], spec["device"]
    files = random_canonical_files(weights_dir) if model == "canonical" else (None, None)
    pipe = Pipeline.from_pretrained(
        model,
        *files,
        backend=backend,
        precision=precision,
        device=device,
        channels_last=spec.get("channels_last", True),
        verbose=False,
    )
    rng = np.random.default_rng(0)
    x = rng.random((spec.get("batch", 1), 3, spec["h"], spec["w"]), dtype=np.float32)
    stats = [pipe.style_stats(rng.random((3, 512, 512), dtype=np.float32), size=0)]
    med = median_seconds(lambda: pipe.run(x, stats), repeats)  # after a warm-up (and the graphs' compilation)
    label = spec.get("label") or f"{pipe.runtime.backend} {pipe.runtime.precision}" + (
        " channels_last"
        if backend == "torch" and spec.get("channels_last", True)
        else " eager"
        if backend == "torch"
        else ""
    )
    return {
        "model": model,
        "path": label,
        "res": f"{spec['h']}x{spec['w']}",
        "batch": spec.get("batch", 1),
        "device": device,
        "s_per_img": med / spec.get("batch", 1),
        "img_per_s": spec.get("batch", 1) / med,
        "peak_mb": peak_mb(device),
        "ran": pipe.runtime.describe(),
    }


def process_row(cmd: list[str], env: dict[str, str], label: str, model: str) -> dict:
    """Run ``cmd`` twice (the first run fills the caches); wall time and child peak RSS of the second."""
    probe = (
        "import resource, subprocess, sys, time, json\n"
        "t = time.perf_counter(); r = subprocess.run(sys.argv[1:]); w = time.perf_counter() - t\n"
        "print(json.dumps([r.returncode, w, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024]))"
    )
    result = None
    for _ in range(2):
        out = subprocess.run([sys.executable, "-c", probe, *cmd], capture_output=True, text=True, env=env)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        if result[0] != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed: {out.stderr[-500:]}")
    return {
        "model": model,
        "path": label,
        "res": "512 px pair" if "--help" not in cmd else "--help",
        "batch": 1,
        "device": "cpu",
        "s_per_img": result[1],
        "img_per_s": 1 / result[1],
        "peak_mb": result[2],
        "ran": "process",
    }


# ----------------------------------------------------------------------------- driver
def main() -> None:
    p = parser(__doc__)
    p.add_argument("--sizes", type=int, nargs="+", default=[256, 512, 1024])
    p.add_argument("--models", nargs="+", default=["canonical", "small16x"])
    p.add_argument("--all", action="store_true", help="also bf16 rows on CPUs that emulate bf16 (very slow)")
    p.add_argument("--cli", nargs=2, metavar=("CONTENT", "STYLE"), help="also time whole adain-stylize processes")
    p.add_argument(
        "--simulate-avx2",
        action="store_true",
        help="run every row as on an AVX2-only CPU: oneDNN (OpenVINO's and torch's convolutions) capped at "
        "AVX2 (ONEDNN_MAX_CPU_ISA), torch's kernels at AVX2 (ATEN_CPU_CAPABILITY), the package's CPU checks "
        "told the same (ADAIN_CPU_FLAGS); OpenVINO's own non-oneDNN kernels keep the real ISA",
    )
    p.add_argument("--one", help=argparse.SUPPRESS)
    p.add_argument("--weights-dir", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.one:  # child process: one row, JSON on stdout
        print(json.dumps(one_row(json.loads(a.one), a.repeats, Path(a.weights_dir))))
        return
    if a.simulate_avx2:  # before torch or any backend is imported, here and in every child
        os.environ.update(
            {"ONEDNN_MAX_CPU_ISA": "AVX2", "ATEN_CPU_CAPABILITY": "avx2", "ADAIN_CPU_FLAGS": "avx2 fma sse4_2"}
        )
    import torch

    from adain.runtime.base import available_backends
    from adain.runtime.hardware import cpu_has_fast_bf16

    bf16 = cpu_has_fast_bf16() or a.all
    import importlib.util

    int8 = importlib.util.find_spec("nncf") is not None
    have = available_backends()
    tmp = Path(tempfile.mkdtemp(prefix="adain-bench-"))
    env = user_env(ADAIN_HOME=os.environ.get("ADAIN_HOME", str(tmp / "home")))
    specs = []
    for model in a.models:
        for size in a.sizes:
            base = {"model": model, "h": size, "w": size, "device": "cpu"}
            specs.append({**base, "backend": "torch", "precision": "fp32", "channels_last": False})
            specs.append({**base, "backend": "torch", "precision": "fp32"})
            if bf16:
                specs.append({**base, "backend": "torch", "precision": "bf16"})
            for backend in ("onnxruntime", "openvino"):
                if backend in have:
                    specs.append({**base, "backend": backend, "precision": "fp32"})
            if bf16 and "openvino" in have:
                specs.append({**base, "backend": "openvino", "precision": "bf16"})
            if int8 and "openvino" in have:  # quantized once per model (outside the timing), behind the gate
                specs.append({**base, "backend": "openvino", "precision": "int8"})
            specs.append({**base, "backend": "auto", "precision": "auto", "label": "default (auto)"})
        if torch.cuda.is_available():
            for batch in (1, 16):
                specs.append(
                    {
                        "model": model,
                        "h": 512,
                        "w": 512,
                        "device": "cuda",
                        "backend": "torch",
                        "precision": "auto",
                        "batch": batch,
                        "label": "torch auto channels_last",
                    }
                )
    rows = []
    for spec in specs:
        args = [
            sys.executable,
            __file__,
            "--one",
            json.dumps(spec),
            "--repeats",
            str(a.repeats),
            "--weights-dir",
            str(tmp),
        ]
        out = subprocess.run(args, capture_output=True, text=True, env=env)
        if out.returncode != 0:
            print(out.stderr[-2000:], file=sys.stderr)
            continue
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        r = rows[-1]
        print(f"  done: {r['model']} {r['res']} {r['path']}: {r['s_per_img']:.3f} s", file=sys.stderr)
    if a.cli:
        from adain.weights.registry import BUILTIN_MODEL

        enc, dec = random_canonical_files(tmp)
        cmd = [sys.executable, "-m", "adain.cli.stylize", "--content", a.cli[0], "--style", a.cli[1], "--quiet"]
        rows.append(
            process_row(
                [*cmd, "--output", str(tmp / "a.jpg"), "--overwrite"],
                env,
                f"adain-stylize (default: built-in {BUILTIN_MODEL})",
                BUILTIN_MODEL,
            )
        )
        rows.append(
            process_row(
                [
                    *cmd,
                    "--output",
                    str(tmp / "b.jpg"),
                    "--overwrite",
                    "--encoder-weights",
                    str(enc),
                    "--decoder-weights",
                    str(dec),
                ],
                env,
                "adain-stylize (canonical architecture)",
                "canonical",
            )
        )
        rows.append(
            process_row([sys.executable, "-m", "adain.cli.stylize", "--help"], env, "adain-stylize --help", "-")
        )
    ref = {(r["model"], r["device"], r["res"]): r["s_per_img"] for r in rows if r["path"] == "torch fp32 eager"}
    if os.environ.get("ONEDNN_MAX_CPU_ISA"):
        print(f"# simulated: oneDNN capped at {os.environ['ONEDNN_MAX_CPU_ISA']}")
    print(header(a.json))
    columns = [
        "model",
        "device",
        "resolution",
        "batch",
        "path",
        "s/image",
        "images/s",
        "peak RSS MB",
        "vs torch fp32 eager",
    ]
    table = Table(columns, a.json)
    for r in rows:
        b = ref.get((r["model"], r["device"], r["res"]))
        table.row(
            **{
                "model": r["model"], "device": r["device"], "resolution": r["res"], "batch": r["batch"],
                "path": r["path"] + (f" → {r['ran']}" if r["path"] == "default (auto)" else ""),
                "s/image": r["s_per_img"], "images/s": r["img_per_s"], "peak RSS MB": round(r["peak_mb"]),
                "vs torch fp32 eager": round(b / r["s_per_img"], 2) if b and r["path"] != "torch fp32 eager" else None,
            }
        )  # fmt: skip


if __name__ == "__main__":
    main()
