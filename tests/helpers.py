"""Helpers shared by the tests (plain functions; the fixtures are in ``conftest.py``): tiny images,
random weights in the public canonical layouts, small networks, and running ``adain-stylize``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from adain.cli.stylize import infer_main
from adain.nets import (
    AdaINNet,
    build_decoder,
    build_encoder,
    load_decoder_state_dict,
    load_encoder_state_dict,
)

REPO = Path(__file__).resolve().parents[1]


def shared_dir() -> Path | None:
    env = os.environ.get("ADAIN_SHARED")
    p = Path(env) if env else REPO.parent / "shared"
    return p if (p / "images").is_dir() else None


def chromium_path() -> str:
    """Debian's chromium for Playwright; CI sets ``ADAIN_REQUIRE_BROWSER=1`` so a missing one fails."""
    import shutil

    exe = os.environ.get("ADAIN_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        if os.environ.get("ADAIN_REQUIRE_BROWSER") == "1":
            pytest.fail("ADAIN_REQUIRE_BROWSER=1 but no chromium found (apt-get install chromium)")
        pytest.skip("chromium not installed (apt-get install chromium)")
    return exe


def make_image(path: Path, w: int, h: int, seed: int = 0, mode: str = "RGB") -> Path:
    rng = np.random.default_rng(seed)
    arr = (rng.random((h, w, 3)) * 255).astype(np.uint8)
    img = Image.fromarray(arr, "RGB")
    if mode != "RGB":
        img = img.convert(mode)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)
    return path


def canonical_vgg_state_dict(seed: int = 0) -> dict[str, torch.Tensor]:
    """Random values in the *full* public vgg_normalised.pth layout (53 modules, to relu5_4)."""
    g = torch.Generator().manual_seed(seed)
    convs = {0: (3, 3, 1)}
    idx, cin = 1, 3
    for width, n in ((64, 2), (128, 2), (256, 4), (512, 4), (512, 4)):
        for _ in range(n):
            convs[idx + 1] = (width, cin, 3)
            idx += 3
            cin = width
        idx += 1  # pool
    sd = {}
    for k, (o, i, ks) in convs.items():
        if k > 52:
            continue
        sd[f"{k}.weight"] = torch.randn(o, i, ks, ks, generator=g) * (2.0 / (i * ks * ks)) ** 0.5
        sd[f"{k}.bias"] = torch.zeros(o)
    return sd


def canonical_decoder_state_dict(seed: int = 1) -> dict[str, torch.Tensor]:
    """Random values in the public decoder.pth layout."""
    g = torch.Generator().manual_seed(seed)
    shapes = {
        1: (256, 512),
        5: (256, 256),
        8: (256, 256),
        11: (256, 256),
        14: (128, 256),
        18: (128, 128),
        21: (64, 128),
        25: (64, 64),
        28: (3, 64),
    }
    sd = {}
    for k, (o, i) in shapes.items():
        sd[f"{k}.weight"] = torch.randn(o, i, 3, 3, generator=g) * (2.0 / (i * 9)) ** 0.5
        sd[f"{k}.bias"] = torch.zeros(o)
    return sd


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(-10 * torch.log10(((a - b) ** 2).mean().clamp_min(1e-12)))


def canonical_net() -> AdaINNet:
    enc = build_encoder("vgg19_normalised")
    load_encoder_state_dict(enc, canonical_vgg_state_dict())
    dec = build_decoder(enc)
    sd = canonical_decoder_state_dict()
    sd["28.bias"] = torch.full((3,), 0.5)
    load_decoder_state_dict(dec, sd)
    return AdaINNet(enc, dec)


def genuine_relu3_net(shared: Path) -> AdaINNet:
    w = shared / "weights" / "wct_normalised_vgg"
    enc = build_encoder("vgg19_normalised", "relu3_1")
    load_encoder_state_dict(enc, torch.load(w / "vgg_normalised_conv3_1.pth", weights_only=True))
    dec = build_decoder(enc)
    load_decoder_state_dict(dec, torch.load(w / "feature_invertor_conv3_1.pth", weights_only=True))
    return AdaINNet(enc, dec)


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = infer_main(args)
    err = capsys.readouterr().err
    return code, err


