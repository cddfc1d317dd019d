"""The AdaIN network: frozen encoder -> AdaIN -> trainable decoder, a plain ``nn.Module`` that knows
nothing about files, devices or Lightning (the training layer and the runtimes both use it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import Tensor, nn

from adain.nets.decoder import Decoder, build_decoder
from adain.nets.encoder import Encoder
from adain.ops.levels import level_adain_mix, level_factors, level_stats, pack_levels
from adain.ops.mixing import mix_alpha, pad_to_multiple
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
        same_depth = len(self.decoder.widths) == len(encoder.stages)
        widths = tuple(encoder.channels[encoder.stages[b]] for b in self.decoder.levels) if same_depth else ()
        if widths != self.decoder.level_widths:
            raise ValueError(
                f"decoder reads levels {list(self.decoder.levels)} of widths {list(self.decoder.level_widths)}, "
                f"the encoder gives {list(widths)}"
            )

    @property
    def downsampling(self) -> int:
        """Total stride of the encoder (8 for relu4_1)."""
        return 2 ** (len(self.encoder.stages) - 1)

    @property
    def code_stages(self) -> tuple[str, ...]:
        """The encoder stages the code holds: the deepest, and the decoder's skip levels before it."""
        return tuple(self.encoder.stages[b] for b in self.decoder.levels)

    def code_of(self, features: Mapping[str, Tensor]) -> Tensor:
        """The code of encoder ``features`` (holding at least :attr:`code_stages`): the deepest
        level, or every level packed onto its grid (:func:`~adain.ops.levels.pack_levels`)."""
        stages = self.code_stages
        if len(stages) == 1:
            return features[stages[0]]
        return pack_levels([features[s] for s in stages], self.decoder.levels)

    def deepest(self, code: Tensor) -> Tensor:
        """The relu4_1 part of a code (the content loss's target)."""
        if len(self.decoder.levels) == 1:
            return code
        return code[:, code.shape[1] - self.encoder.out_channels :]

    def encode(self, images: Tensor) -> Tensor:
        """``(N, 3, H, W)`` → the code ``(N, C, H/8, W/8)``: relu4_1, with the decoder's skip levels
        packed in front of it (then H and W must be multiples of :attr:`downsampling`: the
        pipeline pads them; :meth:`forward` and :meth:`style_stats` pad by themselves).

        Raises:
            ValueError: a multi-level code of an image whose size does not pack.
        """
        if len(self.code_stages) == 1:
            return self.encoder.encode(images)
        d = self.downsampling
        if images.shape[-2] % d or images.shape[-1] % d:
            raise ValueError(
                f"a multi-level code needs image sides that are multiples of {d}, got {tuple(images.shape[-2:])} "
                "(pad first, e.g. adain.ops.mixing.pad_to_multiple)"
            )
        return self.code_of(self.encoder(images, self.code_stages))

    def _padded(self, images: Tensor) -> Tensor:
        """A multi-level code's input padded to the packing's multiple (a one-level code takes any size)."""
        return images if len(self.code_stages) == 1 else pad_to_multiple(images, self.downsampling)

    def style_stats(self, style: Tensor) -> TensorStats:
        """Channel mean/std of the style's code, ``(N, C, 1, 1)`` each, float32 (for a multi-level
        code computed level by level, without packing)."""
        if len(self.code_stages) == 1:
            return calc_mean_std(self.encode(style))
        feats = self.encoder(self._padded(style), self.code_stages)
        stats = [level_stats(feats[s], f) for s, f in zip(self.code_stages, level_factors(self.decoder.levels))]
        return torch.cat([m for m, _ in stats], dim=1), torch.cat([s for _, s in stats], dim=1)

    def stylize(self, images: Tensor, mean: Tensor, std: Tensor, alpha: float | Tensor = 1.0) -> Tensor:
        """Encode, AdaIN to the target statistics ``(N or 1, C, 1, 1)``, mix by ``alpha``, decode:
        ``decode(transfer(encode(x)))`` in one pass; a multi-level code is never packed (each
        level is mixed in its own layout), which saves the copies of the full-resolution levels."""
        if len(self.code_stages) == 1:
            return self.decode(level_adain_mix(self.encode(images), mean, std, 1, alpha))
        feats = self.encoder(images, self.code_stages)
        levels, start = [], 0
        for stage, f in zip(self.code_stages, level_factors(self.decoder.levels)):
            x = feats[stage]
            k = x.shape[1] * f * f
            levels.append(level_adain_mix(x, mean[:, start : start + k], std[:, start : start + k], f, alpha))
            start += k
        return self.decoder.decode_levels([lv.to(self._decoder_dtype) for lv in levels])

    @property
    def _decoder_dtype(self) -> torch.dtype:
        return next(self.decoder.parameters()).dtype

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
        return self.decoder(code.to(self._decoder_dtype))

    def forward(self, content: Tensor, style: Tensor, alpha: float = 1.0) -> Tensor:
        """Stylize a batch of contents with a batch (or one) of styles; output is unclamped."""
        h, w = content.shape[-2:]
        out = self.decode(self.transfer(self.encode(self._padded(content)), [self.style_stats(style)], alpha=alpha))
        return out[..., :h, :w] if out.shape[-2:] != (h, w) else out
