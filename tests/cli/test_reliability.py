"""Reliability, round 3: a hostile user's probes, one test each, driving the real commands in child
processes (exit status, the lines on stderr, the files on disk, peak memory where that was the
problem). Concurrency and interrupts are in ``test_robustness.py``."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import av
import numpy as np
import pytest
import torch
from PIL import Image

from tests.helpers import MODEL, child_env, cli_command, make_image, start_cli, wait_rss, write_video


def _cmd(tool: str, args: list[str], tmp_path: Path, **env: str) -> tuple[int, list[str]]:
    r = subprocess.run(
        [*cli_command(tool), *args], env={**child_env(tmp_path), **env}, capture_output=True, text=True, timeout=600
    )
    return r.returncode, [ln for ln in r.stderr.strip().splitlines() if ln]


def _one_line(code: int, lines: list[str], *words: str) -> None:
    assert code == 2, lines
    assert len(lines) == 1, lines
    assert "Traceback" not in lines[0]
    for w in words:
        assert w in lines[0], lines


@pytest.fixture
def pair(tmp_path) -> tuple[Path, Path]:
    return make_image(tmp_path / "c.jpg", 48, 40, 1), make_image(tmp_path / "s.jpg", 40, 40, 2)


def _video(path: Path, w: int, h: int, frames: int = 3) -> Path:
    rng = np.random.default_rng(0)
    return write_video(path, [rng.random((3, h, w), dtype=np.float32) for _ in range(frames)])


# ----------------------------------------------------------------------------- 2: tiny images, optimised
@pytest.mark.slow
@pytest.mark.parametrize("extra", [["--refine", "1"], ["--method", "gatys", "--iterations", "1"]])
def test_a_one_pixel_photo_is_optimised_in_bounded_memory(tmp_path, extra):
    """A 1x1 PNG at full size used to optimise a 16-fold enlarged style (past 14 GB)."""
    c = tmp_path / "one.png"
    Image.new("RGB", (1, 1), (120, 30, 200)).save(c)
    s = make_image(tmp_path / "s.jpg", 300, 200, 2)
    out, hwm = tmp_path / "o.png", tmp_path / "hwm"
    proc = start_cli(
        [
            "--content",
            str(c),
            "--style",
            str(s),
            "--content-size",
            "0",
            "--output",
            str(out),
            "--quiet",
            *MODEL,
            *extra,
        ],
        tmp_path,
        hwm=hwm,
    )
    code, rss = wait_rss(proc, hwm)
    assert code == 0, proc.stderr.read()
    assert Image.open(out).size == (1, 1)
    assert rss < 1500, f"peak RSS {rss:.0f} MB"


# ----------------------------------------------------------------------------- 3, 4: video sizes
def test_a_video_gets_the_working_size_check_before_decoding(tmp_path, pair):
    """A 320x16 clip at the default 512 px is 512x10240 = 5.2 MP per frame: refused by --max-pixels in
    one line, before any frame is decoded, and nothing written."""
    v = _video(tmp_path / "thin.mp4", 320, 16)
    out = tmp_path / "out.mp4"
    code, lines = _cmd(
        "cli.stylize",
        ["--content", str(v), "--style", str(pair[1]), "--output", str(out), "--max-pixels", "4000000", *MODEL],
        tmp_path,
    )
    _one_line(code, lines, "thin.mp4", "would be processed at 10240x512")
    assert not out.exists()


def test_video_frames_above_the_untiled_limit_are_tiled(tmp_path, pair):
    """Frames larger than a pipeline's untiled limit go through the tiles (bounded memory), and
    the clip equals the untiled one."""
    from adain.methods.video import VideoOptions, stylize_video
    from adain.pipeline.core import Pipeline
    from adain.runtime.torch_backend import TorchRuntime
    from tests.helpers import small_net

    v = _video(tmp_path / "v.mp4", 96, 64)
    net = small_net()
    untiled = Pipeline(TorchRuntime(net, "cpu", "fp32"))
    tiled = Pipeline(TorchRuntime(net, "cpu", "fp32"), max_untiled_pixels=48 * 48, tile=64)
    calls = {"n": 0}
    real = tiled.render

    def spy(*a, **k):
        calls["n"] += 1
        return real(*a, **k)

    tiled.render = spy  # type: ignore[method-assign]
    a = stylize_video(untiled, v, pair[1], tmp_path / "a.mp4", VideoOptions(content_size=0), progress=False)
    b = stylize_video(tiled, v, pair[1], tmp_path / "b.mp4", VideoOptions(content_size=0), progress=False)
    assert calls["n"] == 3  # every frame, one by one, through the tiles

    def frames(p: Path) -> np.ndarray:
        with av.open(str(p)) as c:
            return np.stack([f.to_ndarray(format="rgb24") for f in c.decode(video=0)]).astype(np.float32)

    fa, fb = frames(a), frames(b)
    assert fa.shape == fb.shape == (3, 64, 96, 3)
    assert np.abs(fa - fb).mean() < 2.0  # the same clip up to H.264's rounding


# ----------------------------------------------------------------------------- 6: inputs never destroyed
def test_export_refuses_to_write_over_its_own_input(tmp_path):
    ckpt = tmp_path / "run.ckpt"
    ckpt.write_bytes(b"not really a checkpoint, but it is the user's")
    before = ckpt.read_bytes()
    link = tmp_path / "link.ckpt"
    link.symlink_to(ckpt)
    for args in (
        ["decoder", str(ckpt), str(ckpt), "--overwrite"],
        ["decoder", str(ckpt), str(link), "--overwrite"],
        ["onnx", str(tmp_path), "--checkpoint", str(tmp_path / "stats.onnx"), "--overwrite"],
    ):
        if args[0] == "onnx":
            (tmp_path / "stats.onnx").write_bytes(before)
        code, lines = _cmd("cli.export", args, tmp_path)
        _one_line(code, lines, "would replace an input")
    assert ckpt.read_bytes() == before and (tmp_path / "stats.onnx").read_bytes() == before


def test_evaluate_refuses_reports_over_an_input(tmp_path, canonical_files):
    d = tmp_path / "imgs"
    c = make_image(d / "c.jpg", 40, 40, 1)
    s = make_image(d / "r_grid.jpg", 40, 40, 2)  # the grid of --label r would be this file
    before = s.read_bytes()
    code, lines = _cmd(
        "cli.evaluate",
        [
            "--content",
            str(c),
            "--style",
            str(s),
            "--reference",
            "content",
            "--label",
            "r",
            "--output",
            str(d),
            "--overwrite",
            "--eval-weights",
            str(canonical_files[0]),
            "--quiet",
        ],
        tmp_path,
    )
    _one_line(code, lines, "r_grid.jpg", "would replace an input")
    assert s.read_bytes() == before


# ----------------------------------------------------------------------------- 7: caches that heal
@pytest.mark.slow
def test_damaged_caches_are_rebuilt_with_one_line(tmp_path, pair):
    c, s = pair
    home = tmp_path / "home"
    env = {"ADAIN_COMPILED_DIR": str(home / "compiled")}  # a cache of its own, to damage
    base = [
        "--content",
        str(c),
        "--style",
        str(s),
        "--model",
        "small16x",
        "--backend",
        "openvino",
        "-qq",
        "--overwrite",
        "--output",
    ]
    assert _cmd("cli.stylize", [*base, str(tmp_path / "o0.jpg")], tmp_path, **env)[0] == 0
    graph = next((home / "compiled").glob("*/stylize.onnx"))
    style_cache = next((home / "compiled").glob("*/results-*/styles/*.npz"))
    graph.write_bytes(graph.read_bytes()[:1000])  # truncated
    style_cache.write_bytes(b"")  # emptied
    code, lines = _cmd("cli.stylize", [*base, str(tmp_path / "o1.jpg")], tmp_path, **env)
    assert code == 0, lines
    assert any("unreadable cached graph" in ln for ln in lines), lines
    assert any("unreadable cached style statistics" in ln for ln in lines), lines
    assert all(ln.startswith("adain:") for ln in lines), lines
    code, lines = _cmd("cli.stylize", [*base, str(tmp_path / "o2.jpg")], tmp_path, **env)
    assert code == 0 and not any("unreadable" in ln for ln in lines), lines  # healed for good
    ref, healed = np.asarray(Image.open(tmp_path / "o0.jpg")), np.asarray(Image.open(tmp_path / "o2.jpg"))
    assert np.abs(ref.astype(int) - healed.astype(int)).mean() < 1.0
    # the whole conversion folder replaced by a file
    import shutil

    shutil.rmtree(home / "compiled")
    (home / "compiled").write_text("oops")
    code, lines = _cmd("cli.stylize", [*base, str(tmp_path / "o3.jpg")], tmp_path, **env)
    assert code == 0 and any("expected a cache folder" in ln for ln in lines), lines


# ----------------------------------------------------------------------------- 8: file-system faults
def test_file_system_errors_are_one_line_naming_the_path(tmp_path, pair, monkeypatch, capsys):
    import errno

    import adain.methods.jobs as jobs
    from adain.cli.stylize import infer_main

    def full(img, path, overwrite=False):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(jobs, "save_image", full)
    out = tmp_path / "out"
    code = infer_main(["--content", str(pair[0]), "--style", str(pair[1]), "--output", str(out), "--quiet", *MODEL])
    lines = capsys.readouterr().err.strip().splitlines()
    _one_line(code, lines, "c_stylized_s.jpg", "No space left on device")
    assert not out.exists()  # the folder this run made, and left empty, is gone


@pytest.mark.parametrize("stem_len, ok", [(230, True), (250, False)])
def test_long_file_names(tmp_path, pair, stem_len, ok):
    """A long but legal output name is written (its temporary name is kept short); one past the
    file system's limit is one line."""
    c = make_image(tmp_path / f"{'c' * stem_len}.jpg", 40, 32, 1)
    code, lines = _cmd(
        "cli.stylize",
        ["--content", str(c), "--style", str(pair[1]), "--output", str(tmp_path / "o"), "--quiet", *MODEL],
        tmp_path,
    )
    if ok:
        assert code == 0, lines
        assert len(list((tmp_path / "o").iterdir())) == 1
    else:
        _one_line(code, lines, "File name too long")
        assert not list((tmp_path / "o").glob("*")) if (tmp_path / "o").exists() else True


