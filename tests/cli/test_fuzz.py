"""Hypothesis fuzz of the other doors: ``adain-evaluate`` and ``adain-export`` options, and the
studio's API. Whatever is thrown at them ends in success or one line (exit 2), never a traceback,
and nothing is written outside the output asked for. (``adain-stylize``'s own fuzz:
``test_reliability.py``.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import make_image

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_TEXT = st.one_of(
    st.text(max_size=10),
    st.integers(-(10**12), 10**12).map(str),
    st.floats(allow_nan=True).map(str),
    st.sampled_from(["", "0", "-1", "nan", "inf", "auto", "../x", "/dev/null", "a/..", "relu9_9", ",", "x" * 300]),
)
_FUZZ = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _files_outside(root: Path, allowed: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file() and allowed not in p.parents}


def _one_line_or_success(code: object, err: str, args: list[str]) -> None:
    lines = [ln for ln in err.strip().splitlines() if ln and not ln.startswith("adain: ")]
    assert code in (0, 2), (args, err)
    assert "Traceback" not in err, (args, err)
    if code == 2:
        assert len(lines) == 1, (args, err)


@pytest.fixture
def inputs(tmp_path: Path, canonical_files: tuple[Path, Path]) -> dict[str, Path]:
    d = tmp_path / "in"
    return {
        "content": make_image(d / "c.jpg", 40, 32, 1),
        "style": make_image(d / "s.png", 36, 36, 2),
        "eval": canonical_files[0],
    }


_EVAL_FLAGS = ["--size", "--eval-layers", "--label", "--reference", "--max-frames", "--video-size", "--refine"]


@_FUZZ
@given(opts=st.lists(st.tuples(st.sampled_from(_EVAL_FLAGS), _TEXT), max_size=3))
def test_fuzz_evaluate_options(tmp_path, inputs, capsys, opts):
    from adain.cli.evaluate import evaluate_main

    out = tmp_path / "reports"
    args = ["--content", str(inputs["content"]), "--style", str(inputs["style"]), "--eval-weights", str(inputs["eval"])]
    args += ["--output", str(out), "--overwrite", "--quiet", "--model", "small16x", "--backend", "torch"]
    args += ["--precision", "fp32", "--size", "32"]
    for flag, value in opts:
        if flag in ("--size", "--video-size") and value.strip().lstrip("-").isdigit() and int(value) > 64:
            value = "64"  # accepted sizes stay small (the bound itself has its own test)
        if flag == "--refine" and value.strip().isdigit():
            value = str(min(int(value), 2))
        args += [flag, value]
    before = _files_outside(tmp_path, out)
    try:
        code = evaluate_main(args)
    except SystemExit as e:  # argparse
        code = e.code
    _one_line_or_success(code, capsys.readouterr().err, args)
    assert _files_outside(tmp_path, out) == before, args  # reports only under --output


_GRAPHS = st.lists(st.one_of(st.sampled_from(["stats", "encode", "decode", "stylize"]), _TEXT), max_size=3)


@_FUZZ
@given(graphs=_GRAPHS, model=st.one_of(st.sampled_from(["small16x", "nope", "a/..", "../x", "", "-"]), _TEXT))
def test_fuzz_export_options(tmp_path, capsys, monkeypatch, graphs, model):
    from adain.cli.export import main as export_main

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # a Hub-shaped id is looked up offline, never fetched
    out = tmp_path / "graphs"
    args = ["onnx", str(out), "--model", model, *(["--graphs", *graphs] if graphs else ["--graphs", "stats"])]
    before = _files_outside(tmp_path, out)
    try:
        code = export_main(args)
    except SystemExit as e:
        code = e.code
    _one_line_or_success(code, capsys.readouterr().err, args)
    assert _files_outside(tmp_path, out) == before, args
    if code == 0:
        assert all(p.suffix == ".onnx" for p in out.iterdir()), args


@pytest.fixture(scope="module")
def studio_pipeline():
    from adain.pipeline.core import Pipeline

    return Pipeline.from_pretrained("small16x", backend="torch", precision="fp32", verbose=False)


_NUMBER = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-(10**9), 10**9), _TEXT)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@example(call="preview", alpha="0.5x", color="none", size=512, weights=None, n_styles=1)
@example(call="render", alpha=0.5, color="none", size=1e300, weights=[float("inf")], n_styles=2)
@given(
    call=st.sampled_from(["preview", "render", "alpha_grid", "blend_grid", "api_stylize"]),
    alpha=_NUMBER,
    color=st.one_of(st.sampled_from(["none", "coral", "luminance"]), _TEXT),
    size=_NUMBER,
    weights=st.one_of(st.none(), st.lists(_NUMBER, max_size=4)),
    n_styles=st.integers(0, 5),
)
def test_fuzz_studio_api(tmp_path, studio_pipeline, call, alpha, color, size, weights, n_styles):
    """The studio's handlers (what its HTTP API calls) with any values: a result or an AdainError
    (which the page shows as a message), nothing else; renders only under its output folder."""
    from adain.errors import AdainError
    from adain.studio.engine import StudioEngine

    renders = tmp_path / "renders"
    engine = StudioEngine(studio_pipeline, preview_size=48, style_size=40, output_dir=renders)
    content = str(make_image(tmp_path / "in" / "c.jpg", 64, 48, 1))
    styles = [str(make_image(tmp_path / "in" / f"s{k}.png", 36, 36, k + 2)) for k in range(n_styles)]
    before = _files_outside(tmp_path, renders)
    handlers = {
        "preview": lambda: engine.preview(content, styles, weights, alpha, color),
        "render": lambda: engine.render(content, styles, weights, alpha, color, size=size),
        "alpha_grid": lambda: engine.alpha_grid(content, styles, color, size),
        "blend_grid": lambda: engine.blend_grid(content, styles, alpha, color, size),
        "api_stylize": lambda: engine.api_stylize(content, styles[0] if styles else None, alpha),
    }
    try:
        handlers[call]()
    except AdainError as e:
        assert "\n" not in str(e).strip(), e  # one message
    assert _files_outside(tmp_path, renders) == before
