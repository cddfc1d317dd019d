"""The functional API: every pure tensor op of :mod:`adain.ops` in one namespace (kornia style).

>>> import torch
>>> from adain import functional as AF
>>> AF.adain(torch.rand(1, 8, 4, 4), torch.rand(1, 8, 6, 6)).shape
torch.Size([1, 8, 4, 4])
"""

from __future__ import annotations

from adain.ops.color import coral, luminance_transfer, rgb_to_ycbcr, ycbcr_to_rgb
from adain.ops.levels import pack_levels, unpack_levels
from adain.ops.losses import (
    color_directions,
    content_loss,
    gram_loss,
    gram_matrix,
    hinge_d_loss,
    hinge_g_loss,
    masked_gram_matrix,
    mean_std_loss,
    sliced_wasserstein,
    total_variation,
)
from adain.ops.masks import masked_adain, masked_mean_std, resize_masks
from adain.ops.mixing import DEFAULT_EPS, normalize_weights
from adain.ops.stats import (
    adain,
    adain_from_stats,
    bilinear_weights,
    blend_stats,
    calc_mean_std,
    instance_normalize,
)

__all__ = [
    "DEFAULT_EPS",
    "adain",
    "adain_from_stats",
    "bilinear_weights",
    "blend_stats",
    "calc_mean_std",
    "color_directions",
    "content_loss",
    "coral",
    "gram_loss",
    "gram_matrix",
    "hinge_d_loss",
    "hinge_g_loss",
    "instance_normalize",
    "luminance_transfer",
    "masked_adain",
    "masked_gram_matrix",
    "masked_mean_std",
    "mean_std_loss",
    "normalize_weights",
    "pack_levels",
    "resize_masks",
    "rgb_to_ycbcr",
    "sliced_wasserstein",
    "total_variation",
    "unpack_levels",
    "ycbcr_to_rgb",
]
