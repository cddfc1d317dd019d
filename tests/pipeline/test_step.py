"""The step between the graphs (AdaIN target of a code) in NumPy equals the torch ops' definition."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from adain import functional as AF
from adain.ops.mixing import mix_alpha
from adain.pipeline.step import adain_target, resize_masks_np


def _stats(rng: np.random.Generator, k: int, c: int) -> list[tuple[np.ndarray, np.ndarray]]:
    return [
        (rng.normal(size=(1, c, 1, 1)).astype(np.float32), rng.uniform(0.5, 2, size=(1, c, 1, 1)).astype(np.float32))
        for _ in range(k)
    ]


def _t(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a))


@pytest.mark.parametrize("k,weights,alpha", [(1, None, 1.0), (2, [0.3, 0.7], 1.0), (3, None, 0.4)])
@pytest.mark.parametrize("given_content_stats", [False, True])
def test_blend_target_matches_the_torch_definition(k, weights, alpha, given_content_stats):
    rng = np.random.default_rng(k)
    code = rng.normal(1.0, 2.0, size=(2, 8, 5, 7)).astype(np.float32)
    stats = _stats(rng, k, 8)
    cs = (
        (rng.normal(size=(1, 8, 1, 1)).astype(np.float32), rng.uniform(1, 2, size=(1, 8, 1, 1)).astype(np.float32))
        if given_content_stats
        else None
    )
    got = adain_target(code, stats, weights, alpha, cs)
    ref = AF.blend_stats(
        _t(code),
        [(_t(m), _t(s)) for m, s in stats],
        weights,
        content_stats=None if cs is None else (_t(cs[0]), _t(cs[1])),
    )
    ref = mix_alpha(ref, _t(code), alpha).numpy()
    assert got.dtype == np.float32 and got.shape == code.shape
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("size", [(4, 4), (3, 5), (16, 12), (7, 9)])
def test_resize_masks_matches_torch(size):
    rng = np.random.default_rng(3)
    masks = rng.uniform(size=(1, 2, 8, 10)).astype(np.float32)
    got = resize_masks_np(masks, size)
    np.testing.assert_allclose(got, AF.resize_masks(_t(masks), size).numpy(), atol=1e-5)


@pytest.mark.parametrize("alpha", [1.0, 0.6])
def test_masked_target_matches_the_torch_definition(alpha):
    rng = np.random.default_rng(4)
    code = rng.normal(size=(1, 6, 6, 8)).astype(np.float32)
    stats = _stats(rng, 2, 6)
    masks = np.zeros((1, 2, 24, 32), np.float32)
    masks[:, 0, :, :16] = 1
    masks[:, 1, :, 12:] = 0.5  # overlapping and soft
    masks[:, :, :4] = 0  # and a band no mask covers
    got = adain_target(code, stats, alpha=alpha, masks=masks)
    tm = AF.resize_masks(_t(masks), (6, 8))
    ref = mix_alpha(AF.masked_adain(_t(code), [(_t(m), _t(s)) for m, s in stats], tm), _t(code), alpha).numpy()
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(got[:, :, 0], code[:, :, 0], rtol=1e-6, atol=1e-6)  # uncovered: the content code


def test_style_cache_serves_no_stale_statistics_for_a_same_size_same_mtime_file(tmp_path):
    """A style replaced by a different picture of the same byte size and modification time."""
    import os

    from adain.pipeline.caches import file_key
    from tests.helpers import make_image

    a = make_image(tmp_path / "a.png", 32, 32, seed=1)
    b = make_image(tmp_path / "b.png", 32, 32, seed=2)
    data_a, data_b = a.read_bytes(), b.read_bytes()
    style = tmp_path / "style.png"
    style.write_bytes(data_a)
    os.utime(style, ns=(1_000_000_000, 1_000_000_000))
    key_a = file_key(style, 512, False)
    style.write_bytes(data_b[: len(data_a)] if len(data_b) >= len(data_a) else data_b.ljust(len(data_a), b"\0"))
    os.utime(style, ns=(1_000_000_000, 1_000_000_000))
    assert style.stat().st_size == len(data_a)
    assert file_key(style, 512, False) != key_a
    style.write_bytes(data_a)
    assert file_key(style, 512, False) == key_a  # the same content: the same entry, whatever the time
    assert file_key(tmp_path / "missing.png", 512, False) is None


def test_batches_are_bounded_by_the_memory_budget_too():
    """``--batch-size 64`` does not put 64 photos through the network at once when that is more
    pixels than one untiled image may have: batches are cut to the budget."""
    from adain.pipeline.core import Pipeline

    class Recorder:
        backend, precision, device, downsampling, cache_dir, label = "numpy", "fp32", "cpu", 8, None, "fake"
        bytes_per_pixel, tile_overhead = 1000, 1.25

        def __init__(self) -> None:
            self.batches: list[int] = []

        def style_stats(self, images):
            return np.zeros((len(images), 4, 1, 1), np.float32), np.ones((len(images), 4, 1, 1), np.float32)

        def stylize(self, images, mean, std, alpha):
            self.batches.append(images.shape[0])
            return images

        def warm_up(self) -> None:
            pass

    rt = Recorder()
    pipe = Pipeline(rt, max_untiled_pixels=3 * 64 * 64)
    photos = [np.random.default_rng(i).uniform(size=(3, 64, 64)).astype(np.float32) for i in range(10)]
    stats = (np.zeros((1, 4, 1, 1), np.float32), np.ones((1, 4, 1, 1), np.float32))
    outs = pipe.stylize_batch(photos, stats, batch_size=64, content_size=0)
    assert rt.batches == [3, 3, 3, 1] and len(outs) == 10
    rt.batches.clear()
    pipe.stylize_batch(photos, stats, batch_size=2, content_size=0)
    assert rt.batches == [2] * 5  # a smaller --batch-size still rules


def test_file_keys_hash_a_file_once_until_it_is_rewritten(tmp_path, monkeypatch):
    """The live preview asks for the same file's key on every slider move: hashed once; any
    rewrite (even back to the same size and modification time) is hashed again."""
    import os

    from adain.pipeline import caches
    from tests.helpers import make_image

    calls = []
    real = caches.sha256_file
    monkeypatch.setattr(caches, "sha256_file", lambda p: calls.append(p) or real(p))
    style = make_image(tmp_path / "s.png", 32, 32, seed=1)
    keys = caches.FileKeys()
    first = keys.key(style, 512, False)
    assert keys.key(style, 512, False) == first and keys.key(str(style), 512, False) == first
    assert len(calls) == 1
    st = style.stat()
    style.write_bytes(make_image(tmp_path / "t.png", 32, 32, seed=2).read_bytes())
    os.utime(style, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert keys.key(style, 512, False) != first and len(calls) == 2
    assert keys.key(tmp_path / "missing.png", 512, False) is None