# ----------------------------------------------------------------------------- 9: malformed checkpoints
@pytest.mark.parametrize(
    "record, state_dict, words",
    [
        ({"stages": ["relu1_1"]}, {}, "names encoder None"),
        ({"encoder": "vgg19_small16x", "stages": 5}, {}, "has stages 5"),
        ({"encoder": "vgg19_small16x"}, [1, 2], "'state_dict' is a list"),
        ({"encoder": "vgg19_small16x", "encoder_weights": 3}, {}, "not strings"),
    ],
)
def test_malformed_checkpoint_records_are_one_line(tmp_path, pair, record, state_dict, words):
    ckpt = tmp_path / "bad.ckpt"
    torch.save({"adain": record, "state_dict": state_dict}, ckpt)
    code, lines = _cmd(
        "cli.stylize",
        [
            "--content",
            str(pair[0]),
            "--style",
            str(pair[1]),
            "--checkpoint",
            str(ckpt),
            "--output",
            str(tmp_path / "o"),
        ],
        tmp_path,
    )
    _one_line(code, lines, "bad.ckpt", words)
    code, lines = _cmd("cli.export", ["decoder", str(ckpt), str(tmp_path / "d.pt")], tmp_path)
    _one_line(code, lines, "bad.ckpt", words)
    assert not (tmp_path / "o").exists() and not (tmp_path / "d.pt").exists()


