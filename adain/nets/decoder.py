"""The AdaIN decoder: a mirror of the encoder that maps the relu{k}_1 code back to RGB.

As in Huang & Belongie (2017, Sec. 6.1): reflection padding, 3×3 convs + ReLU, nearest-neighbour
×2 upsampling instead of pooling, no normalisation layers, no final activation. Widths are
derived from the encoder, so the same class serves the canonical VGG-19 (512→…→3, 3.5 M
parameters) and the distilled small16x encoder (128→…→3).

With ``skips`` the decoder also reads shallower levels (relu1_1 … relu3_1), packed with the
relu4_1 code into one tensor (:mod:`adain.ops.levels`) so that AdaIN, blends, alpha and masks
treat every level alike; each enters after the upsampling into its resolution through a 1×1
conv that starts at zero (a trained decoder with new skips computes exactly what it did).

``state_dict`` keys follow the public ``decoder.pth`` (an ``nn.Sequential``: ``1``, ``5``, ``8``
…); reflection padding is folded into each conv and the padding slots are ``nn.Identity``.
:func:`load_decoder_state_dict` also reads Collaborative-Distillation decoders (``conv41`` …
``conv11`` keys) by mapping them in order.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Mapping

import torch
from torch import Tensor, nn

from adain.errors import ArchitectureError
from adain.nets.encoder import Encoder, EncoderSpec
from adain.nets.state_dict import load_strict
from adain.ops.levels import packed_widths, unpack_levels

__all__ = [
    "Decoder",
    "add_skips",
    "build_decoder",
    "decoder_skips_of",
    "decoder_widths_of",
    "load_decoder",
    "load_decoder_state_dict",
    "widen_decoder",
]


class Decoder(nn.Sequential):
    """Mirror of a VGG-like encoder; input ``(N, C_code, h, w)``, output ``(N, 3, h·2^k, w·2^k)``.

    Args:
        widths: channels of each block, shallow to deep (e.g. 64, 128, 256, 512); the last is the
            code's width. The encoder's widths give its mirror; wider shallow blocks give a
            decoder with more capacity where it paints texture (``build_decoder(widths=…)``).
        convs: encoder convs per block (VGG-19: 2, 2, 4, 1; the last block counts one).
    """

    def __init__(
        self,
        widths: tuple[int, ...],
        convs: tuple[int, ...],
        skips: Mapping[int, int] | None = None,
    ) -> None:
        if len(widths) != len(convs) or not widths:
            raise ValueError(f"widths {widths} and convs {convs} must be non-empty and match")
        skips = dict(sorted((skips or {}).items()))
        n = len(widths)
        if any(not 0 <= b < n - 1 or c < 1 for b, c in skips.items()):
            raise ArchitectureError(
                f"decoder skips {sorted(skips)} must be levels 0 … {n - 2} (relu1_1 … relu{n - 1}_1)"
            )
        layers: OrderedDict[str, nn.Module] = OrderedDict()

        def add(module: nn.Module) -> None:
            layers[str(len(layers))] = module

        for b in range(n - 1, -1, -1):
            w = widths[b]
            out = widths[b - 1] if b > 0 else 3
            n_convs = 1 if b == n - 1 else convs[b]
            for j in range(n_convs):
                last = j == n_convs - 1
                add(nn.Identity())  # slot of the public file's ReflectionPad2d
                add(nn.Conv2d(w, out if last else w, 3, padding=1, padding_mode="reflect"))
                if not (b == 0 and last):
                    add(nn.ReLU(inplace=True))
            if b > 0:
                add(nn.Upsample(scale_factor=2, mode="nearest"))
        super().__init__(layers)
        self.widths = tuple(widths)
        self.convs = tuple(convs)
        #: encoder channels of each skip level (level index → channels), shallow to deep
        self.skip_widths: dict[int, int] = skips
        self._inject: dict[str, int] = {}  # child after which a level's skip is added → level
        if skips:
            ups = [k for k, m in layers.items() if isinstance(m, nn.Upsample)]  # into blocks n-2 … 0
            self._inject = {k: b for k, b in zip(ups, range(n - 2, -1, -1)) if b in skips}
            # zero-initialised: a decoder with new skips computes exactly what it did without them
            self.skips = nn.ModuleDict({str(b): _zero_conv(c, widths[b]) for b, c in skips.items()})

    def conv_blocks(self) -> list[tuple[str, int]]:
        """``(child name, block)`` of every conv, in forward order (block n−1 first)."""
        n = len(self.widths)
        names = [k for k, m in self.named_children() if isinstance(m, nn.Conv2d)]
        blocks = [b for b in range(n - 1, -1, -1) for _ in range(1 if b == n - 1 else self.convs[b])]
        return list(zip(names, blocks))

    @property
    def levels(self) -> tuple[int, ...]:
        """The encoder levels the code holds, shallow to deep (the deepest alone without skips)."""
        return (*self.skip_widths, len(self.widths) - 1)

    @property
    def level_widths(self) -> tuple[int, ...]:
        """The encoder's channels at each of :attr:`levels`."""
        return (*self.skip_widths.values(), self.widths[-1])

    @property
    def in_channels(self) -> int:
        """Channels of the code: the deepest level's, plus each skip level packed onto its grid."""
        return sum(packed_widths(self.level_widths, self.levels))

    def forward(self, code: Tensor) -> Tensor:  # type: ignore[override]
        if code.dim() != 4 or code.shape[1] != self.in_channels:
            raise ValueError(f"decoder expects codes of shape (N, {self.in_channels}, h, w), got {tuple(code.shape)}")
        if not self.skip_widths:
            return super().forward(code)
        return self.decode_levels(unpack_levels(code, self.level_widths, self.levels))

    def decode_levels(self, levels: list[Tensor]) -> Tensor:
        """Decode the levels themselves (shallow to deep, as :attr:`levels`), not packed."""
        if len(levels) != len(self.levels):
            raise ValueError(f"decoder reads {len(self.levels)} levels, got {len(levels)}")
        *shallow, x = levels
        if not self.skip_widths:
            return super().forward(x)
        skip = dict(zip(self.skip_widths, shallow))
        for name, module in self.named_children():
            if name == "skips":
                continue
            x = module(x)
            level = self._inject.get(name)
            if level is not None:
                x = x + self.skips[str(level)](skip[level])
        return x


