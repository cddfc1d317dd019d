"""Hostile inputs through the real CLI: extreme shapes and sizes end in an image or in one line,
never in a traceback, an allocation the machine cannot hold, or a partial output."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from adain.cli.stylize import infer_main
from tests.helpers import make_image


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
    code, err = _run(
        capsys,
        [
            "--content",
            str(c),
            "--style",
            str(style),
            "--output",
            str(out),
            "--content-size",
            "0",
            "--model",
            "small16x",
        ],
    )
    assert code == 0, err
    assert Image.open(out).size == size


@pytest.mark.parametrize("content_size", ["1", "5", "14"])
def test_tiny_content_sizes_work(tmp_path, style, capsys, content_size):
    c = make_image(tmp_path / "c.jpg", 64, 48, 1)
    out = tmp_path / "o.png"
    code, err = _run(
        capsys,
        [
            "--content",
            str(c),
            "--style",
            str(style),
            "--output",
            str(out),
            "--content-size",
            content_size,
            "--model",
            "small16x",
        ],
    )
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
    code, err = _run(
        capsys,
        [
            "--content",
            str(c),
            "--style",
            str(style),
            "--output",
            str(out),
            "--model",
            "small16x",
            "--content-size",
            "0",
        ],
    )
    assert code == 0, err


def test_absurd_sizes_are_refused_at_parse_time(tmp_path, style, capsys):
    c = make_image(tmp_path / "c.jpg", 32, 32, 1)
    with pytest.raises(SystemExit) as e:
        infer_main(["--content", str(c), "--style", str(style), "--content-size", "1000000"])
    assert e.value.code == 2
    assert "must be between 0 and 16384" in capsys.readouterr().err


# ----------------------------------------------------------------------------- real processes
import os  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

from tests.helpers import MODEL, REPO  # noqa: E402
from tests.helpers import child_env as _env  # noqa: E402
from tests.helpers import cli_command as _cli  # noqa: E402
from tests.helpers import part_files as _parts  # noqa: E402
from tests.helpers import start_cli as _start  # noqa: E402
from tests.helpers import valid_images as _valid_images  # noqa: E402
from tests.helpers import wait_rss as _wait_rss  # noqa: E402


@pytest.fixture
def many(tmp_path) -> tuple[Path, Path]:
    c = tmp_path / "contents"
    for k in range(12):
        make_image(c / f"c{k:02d}.jpg", 60 + k, 48, k)
    s = tmp_path / "styles"
    make_image(s / "a.jpg", 40, 40, 50)
    make_image(s / "b.png", 44, 36, 51)
    return c, s


@pytest.mark.slow
@pytest.mark.parametrize("n_runs, trials, skip", [(2, 2, False), (3, 4, False), (3, 2, True)])
def test_concurrent_runs_share_the_work_and_lose_nothing(tmp_path, many, n_runs, trials, skip):
    """Identical directory runs into one empty folder (also with --skip-existing): every run exits
    0, every output is made exactly once (the runs' "wrote N" add up to all of them), an output
    another run claimed first is named in one line and left alone, every file is valid and no
    temporary file remains."""
    c, s = many
    out = tmp_path / "out"
    expected = {f"{p.stem}_stylized_{st}.jpg" for p in c.iterdir() for st in ("a", "b")}
    args = [
        "--content",
        str(c),
        "--style",
        str(s),
        "--output",
        str(out),
        "--content-size",
        "48",
        "--batch-size",
        "1",
        *MODEL,
        *(["--skip-existing"] if skip else []),
    ]
    for _trial in range(int(os.environ.get("ADAIN_CONCURRENCY_TRIALS", trials))):  # the note's 20: set it
        procs = [_start(args, tmp_path) for _ in range(n_runs)]
        results = [(p.wait(timeout=300), p.stderr.read()) for p in procs]
        written = 0
        for code, err in results:
            assert code == 0, err
            lines = err.strip().splitlines()
            summary = [ln for ln in lines if ln.startswith("wrote ")]
            assert len(summary) == 1, err
            written += int(summary[0].split()[1])
            taken = [ln for ln in lines if "another run wrote it meanwhile" in ln]
            assert len(lines) == 1 + len(taken), err
        assert set(_valid_images(out)) == expected
        assert written == len(expected)
        assert not _parts(tmp_path), _parts(tmp_path)
        for p in out.iterdir():
            p.unlink()


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
def test_interrupted_run_keeps_finished_outputs_and_resumes(tmp_path, sig):
    """A signal mid-batch: SIGINT/SIGTERM end with one line and 130/143 and keep every finished
    output (SIGKILL cannot be handled: the next run removes its temporary files); then
    --skip-existing makes exactly the missing ones."""
    c = tmp_path / "contents"
    n = 150  # enough that even a fast (AMX, bf16) machine is still busy when the signal lands
    for k in range(n):
        make_image(c / f"c{k:03d}.jpg", 96, 80, k)
    s = make_image(tmp_path / "s.jpg", 64, 64, 99)
    out = tmp_path / "out"
    # 512 px x 150 images: at ~15 ms an image (OpenVINO bf16 on AMX) the outputs still due cannot all
    # land between the poll that sees 3 and the signal (with 40 at 384 px a fast machine finished them)
    args = [
        "--content",
        str(c),
        "--style",
        str(s),
        "--output",
        str(out),
        "--content-size",
        "512",
        "--batch-size",
        "1",
        *MODEL,
    ]
    proc = _start([*args, "--quiet"], tmp_path)
    deadline = time.time() + 120
    while not (out.exists() and len([p for p in out.iterdir() if p.suffix == ".jpg"]) >= 3):
        assert proc.poll() is None, proc.stderr.read()
        assert time.time() < deadline
        time.sleep(0.01)
    proc.send_signal(sig)
    code = proc.wait(timeout=60)
    err = proc.stderr.read().strip().splitlines()
    done = [p for p in out.iterdir() if p.suffix == ".jpg"]
    assert 3 <= len(done) < n
    _valid_images(out) if sig != signal.SIGKILL else [Image.open(p).load() for p in done]
    if sig == signal.SIGKILL:
        assert code == -9
    else:
        assert code == 128 + sig, err
        assert len(err) == 1 and signal.Signals(sig).name in err[0] and "--skip-existing" in err[0], err
        assert not _parts(tmp_path)
    before = {p.name: p.stat().st_mtime_ns for p in done}
    again = subprocess.run(
        [*_cli("cli.stylize"), *args, "--skip-existing", "--quiet"],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert again.returncode == 0, again.stderr
    assert len(_valid_images(out)) == n and not _parts(tmp_path)
    assert all(before[n] == (out / n).stat().st_mtime_ns for n in before)  # finished ones left alone


def _bound_mb(process_mb: float, pixels: int) -> float:
    """README's bound: the process + 32 bytes per working pixel + the network's 1 GiB budget."""
    return process_mb + 32 * pixels / 2**20 + 1024


@pytest.mark.slow
def test_memory_is_bounded_for_extreme_shapes(tmp_path, canonical_files):
    """Peak RSS of the real CLI (the child's own VmHWM) against README's bound, per path: a 20000x20
    strip at the default size is refused in one line at import-level memory; at its own size it
    runs small; a 100 MP PNG at the default size is decoded and resized in 8 bits; an 8 MP (4K)
    photo at full size is tiled automatically; the VGG-19 architecture (4x the activations) gets
    smaller tiles from its bytes per pixel and stays in the same bound."""
    s = make_image(tmp_path / "s.jpg", 64, 64, 1)
    strip = tmp_path / "strip.png"
    Image.fromarray(np.full((20, 20000, 3), 120, np.uint8)).save(strip)
    big = tmp_path / "uhd.jpg"
    yy, xx = np.mgrid[0:2160, 0:3840]
    Image.fromarray(np.stack([(xx % 256), (yy % 256), ((xx + yy) % 256)], -1).astype(np.uint8)).save(big)
    huge = tmp_path / "huge.png"
    Image.new("RGB", (10000, 10000), (90, 140, 200)).save(huge)
    mid = tmp_path / "mid.jpg"
    Image.fromarray(np.stack([(xx % 256), (yy % 256), ((xx + yy) % 256)], -1)[:1200, :1800].astype(np.uint8)).save(mid)
    enc, dec = canonical_files
    canonical = ["--encoder-weights", str(enc), "--decoder-weights", str(dec), "--custom-weights"]
    canonical += ["--backend", "torch", "--precision", "fp32"]
    rows, bounds = {}, {}
    for name, content, extra, want, process, pixels in [
        ("strip default", strip, MODEL, 2, 300, 0),
        ("strip size 0", strip, [*MODEL, "--content-size", "0"], 0, 750, 20 * 20000),
        ("100 MP PNG default", huge, MODEL, 0, 750, 512 * 512),
        ("4K size 0", big, [*MODEL, "--content-size", "0"], 0, 750, 3840 * 2160),
        ("canonical 2 MP size 0", mid, [*canonical, "--content-size", "0"], 0, 1000, 1800 * 1200),
    ]:
        hwm = tmp_path / f"{name.replace(' ', '_')}.hwm"
        proc = _start(
            [
                "--content",
                str(content),
                "--style",
                str(s),
                "--output",
                str(tmp_path / name.replace(" ", "_")),
                "--quiet",
                *extra,
            ],
            tmp_path,
            hwm=hwm,
        )
        code, rss = _wait_rss(proc, hwm)
        err = proc.stderr.read()
        assert code == want, err
        rows[name], bounds[name] = rss, (process if not pixels else _bound_mb(process, pixels))
        if want == 2:
            assert len(err.strip().splitlines()) == 1
    print(rows)
    for name in rows:
        assert rows[name] < bounds[name], (name, rows[name], bounds[name])


@pytest.mark.slow
def test_training_mistakes_end_in_one_line(tmp_path):
    """adain-train: option mistakes, wrong-architecture weights and bad --ckpt_path → exit 2, one
    error line, no traceback, no config.yaml left behind."""
    import torch

    c, s = tmp_path / "c", tmp_path / "s"
    for k in range(3):
        make_image(c / f"{k}.jpg", 40, 40, k)
        make_image(s / f"{k}.jpg", 40, 40, 10 + k)
    wrong = tmp_path / "wrong.pth"
    torch.save({"0.weight": torch.zeros(3, 3, 1, 1)}, wrong)
    truncated = tmp_path / "cut.ckpt"
    truncated.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    base = [
        "fit",
        "--config",
        str(REPO / "configs/debug.yaml"),
        f"--data.content_dir={c}",
        f"--data.style_dir={s}",
        "--model.encoder_weights=random",
        "--data.num_workers=0",
        f"--trainer.default_root_dir={tmp_path / 'runs'}",
    ]
    cases = {
        "--model.style_weight=-1": "model.style_weight must be >= 0",
        "--data.batch_size=0": "data.batch_size must be >= 1",
        "--model.encoder=vgg99": "unknown encoder 'vgg99'",
        "--data.crop_size=600": "larger than data.image_size",
        f"--model.decoder_init={wrong}": "wrong.pth",
        f"--ckpt_path={tmp_path / 'missing.ckpt'}": "missing.ckpt: --ckpt_path not found",
        f"--ckpt_path={truncated}": "cut.ckpt: not a readable PyTorch weights file",
    }
    for flag, message in cases.items():
        r = subprocess.run(
            [*_cli("cli.train"), *base, flag],
            env=_env(tmp_path),
            capture_output=True,
            text=True,
            timeout=300,
            cwd=tmp_path,
        )
        errors = [ln for ln in r.stderr.splitlines() if "error" in ln.lower()]
        assert r.returncode == 2, (flag, r.stderr[-2000:])
        assert "Traceback" not in r.stderr and len(errors) == 1 and message in errors[0], (flag, r.stderr[-2000:])
        assert len(r.stderr.strip().splitlines()) <= 2, (flag, r.stderr)
        assert not list(tmp_path.rglob("config.yaml")), flag


@pytest.mark.slow
def test_training_stopped_by_sigterm_exits_non_zero(tmp_path):
    c, s = tmp_path / "c", tmp_path / "s"
    for k in range(4):
        make_image(c / f"{k}.jpg", 48, 48, k)
        make_image(s / f"{k}.jpg", 48, 48, 10 + k)
    args = [
        "fit",
        "--config",
        str(REPO / "configs/debug.yaml"),
        f"--data.content_dir={c}",
        f"--data.style_dir={s}",
        "--model.encoder=vgg19_small16x",
        "--model.encoder_weights=random",
        "--data.num_workers=0",
        "--data.image_size=64",
        "--data.crop_size=32",
        "--trainer.max_steps=100000",
        "--trainer.fast_dev_run=false",
        "--trainer.limit_val_batches=0",
        "--trainer.logger=false",
        f"--trainer.default_root_dir={tmp_path / 'r'}",
    ]
    proc = subprocess.Popen(
        [*_cli("cli.train"), *args],
        env=_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    time.sleep(12)
    assert proc.poll() is None, proc.stderr.read()[-2000:]
    proc.send_signal(signal.SIGTERM)
    code = proc.wait(timeout=120)
    err = proc.stderr.read()
    assert code == 143, err[-2000:]
    assert "stopped by SIGTERM" in err and "Traceback" not in err


def test_output_may_not_replace_an_input(tmp_path, style, capsys):
    c = make_image(tmp_path / "c.jpg", 40, 32, 1)
    before = c.read_bytes()
    for target in (c, style):
        code, err = _run(
            capsys,
            ["--content", str(c), "--style", str(style), "--output", str(target), "--overwrite", "--model", "small16x"],
        )
        assert code == 2 and len(err) == 1 and "would replace an input" in err[0], err
    assert c.read_bytes() == before
    code, err = _run(
        capsys,
        [
            "--content",
            str(c),
            "--style",
            str(style),
            "--output",
            str(tmp_path / "o"),
            "--overwrite",
            "--skip-existing",
            "--model",
            "small16x",
        ],
    )
    assert code == 2 and "contradict" in err[0]


def test_explicit_encoder_that_is_not_the_registered_one_is_named(tmp_path, style, capsys, canonical_files):
    c = make_image(tmp_path / "c.jpg", 40, 32, 1)
    enc, dec = canonical_files
    args = [
        "--content",
        str(c),
        "--style",
        str(style),
        "--encoder-weights",
        str(enc),
        "--decoder-weights",
        str(dec),
        "--content-size",
        "32",
        "--backend",
        "torch",
    ]
    code, err = _run(capsys, [*args, "--output", str(tmp_path / "a.png"), "-q"])  # -qq: no result line
    assert code == 0 and len(err) == 1 and "not the registered canonical encoder" in err[0], err
    code, err = _run(capsys, [*args, "--output", str(tmp_path / "b.png"), "--custom-weights", "-q"])
    assert code == 0 and err == [], err


def test_max_pixels_can_go_beyond_pillows_own_cap(tmp_path):
    from adain.errors import ImageError
    from adain.io.images import probe_size

    big = tmp_path / "huge.png"
    Image.new("1", (14000, 13000)).save(big)  # 182 MP: above Pillow's 179 MP refusal
    with pytest.raises(ImageError, match="limit"):
        probe_size(big)
    assert probe_size(big, max_pixels=200_000_000) == (13000, 14000)


def test_stale_temporary_files_of_dead_runs_are_removed(tmp_path):
    from adain.io.atomic import _host_tag, remove_stale_parts

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".x.adain-{_host_tag()}-{dead.pid}-0123abcd.part"
    mine = tmp_path / f".y.adain-{_host_tag()}-{os.getpid()}-0123abcd.part"
    other = tmp_path / ".z.part"
    for p in (stale, mine, other):
        p.write_bytes(b"x")
    assert remove_stale_parts(tmp_path) == [stale]
    assert mine.exists() and other.exists() and not stale.exists()


def test_an_export_cleans_what_a_killed_export_left(tmp_path):
    """``kill -9`` of ``adain-export web`` leaves a ``.tmp`` folder (and onnx ``.part`` files); the
    next export removes them (a live process's are kept)."""
    import tempfile

    from adain.cli.export import main as export_main
    from adain.io.atomic import _host_tag, temp_dir_prefix

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    left = tmp_path / f".site.adain-{_host_tag()}-{dead.pid}-abc_12xy.tmp"
    (left / "models").mkdir(parents=True)
    (left / "models" / "encode.onnx").write_bytes(b"x" * 1000)
    part = tmp_path / "onnx" / f".encode.adain-{_host_tag()}-{dead.pid}-0123abcd.part"
    part.parent.mkdir()
    part.write_bytes(b"x")
    live = Path(tempfile.mkdtemp(prefix=temp_dir_prefix(tmp_path / "site"), suffix=".tmp", dir=tmp_path))
    # any export into the folder cleans up first, even one refused afterwards
    assert export_main(["onnx", str(tmp_path / "onnx"), "--checkpoint", str(tmp_path / "missing.ckpt")]) == 2
    assert not part.exists()
    assert export_main(["web", str(tmp_path / "site"), "--checkpoint", str(tmp_path / "missing.ckpt")]) == 2
    assert not left.exists() and live.exists()
