"""Losses: AdaIN's content and mean/std style losses (paper Eq. 11-13), Gram losses (Gatys et al.
2016), total variation, the hinge losses of the optional adversarial term, and a colour-distribution
loss (sliced Wasserstein distance between pixel colours, Rabin et al. 2011).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from adain.errors import UsageError
from adain.ops.mixing import DEFAULT_EPS
from adain.ops.stats import calc_mean_std, check_4d

__all__ = [
    "color_directions",
    "content_loss",
    "gram_loss",
    "gram_matrix",
    "hinge_d_loss",
    "hinge_g_loss",
    "masked_gram_matrix",
    "mean_std_loss",
    "sliced_wasserstein",
    "total_variation",
]


def mean_std_loss(input_feat: Tensor, target_mean: Tensor, target_std: Tensor, eps: float = DEFAULT_EPS) -> Tensor:
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
    check_4d(img, "img")
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
    check_4d(input_feat, "input_feat")
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


def color_directions(n: int) -> Tensor:
    """``n`` fixed unit directions in RGB space, ``(n, 3)``: the three channels, the four cube
    diagonals, then seeded random ones (the same every call, so a resumed run sees the same loss)."""
    if n < 3:
        raise UsageError(f"color_directions: n must be >= 3, got {n}")
    diagonals = torch.tensor([[1.0, 1.0, 1.0], [1.0, -1.0, 0.0], [1.0, 1.0, -2.0], [1.0, -1.0, 1.0]])
    rest = torch.randn(max(0, n - 7), 3, generator=torch.Generator().manual_seed(0))
    d = torch.cat([torch.eye(3), diagonals, rest])[:n]
    return d / d.norm(dim=1, keepdim=True)


def sliced_wasserstein(x: Tensor, y: Tensor, directions: Tensor) -> Tensor:
    """Squared sliced Wasserstein distance between the pixel distributions of ``x`` and ``y``.

    Every pixel is a point in channel space; both point sets are projected on each of
    ``directions`` and the sorted projections (the quantile functions) are compared by MSE, so
    the loss is zero exactly when every 1-D marginal agrees, whatever the pixels' positions. A
    different pixel count in ``y`` is compared at ``x``'s quantiles. Float32 scalar.

    Shape:
        x: ``(N, C, H, W)``; y: ``(N or 1, C, H', W')``; directions: ``(K, C)``.
    """
    check_4d(x, "x")
    check_4d(y, "y")
    if x.shape[1] != y.shape[1] or directions.shape[-1] != x.shape[1]:
        raise UsageError(
            f"sliced_wasserstein: channels differ: x {x.shape[1]}, y {y.shape[1]}, directions {directions.shape[-1]}"
        )
    if y.shape[0] not in (1, x.shape[0]):
        raise UsageError(f"sliced_wasserstein: y's batch must be 1 or {x.shape[0]}, got {y.shape[0]}")
    d = directions.to(device=x.device, dtype=torch.float32)
    px = torch.einsum("kc,ncp->nkp", d, x.float().flatten(2)).sort(dim=-1).values
    py = torch.einsum("kc,ncp->nkp", d, y.float().flatten(2)).sort(dim=-1).values
    p, q = px.shape[-1], py.shape[-1]
    if q != p:
        idx = ((torch.arange(p, device=x.device, dtype=torch.float32) + 0.5) * (q / p)).long().clamp_max(q - 1)
        py = py[..., idx]
    return F.mse_loss(px, py.expand_as(px))


def gram_matrix(feat: Tensor) -> Tensor:
    """``F Fᵀ / (H·W)`` per sample, float32. Shape: ``(N, C, H, W)`` → ``(N, C, C)``."""
    check_4d(feat, "feat")
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
    check_4d(feat, "feat")
    check_4d(mask, "mask")
    if mask.shape[-2:] != feat.shape[-2:]:
        raise UsageError(f"mask size {tuple(mask.shape[-2:])} differs from features {tuple(feat.shape[-2:])}")
    n, c, h, w = feat.shape
    m = mask.float().expand(n, 1, h, w).reshape(n, 1, h * w)
    f = feat.float().reshape(n, c, h * w) * m.sqrt()
    return f @ f.transpose(1, 2) / m.sum(dim=2, keepdim=True).clamp_min(1e-8)
