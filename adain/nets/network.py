"""The AdaIN network: frozen encoder -> AdaIN -> trainable decoder, a plain ``nn.Module`` that knows
nothing about files, devices or Lightning (the training layer and the runtimes both use it).
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from adain.nets.decoder import Decoder, build_decoder
from adain.nets.encoder import Encoder
from adain.ops.mixing import mix_alpha
from adain.ops.stats import TensorStats, blend_stats, calc_mean_std

__all__ = ["AdaINNet"]


class AdaINNet(nn.Module):
    """Frozen encoder + trainable decoder.

    Args:
        encoder: a frozen :class:`~adain.nets.encoder.Encoder`.
        decoder: a :class:`~adain.nets.decoder.Decoder` mirroring it (built if ``None``).
    """

    def __init__(self, encoder: Encoder, decoder: Decoder | None = None) -> None:
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder if decoder is not None else build_decoder(encoder)
        if self.decoder.in_channels != encoder.out_channels:
            raise ValueError(f"decoder takes {self.decoder.in_channels} channels, encoder gives {encoder.out_channels}")

    @property
    def downsampling(self) -> int:
        """Total stride of the encoder (8 for relu4_1)."""
        return 2 ** (len(self.encoder.stages) - 1)

    def encode(self, images: Tensor) -> Tensor:
        """``(N, 3, H, W)`` → the deepest code ``(N, C, H/8, W/8)``."""
        return self.encoder.encode(images)

    def style_stats(self, style: Tensor) -> TensorStats:
        """Channel mean/std of the style's code, ``(N, C, 1, 1)`` each, float32."""
        return calc_mean_std(self.encode(style))

    def transfer(
        self,
        code: Tensor,
        styles: Sequence[TensorStats],
        weights: Sequence[float] | None = None,
        alpha: float = 1.0,
        content_stats: TensorStats | None = None,
    ) -> Tensor:
        """AdaIN of a content code with one or several styles, blended with the code by ``alpha``."""
        target = blend_stats(code, styles, weights, content_stats=content_stats)
        return mix_alpha(target, code.float(), alpha)

    def decode(self, code: Tensor) -> Tensor:
        return self.decoder(code.to(next(self.decoder.parameters()).dtype))

    def forward(self, content: Tensor, style: Tensor, alpha: float = 1.0) -> Tensor:
        """Stylize a batch of contents with a batch (or one) of styles; output is unclamped."""
        return self.decode(self.transfer(self.encode(content), [self.style_stats(style)], alpha=alpha))
