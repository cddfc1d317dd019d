"""Networks: plain ``nn.Module``s that know nothing of Lightning or files. The frozen VGG-19
encoders addressed by stage name (:mod:`~adain.nets.encoder`), the decoder that mirrors them
(:mod:`~adain.nets.decoder`), the AdaIN network (:mod:`~adain.nets.network`), the PatchGAN
discriminator of the optional adversarial loss, and the one strict state-dict check
(:mod:`~adain.nets.state_dict`). The architectures' names (:mod:`~adain.nets.names`) need no
torch, so configuration files are checked on the command line's fast path; everything else is
imported on first use.
"""

from __future__ import annotations

from adain._lazy import lazy_exports

_EXPORTS = {
    "ENCODERS": "encoder",
    "ENCODER_NAMES": "names",
    "STAGES": "names",
    "AdaINNet": "network",
    "AuxHeads": "encoder",
    "Decoder": "decoder",
    "Encoder": "encoder",
    "EncoderSpec": "encoder",
    "PatchDiscriminator": "discriminator",
    "build_decoder": "decoder",
    "build_encoder": "encoder",
    "decoder_widths_of": "decoder",
    "load_decoder": "decoder",
    "load_decoder_state_dict": "decoder",
    "load_encoder_state_dict": "encoder",
    "widen_decoder": "decoder",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
