"""adain-stylize end to end through the real parser (infer_main), good and bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PIL import Image

from tests.helpers import bad_run, canonical_decoder_state_dict, listing, make_image, run


@pytest.fixture
def model_args(canonical_files) -> list[str]:
    enc, dec = canonical_files
    return [
        "--encoder-weights",
        str(enc),
        "--decoder-weights",
        str(dec),
        "--custom-weights",
        "--device",
        "cpu",
        "--quiet",
        "--content-size",
        "64",
        "--style-size",
        "64",
    ]


@pytest.mark.shared
def test_end_to_end_on_shared_images(shared, tmp_path, model_args, capsys):
    content = shared / "images" / "content"
    styles = [shared / "images" / "style" / n for n in ("mondrian.jpg", "sketch.png")]
    out = tmp_path / "out"
    code, err = run(
        [
            "--content",
            str(content / "cornell.jpg"),
            str(content / "lenna.jpg"),
            "--style",
            *map(str, styles),
            "--output",
            str(out),
            "--ext",
            "png",
            *model_args,
        ],
        capsys,
    )
    assert code == 0, err
    assert listing(out) == [
        "cornell_stylized_mondrian.png",
        "cornell_stylized_sketch.png",
        "lenna_stylized_mondrian.png",
        "lenna_stylized_sketch.png",
    ]
    w, h = Image.open(content / "cornell.jpg").size
    ow, oh = Image.open(out / "cornell_stylized_mondrian.png").size
    assert min(ow, oh) == 64 and abs(ow / oh - w / h) < 0.05  # aspect ratio kept


def test_directories_blend_and_single_file(tiny_dirs, tmp_path, model_args, capsys):
    c, s = tiny_dirs
    out = tmp_path / "out"
    code, err = run(["--content", str(c), "--style", str(s), "--output", str(out), *model_args], capsys)
    assert code == 0, err
    assert listing(out) == ["a_stylized_x.jpg", "a_stylized_y.jpg", "b_stylized_x.png", "b_stylized_y.png"]
    code, err = run(
        [
            "--content",
            str(c),
            "--style",
            str(s / "x.jpg"),
            str(s / "y.png"),
            "--style-weights",
            "1",
            "3",
            "--output",
            str(tmp_path / "blend"),
            *model_args,
        ],
        capsys,
    )
    assert code == 0, err
    assert listing(tmp_path / "blend") == ["a_stylized_x+y_w1-3.jpg", "b_stylized_x+y_w1-3.png"]
    single = tmp_path / "one.png"
    code, err = run(
        [
            "--content",
            str(c / "a.jpg"),
            "--style",
            str(s / "x.jpg"),
            "--output",
            str(single),
            "--content-size",
            "0",
            *model_args[:-4],
        ],
        capsys,
    )
    assert code == 0, err
    assert Image.open(single).size == (45, 37)


def test_comma_separated_styles(tiny_dirs, tmp_path, model_args, capsys):
    c, s = tiny_dirs
    code, err = run(
        [
            "--content",
            str(c / "a.jpg"),
            "--style",
            f"{s / 'x.jpg'},{s / 'y.png'}",
            "--output",
            str(tmp_path / "o"),
            *model_args,
        ],
        capsys,
    )
    assert code == 0, err
    assert len(listing(tmp_path / "o")) == 2


def test_bad_inputs(tiny_dirs, tmp_path, model_args, capsys):
    c, s = tiny_dirs
    out = tmp_path / "out"
    a, x = str(c / "a.jpg"), str(s / "x.jpg")
    base = ["--output", str(out), *model_args]
    bad_run(capsys, ["--content", str(tmp_path / "nope.jpg"), "--style", x, *base], "nope.jpg: no such file", out)
    (tmp_path / "empty").mkdir()
    bad_run(
        capsys, ["--content", str(tmp_path / "empty"), "--style", x, *base], "empty: directory contains no images", out
    )
    txt = tmp_path / "text.jpg"
    txt.write_text("not an image")
    bad_run(capsys, ["--content", a, str(txt), "--style", x, *base], "text.jpg: not an image", out)
    trunc = make_image(tmp_path / "trunc.jpg", 64, 64)
    trunc.write_bytes(trunc.read_bytes()[:300])
    bad_run(capsys, ["--content", a, "--style", str(trunc), *base], "trunc.jpg: corrupt or truncated", out)
    big = make_image(tmp_path / "big.png", 120, 100)
    bad_run(
        capsys, ["--content", str(big), "--style", x, "--max-pixels", "10000", *base], "big.png: image is 120x100", out
    )
    bad_run(capsys, ["--content", a, "--style", x, "--alpha", "1.5", *base], "--alpha must be in [0, 1]", out)
    bad_run(capsys, ["--content", a, "--style", x, "--alpha", "-0.1", *base], "--alpha must be in [0, 1]", out)
    y = str(s / "y.png")
    bad_run(
        capsys,
        ["--content", a, "--style", x, y, "--style-weights", "1", *base],
        "got 1 style weights for 2 styles",
        out,
    )
    bad_run(capsys, ["--content", a, "--style", x, y, "--style-weights", "1", "-1", *base], "non-negative", out)
    bad_run(capsys, ["--content", a, "--style", x, y, "--style-weights", "0", "0", *base], "sum to zero", out)


def test_wrong_architecture_weights(tiny_dirs, tmp_path, canonical_files, capsys):
    c, s = tiny_dirs
    out = tmp_path / "out"
    sd = canonical_decoder_state_dict()
    sd["5.weight"] = torch.zeros(128, 256, 3, 3)
    bad = tmp_path / "bad_decoder.pth"
    torch.save(sd, bad)
    bad_run(
        capsys,
        [
            "--content",
            str(c / "a.jpg"),
            "--style",
            str(s / "x.jpg"),
            "--output",
            str(out),
            "--encoder-weights",
            str(canonical_files[0]),
            "--decoder-weights",
            str(bad),
            "--custom-weights",
            "--device",
            "cpu",
        ],
        "bad_decoder.pth: wrong architecture for the decoder: key '5.weight' has shape (128, 256, 3, 3)",
        out,
    )
    bad_run(
        capsys,
        [
            "--content",
            str(c / "a.jpg"),
            "--style",
            str(s / "x.jpg"),
            "--output",
            str(out),
            "--encoder-weights",
            str(canonical_files[1]),
            "--device",
            "cpu",
        ],
        "decoder.pth: wrong architecture for vgg19_normalised: missing key '0.weight'",
        out,
    )


def test_never_overwrites_without_flag(tiny_dirs, tmp_path, model_args, capsys):
    c, s = tiny_dirs
    out = tmp_path / "out"
    out.mkdir()
    existing = out / "a_stylized_x.jpg"
    existing.write_bytes(b"precious")
    args = ["--content", str(c / "a.jpg"), "--style", str(s / "x.jpg"), "--output", str(out), *model_args]
    bad_run(capsys, args, "a_stylized_x.jpg: output exists (use --overwrite", out)
    assert existing.read_bytes() == b"precious"
    assert run([*args, "--overwrite"], capsys)[0] == 0
    assert existing.read_bytes() != b"precious"


def test_output_under_a_file_is_unwritable(tiny_dirs, tmp_path, model_args, capsys):
    """Works as root too: a directory cannot be created below a regular file."""
    c, s = tiny_dirs
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    bad_run(
        capsys,
        ["--content", str(c / "a.jpg"), "--style", str(s / "x.jpg"), "--output", str(blocker / "out"), *model_args],
        "not writable",
        tmp_path,
    )


def _flaky_save(monkeypatch, exc: BaseException, at: int) -> None:
    import adain.methods.jobs as cli

    calls = {"n": 0}
    real = cli.save_image

    def flaky(*a, **k):
        calls["n"] += 1
        if calls["n"] == at:
            raise exc
        return real(*a, **k)

    monkeypatch.setattr(cli, "save_image", flaky)


def test_interrupted_run_keeps_what_it_finished(tiny_dirs, tmp_path, model_args, capsys, monkeypatch):
    """Ctrl-C keeps the finished outputs (and says how to resume); --skip-existing makes the rest."""
    c, s = tiny_dirs
    out = tmp_path / "out"
    _flaky_save(monkeypatch, KeyboardInterrupt(), 3)
    code, err = run(
        ["--content", str(c), "--style", str(s), "--output", str(out), "--batch-size", "1", *model_args], capsys
    )
    assert code == 130 and "interrupted (SIGINT) after 2 of 4 outputs" in err and "--skip-existing" in err
    kept = listing(out)
    assert len(kept) == 2 and not [p for p in out.rglob("*") if p.name.startswith(".")]
    code, err = run(
        ["--content", str(c), "--style", str(s), "--output", str(out), "--skip-existing", *model_args], capsys
    )
    assert code == 0, err
    assert len(listing(out)) == 4


def test_failed_run_keeps_what_it_finished(tiny_dirs, tmp_path, model_args, capsys, monkeypatch):
    """A write that fails mid-run: one line, exit 2, every output finished before or meanwhile is
    kept (a finished output is never removed), the user's own files are untouched, and
    --skip-existing then makes exactly the missing one."""
    from adain.errors import AdainError

    c, s = tiny_dirs
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("the user's file")
    args = ["--content", str(c), "--style", str(s), "--output", str(out), "--batch-size", "1", *model_args]
    _flaky_save(monkeypatch, AdainError("disk trouble"), 3)
    code, err = run(args, capsys)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and "disk trouble" in lines[0] and "were kept" in lines[0], err
    kept = [n for n in listing(out) if n != "mine.txt"]
    assert len(kept) == 3 and (out / "mine.txt").read_text() == "the user's file"  # 2 contents x 2 styles, one failed
    for n in kept:
        Image.open(out / n).load()
    code, err = run([*args, "--skip-existing"], capsys)
    assert code == 0, err
    assert len(listing(out)) == 5


def test_missing_weights_offline_is_one_line(tiny_dirs, tmp_path, capsys):
    c, s = tiny_dirs
    out = tmp_path / "out"
    bad_run(
        capsys,
        [
            "--content",
            str(c / "a.jpg"),
            "--style",
            str(s / "x.jpg"),
            "--output",
            str(out),
            "--no-download",
            "--model",
            "canonical",
            "--device",
            "cpu",
        ],
        "vgg_normalised.pth: not in the cache",
        out,
    )


def test_shim_runs_the_real_parser():
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    r = subprocess.run([sys.executable, str(root / "infer.py"), "--help"], capture_output=True, text=True, check=False)
    assert r.returncode == 0 and "--style-weights" in r.stdout and "--content-size" in r.stdout
