"""Hostile inputs through the real CLI: extreme shapes and sizes end in an image or in one line,
never in a traceback, an allocation the machine cannot hold, or a partial output."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from adain.cli import infer_main
from tests.conftest import make_image


@pytest.fixture
def style(tmp_path) -> Path:
    return make_image(tmp_path / "s.jpg", 40, 40, 3)


def _run(capsys, args: list[str]) -> tuple[int, list[str]]:
    code = infer_main([*args, "--quiet"])
    return code, [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]


@pytest.mark.parametrize("size", [(1, 1), (3, 2), (9, 1), (1, 700)])
def test_tiny_and_thin_images_are_stylized(tmp_path, style, capsys, size):
    """A 1×1 image (or one a few pixels wide) keeps its size; the network pads it internally."""
    c = tmp_path / "tiny.png"
    Image.new("RGB", size, (200, 100, 50)).save(c)
    out = tmp_path / "o.png"
    code, err = _run(capsys, ["--content", str(c), "--style", str(style), "--output", str(out), "--content-size", "0",
                              "--model", "small16x"])
    assert code == 0, err
    assert Image.open(out).size == size


@pytest.mark.parametrize("content_size", ["1", "5", "14"])
def test_tiny_content_sizes_work(tmp_path, style, capsys, content_size):
    c = make_image(tmp_path / "c.jpg", 64, 48, 1)
    out = tmp_path / "o.png"
    code, err = _run(capsys, ["--content", str(c), "--style", str(style), "--output", str(out), "--content-size",
                              content_size, "--model", "small16x"])
    assert code == 0, err
    assert min(Image.open(out).size) == int(content_size)


@pytest.mark.parametrize("shape", [(20000, 20), (20, 20000)])
def test_extreme_aspect_ratio_is_refused_before_any_work(tmp_path, style, capsys, shape):
    """A 0.4 MP strip at --content-size 512 would become 262 MP: one line naming the limit and the
    flags, exit 2, nothing written (the check runs before any pixel is resized)."""
    c = tmp_path / "strip.png"
    Image.fromarray(np.zeros((shape[1], shape[0], 3), np.uint8)).save(c)
    out = tmp_path / "out"
    code, err = _run(capsys, ["--content", str(c), "--style", str(style), "--output", str(out), "--model", "small16x"])
    assert code == 2
    assert len(err) == 1 and "would be processed at" in err[0] and "--max-pixels" in err[0] and "strip.png" in err[0]
    assert not out.exists()
    # at its own size it is small and works
    code, err = _run(capsys, ["--content", str(c), "--style", str(style), "--output", str(out), "--model", "small16x",
                              "--content-size", "0"])
    assert code == 0, err


def test_absurd_sizes_are_refused_at_parse_time(tmp_path, style, capsys):
    c = make_image(tmp_path / "c.jpg", 32, 32, 1)
    with pytest.raises(SystemExit) as e:
        infer_main(["--content", str(c), "--style", str(style), "--content-size", "1000000"])
    assert e.value.code == 2
    assert "must be between 0 and 16384" in capsys.readouterr().err
