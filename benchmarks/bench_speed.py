"""Speed benchmark: the product's default fast path vs a plain fp32 eager baseline.

Prints one markdown table. Every row runs in a fresh subprocess so its peak memory (RSS on CPU,
``max_memory_allocated`` on CUDA) is its own. The baseline is the straightforward implementation
of the reference ports, kept here only for comparison: ``nn.Sequential`` with separate
``ReflectionPad2d`` modules, NCHW, fp32, ``torch.no_grad`` and the style re-encoded for every
image. The fast path is ``adain.Stylizer`` with its defaults (auto precision, channels-last,
inference mode, folded padding): "fast (pair)" encodes the style for every image like the
baseline does; "fast" reuses the cached style statistics, as every run over several images does.

    python benchmarks/bench_speed.py                      # CPU (and CUDA rows when a GPU is present)
    python benchmarks/bench_speed.py --sizes 256 512 --repeats 5 --train

Weights are random (canonical VGG-19 layout) unless --encoder-weights/--decoder-weights are given:
speed does not depend on the values.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch import nn

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


# ----------------------------------------------------------------------------- baseline
def baseline_encoder() -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(3, 3, 1)]
    cin = 3
    for width, n, pool in ((64, 2, True), (128, 2, True), (256, 4, True), (512, 1, False)):
        for _ in range(n):
            layers += [nn.ReflectionPad2d(1), nn.Conv2d(cin, width, 3), nn.ReLU()]
            cin = width
        if pool:
            layers.append(nn.MaxPool2d(2, 2, ceil_mode=True))
    return nn.Sequential(*layers)


def baseline_decoder() -> nn.Sequential:
    def block(i: int, o: int, relu: bool = True) -> list[nn.Module]:
        return [nn.ReflectionPad2d(1), nn.Conv2d(i, o, 3)] + ([nn.ReLU()] if relu else [])

    up = nn.Upsample(scale_factor=2, mode="nearest")
    return nn.Sequential(*block(512, 256), up, *block(256, 256), *block(256, 256), *block(256, 256),
                         *block(256, 128), nn.Upsample(scale_factor=2), *block(128, 128), *block(128, 64),
                         nn.Upsample(scale_factor=2), *block(64, 64), *block(64, 3, relu=False))


def baseline_stylize(enc: nn.Module, dec: nn.Module, content: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        c, s = enc(content), enc(style)
        cm, cs = c.mean((2, 3), keepdim=True), (c.var((2, 3), keepdim=True) + 1e-5).sqrt()
        sm, ss = s.mean((2, 3), keepdim=True), (s.var((2, 3), keepdim=True) + 1e-5).sqrt()
        return dec((c - cm) / cs * ss + sm).clamp(0, 1)


# ----------------------------------------------------------------------------- one row
def peak_mb(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def one_row(path: str, h: int, w: int, device_name: str, repeats: int, batch: int, weights: tuple[str | None, str | None]) -> dict:
    from adain import (
        AdaINNet,
        Stylizer,
        build_decoder,
        build_encoder,
        load_decoder_state_dict,
        load_encoder_state_dict,
    )
    from adain.weights import load_state_dict_file

    device = torch.device(device_name)
    torch.manual_seed(0)
    content = torch.rand(batch, 3, h, w, device=device)
    style = torch.rand(1, 3, 512, 512, device=device)
    if path == "baseline":
        enc, dec = baseline_encoder().to(device).eval(), baseline_decoder().to(device).eval()
        styles = style.expand(batch, -1, -1, -1)

        def fn() -> None:
            baseline_stylize(enc, dec, content, styles)
    else:
        encoder = build_encoder("vgg19_normalised")
        decoder = build_decoder(encoder)
        if weights[0]:
            load_encoder_state_dict(encoder, load_state_dict_file(weights[0]))
        if weights[1]:
            load_decoder_state_dict(decoder, load_state_dict_file(weights[1]))
        st = Stylizer(AdaINNet(encoder, decoder), device=device, compile=path == "fast+compile")
        stats = st.style_stats(style[0], size=0)

        def fn() -> None:
            if path == "fast (pair)":  # one content + one style, style encoded every time
                st.stylize(content[0], style[0], content_size=0, style_size=0)
            elif batch == 1:  # style statistics cached, as in any run over several images
                st.stylize(content[0], stats, content_size=0)
            else:
                x = content.contiguous(memory_format=torch.channels_last) if st.channels_last else content
                st._run(x, [stats], None, 1.0)
    fn()  # warm-up
    if path == "fast+compile":
        fn()
    sync(device)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        sync(device)
        times.append(time.perf_counter() - t0)
    med = statistics.median(times)
    return {"path": path, "res": f"{h}x{w}", "batch": batch, "device": device_name,
            "s_per_img": med / batch, "img_per_s": batch / med, "peak_mb": peak_mb(device)}


def train_row(path: str, device_name: str, repeats: int) -> dict:
    from adain.lit_module import AdaINLitModule

    device = torch.device(device_name)
    torch.manual_seed(0)
    m = AdaINLitModule(encoder="vgg19_normalised", encoder_weights="random", channels_last=path == "fast").to(device)
    opt = torch.optim.Adam(m.net.decoder.parameters(), 1e-4)
    c = torch.rand(8, 3, 256, 256, device=device)
    s = torch.rand(8, 3, 256, 256, device=device)
    from adain.inference import resolve_precision

    dtype = resolve_precision("auto", device) if path == "fast" else torch.float32

    def step() -> None:
        with torch.autocast(device.type, dtype=dtype, enabled=dtype != torch.float32):
            loss = m.compute_losses(c, s)["loss"]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    step()
    sync(device)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        step()
        sync(device)
        times.append(time.perf_counter() - t0)
    return {"path": path, "res": "train 8x256x256", "batch": 8, "device": device_name,
            "s_per_img": statistics.median(times), "img_per_s": 8 / statistics.median(times), "peak_mb": peak_mb(device)}


def cli_row(weights: tuple[str, str], content: str, style: str) -> dict:
    with tempfile.TemporaryDirectory() as d:
        cmd = [sys.executable, "-m", "adain.cli", "--content", content, "--style", style, "--output", f"{d}/o.jpg",
               "--encoder-weights", weights[0], "--decoder-weights", weights[1], "--quiet", "--device", "cpu"]
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True)
        wall = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"path": "adain-stylize process", "res": "512 px pair", "batch": 1, "device": "cpu",
            "s_per_img": wall, "img_per_s": 1 / wall, "peak_mb": rss}


# ----------------------------------------------------------------------------- driver
def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[256, 512, 1024])
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--train", action="store_true", help="also time training steps")
    p.add_argument("--cli", nargs=2, metavar=("CONTENT", "STYLE"), help="also time a whole adain-stylize process")
    p.add_argument("--compile", action="store_true", help="add fast+compile rows")
    p.add_argument("--uhd", action="store_true", help="add a 3840x2160 row (tiled automatically; no baseline)")
    p.add_argument("--encoder-weights")
    p.add_argument("--decoder-weights")
    p.add_argument("--one", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.one:  # child process: one row, JSON on stdout
        spec = json.loads(a.one)
        row = train_row(spec["path"], spec["device"], a.repeats) if spec.get("train") else one_row(
            spec["path"], spec["h"], spec["w"], spec["device"], a.repeats, spec.get("batch", 1),
            (a.encoder_weights, a.decoder_weights))
        print(json.dumps(row))
        return
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    specs = []
    for dev in devices:
        for size in a.sizes:
            for path in ["baseline", "fast (pair)", "fast"] + (["fast+compile"] if a.compile else []):
                specs.append({"path": path, "h": size, "w": size, "device": dev})
        if a.uhd:
            specs.append({"path": "fast", "h": 2160, "w": 3840, "device": dev})
        if dev == "cuda":
            for path in ["baseline", "fast"]:
                specs.append({"path": path, "h": 512, "w": 512, "device": dev, "batch": 64})
        if a.train:
            specs += [{"path": "baseline", "train": True, "device": dev}, {"path": "fast", "train": True, "device": dev}]
    rows = []
    for spec in specs:
        args = [sys.executable, __file__, "--one", json.dumps(spec), "--repeats", str(a.repeats)]
        if a.encoder_weights:
            args += ["--encoder-weights", a.encoder_weights]
        if a.decoder_weights:
            args += ["--decoder-weights", a.decoder_weights]
        out = subprocess.run(args, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)})
        if out.returncode != 0:
            print(out.stderr[-2000:], file=sys.stderr)
            continue
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(f"  done: {rows[-1]['device']} {rows[-1]['res']} {rows[-1]['path']}", file=sys.stderr)
    if a.cli and a.encoder_weights and a.decoder_weights:
        rows.append(cli_row((a.encoder_weights, a.decoder_weights), *a.cli))
    base = {(r["device"], r["res"], r["batch"]): r["s_per_img"] for r in rows if r["path"] == "baseline"}
    print(f"\nmachine: {platform.machine()} {platform.processor() or ''} {os.cpu_count()} cores, torch {torch.__version__}, "
          f"CPU capability {torch.backends.cpu.get_cpu_capability()}"
          + (f", GPU {torch.cuda.get_device_name()}" if torch.cuda.is_available() else ""))
    print("\n| device | resolution | batch | path | s/image | images/s | peak MB | speed-up |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        b = base.get((r["device"], r["res"], r["batch"]))
        speed = f"{b / r['s_per_img']:.2f}x" if b and r["path"] != "baseline" else ""
        print(f"| {r['device']} | {r['res']} | {r['batch']} | {r['path']} | {r['s_per_img']:.3f} | {r['img_per_s']:.2f} | "
              f"{r['peak_mb']:.0f} | {speed} |")


if __name__ == "__main__":
    main()
