"""A command line for scripts: positional inputs, stdin/stdout, --json, --info, named styles,
variants that never collide, resizes said out loud, options of other modes refused."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from adain.cli.parser import DefaultsOnceFormatter, plain_text
from adain.cli.stylize import build_parser, infer_main
from adain.cli.stylize_checks import method_tag, request_from_args
from adain.io.images import image_format_of
from adain.io.styles import named_styles, resolve_style
from adain.methods.jobs import resize_note, variant_name
from adain.runtime.info import format_info, gather_info
from tests.helpers import MODEL, REPO, bad_run, child_env, listing, make_image, run


@pytest.fixture
def pair(tmp_path) -> tuple[Path, Path]:
    return make_image(tmp_path / "c.jpg", 96, 64, 1), make_image(tmp_path / "s.png", 48, 40, 2)


def _args(*argv: str):
    return build_parser().parse_args(list(argv))


# ----------------------------------------------------------------------------- pure pieces
def _variant(ns):
    return variant_name(request_from_args(ns, None), method_tag(ns))


def test_variant_names_carry_what_differs_from_the_defaults():
    assert _variant(_args("c", "s")) == ""
    assert _variant(_args("c", "s", "--alpha", "0.5")) == "a0.5"
    assert _variant(_args("c", "s", "--style-weights", "0.3", "0.7")) == "w0.3-0.7"
    assert _variant(_args("c", "s", "--preserve-color", "coral", "--alpha", "0.25")) == "a0.25_coral"
    assert _variant(_args("c", "s", "--refine", "10")) == "refine10"
    assert _variant(_args("c", "s", "--grid", "alpha", "--alpha", "0.5")) == ""  # the grid sweeps alpha


def test_resize_note_names_sizes_and_how_to_keep_them():
    one = [{"size": [683, 512], "resized_from": [4032, 3024]}]
    assert resize_note(one, 512) == " (683x512, resized from 4032x3024; --content-size 0 keeps the original size)"
    assert resize_note([{"size": [64, 64], "resized_from": None}], 512) == ""
    many = [*one, {"size": [64, 64], "resized_from": None}]
    assert "1 of 2 resized to a 512 px shorter side" in resize_note(many, 512)


def test_image_format_is_read_from_bytes(tmp_path):
    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, "PNG")
    assert image_format_of(buf.getvalue()) == "png"
    assert image_format_of(make_image(tmp_path / "a.jpg", 9, 9).read_bytes()) == "jpg"
    assert image_format_of(b"hello") is None
    assert image_format_of(b"") is None


def test_named_styles_resolve_to_shipped_files_and_files_win(tmp_path, monkeypatch):
    styles = named_styles()
    assert {"matisse", "mondrian", "leger"} <= set(styles)
    for s in styles.values():
        assert s.path.is_file() and s.title
    assert Path(resolve_style("matisse")) == styles["matisse"].path
    assert resolve_style("MATISSE") == str(styles["matisse"].path)
    assert resolve_style("nothing-like-it") == "nothing-like-it"
    monkeypatch.chdir(tmp_path)
    (tmp_path / "matisse").mkdir()  # a folder of that name in the working folder wins
    assert resolve_style("matisse") == "matisse"


def test_help_says_each_default_once_and_no_markup():
    text = build_parser().format_help()
    assert "(default: None)" not in text and "(default: False)" not in text
    assert "(0.8) (default: 0.8)" not in " ".join(text.split())
    assert "(default: 512)" in text  # the ones worth saying stay
    assert plain_text("see :mod:`adain.methods.evaluation` and ``--size``") == "see adain.methods.evaluation and --size"
    assert issubclass(DefaultsOnceFormatter, object)


def test_info_reports_this_install():
    info = gather_info()
    assert info["adain"] and info["python"]
    assert info["cpu"]["precision_auto"] in ("fp32", "bf16")
    assert set(info["backends"]) <= {"torch", "openvino", "onnxruntime"} and info["backends"]
    assert info["models"]["small16x"]["built_in"] and info["models"]["small16x"]["offline"]
    assert "matisse" in info["styles"]
    text = format_info(info)
    assert "--precision auto = " in text and "small16x" in text and "matisse" in text
    assert json.loads(format_info(info, as_json=True)) == info


def test_info_precision_follows_the_cpu(monkeypatch):
    monkeypatch.setenv("ADAIN_CPU_FLAGS", "avx2")
    assert gather_info()["cpu"]["precision_auto"] == "fp32"
    monkeypatch.setenv("ADAIN_CPU_FLAGS", "avx2 avx512_bf16")
    assert gather_info()["cpu"]["precision_auto"] == "bf16"


# ----------------------------------------------------------------------------- the command
def test_positional_content_and_style(tmp_path, pair, capsys):
    c, s = pair
    out = tmp_path / "out"
    code, err = run([str(c), str(s), "-o", str(out), *MODEL, "-q"], capsys)
    assert code == 0, err
    assert listing(out) == ["c_stylized_s.jpg"]
    code, err = run([str(c), "--style", str(s), "-o", str(out / "x.png"), *MODEL, "-q"], capsys)
    assert code == 0, err
    assert (out / "x.png").is_file()
    bad_run(capsys, [str(c), str(s), str(s), "-o", str(out), *MODEL], "positional inputs are CONTENT STYLE", out)


def test_json_names_every_output_with_its_size(tmp_path, pair, capsys):
    c, s = pair
    s2 = make_image(tmp_path / "s2.jpg", 40, 40, 3)
    out = tmp_path / "out"
    argv = ["--content", str(c), "--style", str(s), str(s2), "-o", str(out), "--json", "--content-size", "32"]
    code = infer_main([*argv, *MODEL, "-q"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    entries = [json.loads(line) for line in captured.out.strip().splitlines()]
    assert sorted(Path(e["output"]).name for e in entries) == listing(out)
    for e in entries:
        assert e["content"] == str(c) and len(e["styles"]) == 1
        assert Image.open(e["output"]).size == tuple(e["size"]) == (48, 32)
        assert e["resized_from"] == [96, 64]
        assert e["model"] and e["backend"] == "torch" and e["precision"] == "fp32" and e["seconds"] >= 0
    assert "resized from" not in captured.err  # two outputs: the count, not each size
    assert "2 of 2 resized to a 32 px shorter side" in captured.err


def test_variants_in_one_folder_never_collide(tmp_path, pair, capsys):
    c, s = pair
    s2 = make_image(tmp_path / "s2.jpg", 40, 40, 3)
    out = tmp_path / "out"
    runs = [
        [],
        ["--alpha", "0.5"],
        ["--style-weights", "0.3", "0.7"],
        ["--style-weights", "0.7", "0.3"],
        ["--preserve-color", "coral"],
        ["--preserve-color", "luminance"],
    ]
    for extra in runs:
        styles = [str(s), str(s2)] if "--style-weights" in extra else [str(s)]
        code, err = run(["--content", str(c), "--style", *styles, "-o", str(out), *extra, *MODEL, "-q"], capsys)
        assert code == 0, (extra, err)
    assert len(listing(out)) == 6, listing(out)


def test_result_line_says_the_resize(tmp_path, pair, capsys):
    c, s = pair
    code, err = run([str(c), str(s), "-o", str(tmp_path / "o.jpg"), "--content-size", "32", *MODEL], capsys)
    assert code == 0
    assert "(48x32, resized from 96x64; --content-size 0 keeps the original size)" in err
    code, err = run([str(c), str(s), "-o", str(tmp_path / "p.jpg"), "--content-size", "0", *MODEL], capsys)
    assert code == 0 and "resized" not in err


def test_quiet_twice_hides_the_result_line(tmp_path, pair, capsys):
    c, s = pair
    code, err = run([str(c), str(s), "-o", str(tmp_path / "a.jpg"), *MODEL, "-q"], capsys)
    assert code == 0 and err.strip().startswith("wrote 1 image(s)")
    code, err = run([str(c), str(s), "-o", str(tmp_path / "b.jpg"), *MODEL, "-q", "-q"], capsys)
    assert code == 0 and err == ""


def test_named_style_on_the_command_line(tmp_path, pair, capsys):
    c, _ = pair
    out = tmp_path / "out"
    code, err = run([str(c), "mondrian", "-o", str(out), *MODEL, "-q", "--content-size", "32"], capsys)
    assert code == 0, err
    assert listing(out) == ["c_stylized_mondrian_composition_ii.jpg"]
    bad_run(capsys, [str(c), "no-such-painting", "-o", str(out), *MODEL], "no-such-painting", out)


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        (["--style-weight", "0.5"], "did you mean --style-weights"),
        (["--tv-weight", "1"], "--tv-weight is a setting of the optimisation"),
        (["--iterations", "5"], "--iterations applies to --method gatys only"),
        (["--init", "noise", "--refine", "3"], "--init applies to --method gatys only"),
        (["--temporal-strength", "0.5"], "--temporal-strength applies to a video"),
        (["--strategy", "ddp"], "--strategy applies with --devices only"),
        (["--num-nodes", "2"], "--num-nodes applies with --devices only"),
        (["--iter", "5"], "did you mean --iterations?"),
    ],
)
def test_options_of_other_modes_are_refused(tmp_path, pair, capsys, extra, match):
    c, s = pair
    out = tmp_path / "out"
    if extra[0] == "--iter":  # argparse's own error: exits through SystemExit
        with pytest.raises(SystemExit) as e:
            build_parser().parse_args([str(c), str(s), *extra])
        assert e.value.code == 2 and match in capsys.readouterr().err
        return
    bad_run(capsys, [str(c), str(s), "-o", str(out), *extra, *MODEL], match, out)


def test_options_in_their_mode_are_accepted():
    args = _args("c", "s", "--refine", "3", "--style-weight", "5")
    from adain.cli.stylize_checks import refuse_unused

    refuse_unused(args, video=False)
    refuse_unused(_args("c.mp4", "s", "--temporal-strength", "0.5"), video=True)
    refuse_unused(_args("c", "s", "--method", "gatys", "--iterations", "5"), video=False)
    refuse_unused(_args("c", "s", "--devices", "1", "--strategy", "auto"), video=False)


def _child(args: list[str], tmp_path: Path, stdin: bytes | None) -> subprocess.CompletedProcess[bytes]:
    code = "import sys; from adain.cli.stylize import main; sys.argv[0] = 'adain-stylize'; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        input=stdin,
        capture_output=True,
        env=child_env(tmp_path),
        cwd=tmp_path,
        timeout=300,
    )


def test_stdin_to_stdout_pipe(tmp_path, pair):
    """``cat photo.jpg | adain-stylize - painting.jpg -o - > out.png`` (a real pipe, a real process)."""
    c, s = pair
    r = _child(["-", str(s), "-o", "-", "--content-size", "0", *MODEL], tmp_path, c.read_bytes())
    assert r.returncode == 0, r.stderr.decode()
    img = Image.open(io.BytesIO(r.stdout))
    assert img.format == "PNG" and img.size == (96, 64)
    assert b"wrote 1 image(s) to stdout" in r.stderr
    assert "output" not in os.listdir(tmp_path)  # nothing but the image on stdout
    r = _child(["-", str(s), "-o", "-", "--ext", "jpg", *MODEL, "-q", "-q"], tmp_path, c.read_bytes())
    assert r.returncode == 0 and Image.open(io.BytesIO(r.stdout)).format == "JPEG" and r.stderr == b""
    # a file from stdin into a folder: named after stdin
    r = _child(["-", str(s), "-o", str(tmp_path / "out"), *MODEL, "-q"], tmp_path, c.read_bytes())
    assert r.returncode == 0 and listing(tmp_path / "out") == ["stdin_stylized_s.jpg"]


@pytest.mark.parametrize(
    ("args", "stdin", "match"),
    [
        (["-", "S", "-o", "-"], b"not an image", "not an image"),
        (["-", "S", "-o", "-"], b"", "stdin is empty"),
        (["C", "S", "S2", "-o", "-"], None, "positional inputs"),
        (["--content", "C", "--style", "S", "S2", "-o", "-"], None, "writes one image to stdout"),
        (["C", "S", "-o", "-", "--json"], None, "--json would mix"),
    ],
)
def test_stdio_mistakes_are_one_line_and_write_nothing(tmp_path, pair, args, stdin, match):
    c, s = pair
    s2 = make_image(tmp_path / "s2.png", 30, 30, 4)
    names = {"C": str(c), "S": str(s), "S2": str(s2)}
    r = _child([names.get(a, a) for a in args] + MODEL, tmp_path, stdin)
    err = r.stderr.decode().strip().splitlines()
    assert r.returncode == 2 and len(err) == 1 and match in err[0], err
    assert r.stdout == b""
    assert "output" not in os.listdir(tmp_path)


def test_info_and_list_styles_commands(tmp_path):
    r = _child(["--info", "--json"], tmp_path, None)
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    assert "small16x" in info["models"] and info["cache"].startswith(str(tmp_path))
    r = _child(["--list-styles"], tmp_path, None)
    assert r.returncode == 0 and b"matisse" in r.stdout and b"Woman with a Hat" in r.stdout


def test_repo_is_importable_in_children():
    assert (REPO / "adain").is_dir()


# ----------------------------------------------------------------------------- stroke size
def test_stroke_scale_pieces():
    import numpy as np

    from adain.errors import UsageError
    from adain.pipeline.strokes import canvas_shape, check_stroke_scale, restore_scale, texture_scale

    assert canvas_shape(512, 768, 2.0) == (256, 384) and canvas_shape(512, 768, 0.5) == (1024, 1536)
    assert canvas_shape(3, 3, 8.0) == (1, 1)
    for bad in (0.0, 0.1, 9.0, float("nan")):
        with pytest.raises(UsageError, match="stroke scale"):
            check_stroke_scale(bad)
    rng = np.random.default_rng(0)
    content = rng.random((3, 64, 64), dtype=np.float32)
    out = restore_scale(np.full((3, 32, 32), 0.5, np.float32), content)
    assert out.shape == (3, 64, 64) and out.min() >= 0 and out.max() <= 1
    assert out.std() > 0.01  # the content's fine detail came back
    assert np.allclose(out.std(axis=0), 0, atol=1e-6)  # as luminance only: no colour from the photo
    # the measure: a pattern S times as large measures about S times as large
    yy, xx = np.mgrid[0:256, 0:256]
    stripes = [np.broadcast_to(0.5 + 0.4 * np.sin(2 * np.pi * (xx + yy) / (6 * s)), (3, 256, 256)) for s in (1, 2)]
    ratio = texture_scale(stripes[1]) / texture_scale(stripes[0])
    assert 1.8 < ratio < 2.2


def test_stroke_scale_moves_the_measured_stroke_size(tmp_path):
    """The built-in model and a shipped painting on a smooth photo: strokes S× as large measure
    about S× as large (S ≥ 1), at the same output size."""
    import numpy as np

    from adain import Stylizer
    from adain.pipeline.strokes import texture_scale

    st = Stylizer.from_pretrained("small16x", backend="torch", precision="fp32")
    yy, xx = np.mgrid[0:256, 0:256] / 256
    photo = np.stack([0.3 + 0.4 * xx, 0.5 + 0.2 * np.sin(3 * yy), 0.6 - 0.3 * yy]).astype(np.float32)
    style = str(named_styles()["leger"].path)
    sizes = {s: texture_scale(st.stylize(photo, style, content_size=0, stroke_scale=s).numpy()) for s in (1, 2, 4)}
    for s in (2, 4):
        assert 0.7 * s < sizes[s] / sizes[1] < 1.4 * s, sizes
    out = st.stylize(photo, style, content_size=0, stroke_scale=2)
    assert tuple(out.shape) == (3, 256, 256)


def test_stroke_scale_on_the_command_line(tmp_path, pair, capsys):
    c, s = pair
    out = tmp_path / "out"
    for scale in ("1", "2"):
        code, err = run([str(c), str(s), "-o", str(out), "--stroke-scale", scale, *MODEL, "-q"], capsys)
        assert code == 0, err
    assert listing(out) == ["c_stylized_s.jpg", "c_stylized_s_s2.jpg"]
    assert Image.open(out / "c_stylized_s_s2.jpg").size == Image.open(out / "c_stylized_s.jpg").size
    bad_run(capsys, [str(c), str(s), "-o", str(out), "--stroke-scale", "20", *MODEL], "--stroke-scale must be", out)
    bad_run(capsys, [str(c), str(s), "-o", str(out), "--stroke-scale", "2", "--grid", "alpha", *MODEL], "--grid", out)


def test_output_names_mean_what_they_say(tmp_path, pair, capsys):
    c, s = pair
    code, err = run([str(c), str(s), "-o", str(tmp_path / "out.jpg") + "/", *MODEL, "-q"], capsys)
    assert code == 0, err
    assert (tmp_path / "out.jpg").is_dir() and listing(tmp_path / "out.jpg") == ["c_stylized_s.jpg"]
    bad_run(capsys, [str(c), str(s), "-o", str(tmp_path / "x.png"), "--ext", "jpg", *MODEL], "--ext is jpg", tmp_path)
    code, err = run([str(c), str(s), "-o", str(tmp_path / "y.jpeg"), "--ext", "jpg", *MODEL, "-q"], capsys)
    assert code == 0 and Image.open(tmp_path / "y.jpeg").format == "JPEG"


def test_video_outputs_are_named_mp4(tmp_path):
    from adain.errors import AdainError
    from adain.methods.jobs import plan
    from adain.pipeline.request import StylizeRequest

    video = tmp_path / "clip.mp4"
    video.write_bytes(b"")
    style = make_image(tmp_path / "s.png", 8, 8)
    for name in ("x.mkv", "x.webm", "x.avi"):
        with pytest.raises(AdainError, match="name the output .mp4"):
            plan([video], [style], str(tmp_path / name), StylizeRequest())
    assert plan([video], [style], str(tmp_path / "x.mp4"), StylizeRequest())[0][2].name == "x.mp4"


def test_plan_names_follow_the_request(tmp_path):
    from adain.errors import UsageError
    from adain.methods.jobs import plan
    from adain.pipeline.request import StylizeRequest

    c = [make_image(tmp_path / "c.png", 8, 8)]
    s = [make_image(tmp_path / f"s{i}.jpg", 8, 8, i) for i in range(2)]
    names = lambda req, **kw: [t.name for _, _, t in plan(c, s, str(tmp_path / "out"), req, **kw)]  # noqa: E731
    assert names(StylizeRequest()) == ["c_stylized_s0.png", "c_stylized_s1.png"]
    assert names(StylizeRequest(alpha=0.5), ext="jpg", method="refine10") == [
        "c_stylized_s0_a0.5_refine10.jpg", "c_stylized_s1_a0.5_refine10.jpg"]  # fmt: skip
    assert names(StylizeRequest(weights=[1, 3])) == ["c_stylized_s0+s1_w1-3.png"]
    assert names(StylizeRequest(grid="styles")) == ["c_style_grid_s0+s1.png"]
    assert names(StylizeRequest(grid="alpha")) == ["c_alpha_grid_s0.png", "c_alpha_grid_s1.png"]
    mask = make_image(tmp_path / "out" / "c_stylized_s0+s1.png", 8, 8)  # a mask where the output would go
    with pytest.raises(UsageError, match="input"):
        plan(c, s, str(tmp_path / "out"), StylizeRequest(masks=[mask, mask]))
    assert StylizeRequest(masks=[mask]).together and not StylizeRequest(grid="alpha").together


def test_export_json_names_every_output(tmp_path, capsys):
    from adain.cli.export import main as export_main

    out = tmp_path / "graphs"
    assert export_main(["onnx", str(out), "--model", "small16x", "--graphs", "stats", "encode", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert sorted(Path(r["output"]).name for r in rows) == ["encode.onnx", "stats.onnx"]
    for r in rows:
        assert r["command"] == "onnx" and r["bytes"] == Path(r["output"]).stat().st_size > 0


def test_stroke_scale_on_video_moves_the_measured_stroke_size(tmp_path, capsys):
    """A clip of the smooth photo: each frame's strokes measure about S× as large at S = 2, at the
    frames' size; the command accepts --stroke-scale on a video and names the output after it."""
    import numpy as np

    from adain.methods.video import VideoOptions, read_frames, stylize_video
    from adain.pipeline.core import Pipeline
    from adain.pipeline.strokes import texture_scale
    from tests.helpers import write_video

    yy, xx = np.mgrid[0:128, 0:160] / 128
    photo = np.stack([0.3 + 0.4 * xx, 0.5 + 0.2 * np.sin(3 * yy), 0.6 - 0.3 * yy]).astype(np.float32)
    clip = write_video(tmp_path / "clip.mp4", [photo] * 3)
    style = str(named_styles()["leger"].path)
    pipe = Pipeline.from_pretrained("small16x", backend="torch", precision="fp32", verbose=False)
    sizes = {}
    for s in (1, 2):
        options = VideoOptions(content_size=0, temporal="off", stroke_scale=s)
        out = stylize_video(pipe, clip, style, tmp_path / f"s{s}.mp4", options, progress=False)
        frames = list(read_frames(out))
        assert len(frames) == 3 and frames[0].shape == (3, 128, 160)
        sizes[s] = texture_scale(frames[1])
    assert 1.4 < sizes[2] / sizes[1] < 2.8, sizes
    code, err = run([str(clip), "leger", "-o", str(tmp_path / "o"), "--stroke-scale", "2", *MODEL, "-q"], capsys)
    assert code == 0, err
    (name,) = listing(tmp_path / "o")
    assert name.startswith("clip_stylized_") and name.endswith("_s2.mp4"), name


