"""``--precision int8``: NNCF quantization behind a quality gate, cached with the graphs; a broken
calibration falls back to fp32 with one line; ``auto`` picks int8 only where it is faster (int8
dot products, no fast bf16: simulated with ``$ADAIN_CPU_FLAGS``) and the gate passed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from adain.errors import UsageError
from adain.pipeline import Pipeline
from adain.runtime.quantize import GATE_PSNR, calibration_id, dead_leaves, default_calibration, psnr_8bit, read_gate

pytestmark = pytest.mark.slow


def _pipeline(precision: str, **kw: object) -> Pipeline:
    return Pipeline.from_pretrained("small16x", backend="openvino", precision=precision, verbose=False, **kw)


@pytest.fixture(scope="module")
def int8_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One conversion of the shipped model to int8 (the package's own calibration set)."""
    d = tmp_path_factory.mktemp("int8_compiled")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ADAIN_COMPILED_DIR", str(d))
        mp.setenv("ADAIN_CPU_FLAGS", "avx2")
        _pipeline("int8")
    return d


def _gate_file(cache: Path) -> Path:
    (found,) = cache.glob("*/int8/gate.json")
    return found


def test_int8_passes_the_gate_is_cached_and_stays_close_to_fp32(
    int8_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ADAIN_COMPILED_DIR", str(int8_cache))
    gate = read_gate(_gate_file(int8_cache).parent)
    assert gate is not None and gate.passed and "decode" in gate.graphs and gate.psnr_median >= GATE_PSNR

    def no_second_conversion(*args: object, **kwargs: object) -> None:
        raise AssertionError("quantized again")

    monkeypatch.setattr("adain.runtime.quantize.quantize_model", no_second_conversion)
    q, f = _pipeline("int8"), _pipeline("fp32")
    assert q.runtime.precision == "int8" and q.runtime.gate == gate
    x = dead_leaves(128, 123)[None]
    style = q.runtime.style_stats(dead_leaves(128, 321)[None])
    out_q, out_f = q.runtime.stylize(x, *style, 0.7), f.runtime.stylize(x, *style, 0.7)
    assert out_q.shape == out_f.shape == (1, 3, 128, 128)
    assert psnr_8bit(out_q, out_f) > 28
    assert psnr_8bit(q.runtime.decode(q.runtime.encode(x)), f.runtime.decode(f.runtime.encode(x))) > 28


def test_a_broken_calibration_fails_the_gate_and_falls_back_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def logged() -> list[str]:  # the package's log (the commands print it on stderr)
        lines = [r.getMessage() for r in caplog.records if r.name.startswith("adain")]
        caplog.clear()
        return lines

    monkeypatch.setenv("ADAIN_COMPILED_DIR", str(tmp_path / "compiled"))
    monkeypatch.setenv("ADAIN_CPU_FLAGS", "avx2")  # the fallback is the machine's float precision: fp32 here
    black = tmp_path / "black"
    black.mkdir()
    for i in range(4):
        Image.new("RGB", (64, 64)).save(black / f"{i}.png")
    p = _pipeline("int8", calibration=str(black))
    assert p.runtime.precision == "fp32" and p.runtime.gate is not None and not p.runtime.gate.passed
    lines = [ln for ln in logged() if "int8" in ln]
    assert len(lines) == 1 and "failed its quality check" in lines[0] and "running fp32" in lines[0]
    # the failure is cached: the next run falls back at once, still saying so
    p2 = _pipeline("int8", calibration=str(black))
    assert p2.runtime.precision == "fp32"
    assert any("running fp32" in ln for ln in logged())
    # and auto never picks a graph that failed
    monkeypatch.setenv("ADAIN_CPU_FLAGS", "avx2")
    assert _pipeline("auto").runtime.precision == "fp32"
    # the failed verdict of that folder is not the verdict of the built-in calibration set
    p3 = _pipeline("int8")
    assert p3.runtime.precision == "int8" and p3.runtime.gate.calibration == default_calibration()


def test_a_verdict_is_reused_only_for_the_same_calibration_images(tmp_path: Path) -> None:
    folder = tmp_path / "calib"
    folder.mkdir()
    for i in range(2):
        Image.new("RGB", (32, 32), (40 * i, 80, 120)).save(folder / f"{i}.png")
    first = calibration_id(folder)
    assert first.startswith("folder:calib:") and first == calibration_id(folder)
    Image.new("RGB", (32, 32), (1, 2, 3)).save(folder / "1.png")  # same names, other pixels
    assert calibration_id(folder) != first
    assert calibration_id(None) == default_calibration()


@pytest.mark.parametrize(("flags", "expected"), [("avx2", "int8"), ("avx2 avx512_bf16", "bf16"), ("sse4_2", "fp32")])
def test_auto_picks_int8_where_it_is_faster_and_passed(
    int8_cache: Path, monkeypatch: pytest.MonkeyPatch, flags: str, expected: str
) -> None:
    monkeypatch.setenv("ADAIN_COMPILED_DIR", str(int8_cache))
    monkeypatch.setenv("ADAIN_CPU_FLAGS", flags)
    assert _pipeline("auto").runtime.precision == expected


def test_auto_never_quantizes_by_itself(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADAIN_COMPILED_DIR", str(tmp_path / "compiled"))
    monkeypatch.setenv("ADAIN_CPU_FLAGS", "avx2")

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("auto quantized")

    monkeypatch.setattr("adain.runtime.quantize.quantize_model", forbidden)
    assert _pipeline("auto").runtime.precision == "fp32"


def test_a_stale_gate_file_is_redone(int8_cache: Path, tmp_path: Path) -> None:
    gate = _gate_file(int8_cache)
    data = json.loads(gate.read_text())
    (tmp_path / "gate.json").write_text(json.dumps({**data, "format": 0}))
    assert read_gate(tmp_path) is None
    (tmp_path / "gate.json").write_text("{not json")
    assert read_gate(tmp_path) is None


@pytest.mark.parametrize("backend", ["torch", "onnxruntime"])
def test_int8_elsewhere_is_one_clear_error(backend: str) -> None:
    with pytest.raises(UsageError, match="int8|fp32 only"):
        Pipeline.from_pretrained("small16x", backend=backend, precision="int8", verbose=False)


def test_without_nncf_int8_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADAIN_COMPILED_DIR", str(tmp_path / "compiled"))
    monkeypatch.setitem(__import__("sys").modules, "nncf", None)
    with pytest.raises(UsageError, match=r"adain\[int8\]"):
        _pipeline("int8")


def test_dead_leaves_look_like_photos() -> None:
    a, b = dead_leaves(64, 0), dead_leaves(64, 1)
    assert a.shape == (3, 64, 64) and a.dtype == np.float32 and 0 <= a.min() and a.max() <= 1
    assert not np.allclose(a, b) and np.allclose(a, dead_leaves(64, 0))  # seeded
    # natural-image-like: strong low frequencies, edges (not flat, not white noise)
    dx = np.abs(np.diff(a, axis=-1)).mean()
    assert 0.005 < dx < 0.2 and a.std() > 0.05


def test_cli_int8_writes_the_picture(
    int8_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.helpers import make_image, run

    monkeypatch.setenv("ADAIN_COMPILED_DIR", str(int8_cache))
    c, s = make_image(tmp_path / "c.png", 80, 64, 1), make_image(tmp_path / "s.png", 64, 64, 2)
    args = ["--content", str(c), "--style", str(s), "--output", str(tmp_path / "o.png"), "--quiet"]
    code, _ = run([*args, "--model", "small16x", "--backend", "openvino", "--precision", "int8"], capsys)
    assert code == 0 and Image.open(tmp_path / "o.png").size == (640, 512)  # shorter side 512


def test_cli_calibration_folder_that_is_missing_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.helpers import make_image, run

    monkeypatch.setenv("ADAIN_COMPILED_DIR", str(tmp_path / "compiled"))
    c, s = make_image(tmp_path / "c.png", 40, 32, 1), make_image(tmp_path / "s.png", 32, 32, 2)
    args = ["--content", str(c), "--style", str(s), "--output", str(tmp_path / "o.png"), "--quiet"]
    code, err = run(
        [*args, "--backend", "openvino", "--precision", "int8", "--calibration", str(tmp_path / "nowhere")], capsys
    )
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and "calibration folder not found" in lines[0] and "nowhere" in lines[0]
    assert not (tmp_path / "o.png").exists()
    one = tmp_path / "one"
    one.mkdir()
    make_image(one / "a.png", 32, 32, 3)
    code, err = run([*args, "--backend", "openvino", "--precision", "int8", "--calibration", str(one)], capsys)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and "only one readable image" in lines[0] and "at least 2" in lines[0]
    assert not (tmp_path / "o.png").exists()


def test_auto_keeps_a_multi_level_model_in_float(int8_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A multi-level code's int8 path (float encoder → packed code in numpy → int8 decoder) is slower
    than its one-call float graph, so ``auto`` leaves it in float even with a passed gate; asked
    for explicitly, int8 still runs."""
    import adain.runtime.graph_backend as gb

    passed = read_gate(_gate_file(int8_cache).parent)
    monkeypatch.setattr(gb, "read_gate", lambda d: passed)
    monkeypatch.setattr(gb.GraphRuntime, "_int8_files", lambda self, gate: True)
    monkeypatch.setenv("ADAIN_CPU_FLAGS", "avx2")
    monkeypatch.setenv("ADAIN_COMPILED_DIR", str(int8_cache))
    assert _pipeline("auto").runtime.precision == "int8"
    skip = Pipeline.from_pretrained("small16x-skip", backend="openvino", precision="auto", verbose=False)
    assert skip.runtime.precision == "fp32"
