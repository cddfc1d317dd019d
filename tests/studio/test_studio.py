"""The studio's handlers without a server: the live preview reuses the content code and style
statistics, every option reaches the pipeline, bad uploads become a readable message."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from adain.errors import AdainError, ImageError, UsageError
from adain.pipeline.core import Pipeline
from adain.runtime.torch_backend import TorchRuntime
from adain.studio.engine import StudioEngine, painted_mask
from tests.helpers import make_image


@pytest.fixture(scope="module")
def net():
    """The shipped small16x model (real weights, offline): outputs depend visibly on every option."""
    from adain.weights.loading import load_pretrained

    return load_pretrained("small16x", download=False).eval()


@pytest.fixture
def engine(net, tmp_path) -> StudioEngine:
    pipe = Pipeline(TorchRuntime(net, "cpu", "fp32"))
    return StudioEngine(pipe, preview_size=48, style_size=40, output_dir=tmp_path / "renders")


@pytest.fixture
def files(tmp_path) -> dict[str, Path]:
    return {
        "content": make_image(tmp_path / "photo.jpg", 96, 64, 1),
        "s1": make_image(tmp_path / "s1.png", 40, 52, 2),
        "s2": make_image(tmp_path / "s2.png", 44, 40, 3),
        "s3": make_image(tmp_path / "s3.png", 50, 40, 4),
        "s4": make_image(tmp_path / "s4.png", 40, 40, 5),
    }


class Counter:
    """Counts calls to a runtime's encoder-running methods."""

    def __init__(self, runtime, monkeypatch) -> None:
        self.calls = {"encode": 0, "style_stats": 0, "stylize": 0, "decode": 0}
        for name in self.calls:
            orig = getattr(runtime, name)

            def wrapped(*a, _orig=orig, _name=name, **k):
                self.calls[_name] += 1
                return _orig(*a, **k)

            monkeypatch.setattr(runtime, name, wrapped)


def test_slider_moves_never_encode_again(engine, files, monkeypatch):
    """Content encoded once and each style's statistics computed once per upload; a move of alpha
    or a weight only decodes (and the picture changes with it)."""
    c = Counter(engine.pipeline.runtime, monkeypatch)
    styles = [str(files["s1"]), str(files["s2"])]
    first = engine.preview(str(files["content"]), styles, [1.0, 1.0], alpha=1.0)
    assert c.calls["encode"] == 1 and c.calls["style_stats"] == 2
    moved = engine.preview(str(files["content"]), styles, [1.0, 1.0], alpha=0.4)
    reweighted = engine.preview(str(files["content"]), styles, [1.0, 0.2], alpha=0.4)
    for color in ("luminance", "none"):
        engine.preview(str(files["content"]), styles, [1.0, 0.2], alpha=0.7, color=color)
    assert c.calls["encode"] == 1 and c.calls["style_stats"] == 2 and c.calls["stylize"] == 0
    assert c.calls["decode"] == 5
    assert np.abs(first.astype(int) - moved).mean() > 1 and np.abs(moved.astype(int) - reweighted).mean() > 0.5
    # coral recolours the styles to this content: computed once, then reused on every move
    engine.preview(str(files["content"]), styles, alpha=0.5, color="coral")
    engine.preview(str(files["content"]), styles, alpha=0.9, color="coral")
    assert c.calls["encode"] == 1 and c.calls["style_stats"] == 4


def test_preview_is_the_pipeline_result_at_preview_size(engine, files):
    """The preview is Pipeline.stylize at the preview's size (same maths as the CLI), longer side ≤ 48."""
    out = engine.preview(str(files["content"]), [str(files["s1"])], alpha=0.6)
    assert out.shape == (32, 48, 3) and out.dtype == np.uint8
    ref = engine.pipeline.stylize(str(files["content"]), str(files["s1"]), alpha=0.6, content_size=32, style_size=40)
    assert np.abs(out.astype(float) - ref.transpose(1, 2, 0) * 255).max() <= 1.0