# ----------------------------------------------------------------------------- 10-13: options
@pytest.mark.parametrize(
    "extra, words",
    [
        (["--devices", "0"], "--devices must be"),
        (["--devices", "abc"], "--devices must be"),
        (["--devices", "1", "--num-nodes", "0"], "--num-nodes must be between 1 and 100000"),
        (["--method", "gatys", "--init", "noise", "--seed", "1180591620717411303424"], "seed must be"),
        (["--alpha", "abc"], "invalid float value: 'abc'"),
        (["--content-size", "-5"], "must be between 0 and 16384"),
        (["--content-size", "17000"], "must be between 0 and 16384"),
    ],
)
def test_option_mistakes_are_one_line_and_write_nothing(tmp_path, pair, extra, words):
    out = tmp_path / "o"
    code, lines = _cmd(
        "cli.stylize",
        ["--content", str(pair[0]), "--style", str(pair[1]), "--output", str(out), *MODEL, *extra],
        tmp_path,
    )
    _one_line(code, lines, words)
    assert not out.exists()


def test_usage_errors_of_every_command_are_one_line(tmp_path):
    for tool, args in (
        ("cli.stylize", ["--bogus"]),
        ("cli.export", ["onnx"]),
        ("cli.evaluate", ["--size", "x"]),
        ("cli.weights", ["fetch"]),
        ("cli.studio", ["--port", "x"]),
    ):
        code, lines = _cmd(tool, args, tmp_path)
        _one_line(code, lines, "error:", "--help")


