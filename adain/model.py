"""The AdaIN network (encoder → AdaIN → decoder) and the registry of pretrained models.

``AdaINNet`` is a plain ``nn.Module`` that knows nothing about files, devices or Lightning:
the training layer (``lit_module.py``) and the application layer (``inference.py``) both use it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from torch import Tensor, nn

from . import functional as AF
from .decoder import Decoder, build_decoder, load_decoder_state_dict
from .encoder import Encoder, build_encoder, load_encoder_state_dict
from .errors import WeightsError
from .weights import load_state_dict_file, resolve_weights

__all__ = ["MODELS", "AdaINNet", "PretrainedModel", "Stats", "load_encoder", "load_pretrained"]

Stats = tuple[Tensor, Tensor]


class AdaINNet(nn.Module):
    """Frozen encoder + trainable decoder.

    Args:
        encoder: a frozen :class:`~adain.encoder.Encoder`.
        decoder: a :class:`~adain.decoder.Decoder` mirroring it (built if ``None``).
    """

    def __init__(self, encoder: Encoder, decoder: Decoder | None = None) -> None:
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder if decoder is not None else build_decoder(encoder)
        if self.decoder.in_channels != encoder.out_channels:
            raise ValueError(
                f"decoder takes {self.decoder.in_channels} channels, encoder gives {encoder.out_channels}"
            )

    @property
    def downsampling(self) -> int:
        """Total stride of the encoder (8 for relu4_1)."""
        return 2 ** (len(self.encoder.stages) - 1)

    def encode(self, images: Tensor) -> Tensor:
        """``(N, 3, H, W)`` → the deepest code ``(N, C, H/8, W/8)``."""
        return self.encoder.encode(images)

    def style_stats(self, style: Tensor) -> Stats:
        """Channel mean/std of the style's code, ``(N, C, 1, 1)`` each, float32."""
        return AF.calc_mean_std(self.encode(style))

    def transfer(
        self,
        code: Tensor,
        styles: Sequence[Stats],
        weights: Sequence[float] | None = None,
        alpha: float = 1.0,
        content_stats: Stats | None = None,
    ) -> Tensor:
        """AdaIN of a content code with one or several styles, blended with the code by ``alpha``."""
        target = AF.blend_stats(code, styles, weights, content_stats=content_stats)
        if alpha == 1.0:
            return target
        return alpha * target + (1.0 - alpha) * code.float()

    def decode(self, code: Tensor) -> Tensor:
        return self.decoder(code.to(next(self.decoder.parameters()).dtype))

    def forward(self, content: Tensor, style: Tensor, alpha: float = 1.0) -> Tensor:
        """Stylize a batch of contents with a batch (or one) of styles; output is unclamped."""
        return self.decode(self.transfer(self.encode(content), [self.style_stats(style)], alpha=alpha))


@dataclass(frozen=True)
class PretrainedModel:
    """A named pretrained model: which encoder, and where its weights come from.

    ``decoder_weights`` is a key of :data:`adain.weights.WEIGHTS` or, with ``packaged=True``, a
    file shipped inside the ``adain`` package (``adain/pretrained/``).
    """

    name: str
    encoder: str
    encoder_weights: str
    decoder_weights: str
    packaged: bool = False
    description: str = ""


MODELS: dict[str, PretrainedModel] = {
    m.name: m
    for m in (
        PretrainedModel(
            "canonical",
            "vgg19_normalised",
            "vgg_normalised",
            "adain_decoder",
            description="VGG-19 encoder + the decoder of the AdaIN authors (downloaded, 94 MB)",
        ),
        PretrainedModel(
            "small16x",
            "vgg19_small16x",
            "small16x_encoder",
            "small16x_decoder.pt",
            packaged=True,
            description="distilled VGG-19 (Collaborative Distillation) + our decoder (shipped, 1 MB)",
        ),
    )
}


def load_encoder(
    name: str,
    weights: str | os.PathLike[str] | None = None,
    registry_key: str | None = None,
    last_stage: str = "relu4_1",
    download: bool = True,
) -> tuple[Encoder, Path]:
    """Build encoder ``name`` and load its weights: explicit path → cache → download.

    Returns:
        The frozen encoder and the path its weights came from.
    """
    encoder = build_encoder(name, last_stage)

    def verify(p: Path) -> None:
        load_encoder_state_dict(encoder, load_state_dict_file(p), str(p))

    if weights is None and registry_key is None:
        raise WeightsError(f"encoder {name!r} needs a weights file (--encoder-weights PATH)")
    if weights is not None:
        path = Path(weights)
        if not path.is_file():
            raise WeightsError(f"{path}: weights file not found")
    else:
        path = resolve_weights(registry_key or "", download=download, verify=verify)
    verify(path)
    return encoder, path


def _packaged(filename: str) -> Path:
    path = Path(str(resources.files("adain") / "pretrained" / filename))
    if not path.is_file():
        raise WeightsError(f"{path}: packaged weights missing from the installation")
    return path


def load_pretrained(
    name: str = "canonical",
    encoder_weights: str | os.PathLike[str] | None = None,
    decoder_weights: str | os.PathLike[str] | None = None,
    download: bool = True,
) -> AdaINNet:
    """Build a pretrained :class:`AdaINNet` (on the CPU, eval mode).

    Args:
        name: a key of :data:`MODELS`.
        encoder_weights: explicit encoder file (else cache, else download).
        decoder_weights: explicit decoder file (else packaged/cache/download).
        download: allow downloads of missing files.
    """
    if name not in MODELS:
        raise WeightsError(f"unknown model {name!r}; choose from {sorted(MODELS)}")
    card = MODELS[name]
    encoder, _ = load_encoder(card.encoder, encoder_weights, card.encoder_weights, download=download)
    decoder = build_decoder(encoder)

    def verify(p: Path) -> None:
        load_decoder_state_dict(decoder, load_state_dict_file(p), str(p))

    if decoder_weights is not None:
        path = Path(decoder_weights)
        if not path.is_file():
            raise WeightsError(f"{path}: weights file not found")
    elif card.packaged:
        path = _packaged(card.decoder_weights)
    else:
        path = resolve_weights(card.decoder_weights, None, download=download, verify=verify)
    verify(path)
    return AdaINNet(encoder, decoder.float()).eval()
