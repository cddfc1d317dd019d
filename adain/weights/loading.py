"""Every loader of weights files and checkpoints: one ``torch.load`` (``weights_only``, never runs
code), named encoders and pretrained models, and what ``adain-train`` checkpoints record (the
decoder, and the encoder by name, path and sha256), without Lightning.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from adain.errors import WeightsError
from adain.nets.decoder import Decoder, load_decoder
from adain.nets.encoder import STAGES, Encoder, build_encoder, load_encoder_state_dict, prefix_stage
from adain.nets.network import AdaINNet
from adain.weights.download import model_files, registered_digests, resolve_weights, sha256_file
from adain.weights.files import load_encoder, load_state_dict_file
from adain.weights.registry import ENCODER_WEIGHTS, MODELS, WEIGHTS, choose_model

__all__ = [
    "ENCODER_PREFIX",
    "RANDOM",
    "check_training_checkpoint",
    "load_checkpoint_decoder",
    "encoder_record",
    "load_checkpoint_net",
    "load_encoder",
    "load_pretrained",
    "load_state_dict_file",
    "make_encoder",
    "make_loss_network",
]


def load_pretrained(
    name: str = "canonical",
    encoder_weights: str | os.PathLike[str] | None = None,
    decoder_weights: str | os.PathLike[str] | None = None,
    download: bool = True,
    weights_check: str = "warn",
) -> AdaINNet:
    """Build a pretrained :class:`AdaINNet` (on the CPU, eval mode).

    Args:
        name: a key of :data:`MODELS` or ``auto`` (see :func:`adain.weights.registry.choose_model`).
        encoder_weights: explicit encoder file (else packaged, cache, download).
        decoder_weights: explicit decoder file (else packaged, cache, download).
        download: allow downloads of missing files.
        weights_check: an explicit encoder file that is not the registered one: ``warn``,
            ``strict`` (refuse) or ``off`` (see :func:`adain.weights.download.model_files`).
    """
    card = MODELS[choose_model(name, encoder_weights is not None or decoder_weights is not None)[0]]
    if card.folder is not None and encoder_weights is None and decoder_weights is None:
        from adain.weights.download import builtin_folder
        from adain.weights.folder import load_model_folder

        return load_model_folder(builtin_folder(card.name), download)  # a built-in model is a model folder
    encoder = build_encoder(card.encoder)
    decoders: list[Decoder] = []

    def check_encoder(p: Path) -> None:
        load_encoder_state_dict(encoder, load_state_dict_file(p), str(p))

    def check_decoder(p: Path) -> None:  # widths as stored (the encoder's mirror or wider)
        decoders.append(load_decoder(encoder, load_state_dict_file(p), str(p)))

    enc_path, dec_path = model_files(
        card.name,
        encoder_weights,
        decoder_weights,
        download=download,
        verify_encoder=check_encoder,
        verify_decoder=check_decoder,
        weights_check=weights_check,
    )
    check_encoder(enc_path)
    check_decoder(dec_path)
    encoder.weights_path = str(enc_path)
    return AdaINNet(encoder, decoders[-1].float()).eval()


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


def make_loss_network(name: str, weights: str | None, seed: int = 1) -> tuple[Encoder, dict[str, Any]]:
    """A frozen style-loss network + its record: as :func:`make_encoder`, but a weights *file* may
    be a prefix of the encoder (e.g. the genuine normalised VGG-19 up to relu3_1): the network is
    then built to the deepest stage the file covers (``record["stages"]``).

    Raises:
        WeightsError: a missing or unreadable file; ArchitectureError: a file that is not a prefix.
    """
    if weights is None or weights == RANDOM:
        net, rec = make_encoder(name, weights, seed)
        return net, {**rec, "stages": list(net.stages)}
    path = Path(weights)
    if not path.is_file():
        raise WeightsError(f"{path}: loss network weights not found")
    sd = load_state_dict_file(path)
    last = prefix_stage(name, sd, str(path))
    net = build_encoder(name, last)
    load_encoder_state_dict(net, sd, str(path))
    net.weights_path = str(path)
    return net, {
        "encoder": name,
        "encoder_weights": str(path),
        "encoder_sha256": sha256_file(path),
        "stages": list(net.stages),
    }


def encoder_record(checkpoint: dict[str, Any], source: str = "checkpoint") -> dict[str, Any]:
    """The ``adain`` record of an ``adain-train`` checkpoint, checked: an encoder this package
    builds, its stages, a weights path (or ``random``), and a ``state_dict`` mapping.

    Raises:
        WeightsError: a missing or malformed record, in one line naming ``source``.
    """
    from adain.nets.encoder import ENCODERS

    rec = checkpoint.get("adain")
    if not isinstance(rec, dict):
        raise WeightsError(f"{source}: no 'adain' record: it was not written by adain-train")
    if rec.get("encoder") not in ENCODERS:
        raise WeightsError(
            f"{source}: the 'adain' record names encoder {rec.get('encoder')!r}; known: {', '.join(sorted(ENCODERS))}"
        )
    stages = rec.get("stages", list(STAGES))
    if not (isinstance(stages, (list, tuple)) and stages and all(st in STAGES for st in stages)):
        raise WeightsError(
            f"{source}: the 'adain' record has stages {stages!r}; expected a list of {', '.join(STAGES)}"
        )
    if not isinstance(rec.get("encoder_weights", ""), (str, type(None))) or not isinstance(
        rec.get("encoder_sha256"), (str, type(None))
    ):
        raise WeightsError(f"{source}: the 'adain' record's encoder_weights/encoder_sha256 are not strings")
    if not isinstance(checkpoint.get("state_dict", {}), dict):
        raise WeightsError(f"{source}: 'state_dict' is a {type(checkpoint['state_dict']).__name__}, not a mapping")
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
    rec = encoder_record(ckpt, str(p))
    sd = ckpt.get("state_dict", {})
    last = rec.get("stages", list(STAGES))[-1]
    encoder = build_encoder(rec["encoder"], last)
    enc_sd = {k[len(ENCODER_PREFIX) :]: v for k, v in sd.items() if k.startswith(ENCODER_PREFIX)}
    if enc_sd:
        encoder.load_state_dict(enc_sd)
    else:
        if not (encoder_weights or rec.get("encoder_weights")):
            raise WeightsError(f"{p}: the checkpoint records no encoder weights file; pass --encoder-weights PATH")
        wpath = Path(encoder_weights or rec["encoder_weights"])
        key = ENCODER_WEIGHTS.get(rec["encoder"])
        known = registered_digests(WEIGHTS[key]) if key in WEIGHTS else frozenset()
        if not wpath.is_file() and encoder_weights is None and rec.get("encoder_sha256") in known:
            wpath = resolve_weights(key or "")  # a registered file that moved (e.g. into the package's model folder)
        if not wpath.is_file():
            hint = f" (download: {WEIGHTS[key].url})" if key in WEIGHTS else ""
            raise WeightsError(f"{wpath}: encoder weights recorded in {p} not found; pass --encoder-weights PATH{hint}")
        digest = sha256_file(wpath)
        if (
            rec.get("encoder_sha256")
            and digest != rec["encoder_sha256"]
            and not {digest, rec["encoder_sha256"]} <= known
        ):
            raise WeightsError(
                f"{wpath}: sha256 {digest[:12]}… differs from {rec['encoder_sha256'][:12]}… recorded in {p}; "
                "the decoder was trained against other encoder weights"
            )
        encoder, _ = load_encoder(rec["encoder"], wpath, last_stage=last)
    return AdaINNet(encoder, load_decoder(encoder, ckpt, str(p))).eval()


def check_training_checkpoint(path: str) -> None:
    """A resume checkpoint must exist, load as plain data (``weights_only``: it never runs code),
    come from ``adain-train``, and hold what resuming reads: a decoder that fits its own record,
    optimiser states that fit those parameters, and the loops' state; else one line
    (:class:`~adain.errors.WeightsError`), before anything is built or written."""
    if not Path(path).is_file():
        raise WeightsError(f"{path}: --ckpt_path not found")
    ckpt = load_state_dict_file(path)
    rec = encoder_record(ckpt, path)
    if "state_dict" not in ckpt or not isinstance(ckpt.get("loops"), dict):
        raise WeightsError(f"{path}: not a training checkpoint (no trainer state to resume from)")
    decoder = _recorded_decoder(ckpt, rec, path)
    widths = rec.get("decoder_widths")
    if widths is not None and list(decoder.widths) != list(widths):
        raise WeightsError(f"{path}: decoder widths {list(decoder.widths)} differ from the recorded {widths}")
    sd = ckpt["state_dict"]
    shapes = [tuple(v.shape) for k, v in sd.items() if k.startswith(("net.decoder.", "disc."))]
    _check_optimizer_states(ckpt.get("optimizer_states", []), shapes, path)


def _check_optimizer_states(states: Any, shapes: list[tuple[int, ...]], path: str) -> None:
    """Each optimiser state: ``{"state": {id: {name: tensor}}, "param_groups": [{"params": [id…]}]}``
    covering exactly the trained parameters, every per-parameter tensor of the parameter's shape."""
    bad = f"{path}: optimizer_states do not fit the model's parameters (damaged, or not written by adain-train)"
    if not isinstance(states, list):
        raise WeightsError(bad)
    for st in states:
        if not (
            isinstance(st, dict) and isinstance(st.get("state"), dict) and isinstance(st.get("param_groups"), list)
        ):
            raise WeightsError(bad)
        if not all(isinstance(g, dict) and isinstance(g.get("params"), list) for g in st["param_groups"]):
            raise WeightsError(bad)
        ids = [i for g in st["param_groups"] for i in g["params"]]
        if len(ids) != len(shapes):
            raise WeightsError(f"{bad}: {len(ids)} parameters in the optimizer, {len(shapes)} in the model")
        where = {i: n for n, i in enumerate(ids)}
        for i, slots in st["state"].items():
            if i not in where or not isinstance(slots, dict):
                raise WeightsError(bad)
            for v in slots.values():
                if isinstance(v, torch.Tensor) and v.ndim > 0 and tuple(v.shape) != shapes[where[i]]:
                    raise WeightsError(
                        f"{bad}: a state of shape {tuple(v.shape)} for a parameter of {shapes[where[i]]}"
                    )


def load_checkpoint_decoder(path: str | os.PathLike[str]) -> Decoder:
    """Only the decoder of an ``adain-train`` checkpoint (its architecture from the checkpoint's
    record, so the encoder's weights file is not needed).

    Raises:
        WeightsError: unreadable checkpoint, not one of ``adain-train``, or a decoder that does not fit.
    """
    src = str(path)
    ckpt = load_state_dict_file(src)
    return _recorded_decoder(ckpt, encoder_record(ckpt, src), src)


def _recorded_decoder(ckpt: dict[str, Any], rec: dict[str, Any], source: str) -> Decoder:
    """The checkpoint's decoder, built for the encoder its record names (no encoder weights needed)."""
    try:
        return load_decoder(build_encoder(rec["encoder"], rec.get("stages", list(STAGES))[-1]), ckpt, source)
    except ValueError as e:
        raise WeightsError(str(e)) from None
