"""The base install (no PyTorch): the built-in models stylize images, folders and videos on
OpenVINO from an empty cache, and commands that need an extra say in one line which one.

PyTorch is installed in the test environment, so the children see a ``torch`` (and
``torchvision``, ``gradio``) package first on their path that fails to import exactly as a missing
one does.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.helpers import REPO, make_image, write_video

BLOCK = "raise ModuleNotFoundError(\"No module named '{0}'\", name='{0}')\n"


@pytest.fixture
def no_torch(tmp_path: Path) -> dict[str, str]:
    fake = tmp_path / "fake"
    for name in ("torch", "torchvision", "gradio"):
        (fake / name).mkdir(parents=True)
        (fake / name / "__init__.py").write_text(BLOCK.format(name))
    return {
        **os.environ,
        "ADAIN_HOME": str(tmp_path / "home"),
        "ADAIN_COMPILED_DIR": str(tmp_path / "compiled"),  # empty: every graph is made here, without torch
        "PYTHONPATH": f"{fake}{os.pathsep}{REPO}",
    }


def _run(env: dict[str, str], module: str, *args: str) -> subprocess.CompletedProcess[str]:
    code = f"import sys; from {module} import main; sys.argv[0] = 'x'; sys.exit(main())"
    return subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, timeout=600)


def test_the_blocker_really_blocks(no_torch):
    r = subprocess.run([sys.executable, "-c", "import torch"], env=no_torch, capture_output=True, text=True)
    assert r.returncode == 1 and "No module named 'torch'" in r.stderr


@pytest.mark.slow
def test_images_folders_and_videos_stylize_without_torch(no_torch, tmp_path):
    photos = tmp_path / "photos"
    photos.mkdir()
    for i in range(2):
        make_image(photos / f"p{i}.png", 96 + 64 * i, 64 + 64 * i, seed=i)
    style = make_image(tmp_path / "style.png", 64, 64, seed=9)
    frames = [np.random.default_rng(i).uniform(size=(3, 48, 64)) for i in range(4)]
    clip = write_video(tmp_path / "clip.mp4", frames)
    jobs = [
        ("a.png", [str(photos / "p0.png"), str(style)]),
        ("blend.png", [str(photos / "p0.png"), "--style", str(style), "matisse", "--style-weights", "1", "2"]),
        ("colour.png", [str(photos / "p0.png"), str(style), "--preserve-color", "coral"]),
        ("luma.png", [str(photos / "p0.png"), str(style), "--preserve-color", "luminance", "--alpha", "0.5"]),
        ("tiles.png", [str(photos / "p1.png"), str(style), "--tile", "64"]),
        ("vgg.png", [str(photos / "p1.png"), "mondrian", "--model", "small16x"]),
        ("folder/", [str(photos), str(style)]),
        ("v.mp4", [str(clip), str(style)]),
    ]
    for out, args in jobs:
        r = _run(no_torch, "adain.cli.stylize", *args, "-o", str(tmp_path / "out" / out))
        assert r.returncode == 0, (out, r.stderr)
        assert "Traceback" not in r.stderr
    for name in ("a.png", "blend.png", "colour.png", "luma.png", "tiles.png", "vgg.png"):
        with Image.open(tmp_path / "out" / name) as im:
            assert im.size[0] > 0
    assert sorted(p.name for p in (tmp_path / "out" / "folder").iterdir()) == [
        "p0_stylized_style.png",
        "p1_stylized_style.png",
    ]
    import av

    with av.open(str(tmp_path / "out" / "v.mp4")) as v:
        assert sum(1 for _ in v.decode(video=0)) == 4
    # the graphs were assembled from the shipped skeletons (no export from torch happened)
    assert len(list((tmp_path / "compiled").glob("*/stylize.onnx"))) == 2  # small16x-vgg (the default) and small16x


@pytest.mark.parametrize(
    "module,args,extra",
    [
        ("adain.cli.entry", [], None),
        ("studio", [], None),
        ("adain.cli.stylize", ["--backend", "torch"], "torch"),
        ("adain.cli.stylize", ["--method", "gatys"], "torch"),
    ],
)
def test_what_needs_torch_names_the_extra(no_torch, tmp_path, module, args, extra):
    if module == "adain.cli.entry":  # adain-train: the whole training stack comes with [train]
        code = "import sys; sys.argv[0] = 'adain-train'; from adain.cli.entry import train; train()"
        r = subprocess.run([sys.executable, "-c", code, "fit", "--help"], env=no_torch, capture_output=True, text=True)
        expect = "pip install 'adain[train]'"
    elif module == "studio":
        code = "import sys; sys.argv[0] = 'adain-studio'; from adain.cli.entry import studio; studio()"
        r = subprocess.run([sys.executable, "-c", code], env=no_torch, capture_output=True, text=True, timeout=300)
        expect = "pip install 'adain[studio]'"
    else:
        photo = make_image(tmp_path / "p.png", 32, 32)
        r = _run(no_torch, module, str(photo), "matisse", *args, "-o", str(tmp_path / "o.png"))
        expect = f"pip install 'adain[{extra}]'"
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2, r.stderr
    assert expect in lines[-1] and "Traceback" not in r.stderr
    assert not (tmp_path / "o.png").exists()


def test_a_closed_pipe_ends_quietly(tmp_path):
    """``adain-stylize --info | head -1``: no traceback, no error line, the status of SIGPIPE."""
    code = "import sys; from adain.cli.stylize import main; sys.argv[0] = 'x'; sys.exit(main())"
    env = {**os.environ, "PYTHONPATH": str(REPO), "ADAIN_HOME": str(tmp_path / "home")}
    r, w = os.pipe()
    os.close(r)  # the reader has left before the command writes anything
    proc = subprocess.Popen([sys.executable, "-c", code, "--info"], env=env, stdout=w, stderr=subprocess.PIPE)
    os.close(w)
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141 and err == ""