def test_a_video_and_a_photo_together_are_refused(tmp_path, pair):
    v = _video(tmp_path / "clip.mp4", 64, 48)
    out = tmp_path / "o"
    code, lines = _cmd(
        "cli.stylize",
        ["--content", str(v), str(pair[0]), "--style", str(pair[1]), "--output", str(out), *MODEL],
        tmp_path,
    )
    _one_line(code, lines, "clip.mp4", "must be the only --content")
    assert not out.exists()


# ----------------------------------------------------------------------------- fuzz (Hypothesis)
hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_VALUES = st.one_of(
    st.integers(-(10**30), 10**30).map(str),
    st.floats(allow_nan=True).map(str),
    st.text(max_size=8),
    st.sampled_from(["0", "1", "-1", "auto", "nan", "inf", "1e400", ""]),
)
# Flags whose legitimate values can ask for real work are bounded after the fuzzed ones (the last
# occurrence wins): --max-pixels keeps every accepted request small; --devices (a process per
# device) and --refine (iterations) have their own tests.
_FLAGS = [
    "--alpha",
    "--content-size",
    "--style-size",
    "--tile",
    "--batch-size",
    "--style-weights",
    "--temporal-smoothing",
    "--grid",
    "--preserve-color",
    "--ext",
    "--precision",
    "--num-nodes",
]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(opts=st.lists(st.tuples(st.sampled_from(_FLAGS), _VALUES), max_size=3))
def test_fuzz_options_end_in_success_or_one_line(tmp_path, pair, capsys, opts):
    from adain.cli.stylize import infer_main

    out = tmp_path / "fuzz"
    args = [
        "--content",
        str(pair[0]),
        "--style",
        str(pair[1]),
        "--output",
        str(out),
        "--overwrite",
        "--quiet",
        "--content-size",
        "32",
        *MODEL,
    ]
    for flag, value in opts:
        args += [flag, value]
    args += ["--max-pixels", "2000000"]
    try:
        code = infer_main(args)
    except SystemExit as e:  # argparse
        code = e.code
    err = capsys.readouterr().err
    lines = [ln for ln in err.strip().splitlines() if ln and not ln.startswith("adain: warning")]
    assert code in (0, 2), (args, err)
    assert "Traceback" not in err, (args, err)
    if code == 2:
        assert len(lines) == 1, (args, err)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.one_of(
        st.binary(max_size=512),
        st.sampled_from(["png", "jpeg", "gif", "webp", "bmp", "tiff"]).flatmap(
            lambda fmt: st.integers(1, 400).map(lambda cut, fmt=fmt: (fmt, cut))
        ),
    )
)
def test_fuzz_image_bytes_end_in_success_or_one_line(tmp_path, pair, capsys, data):
    """Random bytes, and real images of every format cut short, as the content."""
    import io

    from adain.cli.stylize import infer_main

    if isinstance(data, tuple):
        fmt, cut = data
        buf = io.BytesIO()
        Image.fromarray((np.random.default_rng(cut).random((20, 24, 3)) * 255).astype(np.uint8)).save(buf, fmt)
        data = buf.getvalue()[:cut]
    c = tmp_path / "fuzz.png"
    c.write_bytes(data)
    code = infer_main(
        [
            "--content",
            str(c),
            "--style",
            str(pair[1]),
            "--output",
            str(tmp_path / "fo"),
            "--overwrite",
            "--quiet",
            "--content-size",
            "32",
            *MODEL,
        ]
    )
    err = capsys.readouterr().err
    assert code in (0, 2) and "Traceback" not in err, err
    if code == 2:
        assert len(err.strip().splitlines()) == 1, err
        assert "fuzz.png" in err


