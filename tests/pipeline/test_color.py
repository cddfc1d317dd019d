"""The pipeline's NumPy colour preservation equals the torch ops' definitions."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from adain import functional as AF
from adain.errors import UsageError
from adain.pipeline.color import coral_np, luminance_transfer_np


def _images(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.uniform(size=(3, 12, 10)).astype(np.float32)
    b = (rng.uniform(size=(3, 9, 14)) * np.array([0.3, 0.8, 0.5])[:, None, None] + 0.1).astype(np.float32)
    return a, b


@pytest.mark.parametrize("seed", [0, 1])
def test_coral_matches_torch_and_moves_the_colour_statistics(seed):
    src, tgt = _images(seed)
    got = coral_np(src, tgt)
    np.testing.assert_allclose(got, AF.coral(torch.from_numpy(src), torch.from_numpy(tgt)).numpy(), atol=1e-4)
    flat = got.reshape(3, -1).astype(np.float64)
    np.testing.assert_allclose(flat.mean(1), tgt.reshape(3, -1).mean(1), atol=1e-5)
    np.testing.assert_allclose(np.cov(flat, bias=True), np.cov(tgt.reshape(3, -1), bias=True), atol=1e-4)


def test_luminance_transfer_matches_torch():
    a, _ = _images(2)
    b = np.random.default_rng(3).uniform(size=a.shape).astype(np.float32)
    got = luminance_transfer_np(a, b)
    ref = AF.luminance_transfer(torch.from_numpy(a), torch.from_numpy(b)).numpy()
    np.testing.assert_allclose(got, ref, atol=1e-5)
    np.testing.assert_allclose(luminance_transfer_np(a, a), a, atol=1e-5)  # its own chroma: unchanged


def test_bad_shapes_are_refused():
    with pytest.raises(UsageError, match="differ"):
        luminance_transfer_np(np.zeros((3, 4, 4)), np.zeros((3, 4, 5)))
    with pytest.raises(UsageError, match=r"\(3, H, W\)"):
        coral_np(np.zeros((4, 4, 4)), np.zeros((3, 4, 4)))
