"""Pictures people would rather look at than read: alpha sweeps and style-interpolation grids.

Both encode the content once and decode once per cell (:meth:`Pipeline.run
<adain.pipeline.core.Pipeline.run>` with ``variants``), so a 5-alpha sweep costs one encoder pass and
five decoder passes, and a 5×5 blend grid one encoder pass and 25 decoder passes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor
from torchvision.utils import make_grid

from adain.errors import UsageError
from adain.io.images import ImageLike
from adain.ops.stats import bilinear_weights
from adain.pipeline.core import Pipeline
from adain.pipeline.request import Variant, check_request

__all__ = ["ALPHAS", "alpha_sweep", "blend_grid", "fit_to"]


ALPHAS = (0.0, 0.25, 0.5, 0.75, 1.0)


def fit_to(img: Tensor, h: int, w: int) -> Tensor:
    """Resize to cover ``h×w`` and centre-crop: ``(3, H, W)`` → ``(3, h, w)``."""
    scale = max(h / img.shape[-2], w / img.shape[-1])
    nh, nw = max(h, round(img.shape[-2] * scale)), max(w, round(img.shape[-1] * scale))
    x = F.interpolate(img[None].float(), size=(nh, nw), mode="bilinear", antialias=True, align_corners=False)[0]
    top, left = (nh - h) // 2, (nw - w) // 2
    return x[:, top : top + h, left : left + w].clamp(0, 1)


def _cells(
    pipe: Pipeline, x: np.ndarray, stats: list, variants: list[Variant], preserve_color: str, tile: int | None
) -> list[Tensor]:
    outs = pipe.render(x, stats, variants, tile)
    return [torch.from_numpy(np.ascontiguousarray(pipe.finish(o, x[0], preserve_color))) for o in outs]


def alpha_sweep(
    pipe: Pipeline,
    content: ImageLike,
    style: ImageLike,
    alphas: Sequence[float] = ALPHAS,
    content_size: int = 512,
    style_size: int = 512,
    crop: bool = False,
    preserve_color: str = "none",
    tile: int | None = None,
) -> Tensor:
    """One row: content, style, then the stylization at each ``alpha``. Returns ``(3, H', W')``."""
    for a in alphas:
        check_request(style, a, None, preserve_color, tile, None)
    x = pipe.load(content, content_size, crop)
    s = pipe.load(style, style_size, crop)
    stats = pipe.stats_for([s[0]], 0, False, preserve_color, x)
    outs = _cells(pipe, x, stats, [(None, a) for a in alphas], preserve_color, tile)
    h, w = outs[0].shape[-2:]
    cells = [fit_to(torch.from_numpy(x[0]), h, w), fit_to(torch.from_numpy(s[0]), h, w), *outs]
    return make_grid(torch.stack(cells), nrow=len(cells), padding=4, pad_value=1.0)


def blend_grid(
    pipe: Pipeline,
    content: ImageLike,
    styles: Sequence[ImageLike],
    n: int = 5,
    alpha: float = 1.0,
    content_size: int = 512,
    style_size: int = 512,
    crop: bool = False,
    preserve_color: str = "none",
    tile: int | None = None,
) -> Tensor:
    """The paper's style-interpolation figure: an ``n×n`` grid bilinearly blending four styles at
    the corners (top-left, top-right, bottom-left, bottom-right)."""
    if len(styles) != 4:
        raise UsageError(f"a blend grid needs exactly 4 styles, got {len(styles)}")
    check_request(list(styles), alpha, None, preserve_color, tile, None)
    x = pipe.load(content, content_size, crop)
    stats = pipe.stats_for(list(styles), style_size, crop, preserve_color, x)
    weights = bilinear_weights(n)
    variants = [(weights[i, j].tolist(), alpha) for i in range(n) for j in range(n)]
    cells = _cells(pipe, x, stats, variants, preserve_color, tile)
    return make_grid(torch.stack(cells), nrow=n, padding=4, pad_value=1.0)
