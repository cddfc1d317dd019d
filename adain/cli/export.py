"""Export models: a model folder to share, a trained decoder to a small standalone file, or any
model to ONNX graphs.

    adain-export hub my-model/ --checkpoint last.ckpt [--push owner/my-model]
    adain-export decoder runs/small16x/.../last.ckpt my_decoder.pt --half
    adain-export onnx out_dir/ --model small16x            # or --checkpoint CKPT, --encoder/decoder-weights
    adain-export web site/ --model small16x                # the static browser app (needs `npm ci --prefix web`)

``hub``: the model folder of :mod:`adain.weights.folder` (``config.json``, ``model.safetensors``,
a model card ``README.md``), which ``--model DIR`` and ``from_pretrained(DIR)`` load, and which
``--push`` uploads to the Hugging Face Hub (then ``--model owner/name`` anywhere).

``decoder``: a plain ``decoder.pth``-layout state dict (fp16 with ``--half``: half the size, and the
difference after loading into fp32 is below 8-bit image precision), loadable with
``--decoder-weights`` or shipped in the package as a pretrained model.

``onnx``: the ``stats``, ``stylize``, ``encode`` and ``decode`` graphs (see :mod:`adain.runtime.onnx_export`),
fp32 with dynamic batch/height/width, for OpenVINO, ONNX Runtime or any ONNX consumer. The older
form ``adain-export CKPT OUT [--half]`` still exports a decoder.

``web``: the static web app of :mod:`adain.webapp` (page, graphs, ONNX Runtime Web), ready for any
static host or ``python -m http.server``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from adain.cli.common import Parser, model_ref, run_command
from adain.errors import ArchitectureError, OutputExistsError, UsageError
from adain.io.atomic import atomic_write, ensure_new, refuse_inputs, remove_stale_parts
from adain.io.files import read_text_file
from adain.nets.network import AdaINNet
from adain.weights.loading import load_checkpoint_decoder

__all__ = ["PROG", "build_parser", "export_decoder", "export_hub", "export_model_onnx", "export_web", "main"]


PROG = "adain-export"


def export_decoder(
    checkpoint: str | os.PathLike[str], dst: str | os.PathLike[str], half: bool = True, overwrite: bool = False
) -> Path:
    """Write the checkpoint's decoder state dict to ``dst`` (atomically); returns ``dst``.

    Only the decoder is read: the architecture comes from the checkpoint's record, so the encoder
    weights file is not needed.

    Raises:
        AdainError: unreadable checkpoint, one without a decoder, or ``dst`` exists (no ``overwrite``).
    """
    refuse_inputs(dst, [checkpoint])
    decoder = load_checkpoint_decoder(checkpoint)
    return atomic_write(dst, lambda f: torch.save(_stored(decoder.state_dict(), half), f), overwrite)


def _stored(sd: dict[str, torch.Tensor], half: bool) -> dict[str, torch.Tensor]:
    return {k: (v.half() if half and v.is_floating_point() else v).contiguous() for k, v in sd.items()}


def export_model_onnx(
    out_dir: str | os.PathLike[str],
    model: str = "auto",
    checkpoint: str | None = None,
    encoder_weights: str | None = None,
    decoder_weights: str | None = None,
    graphs: Sequence[str] | None = None,
    overwrite: bool = False,
    weights_check: str = "warn",
) -> list[Path]:
    """Export the ONNX graphs of a named model or a checkpoint into ``out_dir``; returns the files
    (``weights_check``: see :func:`adain.weights.download.model_files`)."""
    from adain.runtime.onnx_export import GRAPHS, export_onnx

    names = tuple(graphs or GRAPHS)
    d = Path(out_dir)
    for g in names:
        refuse_inputs(d / f"{g}.onnx", [checkpoint, encoder_weights, decoder_weights])
        if (d / f"{g}.onnx").exists() and not overwrite:
            raise OutputExistsError(f"{d / f'{g}.onnx'}: already exists (use --overwrite to replace it)")
    net = _network(model, checkpoint, encoder_weights, decoder_weights, weights_check)[0]
    return export_onnx(net, d, names)


def _network(
    model: str, checkpoint: str | None, encoder_weights: str | None, decoder_weights: str | None, weights_check: str
) -> tuple[AdaINNet, str]:
    """The network to export, and its label: a checkpoint's, else a named model's."""
    if checkpoint:
        from adain.weights.loading import load_checkpoint_net

        return load_checkpoint_net(checkpoint, encoder_weights), Path(checkpoint).name
    from adain.weights.source import pretrained_source

    source = pretrained_source(model, encoder_weights, decoder_weights, weights_check=weights_check)
    return source.build(), source.label


def export_web(
    out_dir: str | os.PathLike[str],
    model: str = "auto",
    checkpoint: str | None = None,
    encoder_weights: str | None = None,
    decoder_weights: str | None = None,
    runtime: str | None = None,
    webgpu: bool = True,
    overwrite: bool = False,
    weights_check: str = "warn",
) -> dict[str, Any]:
    """Write the static web app (:func:`adain.webapp.build_web_app`) for a model or a checkpoint."""
    from adain.webapp import build_web_app, find_runtime

    refuse_inputs(out_dir, [checkpoint, encoder_weights, decoder_weights])
    node_modules = find_runtime(runtime)  # before loading any network
    net, label = _network(model, checkpoint, encoder_weights, decoder_weights, weights_check)
    return build_web_app(out_dir, net, label, node_modules, webgpu, overwrite)


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


def export_hub(
    out_dir: str | os.PathLike[str],
    checkpoint: str | None = None,
    model: str | None = None,
    encoder_weights: str | None = None,
    name: str | None = None,
    evaluation: str | None = None,
    sample: Sequence[str] | None = None,
    push: str | None = None,
    private: bool = False,
    overwrite: bool = False,
    include_encoder: bool = False,
    half: bool = False,
) -> list[Path | str]:
    """Write a model folder from a checkpoint or a model (see :mod:`adain.weights.folder`), with a
    model card; optionally push it to the Hub. Returns the files written (and the Hub URL).

    A registered encoder is referenced by name and sha256 (the folder holds only the decoder)
    unless ``include_encoder``: then its tensors (and distillation heads) are stored too, the
    folder needs nothing else, and ``config.json`` records which registered file they are.
    ``half`` stores the decoder in fp16."""
    from adain.weights.folder import CARD, CONFIG, WEIGHTS_FILE, model_card, read_config, write_model_folder

    d = Path(out_dir).expanduser()
    if checkpoint is None and model is None and push:  # push a folder written before
        from adain.weights.hub import push_model_folder

        return [push_model_folder(d, push, private)]
    if (checkpoint is None) == (model is None):
        raise UsageError("give exactly one of --checkpoint CKPT and --model MODEL (or only --push, for a folder)")
    for f in (CONFIG, WEIGHTS_FILE, CARD, *(["sample.jpg"] if sample else [])):
        refuse_inputs(d / f, [checkpoint, encoder_weights, evaluation, *(sample or [])])
        ensure_new(d / f, overwrite)  # all or nothing: before any work or any file
    training = None
    report = read_text_file(evaluation, "report (.md)") if evaluation else None  # before any work
    if checkpoint:
        from adain.weights.loading import load_checkpoint_net, load_state_dict_file

        net = load_checkpoint_net(checkpoint, encoder_weights)
        hp = load_state_dict_file(checkpoint).get("hyper_parameters")
        training = {"checkpoint": Path(checkpoint).name, **(dict(hp) if isinstance(hp, dict) else {})}
    else:
        from adain.weights.source import pretrained_source

        net = pretrained_source(model).build()  # type: ignore[arg-type]
    name = name or d.name
    config_extra: dict[str, Any] = {"training": training} if training else {}
    sample_name = None
    if sample:
        _write_sample(net, sample, d / "sample.jpg", overwrite)
        sample_name = "sample.jpg"
    ref = _encoder_ref(net)
    if include_encoder and ref is not None:
        config_extra["encoder_source"], ref = ref, None
    card = model_card(
        name,
        {
            "encoder": net.encoder.name,
            "last_stage": net.encoder.last_stage,
            "decoder_widths": list(net.decoder.widths),
            "decoder_skips": list(net.code_stages[:-1]),
            "encoder_weights": ref or "folder",
        },
        training,
        report,
        sample_name,
        push,
    )
    heads = _encoder_heads(net) if ref is None else {}
    files: list[Path | str] = list(
        write_model_folder(net, d, name, card, ref, config_extra, overwrite, half=half, encoder_extra=heads)
    )
    if sample_name:
        files.append(d / sample_name)
    read_config(d)  # what was written reads back
    if push:
        from adain.weights.hub import push_model_folder

        files.append(push_model_folder(d, push, private))
    return files


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


def _add_model_source(p: argparse.ArgumentParser) -> None:
    """The model to export: a named model / folder / Hub id, or a checkpoint, and its weight files."""
    p.add_argument("--model", default="auto", type=model_ref, metavar="MODEL", help="a name, model folder or Hub id")
    p.add_argument("--checkpoint", help="an adain-train checkpoint instead of --model")
    p.add_argument("--encoder-weights", metavar="PATH")
    p.add_argument("--decoder-weights", metavar="PATH")
    p.add_argument(
        "--custom-weights",
        action="store_true",
        help="an --encoder-weights file that intentionally differs from the registered one (no warning)",
    )


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog=PROG, description="Export a trained decoder, or a model's ONNX graphs.")
    sub = p.add_subparsers(dest="command", required=True)
    d = sub.add_parser("decoder", help="an adain-train checkpoint's decoder as a small weights file")
    d.add_argument("checkpoint", help="an adain-train checkpoint (.ckpt)")
    d.add_argument("output", help="decoder file to write (parent folders are created)")
    d.add_argument("--half", action="store_true", help="store fp16 (half the size)")
    d.add_argument("--overwrite", action="store_true", help="replace an existing output")
    o = sub.add_parser("onnx", help="ONNX graphs (stats, stylize, encode, decode) of a model")
    o.add_argument("output", help="directory for <graph>.onnx")
    _add_model_source(o)
    o.add_argument("--graphs", nargs="+", choices=["stats", "stylize", "encode", "decode"], help="default: all four")
    o.add_argument("--overwrite", action="store_true", help="replace existing files")
    w = sub.add_parser("web", help="the static browser app (page, graphs, ONNX Runtime Web) for any static host")
    w.add_argument("output", help="the folder to write (served as is: python -m http.server -d FOLDER)")
    _add_model_source(w)
    w.add_argument(
        "--runtime",
        metavar="NODE_MODULES",
        help="the node_modules folder with onnxruntime-web (default: web/node_modules, after npm ci --prefix web)",
    )
    w.add_argument("--no-webgpu", action="store_true", help="leave out the WebGPU build (6.6 MB less; WASM only)")
    w.add_argument("--overwrite", action="store_true", help="replace a folder adain-export web wrote before")
    h = sub.add_parser(
        "hub",
        help="a model folder to share (config.json, model.safetensors, README.md): "
        "load it with --model DIR, or push it to the Hugging Face Hub",
    )
    h.add_argument("output", help="the folder to write (with only --push: the folder to upload)")
    h.add_argument("--checkpoint", help="an adain-train checkpoint")
    h.add_argument("--model", type=model_ref, metavar="MODEL", help="or a model (name, folder or Hub id)")
    h.add_argument("--encoder-weights", metavar="PATH", help="the checkpoint's encoder file, if it moved")
    h.add_argument("--name", help="the model's name in its card (default: the folder's name)")
    h.add_argument("--eval", metavar="REPORT.md", help="an adain-evaluate report (.md) to put in the card")
    h.add_argument("--sample", nargs=2, metavar=("CONTENT", "STYLE"), help="add a sample picture to the card")
    h.add_argument("--push", metavar="OWNER/NAME", help="then upload the folder to this Hub repository")
    h.add_argument("--private", action="store_true", help="with --push: create the repository private")
    h.add_argument(
        "--include-encoder",
        action="store_true",
        help="store a registered encoder in the folder too (self-contained; default: referenced by sha256)",
    )
    h.add_argument("--half", action="store_true", help="store the decoder in fp16 (half the size)")
    h.add_argument("--overwrite", action="store_true", help="replace existing files")
    return p


def main(args: Sequence[str] | None = None) -> int:
    raw = list(sys.argv[1:] if args is None else args)
    if raw and raw[0] not in ("decoder", "onnx", "hub", "web", "-h", "--help"):
        raw = ["decoder", *raw]  # the older form: CKPT OUT [--half]
    return run_command(PROG, lambda: _run(build_parser().parse_args(raw)))


def _run(a: argparse.Namespace) -> int:
    out = Path(a.output).expanduser()
    for d in (out.parent, out):  # what an export killed earlier left beside the output or inside it
        if d.is_dir():
            remove_stale_parts(d)
    if a.command == "hub":
        for path in export_hub(
            a.output,
            a.checkpoint,
            a.model,
            a.encoder_weights,
            a.name,
            a.eval,
            a.sample,
            a.push,
            a.private,
            a.overwrite,
            a.include_encoder,
            a.half,
        ):
            print(f"wrote {path}" if isinstance(path, Path) else f"pushed to {path}")
        return 0
    if a.command == "web":
        info = export_web(
            a.output,
            a.model,
            a.checkpoint,
            a.encoder_weights,
            a.decoder_weights,
            a.runtime,
            not a.no_webgpu,
            a.overwrite,
            "off" if a.custom_weights else "warn",
        )
        print(f"wrote {a.output} ({len(info['files'])} files, {info['bytes'] / 1e6:.1f} MB; {info['model']})")
        print(
            f"try it: python -m http.server --bind 127.0.0.1 --directory {a.output} 8000, then open http://127.0.0.1:8000/"
        )
        return 0
    if a.command == "decoder":
        out = export_decoder(a.checkpoint, a.output, a.half, a.overwrite)
        print(f"wrote {out} ({out.stat().st_size / 1024:.0f} KiB)")
    else:
        paths = export_model_onnx(
            a.output,
            a.model,
            a.checkpoint,
            a.encoder_weights,
            a.decoder_weights,
            a.graphs,
            a.overwrite,
            "off" if a.custom_weights else "warn",
        )
        for path in paths:
            print(f"wrote {path} ({path.stat().st_size / 2**20:.1f} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
