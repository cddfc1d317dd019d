"""Spatial control (paper Sec. 7.3): statistics taken inside soft masks, one style per region."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from adain.errors import UsageError
from adain.ops.mixing import DEFAULT_EPS
from adain.ops.stats import adain_from_stats, check_4d

__all__ = ["masked_adain", "masked_mean_std", "resize_masks"]


def masked_mean_std(feat: Tensor, mask: Tensor, eps: float = DEFAULT_EPS) -> tuple[Tensor, Tensor]:
    """Channel mean/std of ``feat`` weighted by a soft ``mask`` (float32).

    Shape:
        feat: ``(N, C, H, W)``; mask: ``(N or 1, 1, H, W)`` with values in [0, 1].
        Returns ``(N, C, 1, 1)`` each.
    """
    check_4d(feat, "feat")
    check_4d(mask, "mask")
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
    check_4d(masks, "masks")
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
    check_4d(masks, "masks")
    mode = "area" if masks.shape[-2] >= size[0] and masks.shape[-1] >= size[1] else "bilinear"
    kwargs = {} if mode == "area" else {"align_corners": False}
    return F.interpolate(masks.float(), size=size, mode=mode, **kwargs).clamp(0, 1)
