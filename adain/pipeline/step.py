"""The maths of the one step around the networks: padding to the encoder's stride, and the AdaIN
target of a code (blends, masks, given content statistics) mixed with the code by alpha.

Arrays are float32 NumPy; torch is imported only by :func:`adain_target`, which the common request
(one graph call on a graph runtime) never reaches. :func:`pad_to_multiple` and :func:`code_stats`
are :mod:`adain.ops.mixing`'s (the int8 runtime uses them too).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from adain.ops.mixing import code_stats, pad_to_multiple
from adain.runtime.base import Stats

__all__ = ["adain_target", "code_stats", "pad_to_multiple"]


def adain_target(
    code: np.ndarray,
    stats: Sequence[Stats],
    weights: Sequence[float] | None = None,
    alpha: float = 1.0,
    content_stats: Stats | None = None,
    masks: np.ndarray | None = None,
) -> np.ndarray:
    """What the decoder receives: AdaIN of ``code`` to the (blended) style statistics, mixed with
    the code by ``alpha`` (paper Eq. 14).

    Args:
        code: ``(N, C, h, w)`` content code.
        stats: K styles' ``(mean, std)``.
        weights: blend weights of the K styles (``None``: equal).
        alpha: style strength in [0, 1].
        content_stats: content ``(mean, std)`` to normalise with instead of the code's own (tiles:
            the whole image's; video: a moving average).
        masks: ``(1 or N, K, H', W')`` soft masks (resized to the code): region k gets style k.
    """
    import torch

    from adain.ops.masks import masked_adain, resize_masks
    from adain.ops.mixing import mix_alpha
    from adain.ops.stats import blend_stats

    t = lambda a: torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))  # noqa: E731
    c = t(code)
    tstats = [(t(m), t(s)) for m, s in stats]
    if masks is not None:
        target = masked_adain(c, tstats, resize_masks(t(masks), tuple(c.shape[-2:])))
    else:
        cs = None if content_stats is None else (t(content_stats[0]), t(content_stats[1]))
        target = blend_stats(c, tstats, weights, content_stats=cs)
    return mix_alpha(target, c, alpha).numpy()
