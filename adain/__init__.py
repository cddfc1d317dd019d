"""adain — arbitrary style transfer in real time with Adaptive Instance Normalization.

Huang & Belongie, "Arbitrary Style Transfer in Real-time with Adaptive Instance Normalization",
ICCV 2017. Layers, inside out: :mod:`adain.functional` / :mod:`adain.mixing` (maths),
:mod:`adain.encoder` / :mod:`adain.decoder` / :mod:`adain.model` (networks),
:mod:`adain.lit_module` / :mod:`adain.datamodule` / :mod:`adain.callbacks` (training),
:mod:`adain.runtime` (torch / OpenVINO / ONNX Runtime) → :mod:`adain.pipeline` (the one
stylization pipeline) → :mod:`adain.inference` (``Stylizer``, torch tensors), with
:mod:`adain.io`, :mod:`adain.weights`, :mod:`adain.tiling`, :mod:`adain.grids`, :mod:`adain.video`
(application), and :mod:`adain.cli` / :mod:`adain.train_cli` (shells).

Names are imported lazily (PEP 562), so ``import adain`` and the command-line fast path do not
import torch until something that needs it is used.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "Decoder": "decoder", "build_decoder": "decoder", "load_decoder_state_dict": "decoder",
    "ENCODERS": "encoder", "STAGES": "encoder", "Encoder": "encoder", "build_encoder": "encoder",
    "load_encoder_state_dict": "encoder",
    "AdainError": "errors", "ImageError": "errors", "UsageError": "errors", "WeightsError": "errors",
    "adain": "functional", "adain_from_stats": "functional", "blend_stats": "functional",
    "calc_mean_std": "functional", "normalize_weights": "functional",
    "Stylizer": "inference",
    "Pipeline": "pipeline",
    "list_images": "io", "load_image": "io", "save_image": "io",
    "AdaINNet": "model", "load_pretrained": "model",
    "MODELS": "weights", "WEIGHTS": "weights", "WeightSpec": "weights", "resolve_weights": "weights",
}

__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'adain' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