def listing(d: Path) -> list[str]:
    return sorted(p.name for p in d.iterdir()) if d.exists() else []


def bad_run(capsys, args, match, out: Path) -> None:
    capsys.readouterr()  # what earlier runs of the test printed (their result lines)
    before = listing(out)
    code, err = run(args, capsys)
    assert code == 2
    lines = [ln for ln in err.strip().splitlines() if ln]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert match in lines[0], lines[0]
    assert listing(out) == before


def skip_net(seed: int = 0) -> AdaINNet:
    """:func:`small_net` with skips at relu1_1 … relu3_1 whose convs have (small) random weights."""
    from adain.nets.decoder import add_skips

    net = small_net(seed)
    dec = add_skips(net.decoder, net.encoder, (0, 1, 2))
    g = torch.Generator().manual_seed(seed + 7)
    for conv in dec.skips.values():
        conv.weight.data = torch.randn(conv.weight.shape, generator=g) * 0.05
    return AdaINNet(net.encoder, dec).eval()


def small_net(seed: int = 0) -> AdaINNet:
    torch.manual_seed(seed)
    net = AdaINNet(build_encoder("vgg19_small16x"))
    last = [m for m in net.decoder if isinstance(m, torch.nn.Conv2d)][-1]
    last.bias.data.fill_(0.5)
    last.weight.data.mul_(0.1)
    return net.eval()


# ----------------------------------------------------------------------------- real processes
MODEL = ["--model", "small16x", "--backend", "torch", "--precision", "fp32"]


def child_env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "ADAIN_HOME": str(tmp_path / "home"), "PYTHONPATH": str(REPO)}


# The child reports its own peak RSS (VmHWM of its address space, which exec starts afresh;
# wait4's ru_maxrss would include the forked pytest parent's pages) into $ADAIN_TESTHWM_PROBE at exit.
HWM_PROBE = (
    "import atexit, os, re\n"
    "def _hwm():\n"
    "    f = os.environ.get('ADAIN_TESTHWM_PROBE')\n"
    "    if f:\n"
    "        kb = re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1)\n"
    "        open(f, 'w').write(kb)\n"
    "atexit.register(_hwm)\n"
)


def cli_command(tool: str) -> list[str]:
    return [
        sys.executable,
        "-c",
        HWM_PROBE + f"import sys; from adain.{tool} import main; sys.argv[0] = 'x'; sys.exit(main())",
    ]


def wait_rss(proc: subprocess.Popen, hwm: Path) -> tuple[int, float]:
    """Wait for a child; its exit status and its peak RSS in MB (see ``HWM_PROBE``)."""
    code = proc.wait(timeout=600)
    return code, int(hwm.read_text()) / 1024


def start_cli(args: list[str], tmp_path: Path, tool: str = "cli.stylize", hwm: Path | None = None) -> subprocess.Popen:
    env = {**child_env(tmp_path), **({"ADAIN_TESTHWM_PROBE": str(hwm)} if hwm else {})}
    # A shell's background job (`pytest … &`) inherits SIGINT ignored, and Python then never
    # raises KeyboardInterrupt; the child gets the default disposition, as from a terminal.
    return subprocess.Popen(
        [*cli_command(tool), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def valid_images(d: Path) -> list[str]:
    names = []
    for p in sorted(d.iterdir()):
        with Image.open(p) as im:
            im.load()
        names.append(p.name)
    return names


def part_files(d: Path) -> list[str]:
    return [p.name for p in d.rglob("*.part")] if d.exists() else []


def write_video(path: Path, frames: list[np.ndarray], rate: int = 10) -> Path:
    """An H.264 clip of ``frames`` (``(3, H, W)`` float in [0, 1]) at ``rate`` frames/s."""
    import av

    with av.open(str(path), "w") as out:
        s = out.add_stream("libx264", rate=rate)
        s.width, s.height, s.pix_fmt = frames[0].shape[2], frames[0].shape[1], "yuv420p"
        for f in frames:
            arr = np.ascontiguousarray((np.clip(f, 0, 1).transpose(1, 2, 0) * 255 + 0.5).astype(np.uint8))
            for p in s.encode(av.VideoFrame.from_ndarray(arr, format="rgb24")):
                out.mux(p)
        for p in s.encode():
            out.mux(p)
    return path
