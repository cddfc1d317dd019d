"""Videos as they come: variable frame rate keeps its length, a stream that changes resolution
mid-way is scaled to one output size, and frames above --max-pixels are refused before decoding."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from tests.helpers import listing, make_image, run


def _frame(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    return (rng.uniform(size=(h, w, 3)) * 255).astype(np.uint8)


def _vfr_clip(path: Path, times: list[float]) -> Path:
    rng = np.random.default_rng(0)
    with av.open(str(path), "w") as out:
        s = out.add_stream("libx264", rate=10)
        s.width, s.height, s.pix_fmt = 64, 48, "yuv420p"
        s.codec_context.time_base = Fraction(1, 1000)
        for t in times:
            f = av.VideoFrame.from_ndarray(_frame(rng, 48, 64), format="rgb24")
            f.pts = round(t * 1000)
            for p in s.encode(f):
                out.mux(p)
        for p in s.encode():
            out.mux(p)
    return path


def _segments(path: Path, sizes: list[tuple[int, int]]) -> Path:
    """MPEG-TS segments of different sizes, concatenated: one stream that changes resolution."""
    rng = np.random.default_rng(1)
    data = b""
    for i, (h, w) in enumerate(sizes):
        seg = path.with_name(f"seg{i}.ts")
        with av.open(str(seg), "w", format="mpegts") as out:
            s = out.add_stream("mpeg2video", rate=10)
            s.width, s.height, s.pix_fmt = w, h, "yuv420p"
            for _ in range(4):
                for p in s.encode(av.VideoFrame.from_ndarray(_frame(rng, h, w), format="rgb24")):
                    out.mux(p)
            for p in s.encode():
                out.mux(p)
        data += seg.read_bytes()
    path.write_bytes(data)
    return path


def _frames_and_end(path: Path) -> tuple[int, float, set[tuple[int, int]]]:
    with av.open(str(path)) as v:
        times, sizes = [], set()
        for f in v.decode(video=0):
            times.append(float(f.time))
            sizes.add((f.height, f.width))
    return len(times), max(times), sizes


def test_variable_frame_rate_keeps_the_timing(tmp_path, capsys):
    times = [0.0, 1.0, 1.5, 4.0, 8.0, 9.0]
    clip = _vfr_clip(tmp_path / "vfr.mp4", times)
    style = make_image(tmp_path / "s.png", 40, 40, 2)
    out = tmp_path / "out.mp4"
    code, err = run([str(clip), str(style), "-o", str(out), "--temporal", "off", "-q"], capsys)
    assert code == 0, err
    n, end, _ = _frames_and_end(out)
    assert n == len(times)
    assert end == pytest.approx(9.0, abs=0.05)  # not 6 frames at the average rate


def test_a_stream_that_changes_resolution_is_scaled_to_one_size(tmp_path, capsys):
    clip = _segments(tmp_path / "changing.mkv", [(48, 64), (96, 80)])
    style = make_image(tmp_path / "s.png", 40, 40, 2)
    out = tmp_path / "out.mp4"
    code, err = run([str(clip), str(style), "-o", str(out), "--content-size", "0", "-q"], capsys)
    assert code == 0, err
    n_in, _, sizes_in = _frames_and_end(clip)
    assert sizes_in == {(48, 64), (96, 80)}  # the source really changes size
    n, _, sizes = _frames_and_end(out)
    assert n == n_in and sizes == {(48, 64)}


def test_frames_above_max_pixels_are_refused_even_when_the_header_says_less(tmp_path, capsys):
    clip = _segments(tmp_path / "grows.mkv", [(48, 64), (160, 192)])
    style = make_image(tmp_path / "s.png", 40, 40, 2)
    out_dir = tmp_path / "o"
    out_dir.mkdir()
    code, err = run(
        [
            str(clip),
            str(style),
            "-o",
            str(out_dir / "x.mp4"),
            "--max-pixels",
            "20000",
            "--content-size",
            "0",
            "--style-size",
            "0",
            "-q",
        ],
        capsys,
    )
    lines = [ln for ln in err.strip().splitlines() if ln]
    assert code == 2 and len(lines) == 1, err
    assert "grows.mkv: frame" in lines[0] and "is 192x160 = 0.0307 MP, above the limit of 0.02 MP" in lines[0]
    assert listing(out_dir) == []  # no partial video


def test_read_frames_for_evaluation_has_one_size_and_the_pixel_bound(tmp_path):
    from adain.errors import ImageError
    from adain.methods.video import read_frames

    clip = _segments(tmp_path / "changing.mkv", [(48, 64), (96, 80)])
    frames = list(read_frames(clip, 0))
    assert len(frames) >= 7 and {f.shape for f in frames} == {(3, 48, 64)}
    with pytest.raises(ImageError, match=r"frame \d+ is 80x96 = 0.00768 MP, above the limit"):
        list(read_frames(clip, 0, max_pixels=5000))
