"""Shared fixtures: tiny images, random-weight canonical-layout weight files, ../shared lookup."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from tests.helpers import canonical_decoder_state_dict, canonical_vgg_state_dict, make_image, shared_dir


@pytest.fixture(scope="session")
def shared() -> Path:
    """The ../shared folder. CI sets ADAIN_REQUIRE_SHARED=1 so a missing folder fails loudly."""
    p = shared_dir()
    if p is None:
        if os.environ.get("ADAIN_REQUIRE_SHARED") == "1":
            pytest.fail("ADAIN_REQUIRE_SHARED=1 but ../shared (or $ADAIN_SHARED) is missing")
        pytest.skip("../shared not present (set ADAIN_SHARED)")
    return p


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
