"""Pure maths of AdaIN, no state and no I/O (kornia-style functions): channel statistics and
adaptive instance normalisation (:mod:`~adain.ops.stats`), blends and the alpha mix without torch
(:mod:`~adain.ops.mixing`), masked statistics (:mod:`~adain.ops.masks`), colour preservation
(:mod:`~adain.ops.color`), losses (:mod:`~adain.ops.losses`) and multi-level codes
(:mod:`~adain.ops.levels`). :mod:`adain.ops` imports
them all at once.
"""

from __future__ import annotations

from adain._lazy import lazy_exports

_EXPORTS = {  # submodule: the names it defines
    "mixing": (
        "DEFAULT_EPS adain_affine adain_mix check_alpha code_stats mix_alpha mix_stats normalize_weights "
        "pad_to_multiple"
    ),
    "stats": "TensorStats adain adain_from_stats bilinear_weights blend_stats calc_mean_std instance_normalize",
    "losses": (
        "color_directions content_loss gram_loss gram_matrix hinge_d_loss hinge_g_loss masked_gram_matrix "
        "mean_std_loss sliced_wasserstein total_variation"
    ),
    "color": "coral luminance_transfer rgb_to_ycbcr ycbcr_to_rgb",
    "levels": "level_factors pack_levels packed_widths unpack_levels",
    "masks": "masked_adain masked_mean_std resize_masks",
}
__all__, __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
