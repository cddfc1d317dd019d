"""The AdaIN network (encoder → AdaIN → decoder) and the registry of pretrained models.

``AdaINNet`` is a plain ``nn.Module`` that knows nothing about files, devices or Lightning:
the training layer (``lit_module.py``) and the application layer (``inference.py``) both use it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from torch import Tensor, nn

from . import functional as AF
from .decoder import Decoder, build_decoder, load_decoder
from .encoder import Encoder, build_encoder, load_encoder_state_dict
from .errors import WeightsError
from .mixing import mix_alpha
from .weights import MODELS, PretrainedModel, choose_model, load_state_dict_file, model_files, resolve_weights

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
        return mix_alpha(target, code.float(), alpha)

    def decode(self, code: Tensor) -> Tensor:
        return self.decoder(code.to(next(self.decoder.parameters()).dtype))

    def forward(self, content: Tensor, style: Tensor, alpha: float = 1.0) -> Tensor:
        """Stylize a batch of contents with a batch (or one) of styles; output is unclamped."""
        return self.decode(self.transfer(self.encode(content), [self.style_stats(style)], alpha=alpha))


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
    encoder.weights_path = str(path)
    return encoder, path


def load_pretrained(
    name: str = "canonical",
    encoder_weights: str | os.PathLike[str] | None = None,
    decoder_weights: str | os.PathLike[str] | None = None,
    download: bool = True,
    weights_check: str = "warn",
) -> AdaINNet:
    """Build a pretrained :class:`AdaINNet` (on the CPU, eval mode).

    Args:
        name: a key of :data:`MODELS` or ``auto`` (see :func:`adain.weights.choose_model`).
        encoder_weights: explicit encoder file (else packaged, cache, download).
        decoder_weights: explicit decoder file (else packaged, cache, download).
        download: allow downloads of missing files.
        weights_check: an explicit encoder file that is not the registered one: ``warn``,
            ``strict`` (refuse) or ``off`` (see :func:`adain.weights.model_files`).
    """
    card = MODELS[choose_model(name, encoder_weights is not None or decoder_weights is not None)[0]]
    encoder = build_encoder(card.encoder)
    decoders: list[Decoder] = []

    def check_encoder(p: Path) -> None:
        load_encoder_state_dict(encoder, load_state_dict_file(p), str(p))

    def check_decoder(p: Path) -> None:  # widths as stored (the encoder's mirror or wider)
        decoders.append(load_decoder(encoder, load_state_dict_file(p), str(p)))

    enc_path, dec_path = model_files(card.name, encoder_weights, decoder_weights, download=download,
                                     verify_encoder=check_encoder, verify_decoder=check_decoder,
                                     weights_check=weights_check)
    check_encoder(enc_path)
    check_decoder(dec_path)
    encoder.weights_path = str(enc_path)
    return AdaINNet(encoder, decoders[-1].float()).eval()
