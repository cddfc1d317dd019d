"""The loss network of the optimisation method: any of our frozen encoders, the small16x one through
its distillation heads (so it measures in about VGG-19 feature space).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from torch import Tensor, nn

from adain.errors import UsageError
from adain.nets.encoder import AuxHeads, Encoder

if TYPE_CHECKING:
    from adain.pipeline.core import Pipeline

__all__ = ["LossNetwork", "loss_network_for", "loss_network_of_pipeline"]


class LossNetwork(nn.Module):
    """A frozen encoder (optionally followed by its distillation heads) returning named features.

    Args:
        encoder: a frozen :class:`~adain.nets.encoder.Encoder`.
        heads: :class:`~adain.nets.encoder.AuxHeads` lifting small16x features to VGG-19 widths.
    """

    def __init__(self, encoder: Encoder, heads: AuxHeads | None = None) -> None:
        super().__init__()
        self.encoder = encoder
        self.heads = heads

    @property
    def layers(self) -> tuple[str, ...]:
        return self.encoder.stages

    @property
    def label(self) -> str:
        return self.encoder.name + ("+heads" if self.heads is not None else "")

    def forward(self, x: Tensor, layers: Sequence[str]) -> dict[str, Tensor]:  # type: ignore[override]
        """``(N, 3, H, W)`` in [0, 1] → ``{layer: (N, C, H_l, W_l)}`` (float32)."""
        feats = self.encoder(x.float(), layers)
        return self.heads(feats) if self.heads is not None else feats


def loss_network_for(encoder: Encoder, heads: str = "auto") -> LossNetwork:
    """The loss network of a model's encoder.

    Args:
        encoder: the model's frozen encoder (shared, not copied: it is never modified).
        heads: ``auto`` (use the distillation heads when the encoder's weights file has them: the
            small16x encoder, whose 16…128 channels then measure in ≈ VGG-19 space), ``on`` or ``off``.
    """
    if heads not in ("auto", "on", "off"):
        raise UsageError(f"heads must be auto, on or off, got {heads!r}")
    aux = None
    if heads != "off" and encoder.weights_path is not None and encoder.name == "vgg19_small16x":
        from adain.errors import ArchitectureError
        from adain.weights.loading import load_state_dict_file

        try:
            aux = AuxHeads(load_state_dict_file(encoder.weights_path), encoder.stages, encoder.weights_path)
        except ArchitectureError:  # a small16x file without heads
            aux = None
    if heads == "on" and aux is None:
        raise UsageError(
            f"encoder {encoder.name} ({encoder.weights_path or 'weights in memory'}) has no distillation heads"
        )
    if aux is not None:
        aux.to(next(encoder.parameters()).device)
    return LossNetwork(encoder, aux)


def loss_network_of_pipeline(pipeline: Pipeline, heads: str = "auto") -> LossNetwork:
    """The loss network of a pipeline's model (any runtime: graph backends build the torch
    network of their source once, on the CPU)."""
    return loss_network_for(pipeline.runtime.torch_network().encoder, heads)
