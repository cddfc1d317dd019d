"""Exports of a model: a trained decoder as a small standalone file, the ONNX graphs, the static web
app, and a model folder to share (optionally pushed to the Hugging Face Hub). ``adain-export`` is
a parser over these functions.

Every export checks its outputs before any work (nothing is replaced without ``overwrite``, no
output may be one of its inputs) and writes atomically.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from adain.errors import ArchitectureError, OutputExistsError, UsageError
from adain.io.atomic import atomic_write, ensure_new, refuse_inputs
from adain.io.files import read_text_file

if TYPE_CHECKING:
    import torch

    from adain.nets.network import AdaINNet

__all__ = ["HubExport", "NetworkRef", "export_decoder", "export_hub", "export_onnx_graphs", "export_web"]


@dataclass(frozen=True)
class NetworkRef:
    """The network to export: an ``adain-train`` checkpoint's, else a named model's (a name, model
    folder or Hub id), with optional weight files (``weights_check``: see
    :func:`adain.weights.download.model_files`)."""

    model: str | None = "auto"
    checkpoint: str | None = None
    encoder_weights: str | None = None
    decoder_weights: str | None = None
    weights_check: str = "warn"

    @property
    def inputs(self) -> list[str | None]:
        """The files an output must not be."""
        return [self.checkpoint, self.encoder_weights, self.decoder_weights]

    def load(self) -> tuple[AdaINNet, str]:
        """The network and its label (the checkpoint's file name, else the model's label)."""
        if self.checkpoint:
            from adain.weights.loading import load_checkpoint_net

            return load_checkpoint_net(self.checkpoint, self.encoder_weights), Path(self.checkpoint).name
        from adain.weights.source import pretrained_source

        source = pretrained_source(
            self.model or "auto", self.encoder_weights, self.decoder_weights, weights_check=self.weights_check
        )
        return source.build(), source.label


@dataclass(frozen=True)
class HubExport:
    """What goes into a model folder besides the network: the card's name (default: the folder's),
    an ``adain-evaluate`` report, a sample pair, a Hub repository to push to; ``include_encoder``
    stores a registered encoder in the folder too; ``half`` stores the decoder in fp16."""

    name: str | None = None
    evaluation: str | None = None
    sample: tuple[str, str] | None = None
    push: str | None = None
    private: bool = False
    include_encoder: bool = False
    half: bool = False
    overwrite: bool = False


def export_decoder(
    checkpoint: str | os.PathLike[str], dst: str | os.PathLike[str], half: bool = True, overwrite: bool = False
) -> Path:
    """Write the checkpoint's decoder state dict to ``dst`` (atomically); returns ``dst``.

    Only the decoder is read: the architecture comes from the checkpoint's record, so the encoder
    weights file is not needed. fp16 with ``half``: half the size, and the difference after loading
    into fp32 is below 8-bit image precision.

    Raises:
        AdainError: unreadable checkpoint, one without a decoder, or ``dst`` exists (no ``overwrite``).
    """
    import torch

    from adain.weights.loading import load_checkpoint_decoder

    refuse_inputs(dst, [checkpoint])
    sd = load_checkpoint_decoder(checkpoint).state_dict()
    stored = {k: (v.half() if half and v.is_floating_point() else v).contiguous() for k, v in sd.items()}
    return atomic_write(dst, lambda f: torch.save(stored, f), overwrite)


def export_onnx_graphs(
    out_dir: str | os.PathLike[str], ref: NetworkRef, graphs: Sequence[str] | None = None, overwrite: bool = False
) -> list[Path]:
    """The ONNX graphs (:mod:`adain.runtime.onnx_export`) of ``ref`` in ``out_dir``; returns the files."""
    from adain.runtime.onnx_export import GRAPHS, export_onnx

    names = tuple(graphs or GRAPHS)
    d = Path(out_dir)
    for g in names:
        refuse_inputs(d / f"{g}.onnx", ref.inputs)
        if (d / f"{g}.onnx").exists() and not overwrite:
            raise OutputExistsError(f"{d / f'{g}.onnx'}: already exists (use --overwrite to replace it)")
    return export_onnx(ref.load()[0], d, names)


def export_web(
    out_dir: str | os.PathLike[str],
    ref: NetworkRef,
    runtime: str | None = None,
    webgpu: bool = True,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Write the static web app (:func:`adain.webapp.build_web_app`) for ``ref``; ``runtime`` is
    the ``node_modules`` folder with onnxruntime-web (found before any network is loaded)."""
    from adain.webapp import build_web_app, find_runtime

    refuse_inputs(out_dir, ref.inputs)
    node_modules = find_runtime(runtime)
    net, label = ref.load()
    return build_web_app(out_dir, net, label, node_modules, webgpu, overwrite)


