"""Frozen VGG-style encoders that return named features ``relu1_1`` … ``relu4_1``.

AdaIN (Huang & Belongie, 2017) encodes content and style with a fixed VGG-19 up to relu4_1 and
measures the style loss at relu1_1, relu2_1, relu3_1 and relu4_1. Three encoders live here:

* ``vgg19_normalised`` — the canonical AdaIN encoder. Its ``state_dict`` has exactly the layout
  of the public ``vgg_normalised.pth`` (an ``nn.Sequential``; ``0`` is a 1×1 conv taking RGB in
  [0, 1] to mean-subtracted BGR×255, then reflection-padded 3×3 convs). The reflection padding
  is folded into each conv (``padding_mode="reflect"``, numerically identical) and the former
  padding modules are ``nn.Identity`` so the indices of the public file still match.
* ``vgg19_imagenet`` — torchvision's VGG-19 (zero padding), ImageNet normalisation inside.
* ``vgg19_small16x`` — the distilled VGG-19 of Collaborative Distillation (Wang et al., CVPR
  2020): ¼ of the widths (16/32/64/128), 16× fewer FLOPs, keys ``conv0``, ``conv11`` ….

Stages are addressed by name, never by slice index. An encoder is always frozen: it stays in
eval mode, its parameters never require gradients (gradients still flow *through* it to the
image when the loss needs them).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from adain.errors import ArchitectureError, UsageError
from adain.nets.names import STAGES
from adain.nets.state_dict import load_strict

__all__ = [
    "AuxHeads",
    "ENCODERS",
    "Encoder",
    "EncoderSpec",
    "STAGES",
    "build_encoder",
    "load_encoder_state_dict",
    "prefix_stage",
]


_IMAGENET_MEAN = (0.485, 0.456, 0.406)


_IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class EncoderSpec:
    """Architecture of a VGG-like encoder up to relu4_1.

    Attributes:
        widths: channels of each block (block k ends at ``relu{k}_1`` of the next block).
        convs: number of 3×3 convs of each block that a full relu4_1 encoder uses
            (VGG-19: 2, 2, 4, 1).
        naming: ``"sequential"`` (keys ``0``, ``2`` … with padding slots, as the public
            ``vgg_normalised.pth``), ``"torchvision"`` (``0``, ``2`` … without padding slots or
            input conv) or ``"cd"`` (``conv0``, ``conv11`` … as Collaborative Distillation).
        input_conv: whether a 1×1 RGB→BGR×255 conv comes first.
        reflect: reflection padding (True) or zero padding.
        ceil_pool: ``ceil_mode`` of the 2×2 max-pools.
        imagenet_norm: normalise the [0, 1] RGB input by ImageNet mean/std first.
    """

    widths: tuple[int, ...]
    convs: tuple[int, ...]
    naming: str
    input_conv: bool
    reflect: bool
    ceil_pool: bool
    imagenet_norm: bool = False


_SPECS: dict[str, EncoderSpec] = {
    "vgg19_normalised": EncoderSpec((64, 128, 256, 512), (2, 2, 4, 1), "sequential", True, True, True),
    "vgg19_imagenet": EncoderSpec(
        (64, 128, 256, 512), (2, 2, 4, 1), "torchvision", False, False, False, imagenet_norm=True
    ),
    "vgg19_small16x": EncoderSpec((16, 32, 64, 128), (2, 2, 4, 1), "cd", True, True, False),
}


class Encoder(nn.Sequential):
    """A frozen VGG-like encoder returning a dict of named features.

    Build one with :func:`build_encoder`. ``state_dict()`` keys are those of the public file of
    its kind, so ``load_state_dict`` of a (truncated) public file works directly.

    Attributes:
        name: registry name.
        stages: the feature names it returns, shallow to deep.
        channels: width of each stage, e.g. ``{"relu1_1": 64, …}``.
        spec: the architecture description (used to mirror a decoder).
    """

    def __init__(
        self,
        name: str,
        spec: EncoderSpec,
        layers: OrderedDict[str, nn.Module],
        taps: Mapping[str, str],
    ) -> None:
        super().__init__(layers)
        self.name = name
        self.spec = spec
        self.taps: dict[str, str] = dict(taps)  # child name -> stage name
        self.stages: tuple[str, ...] = tuple(self.taps.values())
        self.channels: dict[str, int] = {s: spec.widths[i] for i, s in enumerate(self.stages)}
        #: the file the weights were loaded from, when known (its distillation heads, if any,
        #: serve as a loss network for optimisation-based stylization)
        self.weights_path: str | None = None
        if spec.imagenet_norm:
            self.register_buffer("input_mean", torch.tensor(_IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
            self.register_buffer("input_std", torch.tensor(_IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        else:
            self.input_mean = None
            self.input_std = None
        self.requires_grad_(False)
        super().train(False)

    @property
    def last_stage(self) -> str:
        return self.stages[-1]

    @property
    def out_channels(self) -> int:
        return self.channels[self.last_stage]

    def train(self, mode: bool = True) -> Encoder:
        """Always stays in eval mode: the encoder is a fixed feature extractor."""
        return super().train(False)

    def forward(  # type: ignore[override]
        self, x: Tensor, stages: Iterable[str] | None = None
    ) -> dict[str, Tensor]:
        """Encode RGB images in [0, 1].

        Args:
            x: ``(N, 3, H, W)`` images.
            stages: which features to return (default: all); computation stops after the
                deepest one requested.

        Returns:
            ``{stage: features}``; ``relu{k}_1`` has spatial size ``H / 2**(k-1)`` (rounded as
            the pools round).
        """
        wanted = set(self.stages if stages is None else stages)
        unknown = wanted - set(self.stages)
        if unknown:
            raise ValueError(f"{self.name} has no stage(s) {sorted(unknown)}; it has {self.stages}")
        if x.dim() != 4 or x.shape[1] != 3:
            raise ValueError(f"expected RGB images of shape (N, 3, H, W), got {tuple(x.shape)}")
        if self.input_mean is not None:
            x = (x - self.input_mean.to(x.dtype)) / self.input_std.to(x.dtype)
        out: dict[str, Tensor] = {}
        for child_name, module in self.named_children():
            x = module(x)
            stage = self.taps.get(child_name)
            if stage is not None and stage in wanted:
                out[stage] = x
                if len(out) == len(wanted):
                    break
        return out

    def encode(self, x: Tensor) -> Tensor:
        """The deepest feature only (the AdaIN code)."""
        return self(x, [self.last_stage])[self.last_stage]


def _conv(cin: int, cout: int, k: int, reflect: bool) -> nn.Conv2d:
    if k == 1:
        return nn.Conv2d(cin, cout, 1)
    return nn.Conv2d(cin, cout, k, padding=k // 2, padding_mode="reflect" if reflect else "zeros")


def _build_layers(spec: EncoderSpec, n_stages: int) -> tuple[OrderedDict[str, nn.Module], dict[str, str]]:
    layers: OrderedDict[str, nn.Module] = OrderedDict()
    taps: dict[str, str] = {}
    seq = spec.naming in ("sequential", "torchvision")

    def add(name: str, module: nn.Module) -> str:
        key = str(len(layers)) if seq else name
        layers[key] = module
        return key

    if spec.input_conv:
        add("conv0", _conv(3, 3, 1, spec.reflect))
    cin = 3
    for b in range(n_stages):
        width = spec.widths[b]
        # Only the first conv of the last block is needed to reach relu{n}_1.
        n_convs = 1 if b == n_stages - 1 else spec.convs[b]
        for j in range(n_convs):
            if spec.naming == "sequential":
                add("", nn.Identity())  # slot of the public file's ReflectionPad2d
            add(f"conv{b + 1}{j + 1}", _conv(cin, width, 3, spec.reflect))
            key = add(f"relu{b + 1}{j + 1}", nn.ReLU(inplace=True))  # safe: a conv never needs its output
            if j == 0:
                taps[key] = STAGES[b]
            cin = width
        if b < n_stages - 1:
            add(f"pool{b + 1}", nn.MaxPool2d(2, 2, ceil_mode=spec.ceil_pool))
    return layers, taps


def build_encoder(name: str, last_stage: str = "relu4_1") -> Encoder:
    """Build an encoder with random weights (load weights with :func:`load_encoder_state_dict`).

    Args:
        name: one of :data:`ENCODERS`.
        last_stage: deepest feature to build (``relu3_1`` for the partial genuine VGG).
    """
    if name not in _SPECS:
        raise UsageError(f"unknown encoder {name!r}; choose from {sorted(_SPECS)}")
    if last_stage not in STAGES:
        raise UsageError(f"unknown stage {last_stage!r}; choose from {STAGES}")
    spec = _SPECS[name]
    layers, taps = _build_layers(spec, STAGES.index(last_stage) + 1)
    return Encoder(name, spec, layers, taps)


def _unwrap(state_dict: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """Accept the wrappers the public files use: ``{'model': sd}``, torchvision's ``features.``, and
    a model folder's ``model.safetensors`` (``encoder.*`` beside ``decoder.*``)."""
    sd = dict(state_dict)
    if sd and all(k.startswith(("encoder.", "decoder.")) for k in sd):
        sd = {k[len("encoder.") :]: v for k, v in sd.items() if k.startswith("encoder.")}
    if "model" in sd and isinstance(sd["model"], Mapping):
        sd = dict(sd["model"])
    if any(k.startswith("features.") for k in sd):
        sd = {k[len("features.") :]: v for k, v in sd.items() if k.startswith("features.")}
    return sd


