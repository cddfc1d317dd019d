"""The model source: a model known by a content key (its weights' sha256), built with torch only
when something needs the network. Runtimes convert a source once and cache the conversion under
its key; named models and checkpoints become sources here.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from adain.errors import WeightsError
from adain.nets.names import model_bytes_per_pixel

if TYPE_CHECKING:
    from adain.nets.network import AdaINNet

__all__ = ["ModelSource", "checkpoint_source", "folder_source", "pretrained_source"]


@dataclass
class ModelSource:
    """A model known by a content key, built (with torch) only when something needs the network.

    Attributes:
        key: hex digest identifying architecture and weights (names the conversion cache).
        label: for messages.
        downsampling: the encoder's total stride.
        builder: returns the :class:`~adain.nets.network.AdaINNet` (imports torch).
    """

    key: str
    label: str
    downsampling: int
    builder: Callable[[], AdaINNet]
    _net: AdaINNet | None = field(default=None, repr=False)
    #: peak memory of a forward pass per input pixel (sizes automatic tiles; see
    #: :func:`adain.nets.names.activation_bytes_per_pixel`)
    bytes_per_pixel: int = field(default_factory=lambda: model_bytes_per_pixel("vgg19_normalised"))
    #: encoder levels in the code (1: relu4_1 alone; more for a decoder with skips)
    code_levels: int = 1
    #: a folder of graph skeletons (:mod:`adain.runtime.graph_pack`) and the weight files by role
    #: they refer to: the runtime assembles the graphs from them without torch
    skeletons: Path | None = None
    weight_files: dict[str, Path] = field(default_factory=dict)

    def build(self) -> AdaINNet:
        if self._net is None:
            self._net = self.builder()
        return self._net

    @classmethod
    def from_net(cls, net: AdaINNet, label: str = "model") -> ModelSource:
        """A source for a network in memory; the key hashes its architecture and weights."""
        h = hashlib.sha256(f"{type(net.encoder).__name__}:{net.encoder.last_stage}".encode())
        for k, v in net.state_dict().items():
            h.update(k.encode())
            h.update(str(tuple(v.shape)).encode())
            h.update(v.detach().float().cpu().contiguous().numpy().tobytes())
        bpp = model_bytes_per_pixel(net.encoder.name, list(net.decoder.widths), net.code_stages[:-1])
        return cls(h.hexdigest(), label, net.downsampling, lambda: net, net, bpp, len(net.code_stages))

    @classmethod
    def from_files(
        cls,
        label: str,
        parts: list[str | os.PathLike[str] | str],
        downsampling: int,
        builder: Callable[[], AdaINNet],
        bytes_per_pixel: int | None = None,
        code_levels: int = 1,
    ) -> ModelSource:
        """A source whose key hashes ``parts``: architecture names and weights files (by sha256)."""
        from adain.weights.download import file_digest

        h = hashlib.sha256()
        for part in parts:
            h.update((file_digest(part) if isinstance(part, Path) else str(part)).encode())
            h.update(b"|")
        extra = {"bytes_per_pixel": bytes_per_pixel} if bytes_per_pixel else {}
        return cls(h.hexdigest(), label, downsampling, builder, code_levels=code_levels, **extra)


def pretrained_source(
    name: str = "auto",
    encoder_weights: str | os.PathLike[str] | None = None,
    decoder_weights: str | os.PathLike[str] | None = None,
    download: bool = True,
    weights_check: str = "warn",
) -> ModelSource:
    """A :class:`ModelSource` for a named model, its files found (and verified) without torch; or
    for a model folder or Hub id (``owner/name[@revision]``, downloaded into the Hub's cache)."""
    from adain.weights.registry import MODELS

    if name != "auto" and name not in MODELS:
        if encoder_weights is not None or decoder_weights is not None:
            raise WeightsError(f"--encoder-weights/--decoder-weights go with a registered model, not {name!r}")
        from adain.weights.hub import resolve_model_ref

        folder, label = resolve_model_ref(name, download)
        return folder_source(folder, label, download)
    from adain.weights.download import model_files
    from adain.weights.registry import MODELS, choose_model

    model = choose_model(name, encoder_weights is not None or decoder_weights is not None)[0]
    card = MODELS[model]
    if card.folder is not None and encoder_weights is None and decoder_weights is None:
        from adain.weights.download import builtin_folder

        return folder_source(builtin_folder(model), model, download)  # a built-in model is a model folder

    def verify(p: Path) -> None:  # only called before/after a download: the slow path anyway
        from adain.weights.loading import load_encoder

        load_encoder(card.encoder, p)

    enc, dec = model_files(
        model, encoder_weights, decoder_weights, download=download, verify_encoder=verify, weights_check=weights_check
    )

    def build() -> AdaINNet:
        from adain.weights.loading import load_pretrained

        return load_pretrained(model, enc, dec, download=False, weights_check="off")  # checked above

    return ModelSource.from_files(model, [card.encoder, enc, dec], 8, build, model_bytes_per_pixel(card.encoder))


def checkpoint_source(
    path: str | os.PathLike[str], encoder_weights: str | os.PathLike[str] | None = None
) -> ModelSource:
    """A :class:`ModelSource` for an ``adain-train`` checkpoint (its encoder verified by sha256)."""
    from adain.weights.loading import load_checkpoint_net

    return ModelSource.from_net(load_checkpoint_net(path, encoder_weights), Path(path).name)


def folder_source(folder: str | os.PathLike[str], label: str | None = None, download: bool = True) -> ModelSource:
    """A model folder as a :class:`~adain.weights.source.ModelSource` (checked without torch; the
    network is built when something needs it)."""
    from adain.weights.folder import FORMAT, WEIGHTS_FILE, load_model_folder, read_config, weight_files

    skeleton_dir = "graphs"  # adain.runtime.graph_pack.SKELETON_DIR (the runtime layer is above this one)

    d = Path(folder).expanduser()
    config = read_config(d)
    if not (d / WEIGHTS_FILE).is_file():
        raise WeightsError(f"{d}: model folder without {WEIGHTS_FILE}")
    files = weight_files(d, download, config)
    parts: list[Any] = [FORMAT, json.dumps(config, sort_keys=True), *files.values()]
    stride = 2 ** int(config.get("last_stage", "relu4_1")[4]) // 2
    bpp = model_bytes_per_pixel(config["encoder"], config.get("decoder_widths"), config.get("decoder_skips", ()))
    levels = 1 + len(config.get("decoder_skips", ()))
    source = ModelSource.from_files(label or d.name, parts, stride, lambda: load_model_folder(d, download), bpp, levels)
    if (d / skeleton_dir).is_dir() and all(f.suffix == ".safetensors" for f in files.values()):
        source.skeletons, source.weight_files = d / skeleton_dir, files
    return source
