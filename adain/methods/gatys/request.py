"""One stylization request through the optimiser, on a :class:`~adain.pipeline.core.Pipeline`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import Tensor

from adain.errors import UsageError
from adain.methods.gatys.loss_network import LossNetwork
from adain.methods.gatys.optim import optimize_image
from adain.methods.gatys.options import INITS, OptimizeOptions, check_optimize_size
from adain.ops.color import coral
from adain.pipeline.request import StylizeRequest

__all__ = ["optimizer_for", "stylize_optimized"]


def stylize_optimized(
    pipeline: Any,
    net: LossNetwork,
    content: Any,
    style: Any,
    init: str = "adain",
    options: OptimizeOptions | None = None,
    request: StylizeRequest | None = None,
    progress: bool = False,
) -> np.ndarray:
    """One request through the optimiser: ``init="adain"`` refines the pipeline's AdaIN output
    (the same as :meth:`~adain.pipeline.core.Pipeline.stylize` with the same ``request``),
    ``content`` or ``noise`` run the full method of Gatys et al. Returns ``(3, H, W)`` float32 in [0, 1].

    Colour: ``coral`` recolours the styles to the content before their statistics are taken;
    ``luminance`` keeps the content's chroma of the result.
    """
    from adain.pipeline.request import source_name

    options = (options or OptimizeOptions()).validate(net.layers)
    if init not in INITS:
        raise UsageError(f"init must be one of {', '.join(INITS)}, got {init!r}")
    r = request or StylizeRequest()
    styles = r.styles_of(style)
    if any(isinstance(s, tuple) for s in styles):
        raise UsageError("optimisation needs style images, not precomputed statistics")
    crop = r.crop
    x = pipeline.load(content, r.content_size, crop)
    h, w = x.shape[-2:]
    check_optimize_size(h, w, source_name(content))
    c = torch.from_numpy(x)
    style_imgs = [torch.from_numpy(pipeline.load(s, r.style_size, crop)) for s in styles]
    if r.preserve_color == "coral":
        style_imgs = [coral(s[0], c[0]).clamp(0, 1)[None] for s in style_imgs]
    m = None
    if r.masks is not None:
        m = torch.from_numpy(pipeline.load_masks(r.masks, len(styles), (h, w)))
    if init == "adain":  # exactly what adain-stylize makes (the content is already loaded and resized)
        adain_out = pipeline.stylize(x[0], styles, r, content_size=0)
        start: Tensor | str = torch.from_numpy(np.ascontiguousarray(adain_out))[None]
        if options.iterations == 0:
            return start[0].numpy()  # type: ignore[index]
    else:
        start = init
    result = optimize_image(net, c, style_imgs, start, options, r.weights, m, progress)
    out = result.image[0].cpu().numpy()
    return pipeline.finish(out, x[0], r.preserve_color)


def optimizer_for(
    pipeline: Any, heads: str, init: str, options: OptimizeOptions, request: StylizeRequest, progress: bool = False
) -> Callable[[Any, Any], np.ndarray]:
    """``(content, styles) →`` :func:`stylize_optimized` with the pipeline's loss network (built
    once, through its distillation heads per ``heads``) and ``options`` checked against it now."""
    from adain.methods.gatys.loss_network import loss_network_of_pipeline

    net = loss_network_of_pipeline(pipeline, heads)
    options.validate(net.layers)
    return lambda content, styles: stylize_optimized(pipeline, net, content, styles, init, options, request, progress)
