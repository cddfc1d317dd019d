"""Channel statistics and adaptive instance normalisation (Huang & Belongie, ICCV 2017, Eq. 8).

Statistics are always computed in float32 even when the features are bf16/fp16, because a
variance of half-precision activations loses most of its digits (and AdaIN's whole effect lives
in those statistics). Blends of styles are weighted statistics (paper Sec. 7).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from adain.errors import UsageError
from adain.ops import mixing
from adain.ops.mixing import DEFAULT_EPS

__all__ = [
    "TensorStats",
    "check_4d",
    "adain",
    "adain_from_stats",
    "bilinear_weights",
    "blend_stats",
    "calc_mean_std",
    "instance_normalize",
]


#: a ``(mean, std)`` pair of tensors, each ``(N, C, 1, 1)`` (NumPy pairs are :data:`adain.runtime.base.Stats`)
TensorStats = tuple[Tensor, Tensor]


def check_4d(x: Tensor, name: str) -> None:
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
    check_4d(feat, "feat")
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
    check_4d(content, "content")
    c_mean, c_std = content_stats if content_stats is not None else calc_mean_std(content, eps)
    if style_mean.shape[1] != content.shape[1] or style_std.shape[1] != content.shape[1]:
        raise UsageError(f"style statistics have {style_mean.shape[1]} channels, content has {content.shape[1]}")
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
    check_4d(style, "style")
    s_mean, s_std = calc_mean_std(style, eps)
    return adain_from_stats(content, s_mean, s_std, eps)


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


def instance_normalize(feat: Tensor, eps: float = DEFAULT_EPS) -> Tensor:
    """Zero mean, unit std per sample and channel (float32). Shape: ``(N, C, H, W)``."""
    mean, std = calc_mean_std(feat, eps)
    return (feat.float() - mean) / std


def bilinear_weights(n: int = 5) -> Tensor:
    """``(n, n, 4)`` weights interpolating four corner styles (paper Fig. 8 grid)."""
    t = torch.linspace(0, 1, n)
    v, u = torch.meshgrid(t, t, indexing="ij")
    return torch.stack([(1 - u) * (1 - v), u * (1 - v), (1 - u) * v, u * v], dim=-1)
