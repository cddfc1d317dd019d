"""Reading weights files: one ``torch.load`` (``weights_only``, never runs code) or safetensors,
and a named encoder from its file. Below :mod:`adain.weights.folder` and
:mod:`adain.weights.loading`, which both build networks from files."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from adain.errors import WeightsError
from adain.nets.encoder import Encoder, build_encoder, load_encoder_state_dict
from adain.weights.download import resolve_weights

__all__ = ["load_encoder", "load_state_dict_file"]


def load_state_dict_file(path: str | os.PathLike[str]) -> dict[str, torch.Tensor]:
    """``torch.load(..., weights_only=True)`` onto the CPU (or a ``.safetensors`` file), with a
    one-line error for bad files.

    Files that ``weights_only`` refuses (pickles with arbitrary objects) are refused here too: a
    weights file never runs code.
    """
    import pickle

    import torch

    if str(path).endswith(".safetensors"):
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            return load_file(path)
        except FileNotFoundError:
            raise WeightsError(f"{path}: weights file not found") from None
        except (SafetensorError, OSError, ValueError) as e:
            raise WeightsError(f"{path}: not a readable safetensors file ({str(e).splitlines()[0][:160]})") from None
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise WeightsError(f"{path}: weights file not found") from None
    except pickle.UnpicklingError as e:
        # torch's refusal runs to many lines and advises weights_only=False; say it in one line, no advice
        if "GLOBAL" in str(e):
            raise WeightsError(
                f"{path}: refused: the file holds Python objects other than tensors (not loaded, for safety)"
            ) from None
        detail = next(
            (ln.strip() for ln in str(e).splitlines() if ln.strip().startswith(("Unsupported", "invalid"))),
            "not a weights pickle",
        )
        raise WeightsError(f"{path}: not a readable PyTorch weights file ({detail})") from None
    except Exception as e:  # zip errors, truncation, …
        first = (str(e).strip().splitlines() or [""])[0].split(". ")[0]  # torch's run to several lines
        raise WeightsError(f"{path}: not a readable PyTorch weights file ({type(e).__name__}: {first})") from None
    if not isinstance(obj, dict):
        raise WeightsError(f"{path}: expected a state dict, found {type(obj).__name__}")
    return obj


def load_encoder(
    name: str,
    weights: str | os.PathLike[str] | None = None,
    registry_key: str | None = None,
    last_stage: str = "relu4_1",
    download: bool = True,
) -> tuple[Encoder, Path]:
    """Build encoder ``name`` and load its weights: explicit path → cache → download.

    Returns:
        The frozen encoder and the path its weights came from.
    """
    encoder = build_encoder(name, last_stage)

    def verify(p: Path) -> None:
        load_encoder_state_dict(encoder, load_state_dict_file(p), str(p))

    if weights is None and registry_key is None:
        raise WeightsError(f"encoder {name!r} needs a weights file (--encoder-weights PATH)")
    if weights is not None:
        path = Path(weights)
        if not path.is_file():
            raise WeightsError(f"{path}: weights file not found")
    else:
        path = resolve_weights(registry_key or "", download=download, verify=verify)
    verify(path)
    encoder.weights_path = str(path)
    return encoder, path
