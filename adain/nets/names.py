"""The architectures' names, without torch: the stages every encoder is addressed by and the
encoders this package builds (:mod:`adain.nets.encoder` defines them; a test keeps both in step)."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["ENCODER_NAMES", "ENCODER_WIDTHS", "STAGES", "activation_bytes_per_pixel", "model_bytes_per_pixel"]

#: the feature stages, shallow to deep (AdaIN's code is the last one)
STAGES: tuple[str, ...] = ("relu1_1", "relu2_1", "relu3_1", "relu4_1")
#: every encoder :func:`adain.nets.encoder.build_encoder` builds
ENCODER_NAMES: tuple[str, ...] = ("vgg19_imagenet", "vgg19_normalised", "vgg19_small16x")
#: channels at relu1_1 … relu4_1 of each encoder (its mirror decoder's default widths)
ENCODER_WIDTHS: dict[str, tuple[int, ...]] = {
    "vgg19_imagenet": (64, 128, 256, 512),
    "vgg19_normalised": (64, 128, 256, 512),
    "vgg19_small16x": (16, 32, 64, 128),
}


def activation_bytes_per_pixel(widths: Sequence[int]) -> int:
    """Peak memory of one forward pass (encoder + decoder, fp32) per input pixel, from the widths
    at each level (level ``l`` holds ``widths[l]`` channels on ``1/4**l`` of the pixels).

    Two full-resolution activations of each level alive at once (a conv's input and output) plus
    the input and output images: measured peak RSS per pixel at 1–4 MP, 2 CPU cores, was 190–260 B
    for small16x (estimate 264) and 570–870 B for the VGG-19 architecture (estimate 984), on
    OpenVINO and torch (``benchmarks/bench_memory.py``). An upper estimate, so tiles sized from
    it stay inside their budget.
    """
    return 24 + int(sum(8 * c / 4**level for level, c in enumerate(widths)))


def model_bytes_per_pixel(
    encoder: str, decoder_widths: Sequence[int] | None = None, decoder_skips: Sequence[str] = ()
) -> int:
    """:func:`activation_bytes_per_pixel` of a model: per level, the wider of encoder and decoder;
    a multi-level code (``decoder_skips``) adds three float32 copies of each skip level (the
    packed code, its AdaIN, the decoder's unpacked input)."""
    enc = ENCODER_WIDTHS.get(encoder, ENCODER_WIDTHS["vgg19_normalised"])
    dec = list(decoder_widths or enc)
    skips = sum(12 * enc[STAGES.index(s)] / 4 ** STAGES.index(s) for s in decoder_skips if s in STAGES)
    return activation_bytes_per_pixel([max(e, d) for e, d in zip(enc, dec)] + list(enc[len(dec) :])) + int(skips)