def test_bounded_option_types_say_the_range_in_one_line(capsys):
    import argparse

    from adain.cli.parser import Parser, bounded

    assert bounded(int, 1)("3") == 3 and bounded(float, 0, 1)("0.5") == 0.5 and bounded(int, None, 9)("-4") == -4
    for kind, low, high, text, words in (
        (int, 1, None, "0", "must be >= 1, got 0"),
        (int, 0, 65535, "70000", "must be between 0 and 65535, got 70000"),
        (int, None, 9, "10", "must be <= 9, got 10"),
        (float, 0.01, None, "nan", "must be >= 0.01, got nan"),
    ):
        with pytest.raises(argparse.ArgumentTypeError, match=words):
            bounded(kind, low, high)(text)
    p = Parser(prog="prog")
    p.add_argument("--queue-size", type=bounded(int, 1), default=16)
    for argv, words in ((["--queue-size", "0"], "argument --queue-size: must be >= 1, got 0"),
                        (["--queue-size", "x"], "argument --queue-size: invalid int value: 'x'")):  # fmt: skip
        with pytest.raises(SystemExit):
            p.parse_args(argv)
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and words in err[0], err


def test_fields_from_takes_options_named_like_the_fields():
    import argparse
    from dataclasses import dataclass

    from adain.cli.parser import fields_from

    @dataclass(frozen=True)
    class Thing:
        size: int = 1
        name: str = "a"
        loud: bool = False

    ns = argparse.Namespace(size=5, name="b", quiet=True, other=3)
    assert fields_from(Thing, ns) == Thing(5, "b", False)  # loud has no option: its default
    assert fields_from(Thing, ns, loud=not ns.quiet, name="c") == Thing(5, "c", False)
    with pytest.raises(TypeError):
        fields_from(Thing, ns, colour="red")  # not a field
