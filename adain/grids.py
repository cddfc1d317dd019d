"""Pictures people would rather look at than read: alpha sweeps and style-interpolation grids."""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor
from torchvision.utils import make_grid

from . import functional as AF
from .inference import ImageLike, Stylizer

__all__ = ["ALPHAS", "alpha_sweep", "blend_grid", "fit_to"]

ALPHAS = (0.0, 0.25, 0.5, 0.75, 1.0)


def fit_to(img: Tensor, h: int, w: int) -> Tensor:
    """Resize to cover ``h×w`` and centre-crop: ``(3, H, W)`` → ``(3, h, w)``."""
    scale = max(h / img.shape[-2], w / img.shape[-1])
    nh, nw = max(h, round(img.shape[-2] * scale)), max(w, round(img.shape[-1] * scale))
    x = F.interpolate(img[None].float(), size=(nh, nw), mode="bilinear", antialias=True, align_corners=False)[0]
    top, left = (nh - h) // 2, (nw - w) // 2
    return x[:, top : top + h, left : left + w].clamp(0, 1)


def alpha_sweep(
    stylizer: Stylizer, content: ImageLike, style: ImageLike, alphas: Sequence[float] = ALPHAS, **kwargs: object
) -> Tensor:
    """One row: content, style, then the stylization at each ``alpha``. Returns ``(3, H', W')``."""
    outs = [stylizer.stylize(content, style, alpha=a, **kwargs) for a in alphas]  # type: ignore[arg-type]
    h, w = outs[0].shape[-2:]
    c = stylizer.load(content, kwargs.get("content_size", 512), kwargs.get("crop", False))[0].float().cpu()  # type: ignore[arg-type]
    s = stylizer.load(style, kwargs.get("style_size", 512), kwargs.get("crop", False))[0].float().cpu()  # type: ignore[arg-type]
    cells = [fit_to(c, h, w), fit_to(s, h, w), *outs]
    return make_grid(torch.stack(cells), nrow=len(cells), padding=4, pad_value=1.0)


def blend_grid(stylizer: Stylizer, content: ImageLike, styles: Sequence[ImageLike], n: int = 5, **kwargs: object) -> Tensor:
    """The paper's style-interpolation figure: an ``n×n`` grid bilinearly blending four styles at
    the corners (top-left, top-right, bottom-left, bottom-right)."""
    if len(styles) != 4:
        raise ValueError(f"a blend grid needs exactly 4 styles, got {len(styles)}")
    size, crop = kwargs.pop("style_size", 512), kwargs.get("crop", False)
    stats = [stylizer.style_stats(s, size, crop) for s in styles]  # type: ignore[arg-type]
    weights = AF.bilinear_weights(n)
    cells = [stylizer.stylize(content, stats, weights=weights[i, j].tolist(), **kwargs)  # type: ignore[arg-type]
             for i in range(n) for j in range(n)]
    return make_grid(torch.stack(cells), nrow=n, padding=4, pad_value=1.0)
