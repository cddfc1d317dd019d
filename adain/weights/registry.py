"""The registry of named weights files and pretrained models (timm's ``_registry`` + ``PretrainedCfg``).

:data:`WEIGHTS` holds one :class:`WeightSpec` per file (where it downloads from, its size and
sha256, or the copy shipped in the package), :data:`ENCODER_WEIGHTS` each encoder's default
file, and :data:`MODELS` one :class:`PretrainedModel` per named model, whose files are always
keys of :data:`WEIGHTS`. No torch, no network.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from adain.errors import WeightsError

__all__ = [
    "BEST_MODEL",
    "BUILTIN_MODEL",
    "ENCODER_WEIGHTS",
    "MODELS",
    "PretrainedModel",
    "WEIGHTS",
    "WeightSpec",
    "cache_dir",
    "HUB_ID",
    "MODEL_CONFIG",
    "choose_model",
    "is_model_ref",
    "is_cached",
    "packaged_file",
]


@dataclass(frozen=True)
class WeightSpec:
    """One downloadable weights file.

    Attributes:
        name: registry key.
        url: where real users download it from (``None``: only shipped in the package).
        filename: name in the cache.
        size: expected size in bytes, when known.
        sha256: expected sha256 hex digest, when published.
        flag: the CLI flag that supplies the file by hand (for error messages).
        packaged: path of a copy shipped in ``adain/pretrained/`` (used before cache and download);
            a shipped model folder's ``model.safetensors`` holds the encoder and the decoder at once
            (``encoder.*``, ``decoder.*``), and each loader takes its part.
        packaged_sha256: sha256 of the shipped copy (a damaged installation is refused).
    """

    name: str
    url: str | None
    filename: str
    size: int | None = None
    sha256: str | None = None
    flag: str = "--encoder-weights"
    packaged: str | None = None
    packaged_sha256: str | None = None


_ADAIN_RELEASE = "https://github.com/naoto0804/pytorch-AdaIN/releases/download/v0.0.0"
#: ``adain/pretrained/small16x/model.safetensors``: the built-in model (encoder + decoder)
_SMALL16X_FOLDER_SHA256 = "5e8546f0291bac335fbb09acabcd54c3bfa891527ed1ff8797cca2b3808c1492"
#: ``adain/pretrained/small16x_skip/model.safetensors``: the multi-level decoder (its encoder is the
#: registered ``small16x_encoder``, i.e. the tensors of the built-in folder above)
_SMALL16X_SKIP_SHA256 = "6c5c6e98f3f24d2dd50121b8da1afc3bf54311f6c594c0a1c3c724d5a84f170a"
#: ``adain/pretrained/small16x_vgg/model.safetensors``: the same architecture, trained further against
#: the genuine normalised VGG-19's statistics (relu1_1-relu3_1)
_SMALL16X_VGG_SHA256 = "c673ff42bfb0f227348c23cdc46077cfa9d7c90d6ec253fff54e93f836a207c8"


WEIGHTS: dict[str, WeightSpec] = {
    spec.name: spec
    for spec in (
        WeightSpec(
            "vgg_normalised",
            f"{_ADAIN_RELEASE}/vgg_normalised.pth",
            "vgg_normalised.pth",
            size=80_102_481,
            sha256="804ca2835ecf7539f0cd2a7ac3c18ce81e6f8468969ae7117ac0c148d286bb4a",
        ),
        WeightSpec(
            "adain_decoder",
            f"{_ADAIN_RELEASE}/decoder.pth",
            "decoder.pth",
            flag="--decoder-weights",
        ),
        WeightSpec(
            "vgg19_imagenet",
            "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth",
            "vgg19-dcbb9e9d.pth",
            size=574_673_361,
        ),
        WeightSpec(
            "small16x_encoder",
            "https://github.com/MingSun-Tse/Collaborative-Distillation/raw/master/"
            "trained_models/wct_se_16x_new/20191110-132643_E20.pth",
            "cd16x_4SE_20191110-132643_E20.pth",
            size=1_235_183,
            sha256="d2f059cbcd6669556a43aadef58d20c8b280462c18b60a9e7424a14dd271cd6b",
            packaged="small16x/model.safetensors",  # the same tensors (and heads), converted: no pickle
            packaged_sha256=_SMALL16X_FOLDER_SHA256,
        ),
        WeightSpec(
            "small16x_decoder",
            None,
            "small16x_decoder.safetensors",
            flag="--decoder-weights",
            packaged="small16x/model.safetensors",
            packaged_sha256=_SMALL16X_FOLDER_SHA256,
        ),
        WeightSpec(
            "small16x_skip_decoder",
            None,
            "small16x_skip_decoder.safetensors",
            flag="--decoder-weights",
            packaged="small16x_skip/model.safetensors",
            packaged_sha256=_SMALL16X_SKIP_SHA256,
        ),
        WeightSpec(
            "small16x_vgg_decoder",
            None,
            "small16x_vgg_decoder.safetensors",
            flag="--decoder-weights",
            packaged="small16x_vgg/model.safetensors",
            packaged_sha256=_SMALL16X_VGG_SHA256,
        ),
    )
}


def cache_dir() -> Path:
    """``$ADAIN_HOME``, else ``$XDG_CACHE_HOME/adain``, else ``~/.cache/adain``.

    Raises:
        WeightsError: the folder names a home that does not exist (``~nouser/x``).
    """
    name = "ADAIN_HOME" if os.environ.get("ADAIN_HOME") else "XDG_CACHE_HOME"
    try:
        if os.environ.get("ADAIN_HOME"):
            return Path(os.environ["ADAIN_HOME"]).expanduser()
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        return Path(base).expanduser() / "adain"
    except RuntimeError:  # expanduser/home of an unknown user, or no HOME at all
        where = os.environ.get(name) or "~"
        raise WeightsError(f"{name}={where}: its home folder cannot be determined; set {name} to a full path") from None


# ----------------------------------------------------------------------------- named models
#: registry key of each encoder's default weights
ENCODER_WEIGHTS: dict[str, str] = {
    "vgg19_normalised": "vgg_normalised",
    "vgg19_imagenet": "vgg19_imagenet",
    "vgg19_small16x": "small16x_encoder",
}


@dataclass(frozen=True)
class PretrainedModel:
    """A named pretrained model: which encoder, and where its weights come from.

    ``encoder_weights``/``decoder_weights`` are keys of :data:`WEIGHTS`; a model whose files are
    all shipped inside the package (:attr:`packaged`) needs no download. ``folder``: the model
    folder (:mod:`adain.weights.folder`) shipped in ``adain/pretrained/`` that *is* the model, when
    it is built in (then its two keys name parts of that folder's ``model.safetensors``).
    """

    name: str
    encoder: str
    encoder_weights: str
    decoder_weights: str
    description: str = ""
    folder: str | None = None

    @property
    def files(self) -> tuple[WeightSpec, WeightSpec]:
        """The encoder's and the decoder's :class:`WeightSpec`."""
        return WEIGHTS[self.encoder_weights], WEIGHTS[self.decoder_weights]

    @property
    def packaged(self) -> bool:
        """Every file ships inside the package (works offline)."""
        return all(spec.packaged is not None for spec in self.files)


MODELS: dict[str, PretrainedModel] = {
    m.name: m
    for m in (
        PretrainedModel(
            "canonical",
            "vgg19_normalised",
            "vgg_normalised",
            "adain_decoder",
            description="VGG-19 encoder + the decoder of the AdaIN authors (downloaded once, 94 MB)",
        ),
        PretrainedModel(
            "small16x",
            "vgg19_small16x",
            "small16x_encoder",
            "small16x_decoder",
            description="distilled VGG-19 (Collaborative Distillation) + our decoder (built in, 1.7 MB)",
            folder="small16x",
        ),
        PretrainedModel(
            "small16x-skip",
            "vgg19_small16x",
            "small16x_encoder",
            "small16x_skip_decoder",
            description="small16x with AdaIN also at relu1_1-relu3_1 (skip connections): stronger style, "
            "1.3-1.7x the time (built in, +0.45 MB)",
            folder="small16x_skip",
        ),
        PretrainedModel(
            "small16x-vgg",
            "vgg19_small16x",
            "small16x_encoder",
            "small16x_vgg_decoder",
            description="small16x-skip trained against the genuine VGG-19's style statistics: bolder texture, "
            "the same speed (built in, +0.45 MB)",
            folder="small16x_vgg",
        ),
    )
}


#: what ``--model auto`` picks between: the best model when cached, else the built-in one
BEST_MODEL, BUILTIN_MODEL = "canonical", "small16x-vgg"


def packaged_file(filename: str) -> Path:
    """A weights file (or, for a model's ``folder``, a model folder) shipped in ``adain/pretrained/``."""
    path = Path(str(resources.files("adain") / "pretrained")).joinpath(*filename.split("/"))
    if not path.exists():
        raise WeightsError(f"{path}: packaged weights missing from the installation")
    return path


def is_cached(model: str) -> bool:
    """Whether every file of ``model`` is available without a download."""
    return all(spec.packaged is not None or (cache_dir() / spec.filename).is_file() for spec in MODELS[model].files)


#: the file that makes a folder a model folder (:mod:`adain.weights.folder`)
MODEL_CONFIG = "config.json"
#: a model on the Hugging Face Hub: ``owner/name`` or ``owner/name@revision`` (branch, tag, commit)
HUB_ID = re.compile(r"^(?P<repo>[A-Za-z0-9][\w.-]*/[\w.-]+)(?:@(?P<rev>[\w./-]+))?$")


def is_model_ref(ref: str) -> bool:
    """Whether ``ref`` names a model outside the registry: a folder on disk, or a Hub id."""
    p = Path(ref).expanduser()
    return p.is_dir() or (HUB_ID.match(ref) is not None and not p.exists())


def choose_model(name: str, explicit_weights: bool = False) -> tuple[str, str | None]:
    """Resolve ``auto``: the canonical model when its files are cached (or weights files are given
    explicitly, which name the canonical architecture), else the built-in model. A model folder or
    a Hub id (:func:`is_model_ref`) is returned as it is.

    Returns:
        The model name and, for ``auto``, one line saying which model runs and how to get the other.
    """
    if name != "auto":
        if name not in MODELS and not is_model_ref(name):
            raise WeightsError(
                f"unknown model {name!r}; choose from auto, {', '.join(sorted(MODELS))}, "
                "a model folder or a Hub id (owner/name)"
            )
        return name, None
    if explicit_weights:
        return BEST_MODEL, None
    if is_cached(BEST_MODEL):
        return BEST_MODEL, f"model: {BEST_MODEL} (cached); --model {BUILTIN_MODEL} runs the small built-in model"
    return BUILTIN_MODEL, (
        f"model: {BUILTIN_MODEL} (built in, works offline); for the full VGG-19 model run "
        f"`python -m adain.weights download {BEST_MODEL}` once (94 MB) or pass --model {BEST_MODEL}"
    )