def test_blend_colour_and_mask_options_reach_the_pipeline(engine, files):
    c, s1, s2 = str(files["content"]), str(files["s1"]), str(files["s2"])
    only1 = engine.preview(c, [s1], alpha=1.0)
    weighted = engine.preview(c, [s1, s2], [1.0, 0.0], alpha=1.0)
    assert np.abs(only1.astype(int) - weighted).max() <= 1  # weight 0 = that style is off
    blend = engine.preview(c, [s1, s2], [0.5, 0.5], alpha=1.0)
    ref = engine.pipeline.stylize(c, [s1, s2], weights=[0.5, 0.5], content_size=32, style_size=40)
    assert np.abs(blend.astype(float) - ref.transpose(1, 2, 0) * 255).max() <= 1.0
    for color in ("coral", "luminance"):
        got = engine.preview(c, [s1], alpha=1.0, color=color)
        ref = engine.pipeline.stylize(c, s1, content_size=32, style_size=40, preserve_color=color)
        assert np.abs(got.astype(float) - ref.transpose(1, 2, 0) * 255).max() <= 1.0
        assert np.abs(got.astype(int) - only1).mean() > 1
    # painted mask: left half gets style 1, right half style 2
    mask = np.zeros((64, 96), np.float32)
    mask[:, :48] = 1.0
    masked = engine.preview(c, [s1, s2], alpha=1.0, mask=mask)
    ref = engine.pipeline.stylize(c, [s1, s2], masks=[mask, 1 - mask], content_size=32, style_size=40)
    assert np.abs(masked.astype(float) - ref.transpose(1, 2, 0) * 255).max() <= 1.0
    only2 = engine.preview(c, [s2], alpha=1.0)
    assert (
        np.abs(masked[:, :20].astype(int) - only1[:, :20]).mean()
        < np.abs(masked[:, :20].astype(int) - only2[:, :20]).mean()
    )
    assert (
        np.abs(masked[:, -20:].astype(int) - only2[:, -20:]).mean()
        < np.abs(masked[:, -20:].astype(int) - only1[:, -20:]).mean()
    )


def test_render_is_the_cli_path_and_grids(engine, files, tmp_path):
    c, s1 = str(files["content"]), str(files["s1"])
    path = engine.render(c, [s1], alpha=0.8, size=0)
    steps = []
    again = engine.render(c, [s1], alpha=0.8, size=0, progress=lambda f, what: steps.append(f))
    assert path != again and path.parent == tmp_path / "renders" and path.name.startswith("photo_stylized_s1_")
    assert steps[0] == 0.0 and steps[-1] == 1.0
    got = np.asarray(Image.open(path))
    assert got.shape == (64, 96, 3)  # size 0: the upload's own size
    ref = engine.pipeline.stylize(c, s1, alpha=0.8, content_size=0, style_size=40)
    assert np.abs(got.astype(float) - ref.transpose(1, 2, 0) * 255).max() <= 1.0
    assert Image.open(engine.render(c, [s1], size=32)).size == (48, 32)
    api = np.asarray(Image.open(engine.api_stylize(c, s1, 0.8)))
    assert api.shape == (512, 768, 3)  # the API renders at 512 px, like adain-stylize
    sweep = Image.open(engine.alpha_grid(c, [s1], size=32))
    assert sweep.size[0] > 6 * 48 and sweep.size[1] < 2 * 32 + 10
    grid = Image.open(engine.blend_grid(c, [str(files[k]) for k in ("s1", "s2", "s3", "s4")], size=32))
    assert grid.size[0] > 5 * 48 and grid.size[1] > 5 * 32
    with pytest.raises(UsageError, match="exactly 4 styles"):
        engine.blend_grid(c, [s1, None, str(files["s2"])], size=32)


