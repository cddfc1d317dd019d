"""adain — arbitrary style transfer in real time with Adaptive Instance Normalization.

Huang & Belongie, "Arbitrary Style Transfer in Real-time with Adaptive Instance Normalization",
ICCV 2017. The package is its layers, each a subpackage whose imports point only down:

:mod:`adain.ops` (pure maths, gathered in :mod:`adain.functional`) → :mod:`adain.nets`
(``nn.Module``s) → :mod:`adain.weights` (registry, downloads, loaders) → :mod:`adain.runtime`
(torch / OpenVINO / ONNX Runtime) → :mod:`adain.pipeline` (the one stylization step) →
:mod:`adain.methods` (``Stylizer``, grids, video, Gatys optimisation, evaluation,
``Trainer.predict``) and :mod:`adain.studio` → :mod:`adain.training` (Lightning) → :mod:`adain.cli`
(the commands); :mod:`adain.io` and :mod:`adain.errors` serve every layer.

Names are imported lazily (PEP 562), so ``import adain`` and the command-line fast path do not
import torch until something that needs it is used.
"""

from __future__ import annotations

from adain._lazy import lazy_exports
from adain._version import __version__ as __version__

_EXPORTS = {  # submodule: the names it defines
    "nets.decoder": "Decoder build_decoder load_decoder_state_dict",
    "nets.encoder": "ENCODERS STAGES Encoder build_encoder load_encoder_state_dict",
    "nets.network": "AdaINNet",
    "errors": "AdainError ImageError UsageError WeightsError",
    "methods.stylizer": "Stylizer",
    "pipeline.core": "Pipeline",
    "pipeline.request": "StylizeRequest",
    "pipeline.spec": "ModelSpec",
    "runtime.config": "RunConfig",
    "io.files": "list_images",
    "io.images": "load_image save_image",
    "weights.loading": "load_pretrained",
    "weights.registry": "MODELS WEIGHTS WeightSpec",
    "weights.download": "resolve_weights",
}

__all__, __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals(), extra=("__version__",))
