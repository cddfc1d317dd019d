"""Peak memory of every path of ``adain-stylize``: each case runs the real command in a fresh child
process and reads the child's own peak RSS (``VmHWM``), beside README's bound for it.

    python benchmarks/bench_memory.py [--shared ../shared] [--backend openvino] [--only NAME …]

Inputs are made here (a 20000x20 strip, a 10000x10000 PNG, a 4K photo, a 4K video of 3 frames, a
1x1 photo) plus, with ``--shared``, the 4K photo of ``../shared/images``. The canonical rows use
the VGG-19 architecture with random weights (``--custom-weights``: same cost as the real files).
README's bound: process + 32 bytes per working pixel + the network's budget (1 GiB on the CPU).
Each model runs once on a small image first, so graph conversions are cached as on a user's
second run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from _harness import PEAK_RSS_PROBE, Table, header, parser, random_canonical_files
from PIL import Image

#: README's bound, MB: the process with the model loaded + bytes per working pixel + network budget
PROCESS_MB = {"small16x": 750, "canonical": 1000}
BYTES_PER_PIXEL = 32
NETWORK_MB = 1024


def _inputs(d: Path, shared: Path | None) -> dict[str, Path]:
    import av

    files = {}
    Image.fromarray(np.full((20, 20000, 3), 120, np.uint8)).save(d / "strip.png")
    files["strip"] = d / "strip.png"
    yy, xx = np.mgrid[0:2160, 0:3840]
    uhd = np.stack([(xx % 256), (yy % 256), ((xx + yy) % 256)], -1).astype(np.uint8)
    Image.fromarray(uhd).save(d / "uhd.jpg", quality=90)
    files["4K photo"] = d / "uhd.jpg"
    Image.new("RGB", (10000, 10000), (90, 140, 200)).save(d / "huge.png")
    files["100 MP PNG"] = d / "huge.png"
    Image.new("RGB", (1, 1), (200, 30, 30)).save(d / "dot.png")
    files["1x1 photo"] = d / "dot.png"
    with av.open(str(d / "uhd.mp4"), "w") as out:
        s = out.add_stream("libx264", rate=10)
        s.width, s.height, s.pix_fmt = 3840, 2160, "yuv420p"
        for k in range(3):
            for p in s.encode(av.VideoFrame.from_ndarray(np.roll(uhd, 8 * k, 1), format="rgb24")):
                out.mux(p)
        for p in s.encode():
            out.mux(p)
    files["4K video"] = d / "uhd.mp4"
    if shared is not None:
        files["shared 4K photo"] = next((shared / "images").rglob("*4k*"), files["4K photo"])
    return files


def _run(args: list[str], d: Path) -> tuple[int, float, str]:
    hwm = d / "hwm"
    hwm.unlink(missing_ok=True)
    code = PEAK_RSS_PROBE + "from adain.cli.stylize import main\nmain()"
    env = {**os.environ, "ADAIN_PEAK_RSS_FILE": str(hwm), "ADAIN_HOME": str(d / "home")}
    r = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, timeout=1800)
    return r.returncode, int(hwm.read_text()) / 1024 if hwm.exists() else float("nan"), r.stderr.strip()[-300:]


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--shared", type=Path, default=None)
    p.add_argument("--backend", default="openvino")
    p.add_argument("--only", nargs="*", default=None, help="case names to run (default: all)")
    a = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="adain-mem-") as tmp:
        d = Path(tmp)
        files = _inputs(d, a.shared)
        style = d / "style.jpg"
        Image.fromarray((np.random.default_rng(0).random((256, 256, 3)) * 255).astype(np.uint8)).save(style)
        enc, dec = random_canonical_files(d)
        small = ["--model", "small16x"]
        canonical = ["--encoder-weights", str(enc), "--decoder-weights", str(dec), "--custom-weights"]
        cases = [
            ("strip, default size (refused)", "small16x", files["strip"], small, 0),
            ("strip, --content-size 0", "small16x", files["strip"], [*small, "--content-size", "0"], 20 * 20000),
            ("4K photo, default 512 px", "small16x", files["4K photo"], small, 512 * 910),
            ("4K photo, --content-size 0", "small16x", files["4K photo"], [*small, "--content-size", "0"], 3840 * 2160),
            ("100 MP PNG, default 512 px", "small16x", files["100 MP PNG"], small, 512 * 512),
            ("100 MP PNG, --content-size 0", "small16x", files["100 MP PNG"], [*small, "--content-size", "0"], 10**8),
            ("4K video, --content-size 0", "small16x", files["4K video"], [*small, "--content-size", "0"], 3840 * 2160),
            (
                "1x1 photo, --refine 1",
                "small16x",
                files["1x1 photo"],
                [*small, "--refine", "1", "--content-size", "0"],
                1,
            ),
            (
                "1x1 photo, gatys",
                "small16x",
                files["1x1 photo"],
                [*small, "--method", "gatys", "--iterations", "1"],
                512 * 512,
            ),
            (
                "4K photo, canonical, --content-size 0",
                "canonical",
                files["4K photo"],
                [*canonical, "--content-size", "0"],
                3840 * 2160,
            ),
        ]
        if "shared 4K photo" in files:
            cases.append(
                (
                    "shared 4K photo, canonical, 0",
                    "canonical",
                    files["shared 4K photo"],
                    [*canonical, "--content-size", "0"],
                    None,
                )
            )
        for warm in (small, canonical):  # convert the graphs once (a user's second run)
            _run(
                [
                    "--content",
                    str(style),
                    "--style",
                    str(style),
                    "--output",
                    str(d / "warm.png"),
                    "--overwrite",
                    "--quiet",
                    "--backend",
                    a.backend,
                    *warm,
                ],
                d,
            )
        print(header(a.json))
        print(f"# backend {a.backend}")
        table = Table(["case", "exit", "peak RSS MB", "README bound MB", "error"], a.json)
        for k, (name, model, content, extra, pixels) in enumerate(cases):
            if a.only and not any(o in name for o in a.only):
                continue
            out = d / f"out{k}" / ("o.mp4" if content.suffix == ".mp4" else "o.png")
            args = ["--content", str(content), "--style", str(style), "--output", str(out), "--quiet"]
            code, rss, err = _run([*args, "--backend", a.backend, *extra], d)
            if pixels is None:
                with Image.open(content) as im:
                    pixels = im.width * im.height
            bound = PROCESS_MB[model] + BYTES_PER_PIXEL * pixels / 2**20 + (NETWORK_MB if pixels else 0)
            values = [name, code, round(rss), round(bound), err if code not in (0, 2) else None]
            table.row(**dict(zip(table.columns, values)))


if __name__ == "__main__":
    main()