def test_bad_uploads_give_a_readable_message(engine, files, tmp_path):
    c, s1, s2 = str(files["content"]), str(files["s1"]), str(files["s2"])
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    truncated = tmp_path / "cut.png"
    truncated.write_bytes(files["s1"].read_bytes()[:200])
    for bad in (text, truncated):
        with pytest.raises(ImageError, match=bad.name):
            engine.preview(str(bad), [s1])
        with pytest.raises(ImageError, match=bad.name):
            engine.render(c, [str(bad)])
    with pytest.raises(UsageError, match="content"):
        engine.preview(None, [s1])
    with pytest.raises(UsageError, match="style"):
        engine.preview(c, [None, None])
    with pytest.raises(UsageError, match="weights"):
        engine.preview(c, [s1, s2], [0.0, 0.0])
    with pytest.raises(UsageError, match="exactly two styles"):
        engine.preview(c, [s1], mask=np.ones((64, 96), np.float32))
    with pytest.raises(ImageError, match="mask is 50x50 but the content is 96x64"):
        engine.preview(c, [s1, s2], mask=np.ones((50, 50), np.float32))
    with pytest.raises(UsageError, match="colour"):
        engine.preview(c, [s1], color="sepia")
    with pytest.raises(UsageError, match="output size"):
        engine.render(c, [s1], size=10**6)
    small = StudioEngine(Pipeline(engine.pipeline.runtime, max_pixels=1000), 48, 40, tmp_path / "r2")
    with pytest.raises(ImageError, match="photo.jpg"):
        small.render(c, [s1])


def test_page_handlers_turn_errors_into_messages(engine, files):
    gr = pytest.importorskip("gradio")
    from adain.studio.page import _friendly

    @_friendly
    def handler(kind):
        if kind == "adain":
            engine.preview(None, [str(files["s1"])])
        raise RuntimeError("boom")

    with pytest.raises(gr.Error, match="upload a content image first"):
        handler("adain")
    with pytest.raises(gr.Error, match="internal error \\(RuntimeError\\): boom"):
        handler("other")


def test_painted_mask_reads_the_editor_layers():
    layer = np.zeros((4, 6, 4), np.uint8)
    layer[1:3, 2:5, 3] = 255
    m = painted_mask({"background": None, "layers": [layer], "composite": None})
    assert m.shape == (4, 6) and m.sum() == 6 and m.max() == 1.0
    assert painted_mask({"background": None, "layers": [np.zeros((4, 6, 4), np.uint8)], "composite": None}) is None
    assert painted_mask(None) is None


def test_engine_errors_are_adain_errors():
    assert issubclass(ImageError, AdainError) and issubclass(UsageError, AdainError)


def test_renders_stay_within_the_studios_own_bound(net, tmp_path, files):
    """A huge upload rendered at "original" is rendered at the largest size within the bound, and
    the engine says so (the page shows it as a warning); sizes within the bound are untouched."""
    big = make_image(tmp_path / "big.png", 400, 300, 7)
    engine = StudioEngine(
        Pipeline(TorchRuntime(net, "cpu", "fp32")), 48, 40, tmp_path / "r", max_render_pixels=120 * 90
    )
    size, note = engine.render_size(str(big), 0)
    assert size == 90 and "400x300" in note and "90 px" in note
    assert engine.render_size(str(big), 64) == (64, None)
    out = Image.open(engine.render(str(big), [str(files["s1"])], size=0))
    assert out.size == (120, 90)
    with pytest.raises(UsageError, match=">= 4096"):
        StudioEngine(engine.pipeline, max_render_pixels=10)
    # a grid shares the bound among its pictures (a 5x5 blend grid: 1/25 of it each)
    size, note = engine.render_size(str(big), 0, cells=25)
    assert size == 18 and "whole grid of 25" in note
    grid = Image.open(engine.alpha_grid(str(big), [str(files["s1"])], size=0))
    assert grid.size[0] * grid.size[1] <= 2 * 120 * 90  # the cells, their labels and padding


def test_numbers_sent_as_strings_are_accepted_and_others_refused_in_one_line():
    """API clients send the size menu's values as strings ("512"); a non-number alpha is one line."""
    import gradio as gr

    from adain.studio.page import _number

    size = _number(gr.Dropdown([("original", 0), ("512 px", 512)], value=512), "output size", integer=True)
    assert size.preprocess("512") == 512 and size.preprocess(512) == 512
    alpha = _number(gr.Slider(0, 1, value=1.0, step=0.01), "alpha")
    assert alpha.preprocess("0.25") == 0.25
    for bad, words in (("abc", "alpha must be a number, got 'abc'"), (3.0, "alpha:")):
        with pytest.raises(gr.Error) as e:
            alpha.preprocess(bad)
        assert words in e.value.message and "\n" not in e.value.message


