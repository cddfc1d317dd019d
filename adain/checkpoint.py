"""Reading and writing what ``adain-train`` checkpoints record, without Lightning.

Checkpoints hold the decoder only; the encoder is recorded by name, weights path and sha256 (in
``checkpoint["adain"]``) and re-attached on load. Inference, export and evaluation read
checkpoints through here, so they never import Lightning.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from .decoder import load_decoder
from .encoder import STAGES, Encoder, build_encoder
from .errors import WeightsError
from .model import AdaINNet, load_encoder
from .weights import ENCODER_WEIGHTS, WEIGHTS, load_state_dict_file, sha256_file

__all__ = ["ENCODER_PREFIX", "RANDOM", "encoder_record", "load_checkpoint_net", "make_encoder"]

RANDOM = "random"
ENCODER_PREFIX = "net.encoder."


def make_encoder(name: str, weights: str | None, seed: int = 0) -> tuple[Encoder, dict[str, Any]]:
    """Encoder + a record of where its weights came from (stored in checkpoints).

    ``weights``: a path, ``None`` (registry default: cache or download) or ``"random"`` (seeded
    random weights, for tests and benchmarks only).
    """
    if weights == RANDOM:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            encoder = build_encoder(name)
        return encoder, {"encoder": name, "encoder_weights": RANDOM, "encoder_sha256": None}
    key = ENCODER_WEIGHTS.get(name)
    encoder, path = load_encoder(name, weights, key if weights is None else None)
    return encoder, {"encoder": name, "encoder_weights": str(path), "encoder_sha256": sha256_file(path)}


def encoder_record(checkpoint: dict[str, Any]) -> dict[str, Any]:
    rec = checkpoint.get("adain")
    if not isinstance(rec, dict):
        raise WeightsError("checkpoint has no 'adain' record: it was not written by adain-train")
    return rec


def load_checkpoint_net(
    path: str | os.PathLike[str], encoder_weights: str | os.PathLike[str] | None = None
) -> AdaINNet:
    """Rebuild encoder + decoder from an ``adain-train`` checkpoint (no Lightning needed).

    The encoder comes from the checkpoint itself when stored there, else from ``encoder_weights``
    or the recorded path; its sha256 must match the one recorded at training time.

    Raises:
        WeightsError: unreadable checkpoint, missing encoder file, or sha256 mismatch.
    """
    p = Path(path)
    if not p.is_file():
        raise WeightsError(f"{p}: checkpoint not found")
    ckpt = load_state_dict_file(p)
    rec = encoder_record(ckpt)
    sd = ckpt.get("state_dict", {})
    last = rec.get("stages", list(STAGES))[-1]
    encoder = build_encoder(rec["encoder"], last)
    enc_sd = {k[len(ENCODER_PREFIX):]: v for k, v in sd.items() if k.startswith(ENCODER_PREFIX)}
    if enc_sd:
        encoder.load_state_dict(enc_sd)
    else:
        wpath = Path(encoder_weights or rec["encoder_weights"])
        if not wpath.is_file():
            key = ENCODER_WEIGHTS.get(rec["encoder"])
            hint = f" (download: {WEIGHTS[key].url})" if key in WEIGHTS else ""
            raise WeightsError(
                f"{wpath}: encoder weights recorded in {p} not found; pass --encoder-weights PATH{hint}"
            )
        digest = sha256_file(wpath)
        if rec.get("encoder_sha256") and digest != rec["encoder_sha256"]:
            raise WeightsError(
                f"{wpath}: sha256 {digest[:12]}… differs from {rec['encoder_sha256'][:12]}… recorded in {p}; "
                "the decoder was trained against other encoder weights"
            )
        encoder, _ = load_encoder(rec["encoder"], wpath, last_stage=last)
    return AdaINNet(encoder, load_decoder(encoder, ckpt, str(p))).eval()