def load_encoder_state_dict(encoder: nn.Module, state_dict: Mapping[str, Tensor], source: str = "state_dict") -> None:
    """Load a public-layout state dict, keeping only what the (possibly truncated) model needs.

    Raises:
        ValueError: naming the first missing key or the first key whose shape differs, and the
            ``source`` (usually the file path) — the usual sign of a weights file of another
            architecture.
    """
    load_strict(encoder, _unwrap(state_dict), source, getattr(encoder, "name", "model"), allow_extra=True)


def prefix_stage(name: str, state_dict: Mapping[str, Tensor], source: str = "state_dict") -> str:
    """The deepest stage a (possibly partial) weights file of encoder ``name`` covers.

    A partial file is a *prefix* of the encoder: every layer up to some ``relu{k}_1`` with the
    right shapes (e.g. the genuine normalised VGG-19 up to relu3_1), and nothing that is not a
    layer of the encoder. Deeper layers of a full file (conv4_2 … of ``vgg_normalised.pth``) are
    allowed when it covers relu4_1.

    Raises:
        ArchitectureError: in one line naming ``source``: no layer of the encoder, a layer of
            another shape, a hole (a layer missing before a deeper one the file has), or a key
            that is not a layer of the encoder.
    """
    sd = _unwrap(state_dict)
    full = build_encoder(name).state_dict()
    order = list(full)
    for key in order:
        if key in sd and tuple(sd[key].shape) != tuple(full[key].shape):
            raise ArchitectureError(
                f"{source}: not a prefix of {name}: key {key!r} has shape {tuple(sd[key].shape)}, "
                f"expected {tuple(full[key].shape)}"
            )
    present = [k in sd for k in order]
    n = present.index(False) if False in present else len(order)
    if any(present[n:]):
        hole = order[n]
        later = order[n + present[n:].index(True)]
        raise ArchitectureError(f"{source}: not a prefix of {name}: it has {later!r} but not {hole!r} before it")
    covered = ""
    for stage in STAGES:
        if all(k in sd for k in build_encoder(name, stage).state_dict()):
            covered = stage
    if not covered:
        example = list(sd)[:3]
        raise ArchitectureError(f"{source}: not a prefix of {name}: it does not reach relu1_1 (keys {example})")
    extras = [k for k in sd if k not in full and "_aux." not in k]  # distillation heads are not layers
    if n < len(order) and extras:
        extra = extras[0]
        raise ArchitectureError(f"{source}: not a prefix of {name}: unexpected key {extra!r}")
    return covered