def test_live_webcam_frames_are_stylized_consistently_with_a_frame_rate(engine, files):
    from adain.studio.engine import LiveSession

    rng = np.random.default_rng(0)
    base = (rng.random((60, 140, 3)) * 255).astype(np.uint8)
    session = None
    outs = []
    for k in range(4):  # a pan, as a webcam would send it: (H, W, 3) uint8
        out, session = engine.live(base[:, 2 * k : 2 * k + 80], [str(files["s1"])], [1.0], 0.8, "none", session)
        outs.append(out)
    assert isinstance(session, LiveSession) and session.fps > 0
    assert outs[0].shape == (engine.live_size, round(engine.live_size * 80 / 60), 3) and outs[0].dtype == np.uint8
    assert engine.live(None, [str(files["s1"])], session=session)[0] is None  # no frame yet
    out, _ = engine.live(base[:, :80], [str(files["s1"])], color="coral")  # coral is too slow live: plain
    assert out.shape == outs[0].shape
    with pytest.raises(UsageError, match="style"):
        engine.live(base[:, :80], [None])
    with pytest.raises(ImageError, match="webcam frame"):
        engine.live(np.zeros((10, 10), np.uint8), [str(files["s1"])])


@pytest.mark.slow
def test_studio_switches_to_int8_in_the_background_where_it_is_faster(tmp_path, monkeypatch):
    from adain.pipeline.core import Pipeline
    from adain.studio.engine import StudioEngine

    monkeypatch.setenv("ADAIN_COMPILED_DIR", str(tmp_path / "compiled"))
    c, s = make_image(tmp_path / "c.png", 64, 48, 1), make_image(tmp_path / "s.png", 48, 48, 2)
    monkeypatch.setenv("ADAIN_CPU_FLAGS", "avx2 avx512_bf16")  # bf16 is fast here: nothing to gain
    pipe = Pipeline.from_pretrained("small16x", backend="openvino", precision="auto", verbose=False)
    assert StudioEngine(pipe, output_dir=tmp_path / "o1").upgrade_to_int8() is None
    monkeypatch.setenv("ADAIN_CPU_FLAGS", "avx2")  # an AVX2 machine: fp32 first, int8 once it passes
    pipe = Pipeline.from_pretrained("small16x", backend="openvino", precision="auto", verbose=False)
    engine = StudioEngine(pipe, output_dir=tmp_path / "o2")
    assert engine.pipeline.runtime.precision == "fp32"
    thread = engine.upgrade_to_int8()
    assert thread is not None
    engine.preview(str(c), [str(s)], alpha=0.5)  # serving meanwhile
    thread.join(timeout=300)
    assert engine.pipeline.runtime.precision == "int8"
    assert engine.preview(str(c), [str(s)], alpha=0.5).shape[-1] == 3
    again = Pipeline.from_pretrained("small16x", backend="openvino", precision="auto", verbose=False)
    assert again.runtime.precision == "int8"  # the verdict is cached: auto picks it from now on


def test_a_failed_int8_conversion_is_one_logged_warning(tmp_path, monkeypatch, caplog):
    pytest.importorskip("nncf")
    from adain.pipeline.core import Pipeline
    from adain.runtime.graph_backend import GraphRuntime
    from adain.studio.engine import StudioEngine

    monkeypatch.setenv("ADAIN_COMPILED_DIR", str(tmp_path / "compiled"))
    monkeypatch.setenv("ADAIN_CPU_FLAGS", "avx2")  # int8 would be the fast precision here
    pipe = Pipeline.from_pretrained("small16x", backend="openvino", precision="fp32", verbose=False)
    engine = StudioEngine(pipe, output_dir=tmp_path / "o")

    def broken(self, *args, **kwargs):
        raise RuntimeError("no space for the int8 graphs")

    monkeypatch.setattr(GraphRuntime, "__init__", broken)
    with caplog.at_level("WARNING", logger="adain"):
        thread = engine.upgrade_to_int8()
        assert thread is not None
        thread.join(timeout=60)
    assert engine.pipeline.runtime.precision == "fp32"  # still serving in float
    assert [r.getMessage() for r in caplog.records] == [
        "int8 conversion failed (no space for the int8 graphs); staying fp32"
    ]