def _zero_conv(cin: int, cout: int) -> nn.Conv2d:
    conv = nn.Conv2d(cin, cout, 1)
    nn.init.zeros_(conv.weight)
    nn.init.zeros_(conv.bias)
    return conv


def build_decoder(
    encoder: Encoder | EncoderSpec,
    n_stages: int | None = None,
    widths: tuple[int, ...] | list[int] | None = None,
    skips: tuple[int, ...] | list[int] | None = None,
) -> Decoder:
    """A decoder for ``encoder`` (random weights, skip convolutions zero): its mirror, or
    ``widths`` (shallow to deep; the last must be the encoder's code width); ``skips``: the
    shallower levels (0 = relu1_1) it also reads, each through a zero-initialised 1×1 conv."""
    if isinstance(encoder, Encoder):
        spec, n = encoder.spec, len(encoder.stages)
    else:
        spec, n = encoder, len(encoder.widths)
    n = n_stages or n
    skip_widths = {int(b): spec.widths[int(b)] if 0 <= int(b) < n else 0 for b in skips or ()}
    if widths is None:
        return Decoder(spec.widths[:n], spec.convs[:n], skip_widths)
    widths = tuple(int(w) for w in widths)
    if len(widths) != n or widths[-1] != spec.widths[n - 1] or min(widths) < 1:
        raise ArchitectureError(
            f"decoder widths {list(widths)} must list {n} positive widths ending with the code's "
            f"{spec.widths[n - 1]} channels (the mirror is {list(spec.widths[:n])})"
        )
    return Decoder(widths, spec.convs[:n], skip_widths)


@torch.no_grad()
def add_skips(decoder: Decoder, encoder: Encoder | EncoderSpec, skips: tuple[int, ...] | list[int]) -> Decoder:
    """``decoder`` with (more) skip levels: its weights copied, each new skip's conv zero, so the
    result computes exactly what ``decoder`` did on the deepest level (function-preserving)."""
    levels = sorted(set(decoder.skip_widths) | {int(b) for b in skips})
    out = build_decoder(encoder, len(decoder.widths), decoder.widths, levels)
    out.load_state_dict(decoder.state_dict(), strict=False)
    return out


def decoder_skips_of(state_dict: Mapping[str, Tensor], source: str = "state_dict") -> tuple[int, ...]:
    """The skip levels a decoder file was saved with (none for plain decoders)."""
    sd = _plain_state_dict(state_dict, source)
    return tuple(sorted({int(m.group(1)) for k in sd if (m := re.fullmatch(r"skips\.(\d+)\.weight", k))}))


def _plain_state_dict(state_dict: Mapping[str, Tensor], source: str) -> dict[str, Tensor]:
    """The decoder tensors of a decoder file, a ``{'model': sd}`` wrapper, an ``adain-train``
    checkpoint or a model folder's ``model.safetensors`` (``decoder.*`` keys)."""
    sd = dict(state_dict)
    if sd and all(k.startswith(("decoder.", "encoder.")) for k in sd):  # a model folder's weights
        sd = {k[len("decoder.") :]: v for k, v in sd.items() if k.startswith("decoder.")}
    if "model" in sd and isinstance(sd["model"], Mapping):
        sd = dict(sd["model"])
    if "state_dict" in sd and isinstance(sd["state_dict"], Mapping):  # an adain-train checkpoint
        prefix = "net.decoder."
        sd = {k[len(prefix) :]: v for k, v in sd["state_dict"].items() if k.startswith(prefix)}
        if not sd:
            raise ArchitectureError(f"{source}: checkpoint holds no decoder ('{prefix}*' keys)")
    return sd