class AuxHeads(nn.Module):
    """Frozen 1×1 distillation heads of Collaborative Distillation (``conv11_aux`` … ``conv41_aux``).

    They were trained so that ``relu(aux(small features)) ≈ VGG-19 features`` at relu1_1 … relu4_1,
    i.e. they lift the distilled encoder's 16/32/64/128 channels to VGG's 64/128/256/512. Used
    as an option to measure the training style loss in (approximately) VGG feature space.
    """

    def __init__(
        self, state_dict: Mapping[str, Tensor], stages: Iterable[str] = STAGES, source: str = "state_dict"
    ) -> None:
        super().__init__()
        sd = _unwrap(state_dict)
        self.heads = nn.ModuleDict()
        for stage in stages:
            key = f"conv{stage[4]}1_aux"  # the layout file_state_dict writes back
            if f"{key}.weight" not in sd:
                raise ArchitectureError(f"{source}: no distillation head {key!r} for {stage}")
            w = sd[f"{key}.weight"]
            conv = nn.Conv2d(w.shape[1], w.shape[0], 1)
            conv.load_state_dict({"weight": w, "bias": sd[f"{key}.bias"]})
            self.heads[stage] = conv
        self.requires_grad_(False)
        super().train(False)

    @staticmethod
    def stages_in(state_dict: Mapping[str, Tensor]) -> tuple[str, ...]:
        """The stages a weights file has distillation heads for (``conv11_aux`` → relu1_1 …)."""
        sd = _unwrap(state_dict)
        return tuple(st for st in STAGES if f"conv{st[4]}1_aux.weight" in sd)

    def train(self, mode: bool = True) -> AuxHeads:
        return super().train(False)

    def forward(self, feats: Mapping[str, Tensor]) -> dict[str, Tensor]:  # type: ignore[override]
        return {k: self.heads[k](v).relu_() if k in self.heads else v for k, v in feats.items()}

    def file_state_dict(self) -> dict[str, Tensor]:
        """The heads in the weights file's layout (``conv41_aux.weight``, …), to store beside the encoder."""
        return {f"conv{st[4]}1_aux.{k}": v for st, conv in self.heads.items() for k, v in conv.state_dict().items()}


ENCODERS: dict[str, Callable[..., Encoder]] = {
    name: (lambda last_stage="relu4_1", _n=name: build_encoder(_n, last_stage)) for name in _SPECS
}
