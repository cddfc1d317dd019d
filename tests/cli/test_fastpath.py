"""Fast start: the common request and --help import neither torch nor Lightning; a fresh machine
runs the default command offline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from adain import AdaINNet
from tests.helpers import REPO, make_image, small_net

GRAPH_BACKENDS = ["openvino", "onnxruntime"]


@pytest.fixture(scope="module")
def net() -> AdaINNet:
    return small_net()


@pytest.fixture
def pair(tmp_path) -> tuple[Path, Path]:
    return make_image(tmp_path / "c.jpg", 70, 45, 1), make_image(tmp_path / "s.png", 40, 52, 2)


def _python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO, timeout=300)


def test_common_request_imports_no_torch(tmp_path, pair):
    """--help, and a warm-cache OpenVINO run of the built-in model, never import torch or Lightning."""
    c, s = pair
    env = {**os.environ, "ADAIN_HOME": str(tmp_path / "home"), "ADAIN_COMPILED_DIR": str(tmp_path / "compiled")}
    probe = (
        "import sys, json\nfrom adain.cli.stylize import infer_main\ntry:\n    code = infer_main({args})\n"
        "except SystemExit as e:\n    code = e.code\n"
        "print(json.dumps([code, 'torch' in sys.modules, 'lightning' in sys.modules]))"
    )
    r = _python(probe.format(args=["--help"]), env)
    assert json.loads(r.stdout.strip().splitlines()[-1]) == [0, False, False]
    args = [
        "--content",
        str(c),
        "--style",
        str(s),
        "--output",
        str(tmp_path / "o1.jpg"),
        "--backend",
        "openvino",
        "--quiet",
    ]
    first = _python(probe.format(args=args), env)  # converts (imports torch once)
    assert json.loads(first.stdout.strip().splitlines()[-1])[0] == 0, first.stderr
    args[5] = str(tmp_path / "o2.jpg")
    second = _python(probe.format(args=args), env)
    assert json.loads(second.stdout.strip().splitlines()[-1]) == [0, False, False], second.stderr
    a = np.asarray(Image.open(tmp_path / "o1.jpg"), np.float32)
    b = np.asarray(Image.open(tmp_path / "o2.jpg"), np.float32)
    assert a.shape == b.shape and np.abs(a - b).max() <= 1.0


def test_offline_fresh_cache_default_command(tmp_path, pair):
    """A fresh machine: empty $ADAIN_HOME, no network; the README quick start works and says which model ran."""
    c, s = pair
    env = {
        **os.environ,
        "ADAIN_HOME": str(tmp_path / "empty_home"),
        "http_proxy": "http://127.0.0.1:9",
        "https_proxy": "http://127.0.0.1:9",
        "no_proxy": "",
    }
    env.pop("ADAIN_COMPILED_DIR", None)
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "adain.cli.stylize",
            "--content",
            str(c),
            "--style",
            str(s),
            "--output",
            str(tmp_path / "out/"),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    out = tmp_path / "out" / "c_stylized_s.jpg"
    assert Image.open(out).size == (round(70 * 512 / 45), 512)
    assert "model: small16x-vgg (built in, works offline)" in r.stderr
    assert "python -m adain.weights download canonical" in r.stderr


def test_an_unregistered_encoder_file_is_checked_once_not_on_every_run(tmp_path, pair, canonical_files):
    """A user's own encoder file in the canonical layout: the first run checks its architecture
    (torch) and warns that it is not the registered file; later runs warn without importing torch.
    A file of the wrong architecture is refused every time (a failed check is not remembered)."""
    c, s = pair
    enc, dec = canonical_files
    env = {**os.environ, "ADAIN_HOME": str(tmp_path / "home"), "ADAIN_COMPILED_DIR": str(tmp_path / "compiled")}
    probe = (
        "import sys, json\nfrom adain.cli.stylize import infer_main\ntry:\n    code = infer_main({args})\n"
        "except SystemExit as e:\n    code = e.code\n"
        "print(json.dumps([code, 'torch' in sys.modules]))"
    )
    base = ["--content", str(c), "--style", str(s), "--encoder-weights", str(enc), "--decoder-weights", str(dec)]
    base += ["--backend", "openvino", "--quiet", "--overwrite", "--output", str(tmp_path / "o.jpg")]
    runs = [_python(probe.format(args=base), env) for _ in range(3)]
    results = [json.loads(r.stdout.strip().splitlines()[-1]) for r in runs]
    assert results[0][0] == 0 and results[1:] == [[0, False], [0, False]], [r.stderr for r in runs]
    assert all("not the registered canonical encoder" in r.stderr for r in runs)
    import torch

    wrong = tmp_path / "wrong.pth"
    torch.save({"0.weight": torch.zeros(3, 3, 1, 1)}, wrong)
    bad = [*base[:5], str(wrong), *base[6:]]
    for _ in range(2):
        r = _python(probe.format(args=bad), env)
        assert json.loads(r.stdout.strip().splitlines()[-1])[0] == 2 and "wrong.pth" in r.stderr, r.stderr


@pytest.mark.parametrize(
    "module,name",
    [("adain.cli.stylize", "adain-stylize"), ("adain.cli.evaluate", "adain-evaluate"),
     ("adain.cli.export", "adain-export"), ("adain.cli.studio", "adain-studio"),
     ("adain.cli.train", "adain-train"), ("adain.weights", "adain")],
)  # fmt: skip
def test_every_command_says_its_version(module, name):
    from adain import __version__

    r = subprocess.run([sys.executable, "-m", module, "--version"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == f"{name} {__version__}", (r.stdout, r.stderr)


def test_a_mistyped_option_gets_a_suggestion():
    r = subprocess.run([sys.executable, "-m", "adain.cli.stylize", "--alhpa", "0.5"], capture_output=True, text=True)
    assert r.returncode == 2 and "did you mean --alpha?" in r.stderr and len(r.stderr.strip().splitlines()) == 1
