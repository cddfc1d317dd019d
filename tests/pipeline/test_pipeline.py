"""The pipeline: tiles equal the untiled result, one encoder pass per content for sweeps, padding,
max_pixels for every input kind, style statistics persisting across runs."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from adain import AdaINNet
from adain.errors import AdainError
from adain.pipeline.core import Pipeline
from adain.pipeline.step import pad_to_multiple
from adain.runtime.torch_backend import TorchRuntime
from adain.weights.source import ModelSource
from tests.helpers import make_image, psnr, small_net

GRAPH_BACKENDS = ["openvino", "onnxruntime"]


@pytest.fixture(scope="module")
def net() -> AdaINNet:
    return small_net()


@pytest.fixture
def pair(tmp_path) -> tuple[Path, Path]:
    return make_image(tmp_path / "c.jpg", 70, 45, 1), make_image(tmp_path / "s.png", 40, 52, 2)


def test_tiles_equal_the_untiled_result(net):
    pipe = Pipeline(TorchRuntime(net, "cpu", "fp32"))
    x = np.random.default_rng(0).random((3, 200, 260), dtype=np.float32)
    whole = pipe.stylize(x, x, content_size=0, style_size=0, tile=0)
    tiled = pipe.stylize(x, x, content_size=0, style_size=0, tile=64)
    assert psnr(torch.from_numpy(whole), torch.from_numpy(tiled)) > 60


def test_alpha_sweep_encodes_the_content_once(net, pair, monkeypatch):
    c, s = pair
    pipe = Pipeline(TorchRuntime(net, "cpu", "fp32"))
    calls = {"encode": 0, "decode": 0}
    for name in calls:
        orig = getattr(pipe.runtime, name)
        monkeypatch.setattr(
            pipe.runtime, name, lambda x, _o=orig, _n=name: calls.__setitem__(_n, calls[_n] + 1) or _o(x)
        )
    from adain.methods.grids import alpha_sweep

    alpha_sweep(pipe, c, s, content_size=0, style_size=0)
    assert calls == {"encode": 1, "decode": 5}
    # each cell is what a single stylization at that alpha gives
    one = pipe.stylize(c, s, alpha=0.25, content_size=0, style_size=0)
    many = pipe.run(pipe.load(c), [pipe.style_stats(s, 0)], variants=[(None, 0.0), (None, 0.25)])
    np.testing.assert_allclose(many[1], one, atol=1e-5)


def test_pad_to_multiple_round_trips():
    x = np.random.default_rng(0).random((1, 3, 37, 45), dtype=np.float32)
    p = pad_to_multiple(x, 8)
    assert p.shape[-2:] == (40, 48)
    np.testing.assert_array_equal(p[..., :37, :45], x)
    tiny = np.random.default_rng(1).random((1, 3, 3, 5), dtype=np.float32)
    # at least 2x the stride (a 2x2 code), replicated where too small to reflect
    assert pad_to_multiple(tiny, 8).shape[-2:] == (16, 16)
    np.testing.assert_array_equal(pad_to_multiple(tiny, 8)[..., 3:, :5], np.repeat(tiny[..., -1:, :], 13, axis=2))
    assert pad_to_multiple(np.zeros((1, 3, 16, 24), np.float32), 8).shape[-2:] == (16, 24)
    assert pad_to_multiple(np.zeros((1, 3, 8, 24), np.float32), 8).shape[-2:] == (16, 24)


def test_pil_and_array_inputs_obey_max_pixels(net):
    pipe = Pipeline(TorchRuntime(net, "cpu", "fp32"), max_pixels=100)
    with pytest.raises(AdainError, match="above the limit"):
        pipe.load(Image.new("RGB", (20, 20)))
    with pytest.raises(AdainError, match="above the limit"):
        pipe.load(np.zeros((3, 20, 20), np.float32))


def test_style_statistics_persist_across_runs_on_graph_backends(tmp_path, net, pair, monkeypatch):
    """The second process-like pipeline of the same model reuses the style's statistics from disk;
    a changed style file is encoded again."""
    _, s = pair
    first = Pipeline.from_source(ModelSource.from_net(net), backend="onnxruntime", verbose=False)
    a = first.style_stats(s, size=0)
    second = Pipeline.from_source(ModelSource.from_net(net), backend="onnxruntime", verbose=False)
    monkeypatch.setattr(second.runtime, "style_stats", lambda x: pytest.fail("style encoded again"))
    b = second.style_stats(s, size=0)
    np.testing.assert_array_equal(a[0], b[0])
    make_image(s, 40, 52, 5)  # the file changes: its statistics must be recomputed
    os.utime(s, ns=(1, 1))
    monkeypatch.undo()
    c = second.style_stats(s, size=0)
    assert not np.allclose(a[0], c[0])
    torch_pipe = Pipeline(TorchRuntime(net, "cpu", "fp32"))
    assert torch_pipe.runtime.cache_dir is None  # a network in memory may change: never cached on disk


# ----------------------------------------------------------------------------- one memory model
def test_activation_estimate_and_the_automatic_tiles_follow_the_model():
    """Bytes per pixel come from the architecture's widths; the VGG-19 architecture (4x the
    channels) tiles above ~1 MP, small16x above ~4 MP; tiles plus margins fit the budget."""
    from adain.nets.names import ENCODER_WIDTHS, activation_bytes_per_pixel, model_bytes_per_pixel
    from adain.pipeline.core import NETWORK_BUDGET
    from tests.helpers import canonical_net

    assert activation_bytes_per_pixel([16, 32, 64, 128]) == 24 + 8 * (16 + 8 + 4 + 2)
    assert model_bytes_per_pixel("vgg19_small16x", [32, 64, 64, 128]) > model_bytes_per_pixel("vgg19_small16x")
    assert model_bytes_per_pixel("vgg19_normalised") == activation_bytes_per_pixel(ENCODER_WIDTHS["vgg19_normalised"])
    small = Pipeline(TorchRuntime(small_net(), "cpu", "fp32"))
    vgg = Pipeline(TorchRuntime(canonical_net(), "cpu", "fp32"))
    assert small.runtime.bytes_per_pixel == model_bytes_per_pixel("vgg19_small16x")
    assert 3.5e6 < small.max_untiled_pixels < 4.5e6 and 0.9e6 < vgg.max_untiled_pixels < 1.3e6
    for p in (small, vgg):
        ext = (p.default_tile + 2 * p.tile_margin) ** 2
        assert ext * p.runtime.bytes_per_pixel <= NETWORK_BUDGET["cpu"] and p.default_tile % 64 == 0
    assert Pipeline(TorchRuntime(small_net(), "cpu", "fp32"), tile=512).default_tile == 512


def test_graph_runtimes_get_smaller_tiles_for_their_per_shape_buffers(tmp_path):
    from adain.runtime.graph_backend import GraphRuntime

    src = ModelSource.from_net(small_net(), "small")
    graph = Pipeline(GraphRuntime(src, "openvino", "fp32", announce=False))
    eager = Pipeline(TorchRuntime(small_net(), "cpu", "fp32"))
    assert graph.max_untiled_pixels == eager.max_untiled_pixels  # one shape: the same threshold
    assert graph.default_tile < eager.default_tile
