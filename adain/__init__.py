"""adain — arbitrary style transfer in real time with Adaptive Instance Normalization.

Huang & Belongie, "Arbitrary Style Transfer in Real-time with Adaptive Instance Normalization",
ICCV 2017. The package is its layers, each a subpackage whose imports point only down:

:mod:`adain.ops` (pure maths) → :mod:`adain.nets` (``nn.Module``s) → :mod:`adain.weights`
(registry, downloads, loaders) → :mod:`adain.runtime` (torch / OpenVINO / ONNX Runtime) →
:mod:`adain.pipeline` (the one stylization step) → :mod:`adain.methods` (``Stylizer``, grids,
video, Gatys optimisation, evaluation, ``Trainer.predict``) → :mod:`adain.training` (Lightning) →
:mod:`adain.cli` (the commands and the studio); :mod:`adain.io` and :mod:`adain.errors` serve
every layer.

Names are imported lazily (PEP 562), so ``import adain`` and the command-line fast path do not
import torch until something that needs it is used.
"""

from __future__ import annotations

from adain._lazy import lazy_exports
from adain._version import __version__ as __version__

_EXPORTS = {
    "Decoder": "nets.decoder",
    "build_decoder": "nets.decoder",
    "load_decoder_state_dict": "nets.decoder",
    "ENCODERS": "nets.encoder",
    "STAGES": "nets.encoder",
    "Encoder": "nets.encoder",
    "build_encoder": "nets.encoder",
    "load_encoder_state_dict": "nets.encoder",
    "AdaINNet": "nets.network",
    "AdainError": "errors",
    "ImageError": "errors",
    "UsageError": "errors",
    "WeightsError": "errors",
    "adain": "ops.stats",
    "adain_from_stats": "ops.stats",
    "blend_stats": "ops.stats",
    "calc_mean_std": "ops.stats",
    "normalize_weights": "ops.mixing",
    "Stylizer": "methods.stylizer",
    "Pipeline": "pipeline.core",
    "list_images": "io.files",
    "load_image": "io.images",
    "save_image": "io.images",
    "load_pretrained": "weights.loading",
    "MODELS": "weights.registry",
    "WEIGHTS": "weights.registry",
    "WeightSpec": "weights.registry",
    "resolve_weights": "weights.download",
}

__all__ = sorted([*_EXPORTS, "__version__"])
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
