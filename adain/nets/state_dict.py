"""The one strict state-dict check: every weights file, whichever network it is for, is refused
in one line that names the file and the first key that does not fit (the usual sign of a file
for another architecture), before ``load_state_dict`` would fail in a multi-line traceback."""

from __future__ import annotations

from collections.abc import Mapping

from torch import Tensor, nn

from adain.errors import ArchitectureError

__all__ = ["load_strict"]


def load_strict(
    module: nn.Module, state_dict: Mapping[str, Tensor], source: str, what: str, allow_extra: bool = False
) -> None:
    """Load ``state_dict`` into ``module`` after checking it key by key.

    Args:
        module: the network.
        state_dict: its weights (already unwrapped and renamed to ``module``'s keys).
        source: where they came from (usually the file path), for the message.
        what: the network, for the message (``vgg19_normalised``, ``the decoder``).
        allow_extra: keys ``module`` lacks are ignored (a truncated encoder of a full VGG file).

    Raises:
        ArchitectureError: a missing key, a key of another shape, or (without ``allow_extra``) an
            unexpected key.
    """
    own = module.state_dict()
    for key, param in own.items():
        if key not in state_dict:
            raise ArchitectureError(
                f"{source}: wrong architecture for {what}: missing key {key!r} "
                f"(file has {len(state_dict)} tensors, e.g. {list(state_dict)[:3]})"
            )
        if tuple(state_dict[key].shape) != tuple(param.shape):
            raise ArchitectureError(
                f"{source}: wrong architecture for {what}: key {key!r} has shape "
                f"{tuple(state_dict[key].shape)}, expected {tuple(param.shape)}"
            )
    extra = [k for k in state_dict if k not in own]
    if extra and not allow_extra:
        raise ArchitectureError(f"{source}: wrong architecture for {what}: unexpected key {extra[0]!r}")
    module.load_state_dict({k: state_dict[k] for k in own}, strict=True)
