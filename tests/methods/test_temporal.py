"""Temporal consistency of video: the warping-error measure on clips with known motion, the
flow-guided step (steadier than per frame on a pan, reset on a scene cut), and the commands."""

from __future__ import annotations

import numpy as np
import pytest

from adain.errors import UsageError
from adain.methods.temporal import FlowConsistency, flow_between, reliable_mask, warp, warping_error
from tests.helpers import write_video


def _texture(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A smooth random texture (3, h, w) in [0, 1]: something optical flow can follow."""
    import cv2

    rng = np.random.default_rng(seed)
    noise = rng.random((h, w, 3)).astype(np.float32)
    return np.clip(cv2.GaussianBlur(noise, (0, 0), 2.0) * 3 - 1, 0, 1).transpose(2, 0, 1).copy()


def _pan(n: int = 6, step: int = 2, h: int = 72, w: int = 96, seed: int = 0) -> list[np.ndarray]:
    big = _texture(h, w + n * step, seed)
    return [np.ascontiguousarray(big[:, :, k * step : k * step + w]) for k in range(n)]


def test_flow_and_warp_recover_a_known_translation():
    a, b = _pan(2, step=3)
    back = flow_between(b, a)  # frame 1 -> frame 0: content moved left by 3, so it came from x + 3
    inner = back[8:-8, 8:-8]
    assert abs(float(np.median(inner[..., 0])) - 3.0) < 0.3 and abs(float(np.median(inner[..., 1]))) < 0.3
    moved = warp(a, back)
    assert np.abs(moved - b)[:, 8:-8, 8:-8].mean() < 0.02
    assert reliable_mask(back, flow_between(a, b))[8:-8, 8:-8].mean() > 0.9
    half = flow_between(b, a, "medium", scale=0.5)[8:-8, 8:-8]  # computed at half size, in full-size pixels
    assert half.shape == inner.shape and abs(float(np.median(half[..., 0])) - 3.0) < 0.4


def test_warping_error_is_near_zero_for_a_translation_and_large_for_flicker():
    clip = _pan()
    rng = np.random.default_rng(1)
    flicker = [np.clip(f + rng.normal(0, 0.08, f.shape).astype(np.float32), 0, 1) for f in clip]
    still = warping_error(clip)
    assert still < 1e-3
    assert warping_error(clip, flicker) > 10 * max(still, 1e-4)
    with pytest.raises(UsageError, match="at least two"):
        warping_error(clip[:1])
    with pytest.raises(UsageError, match="differ in length"):
        warping_error(clip, flicker[:-1])


def test_flow_consistency_steadies_a_flickering_pan():
    clip = _pan(8)
    rng = np.random.default_rng(2)
    stylized = [np.clip(f + rng.normal(0, 0.08, f.shape).astype(np.float32), 0, 1) for f in clip]
    step = FlowConsistency()
    out = [step(c, s) for c, s in zip(clip, stylized)]
    assert np.array_equal(out[0], stylized[0])  # the first frame is taken as it is
    assert warping_error(clip, out) < 0.3 * warping_error(clip, stylized)
    assert all(o.shape == s.shape and 0.0 <= o.min() and o.max() <= 1.0 for o, s in zip(out, stylized))
    off = FlowConsistency(0.0)
    assert all(np.array_equal(off(c, s), s) for c, s in zip(clip, stylized))


def test_a_scene_cut_resets_without_a_ghost_of_the_previous_shot():
    first, second = _pan(4, seed=0), _pan(4, seed=5)
    clip = first + second
    stylized = [np.clip(f * 0.8 + 0.1, 0, 1) for f in clip]
    step = FlowConsistency()
    out = [step(c, s) for c, s in zip(clip, stylized)]
    assert step.cuts == 1
    assert np.array_equal(out[4], stylized[4])  # the new shot starts from its own stylization


def test_bad_arguments_are_one_line_errors():
    with pytest.raises(UsageError, match=r"\[0, 1\)"):
        FlowConsistency(1.0)
    with pytest.raises(UsageError, match="preset"):
        FlowConsistency(preset="slow")
    step = FlowConsistency()
    a = _pan(1)[0]
    step(a, a)
    small = np.ascontiguousarray(a[:, :40, :40])
    assert np.array_equal(step(small, small * 0.5), small * 0.5)  # a new frame size starts afresh


@pytest.mark.slow
def test_flow_video_is_steadier_than_per_frame_and_evaluate_says_so(tmp_path, capsys):
    """Through the commands: adain-stylize --temporal off / flow on a synthetic pan, then
    adain-evaluate --video prints the warping errors (flow below per frame), and option mistakes
    are one line."""
    from adain.cli.evaluate import evaluate_main
    from adain.cli.stylize import infer_main
    from tests.helpers import make_image

    src = write_video(tmp_path / "pan.mp4", _pan(10, step=2, h=96, w=128))
    style = make_image(tmp_path / "style.png", 64, 64, 3)
    outs = {}
    for mode in ("off", "flow"):
        outs[mode] = tmp_path / f"{mode}.mp4"
        args = ["--content", str(src), "--style", str(style), "--temporal", mode, "--output", str(outs[mode])]
        assert infer_main([*args, "--model", "small16x", "--content-size", "96", "--quiet"]) == 0
    capsys.readouterr()
    assert evaluate_main(["--video", str(src), str(outs["off"]), str(outs["flow"]), "--video-size", "96"]) == 0
    rows = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("| ") and ".mp4" in ln]
    we = [float(r.split("|")[2]) for r in rows]
    assert len(we) == 3 and we[2] < 0.6 * we[1], rows  # flow well below per frame
    for bad, words in (
        (["--video", str(src)], "at least one stylized clip"),
        (["--video", str(src), str(tmp_path / "missing.mp4")], "missing.mp4: no such video"),
    ):
        assert evaluate_main(bad) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and words in err[0], err
    for bad, words in (
        (["--temporal-strength", "1.5"], "--temporal-strength must be in [0, 1)"),
        (["--temporal", "flow", "--temporal-smoothing", "0.5"], "contradicts --temporal flow"),
        (["--preserve-color", "coral"], "coral work on images"),
    ):
        args = ["--content", str(src), "--style", str(style), "--output", str(tmp_path / "x.mp4"), *bad]
        assert infer_main([*args, "--model", "small16x"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and words in err[0], err
    assert not (tmp_path / "x.mp4").exists()
    img = make_image(tmp_path / "photo.jpg", 40, 40, 1)
    assert (
        infer_main(
            ["--content", str(img), "--style", str(style), "--temporal", "flow", "--output", str(tmp_path / "p.jpg")]
        )
        == 2
    )
    assert "video contents only" in capsys.readouterr().err


def test_video_takes_a_mask_and_luminance_colours(tmp_path):
    from PIL import Image

    from adain.methods.video import VideoOptions, read_frames, stylize_video
    from adain.pipeline.core import Pipeline
    from tests.helpers import make_image

    src = write_video(tmp_path / "pan.mp4", _pan(4, step=2, h=48, w=64))
    s1, s2 = make_image(tmp_path / "s1.png", 40, 40, 1), make_image(tmp_path / "s2.png", 40, 40, 2)
    mask = tmp_path / "mask.png"
    Image.fromarray(((np.arange(64)[None, :] < 32) * 255).astype(np.uint8).repeat(48, 0)).save(mask)
    pipe = Pipeline.from_pretrained("small16x", backend="torch", precision="fp32", verbose=False)
    plain = stylize_video(pipe, src, [s1, s2], tmp_path / "a.mp4", VideoOptions(content_size=48), progress=False)
    masked = stylize_video(
        pipe, src, [s1, s2], tmp_path / "b.mp4", VideoOptions(content_size=48, masks=[mask]), progress=False
    )
    lum = stylize_video(
        pipe, src, s1, tmp_path / "c.mp4", VideoOptions(content_size=48, preserve_color="luminance"), progress=False
    )
    a, b, c = (list(read_frames(p)) for p in (plain, masked, lum))
    assert len(a) == len(b) == len(c) == 4
    assert np.abs(a[0] - b[0]).mean() > 0.01  # the mask changes the picture
    with pytest.raises(UsageError, match="luminance"):
        VideoOptions(preserve_color="coral")
    with pytest.raises(UsageError, match="temporal must be"):
        VideoOptions(temporal="magic")


def _solid(path, rgb):
    from PIL import Image

    Image.fromarray(np.full((40, 40, 3), rgb, np.uint8)).save(path)
    return path


def _half(h: int, w: int, left: bool) -> np.ndarray:
    """A label map: the left (or right) half white, as a (3, H, W) frame."""
    m = (np.arange(w)[None, :] < w // 2) if left else (np.arange(w)[None, :] >= w // 2)
    return np.repeat(np.repeat(m[None].astype(np.float32), h, 1), 3, 0)


@pytest.mark.parametrize("kind", ["folder", "video"])
def test_video_masks_per_frame_follow_the_frames(tmp_path, kind):
    """A label map per frame (a folder of PNGs or a mask video): the regions follow it frame by frame."""
    from PIL import Image

    from adain.methods.video import VideoOptions, read_frames, stylize_video
    from adain.pipeline.core import Pipeline

    h, w = 48, 64
    src = write_video(tmp_path / "pan.mp4", _pan(4, step=2, h=h, w=w))
    red, blue = _solid(tmp_path / "red.png", (230, 40, 30)), _solid(tmp_path / "blue.png", (30, 60, 230))
    maps = [_half(h, w, left=(i % 2 == 0)) for i in range(4)]  # white (style 2) swaps sides every frame
    if kind == "folder":
        d = tmp_path / "masks"
        d.mkdir()
        for i, m in enumerate(maps):
            Image.fromarray((m[0] * 255).astype(np.uint8)).save(d / f"{i:04d}.png")
        source = d
    else:
        source = write_video(tmp_path / "masks.mp4", maps)
    pipe = Pipeline.from_pretrained("small16x", backend="torch", precision="fp32", verbose=False)
    options = VideoOptions(content_size=h, masks=[source], temporal="off")
    out = stylize_video(pipe, src, [red, blue], tmp_path / "o.mp4", options, progress=False)
    frames = list(read_frames(out))
    assert len(frames) == 4
    for i, f in enumerate(frames):
        left, right = f[:, :, : w // 2 - 4], f[:, :, w // 2 + 4 :]
        blueness = lambda r: float(r[2].mean() - r[0].mean())  # noqa: E731
        blue_side_is_left = i % 2 == 0
        assert (blueness(left) > blueness(right)) == blue_side_is_left, i


def test_video_mask_frames_that_run_short_fail_before_writing(tmp_path, capsys):
    from PIL import Image

    from adain.cli.stylize import infer_main

    h, w = 48, 64
    src = write_video(tmp_path / "pan.mp4", _pan(4, step=2, h=h, w=w))
    red, blue = _solid(tmp_path / "red.png", (230, 40, 30)), _solid(tmp_path / "blue.png", (30, 60, 230))
    d = tmp_path / "masks"
    d.mkdir()
    for i in range(2):  # 2 mask frames for a 4-frame clip
        Image.fromarray((_half(h, w, True)[0] * 255).astype(np.uint8)).save(d / f"{i}.png")
    args = ["--content", str(src), "--style", str(red), str(blue), "--output", str(tmp_path / "o.mp4")]
    assert infer_main([*args, "--mask", str(d), "--model", "small16x"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "2 mask frames for a 4-frame video" in err[0], err
    assert not (tmp_path / "o.mp4").exists()
    still = tmp_path / "still.png"
    Image.fromarray((_half(h, w, True)[0] * 255).astype(np.uint8)).save(still)
    assert infer_main([*args, "--mask", str(d), str(still), "--model", "small16x"]) == 2
    assert "videos or folders of frames" in capsys.readouterr().err
    assert not (tmp_path / "o.mp4").exists()
