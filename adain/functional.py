"""Pure tensor functions of AdaIN (Huang & Belongie, ICCV 2017, "Arbitrary Style Transfer in
Real-time with Adaptive Instance Normalization").

Everything here is stateless: no modules, no I/O, no device choices. Statistics are always
computed in float32 even when the features are bf16/fp16, because a variance of half-precision
activations loses most of its digits (and AdaIN's whole effect lives in those statistics).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from . import mixing
from .errors import UsageError

__all__ = [
    "DEFAULT_EPS",
    "adain",
    "adain_from_stats",
    "blend_stats",
    "bilinear_weights",
    "calc_mean_std",
    "coral",
    "luminance_transfer",
    "masked_adain",
    "masked_mean_std",
    "resize_masks",
    "rgb_to_ycbcr",
    "ycbcr_to_rgb",
    "content_loss",
    "gram_loss",
    "gram_matrix",
    "hinge_d_loss",
    "hinge_g_loss",
    "instance_normalize",
    "masked_gram_matrix",
    "mean_std_loss",
    "normalize_weights",
    "total_variation",
]

DEFAULT_EPS = mixing.DEFAULT_EPS


def _check_4d(x: Tensor, name: str) -> None:
    if x.dim() != 4:
        raise UsageError(f"{name} must be a 4-D tensor (N, C, H, W), got shape {tuple(x.shape)}")


class _MeanStd(torch.autograd.Function):
    """Per-channel mean and ``sqrt(biased var + eps)`` with a one-pass backward.

    Forward is two-pass (mean, then the centred second moment: no ``E[x²]−E[x]²`` cancellation).
    Backward is the closed form ``∂L/∂x = a·x + b`` per (sample, channel) with
    ``a = g_σ / (N σ)`` and ``b = g_μ / N − a μ`` (N = H·W): one fused pass over ``x``, where
    autograd through ``var_mean`` makes five full-size temporaries — on a CPU training step the
    statistics' backward was the largest single cost.
    """

    @staticmethod
    def forward(ctx: Any, x: Tensor, eps: float) -> tuple[Tensor, Tensor]:
        mean = x.mean(dim=(2, 3), keepdim=True)
        var = (x - mean).square_().mean(dim=(2, 3), keepdim=True)
        std = torch.sqrt(var + eps)
        ctx.save_for_backward(x, mean, std)
        return mean, std

    @staticmethod
    def backward(ctx: Any, g_mean: Tensor, g_std: Tensor) -> tuple[Tensor, None]:
        x, mean, std = ctx.saved_tensors
        n = x.shape[2] * x.shape[3]
        a = g_std / (n * std)
        b = g_mean / n - a * mean
        return torch.addcmul(b, x, a), None


def calc_mean_std(feat: Tensor, eps: float = DEFAULT_EPS) -> tuple[Tensor, Tensor]:
    """Per-sample, per-channel mean and standard deviation, in float32 (float64 stays float64).

    ``std = sqrt(var + eps)`` (biased variance, as in instance normalisation), so the result is
    finite and strictly positive even for constant channels. Differentiable, with a hand-written
    single-pass backward (see :class:`_MeanStd`).

    Args:
        feat: features of shape ``(N, C, H, W)``, any floating dtype and memory format.
        eps: added to the variance before the square root.

    Returns:
        ``(mean, std)``, each of shape ``(N, C, 1, 1)`` and dtype float32 (float64 for float64).

    Example:
        >>> m, s = calc_mean_std(torch.ones(2, 3, 4, 4))
        >>> m.shape, bool((s > 0).all())
        (torch.Size([2, 3, 1, 1]), True)
    """
    _check_4d(feat, "feat")
    x = feat if feat.dtype == torch.float64 else feat.float()
    return _MeanStd.apply(x, eps)


def adain_from_stats(
    content: Tensor,
    style_mean: Tensor,
    style_std: Tensor,
    eps: float = DEFAULT_EPS,
    content_stats: tuple[Tensor, Tensor] | None = None,
) -> Tensor:
    """Re-normalise ``content`` to the given per-channel statistics (Eq. 8 of the paper).

    Args:
        content: content features ``(N, C, H, W)``.
        style_mean: ``(N or 1, C, 1, 1)`` target means.
        style_std: ``(N or 1, C, 1, 1)`` target standard deviations.
        eps: variance epsilon for the content statistics.
        content_stats: precomputed ``(mean, std)`` of the content (for tiling or video, where
            they come from somewhere else than ``content`` itself).

    Returns:
        Tensor of the shape of ``content``, in float32.
    """
    _check_4d(content, "content")
    c_mean, c_std = content_stats if content_stats is not None else calc_mean_std(content, eps)
    if style_mean.shape[1] != content.shape[1] or style_std.shape[1] != content.shape[1]:
        raise UsageError(
            f"style statistics have {style_mean.shape[1]} channels, content has {content.shape[1]}"
        )
    normalized = (content.float() - c_mean) / c_std
    return normalized * style_std.float() + style_mean.float()


def adain(content: Tensor, style: Tensor, eps: float = DEFAULT_EPS) -> Tensor:
    """Adaptive instance normalisation: ``content`` with the channel mean/std of ``style``.

    Args:
        content: ``(N, C, H, W)`` content features.
        style: ``(N or 1, C, H', W')`` style features; spatial size may differ.

    Returns:
        ``(N, C, H, W)`` float32 tensor whose channel statistics equal the style's.
    """
    _check_4d(style, "style")
    s_mean, s_std = calc_mean_std(style, eps)
    return adain_from_stats(content, s_mean, s_std, eps)


def normalize_weights(weights: Sequence[float] | Tensor, n: int) -> Tensor:
    """:func:`adain.mixing.normalize_weights` as a float32 tensor.

    Raises:
        UsageError: wrong count, non-finite or negative values, or a zero sum.
    """
    return torch.tensor(mixing.normalize_weights(weights, n), dtype=torch.float32)


def blend_stats(
    content: Tensor,
    style_stats: Sequence[tuple[Tensor, Tensor]],
    weights: Sequence[float] | Tensor | None = None,
    eps: float = DEFAULT_EPS,
    content_stats: tuple[Tensor, Tensor] | None = None,
) -> Tensor:
    """Multi-style interpolation as in the paper (Sec. 7): ``Σ_k w_k · AdaIN(c, s_k)``.

    Because AdaIN is affine in the target statistics, this equals a single AdaIN with the
    weighted mean and weighted std, which is what is computed (one pass instead of K).

    Args:
        content: ``(N, C, H, W)`` content features.
        style_stats: K pairs ``(mean, std)``, each ``(N or 1, C, 1, 1)``.
        weights: K non-negative weights (normalised here); ``None`` means equal weights.
    """
    if len(style_stats) == 0:
        raise UsageError("at least one style is needed")
    mean, std = mixing.mix_stats([(m.float(), sd.float()) for m, sd in style_stats], weights)
    return adain_from_stats(content, mean, std, eps, content_stats)


def mean_std_loss(
    input_feat: Tensor, target_mean: Tensor, target_std: Tensor, eps: float = DEFAULT_EPS
) -> Tensor:
    """Style loss of the paper for one layer: ``MSE(μ(x), μ_t) + MSE(σ(x), σ_t)``."""
    mean, std = calc_mean_std(input_feat, eps)
    return F.mse_loss(mean, target_mean.to(mean.dtype)) + F.mse_loss(std, target_std.to(std.dtype))


def total_variation(img: Tensor, power: int = 1) -> Tensor:
    """Mean ``|difference|**power`` between neighbouring pixels, vertical plus horizontal, a scalar.

    ``power=1`` is the anisotropic TV of the training loss; ``power=2`` is the smooth variant used
    by optimisation-based stylization (L-BFGS wants a differentiable objective).

    Shape:
        img: ``(N, C, H, W)``.
    """
    _check_4d(img, "img")
    if power not in (1, 2):
        raise UsageError(f"total variation power must be 1 or 2, got {power}")
    dh = img[:, :, 1:, :] - img[:, :, :-1, :]
    dw = img[:, :, :, 1:] - img[:, :, :, :-1]
    if power == 1:
        return dh.abs().mean() + dw.abs().mean()
    return dh.pow(2).mean() + dw.pow(2).mean()


def content_loss(input_feat: Tensor, target_feat: Tensor) -> Tensor:
    """Content loss of Gatys et al. (2016) and AdaIN: ``MSE(F(x), F_target)`` in float32.

    Shape:
        input_feat, target_feat: ``(N, C, H, W)`` (target may have ``N = 1``).
    """
    _check_4d(input_feat, "input_feat")
    if input_feat.shape[1:] != target_feat.shape[1:]:
        raise UsageError(f"content features differ in shape: {tuple(input_feat.shape)} vs {tuple(target_feat.shape)}")
    return F.mse_loss(input_feat.float(), target_feat.float().expand_as(input_feat))


def gram_loss(input_feat: Tensor, target_gram: Tensor, mask: Tensor | None = None) -> Tensor:
    """Style loss of Gatys et al. (2016) for one layer: ``MSE(G(x), G_target)``.

    Args:
        input_feat: ``(N, C, H, W)`` features of the image being optimised.
        target_gram: ``(N or 1, C, C)`` target Gram matrix (:func:`gram_matrix` of the style).
        mask: optional ``(N or 1, 1, H, W)`` soft region; the Gram matrix is then taken inside it
            (:func:`masked_gram_matrix`).
    """
    g = gram_matrix(input_feat) if mask is None else masked_gram_matrix(input_feat, mask)
    if target_gram.shape[-2:] != g.shape[-2:]:
        raise UsageError(f"target Gram matrix is {tuple(target_gram.shape)}, features give {tuple(g.shape)}")
    return F.mse_loss(g, target_gram.float().expand_as(g))


def hinge_d_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """Hinge loss of a discriminator: ``mean(relu(1 − D(real))) + mean(relu(1 + D(fake)))``.

    Shape: any (patch logits ``(N, 1, h, w)``); returns a float32 scalar.
    """
    return F.relu(1.0 - real_logits.float()).mean() + F.relu(1.0 + fake_logits.float()).mean()


def hinge_g_loss(fake_logits: Tensor) -> Tensor:
    """Hinge loss of the generator: ``−mean(D(fake))`` (float32 scalar)."""
    return -fake_logits.float().mean()


def instance_normalize(feat: Tensor, eps: float = DEFAULT_EPS) -> Tensor:
    """Zero mean, unit std per sample and channel (float32). Shape: ``(N, C, H, W)``."""
    mean, std = calc_mean_std(feat, eps)
    return (feat.float() - mean) / std


def gram_matrix(feat: Tensor) -> Tensor:
    """``F Fᵀ / (H·W)`` per sample, float32. Shape: ``(N, C, H, W)`` → ``(N, C, C)``."""
    _check_4d(feat, "feat")
    n, c, h, w = feat.shape
    f = feat.float().reshape(n, c, h * w)
    return f @ f.transpose(1, 2) / (h * w)


# ----------------------------------------------------------------------------- spatial control
def masked_gram_matrix(feat: Tensor, mask: Tensor) -> Tensor:
    """Gram matrix inside a soft region: ``Σ_p m_p F_p F_pᵀ / Σ_p m_p`` per sample, float32.

    With an all-ones mask it equals :func:`gram_matrix`; with a 0/1 mask, the Gram matrix of the
    selected pixels only.

    Shape:
        feat: ``(N, C, H, W)``; mask: ``(N or 1, 1, H, W)`` in [0, 1]. Returns ``(N, C, C)``.
    """
    _check_4d(feat, "feat")
    _check_4d(mask, "mask")
    if mask.shape[-2:] != feat.shape[-2:]:
        raise UsageError(f"mask size {tuple(mask.shape[-2:])} differs from features {tuple(feat.shape[-2:])}")
    n, c, h, w = feat.shape
    m = mask.float().expand(n, 1, h, w).reshape(n, 1, h * w)
    f = feat.float().reshape(n, c, h * w) * m.sqrt()
    return f @ f.transpose(1, 2) / m.sum(dim=2, keepdim=True).clamp_min(1e-8)


def masked_mean_std(feat: Tensor, mask: Tensor, eps: float = DEFAULT_EPS) -> tuple[Tensor, Tensor]:
    """Channel mean/std of ``feat`` weighted by a soft ``mask`` (float32).

    Shape:
        feat: ``(N, C, H, W)``; mask: ``(N or 1, 1, H, W)`` with values in [0, 1].
        Returns ``(N, C, 1, 1)`` each.
    """
    _check_4d(feat, "feat")
    _check_4d(mask, "mask")
    if mask.shape[-2:] != feat.shape[-2:]:
        raise UsageError(f"mask size {tuple(mask.shape[-2:])} differs from features {tuple(feat.shape[-2:])}")
    x, m = feat.float(), mask.float()
    total = m.sum(dim=(2, 3), keepdim=True).clamp_min(1e-8)
    mean = (x * m).sum(dim=(2, 3), keepdim=True) / total
    var = ((x - mean) ** 2 * m).sum(dim=(2, 3), keepdim=True) / total
    return mean, torch.sqrt(var + eps)


def masked_adain(
    content: Tensor, style_stats: Sequence[tuple[Tensor, Tensor]], masks: Tensor, eps: float = DEFAULT_EPS
) -> Tensor:
    """Region-wise AdaIN: region ``k`` (soft mask ``masks[:, k]``) gets style ``k``.

    Content statistics are taken inside each region; where masks overlap, results are averaged
    by mask weight; where no mask covers a pixel, the content code is kept (alpha 0 there).

    Shape:
        content: ``(N, C, H, W)``; masks: ``(N or 1, K, H, W)`` in [0, 1] at feature resolution.
    """
    _check_4d(masks, "masks")
    if masks.shape[1] != len(style_stats):
        raise UsageError(f"{masks.shape[1]} masks for {len(style_stats)} styles")
    x = content.float()
    m = masks.float().clamp(0, 1)
    coverage = m.sum(dim=1, keepdim=True)
    # normalise overlapping regions so weights never exceed 1
    m = m / coverage.clamp_min(1.0)
    out = x * (1.0 - m.sum(dim=1, keepdim=True))
    for k, (s_mean, s_std) in enumerate(style_stats):
        mk = m[:, k : k + 1]
        if float(mk.sum()) == 0.0:
            continue
        stats = masked_mean_std(x, (mk > 0).float() * mk, eps)
        out = out + mk * adain_from_stats(x, s_mean, s_std, eps, stats)
    return out


def resize_masks(masks: Tensor, size: tuple[int, int]) -> Tensor:
    """Area-average soft masks ``(N, K, H, W)`` down (or bilinear up) to feature resolution."""
    _check_4d(masks, "masks")
    mode = "area" if masks.shape[-2] >= size[0] and masks.shape[-1] >= size[1] else "bilinear"
    kwargs = {} if mode == "area" else {"align_corners": False}
    return F.interpolate(masks.float(), size=size, mode=mode, **kwargs).clamp(0, 1)


# ----------------------------------------------------------------------------- colour
def _rgb_stats(img: Tensor) -> tuple[Tensor, Tensor]:
    x = img.float().reshape(3, -1)
    mean = x.mean(dim=1, keepdim=True)
    xc = x - mean
    return mean, xc @ xc.T / x.shape[1]


def _sym_pow(mat: Tensor, power: float, eps: float = 1e-5) -> Tensor:
    evals, evecs = torch.linalg.eigh(mat.double())
    return (evecs @ torch.diag(evals.clamp_min(eps) ** power) @ evecs.T).float()


def coral(source: Tensor, target: Tensor) -> Tensor:
    """CORAL colour transfer: ``source`` pixels re-coloured to ``target``'s mean and covariance.

    The paper's colour preservation (Sec. 7): the *style* image is matched to the *content*'s
    colour statistics before stylizing. Result is not clamped (clamping would change the stats).

    Shape:
        source: ``(3, H, W)``; target: ``(3, H', W')``; returns ``(3, H, W)``.
    """
    if source.dim() != 3 or source.shape[0] != 3 or target.dim() != 3 or target.shape[0] != 3:
        raise UsageError(f"coral expects (3, H, W) images, got {tuple(source.shape)} and {tuple(target.shape)}")
    ms, cs = _rgb_stats(source)
    mt, ct = _rgb_stats(target)
    transform = _sym_pow(ct, 0.5) @ _sym_pow(cs, -0.5)
    x = source.float().reshape(3, -1)
    return (transform @ (x - ms) + mt).reshape(source.shape)


_RGB2YCBCR = torch.tensor([[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]])


def rgb_to_ycbcr(img: Tensor) -> Tensor:
    """Full-range BT.601 YCbCr (Cb, Cr centred on 0.5). Shape ``(..., 3, H, W)``."""
    m = _RGB2YCBCR.to(img.device, torch.float32)
    out = torch.einsum("ij,...jhw->...ihw", m, img.float())
    offset = torch.tensor([0.0, 0.5, 0.5], device=img.device).view(3, 1, 1)
    return out + offset


def ycbcr_to_rgb(img: Tensor) -> Tensor:
    """Inverse of :func:`rgb_to_ycbcr`."""
    m = torch.linalg.inv(_RGB2YCBCR.double()).float().to(img.device)
    offset = torch.tensor([0.0, 0.5, 0.5], device=img.device).view(3, 1, 1)
    return torch.einsum("ij,...jhw->...ihw", m, img.float() - offset)


def luminance_transfer(stylized: Tensor, content: Tensor) -> Tensor:
    """Keep ``stylized``'s luminance (Y) and ``content``'s chroma (Cb, Cr). Same shapes."""
    if stylized.shape != content.shape:
        raise UsageError(f"shapes differ: {tuple(stylized.shape)} vs {tuple(content.shape)}")
    y = rgb_to_ycbcr(stylized)[..., :1, :, :]
    cbcr = rgb_to_ycbcr(content)[..., 1:, :, :]
    return ycbcr_to_rgb(torch.cat([y, cbcr], dim=-3))


def bilinear_weights(n: int = 5) -> Tensor:
    """``(n, n, 4)`` weights interpolating four corner styles (paper Fig. 8 grid)."""
    t = torch.linspace(0, 1, n)
    v, u = torch.meshgrid(t, t, indexing="ij")
    return torch.stack([(1 - u) * (1 - v), u * (1 - v), (1 - u) * v, u * v], dim=-1)