def test_image_inputs_refuse_urls_before_any_download(engine, files, monkeypatch):
    """``{"path": "https://…"}`` through the API: refused before Gradio's preprocessing would fetch
    it on the server (its own guard only blocks private addresses); local files still move."""
    gr = pytest.importorskip("gradio")
    import asyncio

    from adain.studio.page import NO_URLS, build_app

    monkeypatch.setenv("GRADIO_ANALYTICS_ENABLED", "False")
    demo = build_app(engine, None, "model line")
    inputs = [b for b in demo.blocks.values() if isinstance(b, (gr.Image, gr.ImageEditor)) and b.elem_id != "preview"]
    ids = {b.elem_id for b in inputs}
    assert {"content", "style", "style2", "mask"} <= ids
    for block in inputs:
        if block.elem_id in ("result", "grid", "live"):
            continue
        for url in ("https://example.com/x.jpg", "http://127.0.0.1:1/x.png", "ftp://host/x.png"):
            with pytest.raises(gr.Error, match=NO_URLS):
                block.move_resource_to_block_cache(url)
            with pytest.raises(gr.Error, match=NO_URLS):
                asyncio.run(block.async_move_resource_to_block_cache(url))
    moved = next(b for b in inputs if b.elem_id == "content").move_resource_to_block_cache(str(files["content"]))
    assert Path(moved).read_bytes() == files["content"].read_bytes()


def test_a_huge_painted_mask_is_refused_from_its_headers(engine, tmp_path, monkeypatch):
    """Four 13000² editor layers: refused before Gradio decodes them (by the files' headers)."""
    gr = pytest.importorskip("gradio")
    from gradio.components.image_editor import EditorData
    from gradio.data_classes import FileData

    from adain.studio.page import build_app

    monkeypatch.setenv("GRADIO_ANALYTICS_ENABLED", "False")
    demo = build_app(engine, None, "model line")
    (mask,) = [b for b in demo.blocks.values() if isinstance(b, gr.ImageEditor)]
    layer = tmp_path / "layer.png"
    Image.new("1", (13000, 13000)).save(layer)  # small file, 169 MP
    decoded = []
    monkeypatch.setattr(mask, "convert_and_format_image", lambda *a, **k: decoded.append(a) or None)
    payload = EditorData(background=None, layers=[FileData(path=str(layer))] * 4, composite=None)
    with pytest.raises(gr.Error, match="MP in all, above the studio's"):
        mask.preprocess(payload)
    assert decoded == []  # nothing was decoded
    small = make_image(tmp_path / "small.png", 40, 30, 1)
    mask.preprocess(EditorData(background=FileData(path=str(small)), layers=[], composite=None))
    assert decoded  # within the bound: Gradio's preprocessing runs as before


def test_stroke_size_reaches_preview_and_render(engine, files):
    """The stroke-size slider: the preview and the render are the pipeline's stroke-scaled result;
    a value out of range or not a number is one message."""
    c, s1 = str(files["content"]), str(files["s1"])
    size = engine.preview_shape(c)
    want = engine.pipeline.stylize(c, s1, content_size=size, style_size=40, stroke_scale=2.0)
    got = engine.preview(c, [s1], stroke=2.0)
    assert got.shape[:2] == want.shape[1:]
    assert np.abs(got.astype(np.float32) / 255 - want.transpose(1, 2, 0)).max() < 1 / 255 + 1e-6
    assert np.abs(got.astype(np.float32) - engine.preview(c, [s1]).astype(np.float32)).mean() > 1.0  # it changes
    path = engine.render(c, [s1], size=0, stroke=2.0)
    ref = engine.pipeline.stylize(c, s1, content_size=0, style_size=40, stroke_scale=2.0)
    assert np.abs(np.asarray(Image.open(path), np.float32) / 255 - ref.transpose(1, 2, 0)).max() < 1 / 255 + 1e-6
    for bad in (0.1, 20, "big", float("nan")):
        with pytest.raises(UsageError, match="stroke"):
            engine.preview(c, [s1], stroke=bad)