def test_environment_for_children_is_isolated(tmp_path):
    assert child_env(tmp_path)["ADAIN_HOME"] == str(tmp_path / "home")
    assert os.environ.get("ADAIN_HOME") != str(tmp_path / "home")


# ----------------------------------------------------------------------------- 14: training data and resumes
def _train_args(c: Path, s: Path, root: Path, *extra: str) -> list[str]:
    from tests.helpers import REPO

    return [
        "fit",
        "--config",
        str(REPO / "configs/debug.yaml"),
        f"--data.content_dir={c}",
        f"--data.style_dir={s}",
        "--data.num_workers=0",
        f"--trainer.default_root_dir={root}",
        *extra,
    ]


@pytest.fixture
def train_data(tmp_path) -> tuple[Path, Path]:
    c, s = tmp_path / "c", tmp_path / "s"
    for k in range(4):
        make_image(c / f"{k}.jpg", 64, 48, k)
        make_image(s / f"{k}.png", 40, 52, 10 + k)
    return c, s


@pytest.mark.slow
def test_training_skips_bad_data_files_with_a_count(tmp_path, train_data):
    """A decompression-bomb PNG among the styles and a JPEG truncated after its header among the
    held-out validation files: skipped with one counting warning each; the run finishes."""
    c, s = train_data
    Image.new("L", (20000, 20000)).save(s / "bomb.png")  # 400 MP in ~0.4 MB
    big = make_image(tmp_path / "big.jpg", 400, 300, 7).read_bytes()
    (c / "9_truncated.jpg").write_bytes(big[: len(big) * 6 // 10])  # the header reads, the pixels do not
    r = subprocess.run(
        [*cli_command("cli.train"), *_train_args(c, s, tmp_path / "run", "--data.val_holdout=2")],
        env=child_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    skipped = [ln for ln in r.stderr.splitlines() if "skipped" in ln]
    assert any("skipped 1 of 5 style files" in ln and "bomb.png" in ln for ln in skipped), skipped
    assert any("skipped 1 of 2 validation content files" in ln and "9_truncated.jpg" in ln for ln in skipped)
    assert "Traceback" not in r.stderr
    assert (tmp_path / "run" / "checkpoints" / "last.ckpt").is_file()


@pytest.mark.slow
def test_bad_resume_checkpoints_are_one_line_before_anything_is_written(tmp_path, train_data):
    """--ckpt_path with damaged optimiser states, a list state_dict or a wrong-shaped decoder, and
    --ckpt_path last with a truncated or malicious last.ckpt: exit 2, one error line, no config.yaml."""
    import copy
    import pickle

    from adain.training.cli import train_main

    c, s = train_data
    train_main(_train_args(c, s, tmp_path / "good"))
    good = torch.load(tmp_path / "good" / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)

    def variant(name: str, change) -> Path:
        ck = copy.deepcopy(good)
        change(ck)
        torch.save(ck, tmp_path / name)
        return tmp_path / name

    first_dec = next(k for k in good["state_dict"] if k.startswith("net.decoder."))
    groups = good["optimizer_states"][0]["param_groups"]
    cases = {
        variant(
            "opt.ckpt",
            lambda ck: ck.update(
                optimizer_states=[{"state": {0: {"exp_avg": torch.zeros(2)}}, "param_groups": groups}]
            ),
        ): "optimizer_states do not fit",
        variant("list.ckpt", lambda ck: ck.update(state_dict=list(ck["state_dict"].items()))): "'state_dict' is a list",
        variant(
            "dec.ckpt", lambda ck: ck["state_dict"].update({first_dec: torch.zeros(5, 5, 3, 3)})
        ): "wrong architecture",
    }
    for path, words in cases.items():
        root = tmp_path / f"r_{path.stem}"
        code, lines = _cmd("cli.train", _train_args(c, s, root, f"--ckpt_path={path}"), tmp_path)
        errors = [ln for ln in lines if "error" in ln.lower()]
        assert code == 2 and len(errors) == 1 and words in errors[0], (path.name, lines)
        assert "Traceback" not in "\n".join(lines) and not root.exists(), path.name

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {tmp_path / 'PWNED'}",))

    blob = (tmp_path / "good" / "checkpoints" / "last.ckpt").read_bytes()
    for name, data, words in (
        ("truncated", blob[: len(blob) // 2], "not a readable PyTorch weights file"),
        ("malicious", pickle.dumps({"x": Evil()}), "not a readable PyTorch weights file"),
    ):
        root = tmp_path / f"last_{name}"
        (root / "checkpoints").mkdir(parents=True)
        (root / "checkpoints" / "last.ckpt").write_bytes(data)
        code, lines = _cmd("cli.train", _train_args(c, s, root, "--ckpt_path=last"), tmp_path)
        errors = [ln for ln in lines if "error" in ln.lower()]
        assert code == 2 and len(errors) == 1 and "last.ckpt" in errors[0] and words in errors[0], (name, lines)
        assert "Traceback" not in "\n".join(lines) and not (root / "config.yaml").exists(), name
        assert sorted(p.name for p in root.rglob("*")) == ["checkpoints", "last.ckpt"], name
    assert not (tmp_path / "PWNED").exists()
    # and a sound last.ckpt resumes
    code, lines = _cmd(
        "cli.train", _train_args(c, s, tmp_path / "good", "--ckpt_path=last", "--trainer.max_steps=6"), tmp_path
    )
    assert code == 0, lines[-5:]


# ----------------------------------------------------------------------------- round 4
def test_report_labels_are_file_names_inside_the_output(tmp_path):
    from adain.methods.evaluation import report_label, report_paths

    folder = tmp_path / "models" / "mine"
    folder.mkdir(parents=True)
    assert report_label(str(folder)) == "mine" and report_label(str(folder) + "/") == "mine"
    assert report_label("owner/name@v1") == "owner_name@v1"
    assert report_label("../x") == "_x" and report_label("..") == "report" and report_label("") == "report"
    out = tmp_path / "e2"
    for label in (str(folder), "../../etc/x", "a/../../b", "/abs/path"):
        for p in report_paths(out, label).values():
            assert p.parent == out, (label, p)


@pytest.mark.parametrize(
    ("tool", "args", "match"),
    [
        ("cli.evaluate", ["--content", "x", "--style", "y", "--eval-layers", ""], "--eval-layers names no layer"),
        ("cli.evaluate", ["--content", "x", "--style", "y", "--size", "100000"], "must be between 16 and 4096"),
        ("cli.evaluate", ["--video", "a.mp4", "b.mp4", "--video-size", "100000"], "must be between 16 and 4096"),
        ("cli.stylize", ["a.jpg", "b.jpg", "--max-pixels", "-1"], "--max-pixels must be a positive pixel count"),
    ],
)
def test_bounds_are_checked_up_front(tmp_path, tool, args, match):
    code, lines = _cmd(tool, args, tmp_path)
    assert code == 2 and len(lines) == 1 and match in lines[0], lines
    assert "Traceback" not in " ".join(lines)


def test_one_run_per_folder(tmp_path, train_data):
    """A second fresh run into a folder holding checkpoints is refused in one line (nothing
    replaced, no last-v1.ckpt); resuming that folder's own checkpoint continues it."""
    c, s = train_data
    root = tmp_path / "run"
    code, lines = _cmd("cli.train", _train_args(c, s, root), tmp_path)
    assert code == 0, lines
    before = {p.name: p.stat().st_mtime_ns for p in (root / "checkpoints").iterdir()}
    code, lines = _cmd("cli.train", _train_args(c, s, root), tmp_path)
    errors = [ln for ln in lines if "error" in ln.lower()]
    assert code == 2 and len(errors) == 1 and "holds the checkpoints of another run" in errors[0], lines
    assert {p.name: p.stat().st_mtime_ns for p in (root / "checkpoints").iterdir()} == before
    other = tmp_path / "elsewhere.ckpt"
    other.write_bytes((root / "checkpoints" / "last.ckpt").read_bytes())
    code, lines = _cmd("cli.train", _train_args(c, s, root, f"--ckpt_path={other}"), tmp_path)
    assert code == 2 and "another run" in " ".join(lines)
    last = root / "checkpoints" / "last.ckpt"
    code, lines = _cmd("cli.train", _train_args(c, s, root, f"--ckpt_path={last}", "--trainer.max_steps=4"), tmp_path)
    assert code == 0, lines
    assert not list((root / "checkpoints").glob("last-v*.ckpt"))


def test_a_cache_folder_of_an_unknown_home_is_one_line(tmp_path):
    photo = make_image(tmp_path / "a.jpg", 32, 24, 1)
    code, lines = _cmd("cli.stylize", [str(photo), "matisse", "-o", str(tmp_path / "o")], tmp_path,
                       ADAIN_HOME="~no-such-user-here/x")  # fmt: skip
    assert not (tmp_path / "o").exists()
    assert code == 2 and len(lines) == 1 and "ADAIN_HOME=~no-such-user-here/x" in lines[0], lines


@pytest.mark.parametrize(
    ("flags", "match"),
    [
        (["--devices", "1", "--num-nodes", "2"], "no cluster launcher here"),
        (["--devices", "1", "--accelerator", "tpu"], "--accelerator tpu is not supported"),
        (["--devices", "1", "--strategy", "nonsense"], "--strategy must be one of"),
        (["--devices", "1", "--accelerator", "warp"], "--accelerator must be"),
    ],
)
def test_device_flags_are_checked_before_lightning(tmp_path, flags, match, monkeypatch):
    for var in ("MASTER_ADDR", "SLURM_NTASKS", "LOCAL_RANK", "NODE_RANK"):
        monkeypatch.delenv(var, raising=False)
    photo = make_image(tmp_path / "a.jpg", 32, 24, 1)
    code, lines = _cmd("cli.stylize", [str(photo), "matisse", "-o", str(tmp_path / "o"), *flags], tmp_path)
    assert code == 2 and len(lines) == 1 and match in lines[0], lines
    assert not (tmp_path / "o").exists()


def test_gpu_accelerator_without_a_gpu_is_one_line(tmp_path, monkeypatch):
    from adain.errors import UsageError
    from adain.methods.predict import check_devices

    monkeypatch.setattr("adain.runtime.hardware.nvidia_gpu_present", lambda: False)
    with pytest.raises(UsageError, match="no NVIDIA GPU"):
        check_devices("1", 1, "auto", "gpu")
    check_devices("1", 1, "ddp", "cpu")  # what this machine has passes
    monkeypatch.setenv("MASTER_ADDR", "10.0.0.1")
    check_devices("1", 2, "ddp", "cpu")  # under a launcher, several nodes are fine


def test_devices_run_refuses_what_predict_cannot_honour(tmp_path):
    from adain.errors import UsageError
    from adain.methods.predict import check_devices, check_devices_run
    from adain.pipeline.request import StylizeRequest
    from adain.runtime.config import RunConfig

    photos, plain, run = [tmp_path / "a.jpg"], StylizeRequest(), RunConfig()
    check_devices_run(StylizeRequest(weights=[1, 2]), run, photos, str(tmp_path / "out"))  # blends are fine
    for request, cfg, contents, out, match in (
        (StylizeRequest(masks=[tmp_path / "m.png"]), run, photos, "out", "drop --mask/--grid"),
        (StylizeRequest(tile=256), run, photos, "out", "drop --mask/--grid/--preserve-color/--tile"),
        (StylizeRequest(preserve_color="coral"), run, photos, "out", "plain and blended"),
        (plain, RunConfig(backend="openvino"), photos, "out", "drop --backend openvino"),
        (plain, RunConfig(device="cpu"), photos, "out", "drop --device"),
        (plain, RunConfig(compile=True), photos, "out", "--compile"),
        (plain, run, [tmp_path / "v.mp4"], "out", "not video"),
        (plain, run, photos, "x.png", "x.png: with --devices, --output must be a directory"),
    ):
        with pytest.raises(UsageError, match=match):
            check_devices_run(request, cfg, contents, out)
    for devices, nodes, match in (("0", 1, "device count from 1"), ("two", 1, "'two'"), ("2", 0, "--num-nodes")):
        with pytest.raises(UsageError, match=match):
            check_devices(devices, nodes, "auto", "cpu")


def test_an_unwritable_cache_home_runs_without_a_cache(tmp_path, pair):
    """``ADAIN_HOME`` under a file (or read-only): one warning, the image is still made."""
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    c, s = pair
    out = tmp_path / "o.jpg"
    env = {"ADAIN_HOME": str(blocker / "home"), "ADAIN_COMPILED_DIR": str(blocker / "home" / "compiled")}
    code, lines = _cmd("cli.stylize", [str(c), str(s), "-o", str(out), "--backend", "openvino"], tmp_path, **env)
    assert code == 0, lines
    assert out.is_file() and blocker.read_text() == "x"
    assert any("cannot write the cache" in ln and "running without it" in ln for ln in lines), lines


@pytest.mark.parametrize(
    "content, words",
    [
        (None, "/dev/zero: not a regular file"),
        (b"\xff\xfe not text", "not UTF-8 text"),
        (b"x" * (2 << 20), "too large for a report"),
    ],
)
def test_export_hub_reads_the_report_with_bounds(tmp_path, content, words):
    report = Path("/dev/zero") if content is None else tmp_path / "report.md"
    if content is not None:
        report.write_bytes(content)
    out = tmp_path / "folder"
    code, lines = _cmd("cli.export", ["hub", str(out), "--model", "small16x", "--eval", str(report)], tmp_path)
    _one_line(code, lines, words)
    assert not out.exists()


@pytest.mark.parametrize(
    "extra, words",
    [
        (["--trainer.max_steps", "-5"], "`max_steps` must be a non-negative integer"),
        (["--config", "BAD_YAML"], "Problems parsing config"),
        (["--model.style_wieght", "3"], "unrecognized arguments: --model.style_wieght"),
    ],
)
def test_training_configuration_mistakes_are_one_line(tmp_path, extra, words):
    from tests.helpers import REPO

    bad = tmp_path / "bad.yaml"
    bad.write_text("model:\n  lr: [1, \n")
    extra = [str(bad) if a == "BAD_YAML" else a for a in extra]
    code, lines = _cmd("cli.train", ["fit", "--config", str(REPO / "configs" / "debug.yaml"), *extra], tmp_path)
    lines = [ln for ln in lines if not ln.startswith("Seed set to")]  # Lightning's own info line
    _one_line(code, lines, words)


def test_quiet_devices_runs_print_nothing_of_lightnings(tmp_path, pair):
    """``--devices 1 -q``: no banners, tips or deprecation lines from Lightning; the images are made."""
    c, s = pair
    out = tmp_path / "o"
    code, lines = _cmd("cli.stylize", ["--content", str(c), "--style", str(s), "--devices", "1", "-q", "-o", f"{out}/"],
                       tmp_path)  # fmt: skip
    assert code == 0 and lines == [], lines
    assert len(list(out.iterdir())) == 1


def test_more_devices_than_pending_images_is_not_a_crash(tmp_path, pair):
    """``--devices 2`` with one image: one process does it (no rank with an empty loader)."""
    c, s = pair
    out = tmp_path / "o"
    code, lines = _cmd("cli.stylize", ["--content", str(c), "--style", str(s), "--devices", "2", "-q", "-o", f"{out}/"],
                       tmp_path)  # fmt: skip
    assert code == 0 and not any("Traceback" in ln or "rank1" in ln for ln in lines), lines
    assert len(list(out.iterdir())) == 1
