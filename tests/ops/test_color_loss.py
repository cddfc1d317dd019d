import math

import pytest
import torch

from adain.errors import UsageError
from adain.ops.losses import color_directions, sliced_wasserstein


def test_directions_are_unit_fixed_and_span_the_axes():
    d = color_directions(16)
    assert d.shape == (16, 3)
    torch.testing.assert_close(d.norm(dim=1), torch.ones(16))
    torch.testing.assert_close(d, color_directions(16))  # deterministic: resume stays exact
    torch.testing.assert_close(d[:3], torch.eye(3))  # the three channels themselves come first


def test_zero_for_the_same_pixels_in_another_order():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(2, 3, 8, 8, generator=g)
    perm = torch.randperm(64, generator=g)
    y = x.flatten(2)[:, :, perm].reshape(2, 3, 8, 8)
    assert float(sliced_wasserstein(x, y, color_directions(8))) < 1e-12


def test_matches_the_one_dimensional_definition():
    # one direction (the red axis), two pixels each: sorted values (0.1, 0.5) vs (0.2, 0.9)
    x = torch.tensor([0.5, 0.1]).reshape(1, 1, 1, 2).expand(1, 3, 1, 2).contiguous()
    y = torch.tensor([0.9, 0.2]).reshape(1, 1, 1, 2).expand(1, 3, 1, 2).contiguous()
    d = torch.tensor([[1.0, 0.0, 0.0]])
    expect = ((0.1 - 0.2) ** 2 + (0.5 - 0.9) ** 2) / 2
    assert math.isclose(float(sliced_wasserstein(x, y, d)), expect, rel_tol=1e-6)


def test_grows_with_a_colour_shift_and_has_gradients():
    g = torch.Generator().manual_seed(1)
    y = torch.rand(1, 3, 16, 16, generator=g)
    near = (y + 0.05).requires_grad_()
    far = y + 0.3
    d = color_directions(8)
    loss = sliced_wasserstein(near, y, d)
    assert 0 < float(loss) < float(sliced_wasserstein(far, y, d))
    loss.backward()
    assert near.grad is not None and near.grad.abs().sum() > 0


def test_different_pixel_counts_compare_quantiles():
    g = torch.Generator().manual_seed(2)
    y = torch.rand(1, 3, 32, 32, generator=g)
    small = y[:, :, ::2, ::2]  # the same distribution, roughly, on a quarter of the pixels
    shifted = small + 0.2
    d = color_directions(8)
    assert float(sliced_wasserstein(small, y, d)) < float(sliced_wasserstein(shifted, y, d)) / 5


def test_one_target_serves_the_batch():
    g = torch.Generator().manual_seed(3)
    x, y = torch.rand(3, 3, 8, 8, generator=g), torch.rand(1, 3, 8, 8, generator=g)
    d = color_directions(4)
    torch.testing.assert_close(sliced_wasserstein(x, y, d), sliced_wasserstein(x, y.expand(3, -1, -1, -1), d))


def test_bad_shapes_are_refused():
    d = color_directions(4)
    with pytest.raises(UsageError, match="channels"):
        sliced_wasserstein(torch.rand(1, 3, 4, 4), torch.rand(1, 4, 4, 4), d)
    with pytest.raises(UsageError, match="batch"):
        sliced_wasserstein(torch.rand(2, 3, 4, 4), torch.rand(3, 3, 4, 4), d)
    with pytest.raises(UsageError, match="n must be"):
        color_directions(2)
