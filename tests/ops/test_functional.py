import pytest
import torch

from adain import functional as AF


@pytest.fixture
def feats() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    content = torch.randn(2, 8, 12, 10, generator=g) * 3 + 1
    style = torch.randn(2, 8, 7, 9, generator=g) * 0.5 - 2
    return content, style


def test_calc_mean_std_matches_definition(feats):
    x, _ = feats
    m, s = AF.calc_mean_std(x, eps=1e-5)
    assert m.shape == s.shape == (2, 8, 1, 1)
    flat = x.flatten(2)
    torch.testing.assert_close(m.flatten(), flat.mean(-1).flatten())
    torch.testing.assert_close(s.flatten(), (flat.var(-1, unbiased=False) + 1e-5).sqrt().flatten())


def test_calc_mean_std_is_fp32_for_half_inputs(feats):
    x, _ = feats
    for dt in (torch.bfloat16, torch.float16):
        m, s = AF.calc_mean_std(x.to(dt))
        assert m.dtype == s.dtype == torch.float32
        m32, s32 = AF.calc_mean_std(x.to(dt).float())
        torch.testing.assert_close(m, m32)
        torch.testing.assert_close(s, s32)


def test_calc_mean_std_safe_for_constant_channels():
    m, s = AF.calc_mean_std(torch.full((1, 2, 4, 4), 3.0), eps=1e-5)
    assert torch.all(s > 0)
    torch.testing.assert_close(s, torch.full_like(s, 1e-5**0.5))


