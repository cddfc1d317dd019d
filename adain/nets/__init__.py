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

_EXPORTS = {  # submodule: the names it defines
    "encoder": "ENCODERS AuxHeads Encoder EncoderSpec build_encoder load_encoder_state_dict",
    "names": "ENCODER_NAMES STAGES",
    "network": "AdaINNet",
    "decoder": "Decoder build_decoder decoder_widths_of load_decoder load_decoder_state_dict widen_decoder",
    "discriminator": "PatchDiscriminator",
}
__all__, __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