def export_hub(out_dir: str | os.PathLike[str], ref: NetworkRef | None, options: HubExport) -> list[Path | str]:
    """Write a model folder (:mod:`adain.weights.folder`) for ``ref`` with a model card; optionally
    push it to the Hub. Returns the files written (and the Hub URL). With no ``ref`` and a
    ``push``, uploads a folder written before.

    A registered encoder is referenced by name and sha256 (the folder holds only the decoder)
    unless ``options.include_encoder``: then its tensors (and distillation heads) are stored too,
    the folder needs nothing else, and ``config.json`` records which registered file they are.
    """
    from adain.weights.folder import read_config, write_model_folder
    from adain.weights.hub import push_model_folder

    d = Path(out_dir).expanduser()
    if ref is None or (ref.checkpoint is None and ref.model is None):
        if options.push:
            return [push_model_folder(d, options.push, options.private)]
        raise UsageError("give exactly one of --checkpoint CKPT and --model MODEL (or only --push, for a folder)")
    if ref.checkpoint is not None and ref.model is not None:
        raise UsageError("give exactly one of --checkpoint CKPT and --model MODEL (or only --push, for a folder)")
    _check_hub_outputs(d, ref, options)
    report = read_text_file(options.evaluation, "report (.md)") if options.evaluation else None  # before any work
    net, training = _hub_network(ref)
    name = options.name or d.name
    files: list[Path | str] = []
    if options.sample:
        _write_sample(net, options.sample, d / "sample.jpg", options.overwrite)
        files.append(d / "sample.jpg")
    ref_entry = _encoder_ref(net)
    config_extra: dict[str, Any] = {"training": training} if training else {}
    if options.include_encoder and ref_entry is not None:
        config_extra["encoder_source"], ref_entry = ref_entry, None
    card = _card(net, name, ref_entry, training, report, options)
    heads = _encoder_heads(net) if ref_entry is None else {}
    written = write_model_folder(
        net, d, name, card, ref_entry, config_extra, options.overwrite, half=options.half, encoder_extra=heads
    )
    files[:0] = written
    read_config(d)  # what was written reads back
    if options.push:
        files.append(push_model_folder(d, options.push, options.private))
    return files


def _check_hub_outputs(d: Path, ref: NetworkRef, options: HubExport) -> None:
    """All or nothing: every file of the folder is new (or ``overwrite``) and none is an input."""
    from adain.weights.folder import CARD, CONFIG, WEIGHTS_FILE

    inputs = [*ref.inputs, options.evaluation, *(options.sample or ())]
    for f in (CONFIG, WEIGHTS_FILE, CARD, *(["sample.jpg"] if options.sample else [])):
        refuse_inputs(d / f, inputs)
        ensure_new(d / f, options.overwrite)


def _hub_network(ref: NetworkRef) -> tuple[AdaINNet, dict[str, Any] | None]:
    """The network, and for a checkpoint its training record (file name and hyperparameters)."""
    if not ref.checkpoint:
        return ref.load()[0], None
    from adain.weights.loading import load_checkpoint_net, load_state_dict_file

    net = load_checkpoint_net(ref.checkpoint, ref.encoder_weights)
    hp = load_state_dict_file(ref.checkpoint).get("hyper_parameters")
    return net, {"checkpoint": Path(ref.checkpoint).name, **(dict(hp) if isinstance(hp, dict) else {})}


def _card(
    net: AdaINNet,
    name: str,
    encoder_entry: dict[str, str] | None,
    training: dict[str, Any] | None,
    report: str | None,
    options: HubExport,
) -> str:
    from adain.weights.folder import model_card

    arch = {
        "encoder": net.encoder.name,
        "last_stage": net.encoder.last_stage,
        "decoder_widths": list(net.decoder.widths),
        "decoder_skips": list(net.code_stages[:-1]),
        "encoder_weights": encoder_entry or "folder",
    }
    return model_card(name, arch, training, report, "sample.jpg" if options.sample else None, options.push)


def _encoder_ref(net: AdaINNet) -> dict[str, str] | None:
    """The registry entry of the network's encoder file (by sha256), or ``None`` to store it."""
    from adain.weights.download import file_digest, registered_key

    if net.encoder.weights_path is None or not Path(net.encoder.weights_path).is_file():
        return None
    digest = file_digest(net.encoder.weights_path)
    key = registered_key(digest, net.encoder.name)
    return None if key is None else {"registry": key, "sha256": digest}


def _encoder_heads(net: AdaINNet) -> dict[str, torch.Tensor]:
    """The distillation heads in the encoder's weights file (``conv*_aux``), to keep with it."""
    from adain.nets.encoder import AuxHeads
    from adain.weights.loading import load_state_dict_file

    if net.encoder.weights_path is None or not Path(net.encoder.weights_path).is_file():
        return {}
    try:
        heads = AuxHeads(load_state_dict_file(net.encoder.weights_path), net.encoder.stages)
    except ArchitectureError:  # an encoder without heads
        return {}
    return heads.file_state_dict()


def _write_sample(net: AdaINNet, sample: Sequence[str], path: Path, overwrite: bool) -> None:
    """content | style | output at 384 px, for the card."""
    import torch
    from torchvision.utils import make_grid

    from adain.io.images import save_image
    from adain.methods.grids import fit_to
    from adain.methods.stylizer import Stylizer

    st = Stylizer(net, device="cpu", precision="fp32")
    c, s = st.load(sample[0], 384)[0], st.load(sample[1], 384)[0]
    out = st.stylize(sample[0], sample[1], content_size=384)
    h, w = out.shape[-2:]
    grid = make_grid(torch.stack([fit_to(c, h, w), fit_to(s, h, w), out]), nrow=3, padding=4, pad_value=1.0)
    save_image(grid, path, overwrite)
