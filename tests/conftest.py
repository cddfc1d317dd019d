"""Shared fixtures: tiny images, random-weight canonical-layout weight files, ../shared lookup."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

REPO = Path(__file__).resolve().parents[1]


def shared_dir() -> Path | None:
    env = os.environ.get("ADAIN_SHARED")
    p = Path(env) if env else REPO.parent / "shared"
    return p if (p / "images").is_dir() else None


@pytest.fixture(scope="session")
def shared() -> Path:
    """The ../shared folder. CI sets ADAIN_REQUIRE_SHARED=1 so a missing folder fails loudly."""
    p = shared_dir()
    if p is None:
        if os.environ.get("ADAIN_REQUIRE_SHARED") == "1":
            pytest.fail("ADAIN_REQUIRE_SHARED=1 but ../shared (or $ADAIN_SHARED) is missing")
        pytest.skip("../shared not present (set ADAIN_SHARED)")
    return p


def make_image(path: Path, w: int, h: int, seed: int = 0, mode: str = "RGB") -> Path:
    rng = np.random.default_rng(seed)
    arr = (rng.random((h, w, 3)) * 255).astype(np.uint8)
    img = Image.fromarray(arr, "RGB")
    if mode != "RGB":
        img = img.convert(mode)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)
    return path


@pytest.fixture
def tiny_dirs(tmp_path: Path) -> tuple[Path, Path]:
    """Two small folders: 3 contents (non-square, odd sizes) and 2 styles."""
    c, s = tmp_path / "contents", tmp_path / "styles"
    make_image(c / "a.jpg", 45, 37, 1)
    make_image(c / "b.png", 40, 40, 2)
    make_image(c / "sub" / "c.jpg", 50, 44, 3)
    make_image(s / "x.jpg", 36, 40, 4)
    make_image(s / "y.png", 48, 32, 5)
    return c, s


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
    shapes = {1: (256, 512), 5: (256, 256), 8: (256, 256), 11: (256, 256), 14: (128, 256),
              18: (128, 128), 21: (64, 128), 25: (64, 64), 28: (3, 64)}
    sd = {}
    for k, (o, i) in shapes.items():
        sd[f"{k}.weight"] = torch.randn(o, i, 3, 3, generator=g) * (2.0 / (i * 9)) ** 0.5
        sd[f"{k}.bias"] = torch.zeros(o)
    return sd


@pytest.fixture(scope="session")
def canonical_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("canonical")
    enc, dec = d / "vgg_normalised.pth", d / "decoder.pth"
    torch.save(canonical_vgg_state_dict(), enc)
    torch.save(canonical_decoder_state_dict(), dec)
    return enc, dec


@pytest.fixture(scope="session")
def compiled_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache of converted graphs for the session (keys are weight hashes, so sharing is safe)."""
    return tmp_path_factory.mktemp("compiled")


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, compiled_cache: Path) -> None:
    """Never touch the user's weight cache; never reach the network by accident. The cache lies
    beside ``tmp_path`` (not in it), so tests can list what a run wrote there."""
    monkeypatch.setenv("ADAIN_HOME", str(tmp_path.parent / f"{tmp_path.name}_adain_home"))
    monkeypatch.setenv("ADAIN_COMPILED_DIR", str(compiled_cache))
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
