"""Networks: plain ``nn.Module``s that know nothing of Lightning or files. The frozen VGG-19
encoders addressed by stage name (:mod:`~adain.nets.encoder`), the decoder that mirrors them
(:mod:`~adain.nets.decoder`), the AdaIN network (:mod:`~adain.nets.network`), the PatchGAN
discriminator of the optional adversarial loss, and the one strict state-dict check
(:mod:`~adain.nets.state_dict`)."""

from __future__ import annotations

from adain.nets.decoder import (
    Decoder,
    build_decoder,
    decoder_widths_of,
    load_decoder,
    load_decoder_state_dict,
    widen_decoder,
)
from adain.nets.discriminator import PatchDiscriminator
from adain.nets.encoder import (
    ENCODERS,
    STAGES,
    AuxHeads,
    Encoder,
    EncoderSpec,
    build_encoder,
    load_encoder_state_dict,
)
from adain.nets.network import AdaINNet

__all__ = [
    "ENCODERS",
    "STAGES",
    "AdaINNet",
    "AuxHeads",
    "Decoder",
    "Encoder",
    "EncoderSpec",
    "PatchDiscriminator",
    "build_decoder",
    "build_encoder",
    "decoder_widths_of",
    "load_decoder",
    "load_decoder_state_dict",
    "load_encoder_state_dict",
    "widen_decoder",
]
