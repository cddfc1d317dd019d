"""Pure maths of AdaIN, no state and no I/O (kornia-style functions): channel statistics and
adaptive instance normalisation (:mod:`~adain.ops.stats`), blends and the alpha mix without torch
(:mod:`~adain.ops.mixing`), masked statistics (:mod:`~adain.ops.masks`), colour preservation
(:mod:`~adain.ops.color`), losses (:mod:`~adain.ops.losses`) and multi-level codes
(:mod:`~adain.ops.levels`). :mod:`adain.ops` imports
them all at once.
"""

from __future__ import annotations

from adain._lazy import lazy_exports

_EXPORTS = {
    "DEFAULT_EPS": "mixing",
    "TensorStats": "stats",
    "adain": "stats",
    "adain_affine": "mixing",
    "adain_mix": "mixing",
    "adain_from_stats": "stats",
    "bilinear_weights": "stats",
    "blend_stats": "stats",
    "calc_mean_std": "stats",
    "check_alpha": "mixing",
    "code_stats": "mixing",
    "color_directions": "losses",
    "content_loss": "losses",
    "coral": "color",
    "gram_loss": "losses",
    "gram_matrix": "losses",
    "hinge_d_loss": "losses",
    "hinge_g_loss": "losses",
    "instance_normalize": "stats",
    "level_factors": "levels",
    "luminance_transfer": "color",
    "masked_adain": "masks",
    "masked_gram_matrix": "losses",
    "masked_mean_std": "masks",
    "mean_std_loss": "losses",
    "mix_alpha": "mixing",
    "mix_stats": "mixing",
    "normalize_weights": "mixing",
    "pack_levels": "levels",
    "packed_widths": "levels",
    "pad_to_multiple": "mixing",
    "resize_masks": "masks",
    "rgb_to_ycbcr": "color",
    "sliced_wasserstein": "losses",
    "total_variation": "losses",
    "unpack_levels": "levels",
    "ycbcr_to_rgb": "color",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