def decoder_widths_of(
    encoder: Encoder | EncoderSpec, state_dict: Mapping[str, Tensor], source: str = "state_dict"
) -> tuple[int, ...]:
    """The block widths a decoder file was saved with (the mirror for Collaborative-Distillation
    files and anything unreadable, which :func:`load_decoder_state_dict` then reports)."""
    with torch.device("meta"):  # only its layout is needed: no weights allocated or initialised
        mirror = build_decoder(encoder)
    sd = _plain_state_dict(state_dict, source)
    widths = list(mirror.widths)
    firsts: dict[int, str] = {}
    for name, b in mirror.conv_blocks():
        firsts.setdefault(b, name)
    for b, name in firsts.items():
        w = sd.get(f"{name}.weight")
        if not isinstance(w, Tensor) or w.dim() != 4:
            return mirror.widths
        widths[b] = int(w.shape[1])
    return tuple(widths)


def load_decoder(
    encoder: Encoder | EncoderSpec, state_dict: Mapping[str, Tensor], source: str = "state_dict"
) -> Decoder:
    """A decoder of the widths stored in ``state_dict`` (mirror or wider), loaded strictly."""
    widths = decoder_widths_of(encoder, state_dict, source)
    code = (encoder.spec if isinstance(encoder, Encoder) else encoder).widths[len(widths) - 1]
    if widths[-1] != code:
        raise ArchitectureError(
            f"{source}: wrong architecture for the decoder: it takes {widths[-1]}-channel codes, "
            f"the encoder makes {code}"
        )
    decoder = build_decoder(encoder, widths=widths, skips=decoder_skips_of(state_dict, source))
    load_decoder_state_dict(decoder, state_dict, source)
    return decoder


@torch.no_grad()
def widen_decoder(small: Decoder, wide: Decoder) -> None:
    """Copy ``small`` into the wider ``wide`` so that ``wide`` computes exactly the same function.

    Each conv's old block stays; the new output channels keep ``wide``'s random initialisation
    (they compute new features) and every weight *from* a new channel into an old one is zero, so
    the output is unchanged until training gives the new channels a say (function-preserving
    widening, cf. Net2Net, Chen et al. 2016).

    Raises:
        ArchitectureError: different depth, or ``wide`` narrower than ``small`` anywhere.
    """
    if small.convs != wide.convs or len(small.widths) != len(wide.widths) or small.widths[-1] != wide.widths[-1]:
        raise ArchitectureError(f"cannot widen a decoder of widths {list(small.widths)} into {list(wide.widths)}")
    if any(a > b for a, b in zip(small.widths, wide.widths)):
        raise ArchitectureError(
            f"decoder widths {list(wide.widths)} are narrower than the initial {list(small.widths)}"
        )
    for (name, _), (wname, _) in zip(small.conv_blocks(), wide.conv_blocks()):
        src, dst = getattr(small, name), getattr(wide, wname)
        o, i = src.weight.shape[:2]
        dst.weight[:o, i:] = 0.0
        dst.weight[:o, :i] = src.weight
        dst.bias[:o] = src.bias


def _cd_to_sequential(sd: Mapping[str, Tensor], decoder: Decoder) -> dict[str, Tensor]:
    """Map ``conv41, conv34, … conv11`` keys (decoder order) onto the sequential indices."""
    names = [k[: -len(".weight")] for k in sd if k.endswith(".weight")]
    conv_idx = [k for k, m in decoder.named_children() if isinstance(m, nn.Conv2d)]
    if len(names) != len(conv_idx):
        return dict(sd)  # let the strict check report the mismatch

    def order(name: str) -> tuple[int, int]:
        block, conv = re.fullmatch(r"conv(\d)(\d)", name).groups()  # type: ignore[union-attr]
        return (-int(block), -int(conv))

    mapped: dict[str, Tensor] = {}
    for seq_key, name in zip(conv_idx, sorted(names, key=order)):
        mapped[f"{seq_key}.weight"] = sd[f"{name}.weight"]
        mapped[f"{seq_key}.bias"] = sd[f"{name}.bias"]
    return mapped


def load_decoder_state_dict(decoder: Decoder, state_dict: Mapping[str, Tensor], source: str = "state_dict") -> None:
    """Load a public ``decoder.pth``-layout (or Collaborative-Distillation) state dict strictly.

    Also accepts a whole ``adain-train`` checkpoint (its ``net.decoder.*`` weights), so a new run
    can start from an earlier run's decoder with a fresh optimiser (``--model.decoder_init``).

    Raises:
        ValueError: naming ``source`` and the first missing/unexpected key or mismatched shape.
    """
    sd = _plain_state_dict(state_dict, source)
    if sd and all(re.fullmatch(r"conv\d\d\.(weight|bias)", k) for k in sd):
        sd = _cd_to_sequential(sd, decoder)
    load_strict(decoder, sd, source, "the decoder")
