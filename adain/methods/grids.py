"""Pictures people would rather look at than read: alpha sweeps and style-interpolation grids.

Both encode the content once and decode once per cell (:meth:`Pipeline.run
<adain.pipeline.core.Pipeline.run>` with ``variants``), so a 5-alpha sweep costs one encoder pass and
five decoder passes, and a 5×5 blend grid one encoder pass and 25 decoder passes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor
from torchvision.utils import make_grid

from adain.errors import UsageError
from adain.io.images import ImageLike
from adain.ops.stats import bilinear_weights
from adain.pipeline.core import Pipeline
from adain.pipeline.request import StylizeRequest, Variant, is_stats

__all__ = ["ALPHAS", "alpha_sweep", "blend_grid", "fit_to", "labelled", "style_sheet"]


ALPHAS = (0.0, 0.25, 0.5, 0.75, 1.0)


def fit_to(img: Tensor, h: int, w: int) -> Tensor:
    """Resize to cover ``h×w`` and centre-crop: ``(3, H, W)`` → ``(3, h, w)``."""
    scale = max(h / img.shape[-2], w / img.shape[-1])
    nh, nw = max(h, round(img.shape[-2] * scale)), max(w, round(img.shape[-1] * scale))
    x = F.interpolate(img[None].float(), size=(nh, nw), mode="bilinear", antialias=True, align_corners=False)[0]
    top, left = (nh - h) // 2, (nw - w) // 2
    return x[:, top : top + h, left : left + w].clamp(0, 1)


def labelled(cells: Sequence[Tensor], labels: Sequence[str], band: int = 0) -> list[Tensor]:
    """Each ``(3, h, w)`` cell with a white band above it holding its label (black text)."""
    from PIL import Image, ImageDraw, ImageFont

    h = cells[0].shape[-2]
    band = band or max(18, min(40, h // 14))
    try:
        font: ImageFont.ImageFont | ImageFont.FreeTypeFont = ImageFont.load_default(size=int(band * 0.7))
    except TypeError:  # Pillow < 10.1: the fixed bitmap font
        font = ImageFont.load_default()
    out = []
    for cell, text in zip(cells, labels):
        strip = Image.new("RGB", (cell.shape[-1], band), "white")
        ImageDraw.Draw(strip).text((4, band * 0.12), text, fill="black", font=font)
        top = torch.from_numpy(np.asarray(strip, dtype=np.float32) / 255.0).permute(2, 0, 1)
        out.append(torch.cat([top, cell.float()], dim=-2))
    return out


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
    request: StylizeRequest | None = None,
    **fields: Any,
) -> Tensor:
    """One row: content, style, then the stylization at each ``alpha`` (the request's sizes, crop,
    colour and tiles; its ``alpha`` is not used). Returns ``(3, H', W')``."""
    r = StylizeRequest.make(request, **fields)
    for a in alphas:
        StylizeRequest.make(r, alpha=a).styles_of(style)
    x = pipe.load(content, r.content_size, r.crop)
    s = pipe.load(style, r.style_size, r.crop)
    stats = pipe.stats_for([s[0]], 0, False, r.preserve_color, x)
    outs = _cells(pipe, x, stats, [(None, a) for a in alphas], r.preserve_color, r.tile)
    h, w = outs[0].shape[-2:]
    cells = [fit_to(torch.from_numpy(x[0]), h, w), fit_to(torch.from_numpy(s[0]), h, w), *outs]
    names = ["content", "style", *(f"alpha {a:g}" for a in alphas)]
    return make_grid(torch.stack(labelled(cells, names)), nrow=len(cells), padding=4, pad_value=1.0)


def blend_grid(
    pipe: Pipeline,
    content: ImageLike,
    styles: Sequence[ImageLike],
    n: int = 5,
    request: StylizeRequest | None = None,
    **fields: Any,
) -> Tensor:
    """The paper's style-interpolation figure: an ``n×n`` grid bilinearly blending four styles at
    the corners (top-left, top-right, bottom-left, bottom-right), at the request's alpha."""
    if len(styles) != 4:
        raise UsageError(f"a blend grid needs exactly 4 styles, got {len(styles)}")
    r = StylizeRequest.make(request, **fields)
    r.styles_of(list(styles))
    x = pipe.load(content, r.content_size, r.crop)
    stats = pipe.stats_for(list(styles), r.style_size, r.crop, r.preserve_color, x)
    weights = bilinear_weights(n)
    variants = [(weights[i, j].tolist(), r.alpha) for i in range(n) for j in range(n)]
    cells = _cells(pipe, x, stats, variants, r.preserve_color, r.tile)
    names = [" ".join(f"s{k + 1} {w:.2f}" for k, w in enumerate(ws) if w > 1e-6) for ws, _ in variants]
    return make_grid(torch.stack(labelled(cells, names)), nrow=n, padding=4, pad_value=1.0)


def style_sheet(
    pipe: Pipeline,
    content: ImageLike,
    styles: Sequence[ImageLike],
    names: Sequence[str],
    request: StylizeRequest | None = None,
    columns: int = 4,
    **fields: Any,
) -> Tensor:
    """A contact sheet: the content, then the content under each style (the painting inset in a
    corner), each labelled with the style's name. Returns ``(3, H', W')``."""
    if len(names) != len(styles):
        raise UsageError(f"got {len(names)} names for {len(styles)} styles")
    r = StylizeRequest.make(request, **fields)
    r.styles_of(list(styles))
    x = pipe.load(content, r.content_size, r.crop)
    stats = pipe.stats_for(list(styles), r.style_size, r.crop, r.preserve_color, x)
    one_hot = np.eye(len(stats)).tolist()  # one variant per style: the content is encoded once
    outs = _cells(pipe, x, stats, [(ws, r.alpha) for ws in one_hot], r.preserve_color, r.tile)
    h, w = x.shape[-2:]
    inset_h, inset_w = max(1, h // 4), max(1, w // 4)
    for style, out in zip(styles, outs):
        if not is_stats(style):  # the painting, inset in a white frame
            painting = torch.from_numpy(pipe.load(style, max(inset_h, inset_w))[0])
            out[:, h - inset_h - 2 : h, w - inset_w - 2 : w] = 1.0
            out[:, h - inset_h : h, w - inset_w : w] = fit_to(painting, inset_h, inset_w)
    cells = [torch.from_numpy(np.ascontiguousarray(x[0])), *outs]
    grid_cells = labelled(cells, ["content", *names])
    return make_grid(torch.stack(grid_cells), nrow=min(columns, len(grid_cells)), padding=4, pad_value=1.0)
