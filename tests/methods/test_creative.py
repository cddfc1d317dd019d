"""Creative control and big inputs: masks, colour preservation, grids, tiling, video."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from adain import Stylizer
from adain import functional as AF
from adain.cli.stylize import infer_main
from tests.helpers import bad_run as _bad
from tests.helpers import canonical_net, genuine_relu3_net, listing, make_image


@pytest.fixture(scope="module")
def st() -> Stylizer:
    return Stylizer(canonical_net(), "cpu", "fp32")


# ----------------------------------------------------------------------------- spatial
def test_two_half_masks_give_each_region_its_style():
    g = torch.Generator().manual_seed(0)
    content = torch.randn(1, 16, 8, 12, generator=g) * 2 + 1
    s1 = AF.calc_mean_std(torch.randn(1, 16, 5, 5, generator=g) * 0.3 + 4)
    s2 = AF.calc_mean_std(torch.randn(1, 16, 5, 5, generator=g) * 3 - 2)
    left = torch.zeros(1, 1, 8, 12)
    left[..., :6] = 1
    masks = torch.cat([left, 1 - left], dim=1)
    out = AF.masked_adain(content, [s1, s2], masks)
    for mask, (mean, std) in ((left, s1), (1 - left, s2)):
        m, s = AF.masked_mean_std(out, mask)
        assert (m - mean).abs().max() < 1e-3 and (s - std).abs().max() < 1e-3


def test_uncovered_region_keeps_content():
    content = torch.randn(1, 4, 6, 6)
    mask = torch.zeros(1, 1, 6, 6)
    mask[..., :3, :] = 1
    out = AF.masked_adain(content, [AF.calc_mean_std(torch.randn(1, 4, 3, 3) + 5)], mask)
    torch.testing.assert_close(out[..., 3:, :], content[..., 3:, :])
    assert not torch.allclose(out[..., :3, :], content[..., :3, :])


def test_resize_masks_area_average():
    m = torch.zeros(1, 1, 8, 8)
    m[..., :, :4] = 1
    small = AF.resize_masks(m, (2, 2))
    torch.testing.assert_close(small, torch.tensor([[[[1.0, 0.0], [1.0, 0.0]]]]))
    soft = AF.resize_masks(torch.eye(4)[None, None], (2, 2))
    torch.testing.assert_close(soft, torch.full((1, 1, 2, 2), 0.5) * torch.eye(2)[None, None] * 1.0)


@pytest.mark.shared
def test_cli_masks_label_map_and_resizing(tmp_path, canonical_files, capsys, shared):
    enc, dec = canonical_files
    c = make_image(tmp_path / "c.jpg", 80, 64, 1)
    s1, s2 = make_image(tmp_path / "s1.jpg", 40, 40, 2), make_image(tmp_path / "s2.jpg", 40, 40, 3)
    args = [
        "--content",
        str(c),
        "--style",
        str(s1),
        str(s2),
        "--encoder-weights",
        str(enc),
        "--decoder-weights",
        str(dec),
        "--custom-weights",
        "--device",
        "cpu",
        "--quiet",
        "--content-size",
        "0",
        "--style-size",
        "0",
    ]
    # the shared binary mask as one label map (resized from its own size to the content's)
    assert infer_main([*args, "--mask", str(shared / "images/mask/mask.png"), "--output", str(tmp_path / "a")]) == 0
    assert listing(tmp_path / "a") == ["c_stylized_s1+s2.jpg"]
    m1 = tmp_path / "m1.png"
    Image.new("L", (10, 10), 255).save(m1)  # wrong size: resized
    m2 = tmp_path / "m2.png"
    Image.new("L", (10, 10), 0).save(m2)
    assert infer_main([*args, "--mask", f"{m1},{m2}", "--output", str(tmp_path / "b")]) == 0
    out = tmp_path / "o"
    notimg = tmp_path / "mask.png"
    notimg.write_text("nope")
    _bad(capsys, [*args, "--mask", str(notimg), str(m2), "--output", str(out)], "mask.png: not an image", out)
    _bad(capsys, [*args, "--mask", str(m1), str(m2), str(m1), "--output", str(out)], "got 3 masks for 2 styles", out)
    _bad(
        capsys,
        [*args, "--mask", str(m1), "--output", str(out)],
        "label map has 1 grey levels, expected one per style (2)",
        out,
    )
    _bad(
        capsys,
        [*args, "--mask", str(m1), str(m2), "--style-weights", "1", "1", "--output", str(out)],
        "cannot be combined with --style-weights",
        out,
    )


# ----------------------------------------------------------------------------- colour
def test_resolve_masks_accepts_one_per_style_or_a_label_map(tmp_path):
    from adain.errors import ImageError, UsageError
    from adain.methods.jobs import resolve_masks

    masks = [make_image(tmp_path / f"m{i}.png", 12, 8, i) for i in range(3)]
    assert resolve_masks([str(m) for m in masks[:2]], None, 2, 10**6) == masks[:2]
    grey = tmp_path / "labels.png"
    Image.fromarray(np.repeat(np.array([0, 128, 255], np.uint8), 4)[None].repeat(8, 0), "L").save(grey)
    assert resolve_masks([str(grey)], None, 3, 10**6) == [grey]  # one grey level per style
    with pytest.raises(UsageError, match="m0.png: got 3 masks for 2 styles"):
        resolve_masks([str(m) for m in masks], None, 2, 10**6)
    with pytest.raises(ImageError, match="m0.png"):
        resolve_masks([str(masks[0]), str(masks[1])], None, 2, 50)  # above the pixel limit
    (tmp_path / "frames").mkdir()
    clip = tmp_path / "clip.mp4"
    with pytest.raises(UsageError, match="m0.png: per-frame masks are videos or folders of frames"):
        resolve_masks([str(tmp_path / "frames"), str(masks[0])], clip, 2, 10**6)
    with pytest.raises(UsageError, match="got 3 mask sources for 2 styles"):
        resolve_masks([str(tmp_path / "frames")] * 3, clip, 2, 10**6)
    with pytest.raises(ImageError, match="frames"):
        resolve_masks([str(tmp_path / "frames")], clip, 2, 10**6)  # a folder without frames


def test_coral_matches_colour_mean_and_covariance():
    g = torch.Generator().manual_seed(0)
    src = torch.rand(3, 20, 30, generator=g) * torch.tensor([0.3, 0.8, 0.5]).view(3, 1, 1)
    tgt = torch.rand(3, 25, 25, generator=g)
    tgt[1] = 0.5 * tgt[0] + 0.3 * tgt[1]
    out = AF.coral(src, tgt)
    from adain.ops.color import _rgb_stats

    mo, co = _rgb_stats(out)
    mt, ct = _rgb_stats(tgt)
    torch.testing.assert_close(mo, mt, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(co, ct, atol=1e-5, rtol=1e-3)


def test_ycbcr_roundtrip():
    x = torch.rand(2, 3, 5, 7)
    torch.testing.assert_close(AF.ycbcr_to_rgb(AF.rgb_to_ycbcr(x)), x, atol=1e-5, rtol=1e-5)


def test_luminance_keeps_content_chroma(tmp_path, st):
    c = make_image(tmp_path / "c.jpg", 40, 32, 1)
    s = make_image(tmp_path / "s.jpg", 40, 40, 2)
    out = st.stylize(c, s, content_size=0, style_size=0, preserve_color="luminance")
    content = st.load(c, 0)[0]
    chroma_out, chroma_in = AF.rgb_to_ycbcr(out)[1:], AF.rgb_to_ycbcr(content)[1:]
    # Only the final clamp to [0, 1] moves chroma (pure-noise test images saturate a lot):
    # stated tolerance 0.03 mean absolute Cb/Cr difference; the transfer itself is exact (below).
    assert (chroma_out - chroma_in).abs().mean() < 0.03


def test_luminance_transfer_is_exact_before_clamping():
    a, b = torch.rand(3, 8, 8) * 0.5 + 0.25, torch.rand(3, 8, 8) * 0.5 + 0.25
    out = AF.luminance_transfer(a, b)
    torch.testing.assert_close(AF.rgb_to_ycbcr(out)[1:], AF.rgb_to_ycbcr(b)[1:], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(AF.rgb_to_ycbcr(out)[:1], AF.rgb_to_ycbcr(a)[:1], atol=1e-5, rtol=1e-5)


def test_coral_option_recolours_the_style_first(tmp_path, st):
    c = make_image(tmp_path / "c.jpg", 40, 32, 1)
    s = make_image(tmp_path / "s.png", 40, 40, 7)
    red = torch.tensor([1.0, 0.1, 0.1])[:, None, None]
    s_red = Image.fromarray(
        (torch.from_numpy(np.array(Image.open(s))).permute(2, 0, 1) * red).permute(1, 2, 0).byte().numpy()
    )
    plain = st.stylize(c, s_red, content_size=0, style_size=0)
    kept = st.stylize(c, s_red, content_size=0, style_size=0, preserve_color="coral")
    # coral = stylizing with the style recoloured to the content's colour mean/covariance (paper Sec. 7)
    content, style = st.load(c, 0)[0].cpu(), st.load(s_red, 0)[0].cpu()
    recoloured = AF.coral(style, content).clamp(0, 1)
    torch.testing.assert_close(kept, st.stylize(c, recoloured, content_size=0, style_size=0))
    assert (kept - plain).abs().mean() > 0.01  # the red cast of the style is gone
    with pytest.raises(ValueError, match="preserve_color"):
        st.stylize(c, s, preserve_color="sepia")


# ----------------------------------------------------------------------------- grids
def test_alpha_and_blend_grids(tmp_path, canonical_files, capsys):
    enc, dec = canonical_files
    c = make_image(tmp_path / "c.jpg", 32, 24, 1)
    styles = [make_image(tmp_path / f"s{i}.jpg", 40, 40, 10 + i) for i in range(4)]
    base = [
        "--content",
        str(c),
        "--encoder-weights",
        str(enc),
        "--decoder-weights",
        str(dec),
        "--custom-weights",
        "--device",
        "cpu",
        "--quiet",
        "--content-size",
        "0",
        "--style-size",
        "0",
        "--ext",
        "png",
    ]
    assert infer_main([*base, "--style", str(styles[0]), "--grid", "alpha", "--output", str(tmp_path / "g")]) == 0
    w, h = Image.open(tmp_path / "g" / "c_alpha_grid_s0.png").size
    band = 18  # each cell's label above it
    assert (w, h) == (7 * (32 + 4) + 4, 24 + band + 8)  # content, style, 5 alphas
    label = np.asarray(Image.open(tmp_path / "g" / "c_alpha_grid_s0.png").convert("L"))[4 : 4 + band, 4 : 4 + 32]
    assert label.min() < 100 and label.max() > 200  # dark text on white
    assert infer_main([*base, "--style", *map(str, styles), "--grid", "blend", "--output", str(tmp_path / "b")]) == 0
    w, h = Image.open(tmp_path / "b" / "c_blend_grid_s0+s1+s2+s3.png").size
    assert (w, h) == (5 * (32 + 4) + 4, 5 * (24 + band + 4) + 4)
    assert infer_main([*base, "--style", *map(str, styles), "--grid", "styles", "--output", str(tmp_path / "t")]) == 0
    w, h = Image.open(tmp_path / "t" / "c_style_grid_s0+s1+s2+s3.png").size
    assert (w, h) == (4 * (32 + 4) + 4, 2 * (24 + band + 4) + 4)  # content + 4 styles, 4 columns
    out = tmp_path / "x"
    capsys.readouterr()  # (the result lines above)
    _bad(
        capsys,
        [*base, "--style", *map(str, styles[:3]), "--grid", "blend", "--output", str(out)],
        "--grid blend needs exactly 4 styles, got 3",
        out,
    )


def test_bilinear_weights_corners_and_sums():
    w = AF.bilinear_weights(5)
    torch.testing.assert_close(w.sum(-1), torch.ones(5, 5))
    assert w[0, 0].tolist() == [1, 0, 0, 0] and w[4, 4].tolist() == [0, 0, 0, 1]
    torch.testing.assert_close(w[2, 2], torch.full((4,), 0.25))


# ----------------------------------------------------------------------------- tiling
def test_tiled_equals_untiled_random_weights(st):
    x = torch.rand(3, 512, 512)
    s = torch.rand(3, 96, 96)
    full = st.stylize(x, s, content_size=0, style_size=0, tile=0)
    tiled = st.stylize(x, s, content_size=0, style_size=0, tile=256)
    assert (full - tiled).abs().max() < 1e-3


@pytest.mark.shared
def test_tiled_equals_untiled_real_weights(shared):
    st = Stylizer(genuine_relu3_net(shared), "cpu", "fp32")
    c, s = shared / "images/content/golden_gate.jpg", shared / "images/style/la_muse.jpg"
    full = st.stylize(c, s, content_size=512, tile=0)
    tiled = st.stylize(c, s, content_size=512, tile=256)
    assert full.shape == tiled.shape
    assert (full - tiled).abs().max() < 1e-3  # measured 1.3e-6


def test_tile_flag_validation(tmp_path, canonical_files, capsys):
    enc, dec = canonical_files
    c, s = make_image(tmp_path / "c.jpg", 136, 72, 1), make_image(tmp_path / "s.jpg", 32, 32, 2)
    out = tmp_path / "o"
    base = [
        "--content",
        str(c),
        "--style",
        str(s),
        "--encoder-weights",
        str(enc),
        "--decoder-weights",
        str(dec),
        "--custom-weights",
        "--device",
        "cpu",
        "--output",
        str(out),
    ]
    _bad(capsys, [*base, "--tile", "-1"], "--tile must be >= 0", out)
    _bad(capsys, [*base, "--tile", "16"], "--tile must be 0 (never tile) or at least 64", out)
    assert infer_main([*base, "--tile", "64", "--quiet", "--content-size", "0"]) == 0
    assert Image.open(out / "c_stylized_s.jpg").size == (136, 72)


# ----------------------------------------------------------------------------- video
@pytest.mark.shared
@pytest.mark.slow
def test_video_keeps_frame_count_fps_and_audio(shared, tmp_path, canonical_files, capsys):
    import av

    enc, dec = canonical_files
    src = shared / "images/video/cutBunny.mp4"
    dst = tmp_path / "out.mp4"
    code = infer_main(
        [
            "--content",
            str(src),
            "--style",
            str(shared / "images/style/mondrian.jpg"),
            "--output",
            str(dst),
            "--encoder-weights",
            str(enc),
            "--decoder-weights",
            str(dec),
            "--custom-weights",
            "--device",
            "cpu",
            "--quiet",
            "--content-size",
            "48",
            "--style-size",
            "64",
            "--temporal-smoothing",
            "0.9",
            "--batch-size",
            "16",
        ]
    )
    assert code == 0, capsys.readouterr().err
    with av.open(str(src)) as a, av.open(str(dst)) as b:
        va, vb = a.streams.video[0], b.streams.video[0]
        n = sum(1 for _ in b.decode(video=0))
        assert n == sum(1 for _ in a.decode(video=0)) == 240
        assert vb.average_rate == va.average_rate
        assert vb.codec_context.name == "h264"
        assert len(b.streams.audio) == len(a.streams.audio) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["out.mp4"]
    plain = tmp_path / "plain.txt"
    plain.write_text("x")  # the output gets the permissions a plain open() gives, not a temp file's 0600
    assert dst.stat().st_mode & 0o777 == plain.stat().st_mode & 0o777


def test_video_bad_flags(tmp_path, canonical_files, capsys):
    enc, dec = canonical_files
    v = tmp_path / "clip.mp4"
    v.write_bytes(b"not a video")
    s = make_image(tmp_path / "s.jpg", 32, 32, 2)
    out = tmp_path / "out"
    base = [
        "--style",
        str(s),
        "--encoder-weights",
        str(enc),
        "--decoder-weights",
        str(dec),
        "--custom-weights",
        "--device",
        "cpu",
        "--output",
        str(out / "o.mp4"),
    ]
    _bad(capsys, ["--content", str(v), *base], "clip.mp4: not a readable video", out)
    _bad(
        capsys,
        ["--content", str(v), *base, "--temporal-smoothing", "1.5"],
        "--temporal-smoothing must be in [0, 1)",
        out,
    )
    _bad(capsys, ["--content", str(v), *base, "--grid", "alpha"], "work on images, not video", out)
    _bad(
        capsys,
        ["--content", str(s), *base[:-2], "--output", str(out), "--temporal-smoothing", "0.5"],
        "video contents only",
        out,
    )
    assert not out.exists()


def test_flicker_helper():
    from adain.methods.video import flicker

    frames = [torch.zeros(3, 4, 4), torch.ones(3, 4, 4), torch.ones(3, 4, 4)]
    assert flicker(frames) == pytest.approx(0.5)


# ----------------------------------------------------------------------------- batches at scale
def _predict(args: list[str], cwd: Path) -> tuple[int, str]:
    import subprocess
    import sys

    from tests.helpers import REPO

    r = subprocess.run(
        [sys.executable, str(REPO / "infer.py"), *args], capture_output=True, text=True, cwd=cwd, timeout=300
    )
    return r.returncode, r.stderr


@pytest.mark.slow
def test_two_cpu_processes_split_a_directory_and_resume(tmp_path, canonical_files):
    import re

    enc, dec = canonical_files
    for i in range(7):
        make_image(tmp_path / "in" / f"img{i}.jpg", 40 + 8 * (i % 3), 32, i)
    s = make_image(tmp_path / "s.jpg", 32, 32, 99)
    args = [
        "--content",
        str(tmp_path / "in"),
        "--style",
        str(s),
        "--output",
        str(tmp_path / "out"),
        "--encoder-weights",
        str(enc),
        "--decoder-weights",
        str(dec),
        "--custom-weights",
        "--content-size",
        "0",
        "--style-size",
        "0",
        "--devices",
        "2",
        "--strategy",
        "ddp",
        "--accelerator",
        "cpu",
    ]
    code, err = _predict(args, tmp_path)
    assert code == 0, err[-2000:]
    counts = [int(n) for n in re.findall(r"wrote (\d+) image", err)]
    assert sorted(counts) == [3, 4]  # both ranks worked, 7 in all: no duplicates
    assert listing(tmp_path / "out") == [f"img{i}_stylized_s.jpg" for i in range(7)]
    (tmp_path / "out" / "img3_stylized_s.jpg").unlink()
    code, err = _predict(args, tmp_path)
    assert code == 0, err[-2000:]
    assert sum(int(n) for n in re.findall(r"wrote (\d+) image", err)) == 1  # only the missing one
    assert len(listing(tmp_path / "out")) == 7


def test_predict_path_single_process(tmp_path, canonical_files, capsys):
    enc, dec = canonical_files
    for i in range(3):
        make_image(tmp_path / "in" / f"img{i}.jpg", 40, 32, i)
    s = make_image(tmp_path / "s.jpg", 32, 32, 99)
    args = [
        "--content",
        str(tmp_path / "in"),
        "--style",
        str(s),
        "--output",
        str(tmp_path / "out"),
        "--encoder-weights",
        str(enc),
        "--decoder-weights",
        str(dec),
        "--custom-weights",
        "--content-size",
        "0",
        "--style-size",
        "0",
        "--devices",
        "1",
        "--accelerator",
        "cpu",
        "--quiet",
    ]
    assert infer_main(args) == 0
    assert len(listing(tmp_path / "out")) == 3
    capsys.readouterr()
    _bad(capsys, [*args, "--grid", "alpha"], "--devices handles plain and blended", tmp_path / "out")
