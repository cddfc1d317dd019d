"""adain — arbitrary style transfer in real time with Adaptive Instance Normalization.

Huang & Belongie, "Arbitrary Style Transfer in Real-time with Adaptive Instance Normalization",
ICCV 2017. Layers, inside out: :mod:`adain.functional` (pure tensor maths),
:mod:`adain.encoder` / :mod:`adain.decoder` / :mod:`adain.model` (networks),
:mod:`adain.lit_module` / :mod:`adain.datamodule` / :mod:`adain.callbacks` (training),
:mod:`adain.inference` / :mod:`adain.io` / :mod:`adain.weights` (application),
:mod:`adain.cli` / :mod:`adain.train_cli` (shells).
"""

from .decoder import Decoder, build_decoder, load_decoder_state_dict
from .encoder import ENCODERS, STAGES, Encoder, build_encoder, load_encoder_state_dict
from .errors import AdainError, ImageError, WeightsError
from .functional import adain, adain_from_stats, blend_stats, calc_mean_std, normalize_weights
from .inference import Stylizer
from .io import list_images, load_image, save_image
from .model import MODELS, AdaINNet, load_pretrained
from .weights import WEIGHTS, WeightSpec, resolve_weights

__version__ = "0.1.0"

__all__ = [
    "ENCODERS",
    "MODELS",
    "STAGES",
    "WEIGHTS",
    "AdaINNet",
    "AdainError",
    "Decoder",
    "Encoder",
    "ImageError",
    "Stylizer",
    "WeightSpec",
    "WeightsError",
    "__version__",
    "adain",
    "adain_from_stats",
    "blend_stats",
    "build_decoder",
    "build_encoder",
    "calc_mean_std",
    "list_images",
    "load_decoder_state_dict",
    "load_encoder_state_dict",
    "load_image",
    "load_pretrained",
    "normalize_weights",
    "resolve_weights",
    "save_image",
]