def test_calc_mean_std_gradient_is_exact():
    """The hand-written backward (one fused pass) against numerical differentiation, float64."""
    g = torch.Generator().manual_seed(1)
    x = (torch.randn(2, 3, 5, 4, generator=g, dtype=torch.float64) * 2 + 1).requires_grad_()

    def f(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        m, s = AF.calc_mean_std(x.double(), eps=1e-5)
        return m, s

    assert torch.autograd.gradcheck(lambda t: torch.cat([o.double().flatten() for o in f(t)]), (x,))


def test_calc_mean_std_gradient_matches_autograd_of_definition(feats):
    """Same gradient as autograd through ``var_mean`` in float32, channels-last too."""
    x, _ = feats
    w = torch.randn(2, 8, 1, 1, generator=torch.Generator().manual_seed(2))
    for fmt in (torch.contiguous_format, torch.channels_last):
        a = x.clone().contiguous(memory_format=fmt).requires_grad_()
        m, s = AF.calc_mean_std(a, eps=1e-5)
        ((m * w).sum() + (s * w * w).sum()).backward()
        b = x.clone().requires_grad_()
        var, mean = torch.var_mean(b, dim=(2, 3), keepdim=True, correction=0)
        ((mean * w).sum() + ((var + 1e-5).sqrt() * w * w).sum()).backward()
        torch.testing.assert_close(a.grad, b.grad, rtol=1e-5, atol=1e-6)
        # only the std used: the mean's gradient is taken as zero
        c = x.clone().requires_grad_()
        AF.calc_mean_std(c)[1].sum().backward()
        assert torch.isfinite(c.grad).all() and c.grad.abs().sum() > 0


def test_calc_mean_std_gradient_reaches_half_inputs(feats):
    x, _ = feats
    h = x.to(torch.bfloat16).requires_grad_()
    AF.calc_mean_std(h)[1].sum().backward()
    assert h.grad is not None and h.grad.dtype == torch.bfloat16


def test_calc_mean_std_large_offset_is_stable():
    """A channel far from zero (mean 1e3, std 1e-1) keeps its small std: no E[x²]−E[x]² cancellation."""
    g = torch.Generator().manual_seed(3)
    x = torch.randn(1, 1, 64, 64, generator=g) * 0.1 + 1000.0
    _, s = AF.calc_mean_std(x, eps=0.0)
    ref = x.double().flatten().std(unbiased=False)
    assert abs(float(s) - float(ref)) / float(ref) < 1e-3


def test_calc_mean_std_rejects_wrong_rank():
    with pytest.raises(ValueError, match="4-D"):
        AF.calc_mean_std(torch.zeros(3, 4, 4))


def test_adain_output_has_style_statistics(feats):
    content, style = feats
    out = AF.adain(content, style, eps=0.0 + 1e-8)
    m_o, s_o = AF.calc_mean_std(out, eps=1e-8)
    m_s, s_s = AF.calc_mean_std(style, eps=1e-8)
    assert (m_o - m_s).abs().max() <= 1e-4
    assert (s_o - s_s).abs().max() <= 1e-4


def test_adain_keeps_content_structure(feats):
    content, style = feats
    out = AF.adain(content, style)
    # Per channel, AdaIN is an increasing affine map of the content: correlation is 1.
    for c in range(content.shape[1]):
        a, b = content[0, c].flatten(), out[0, c].flatten()
        corr = torch.corrcoef(torch.stack([a, b]))[0, 1]
        assert corr > 0.9999


def test_one_hot_weights_equal_single_style(feats):
    content, style = feats
    s1 = AF.calc_mean_std(style)
    s2 = AF.calc_mean_std(style.flip(0) * 2)
    single = AF.adain_from_stats(content, *s1)
    blended = AF.blend_stats(content, [s1, s2], [1.0, 0.0])
    torch.testing.assert_close(blended, single)


def test_blend_is_weighted_sum_of_adain_outputs_and_linear(feats):
    content, style = feats
    stats = [AF.calc_mean_std(style), AF.calc_mean_std(style * 3 + 1), AF.calc_mean_std(-style)]
    w = [0.2, 0.5, 0.3]
    expected = sum(wi * AF.adain_from_stats(content, *s) for wi, s in zip(w, stats))
    torch.testing.assert_close(AF.blend_stats(content, stats, w), expected, atol=1e-5, rtol=1e-5)
    # linear in the weights: f(t·a + (1-t)·b) = t f(a) + (1-t) f(b)
    a, b, t = [1.0, 0.0, 0.0], [0.0, 0.4, 0.6], 0.3
    mix = [t * x + (1 - t) * y for x, y in zip(a, b)]
    lhs = AF.blend_stats(content, stats, mix)
    rhs = t * AF.blend_stats(content, stats, a) + (1 - t) * AF.blend_stats(content, stats, b)
    torch.testing.assert_close(lhs, rhs, atol=1e-5, rtol=1e-5)


def test_weights_are_normalised(feats):
    content, style = feats
    stats = [AF.calc_mean_std(style), AF.calc_mean_std(style * 2)]
    torch.testing.assert_close(AF.blend_stats(content, stats, [2.0, 6.0]), AF.blend_stats(content, stats, [0.25, 0.75]))
    assert AF.normalize_weights([1, 3], 2) == [0.25, 0.75]


@pytest.mark.parametrize(
    ("weights", "match"),
    [
        ([1.0], "got 1 style weights for 2"),
        ([1.0, -1.0], "non-negative"),
        ([0.0, 0.0], "sum to zero"),
        ([float("nan"), 1.0], "finite"),
        ([float("inf"), 1.0], "finite"),
    ],
)
def test_bad_weights_rejected(weights, match):
    with pytest.raises(ValueError, match=match):
        AF.normalize_weights(weights, 2)


def test_adain_channel_mismatch_is_an_error(feats):
    content, _ = feats
    with pytest.raises(ValueError, match="channels"):
        AF.adain(content, torch.randn(1, 3, 4, 4))


def test_mean_std_loss_zero_on_own_statistics(feats):
    content, _ = feats
    m, s = AF.calc_mean_std(content)
    assert float(AF.mean_std_loss(content, m, s)) == pytest.approx(0.0, abs=1e-10)
    assert float(AF.mean_std_loss(content, m + 1, s)) == pytest.approx(1.0, rel=1e-5)


def test_total_variation():
    flat = torch.ones(1, 3, 8, 8)
    assert float(AF.total_variation(flat)) == 0.0
    stripes = torch.zeros(1, 1, 4, 4)
    stripes[..., ::2] = 1.0  # vertical stripes: every horizontal neighbour differs
    assert float(AF.total_variation(stripes)) == pytest.approx(1.0)


def test_numpy_code_stats_and_adain_mix_match_the_torch_definitions():
    import numpy as np

    from adain.ops.mixing import adain_mix, code_stats
    from adain.ops.stats import adain_from_stats, calc_mean_std

    g = torch.Generator().manual_seed(0)
    code = torch.rand(2, 5, 6, 7, generator=g) * 3
    mean, std = torch.rand(2, 5, 1, 1, generator=g), torch.rand(2, 5, 1, 1, generator=g) + 0.5
    m, s = code_stats(code.numpy())
    tm, ts = calc_mean_std(code)
    assert np.allclose(m, tm.numpy(), atol=1e-6) and np.allclose(s, ts.numpy(), atol=1e-6)
    for alpha in (1.0, 0.3):
        ref = alpha * adain_from_stats(code, mean, std) + (1 - alpha) * code
        got = adain_mix(code.numpy(), mean.numpy(), std.numpy(), alpha)
        assert got.dtype == np.float32 and np.allclose(got, ref.numpy(), atol=1e-5)
