"""``adain-export``: the parser over :mod:`adain.methods.export`.

    adain-export hub my-model/ --checkpoint last.ckpt [--push owner/my-model]
    adain-export decoder runs/small16x/.../last.ckpt my_decoder.pt --half
    adain-export onnx out_dir/ --model small16x            # or --checkpoint CKPT, --encoder/decoder-weights
    adain-export web site/ --model small16x                # the static browser app (needs `npm ci --prefix web`)

``hub``: a model folder (``config.json``, ``model.safetensors``, a model card ``README.md``) that
``--model DIR`` and ``from_pretrained(DIR)`` load and ``--push`` uploads to the Hugging Face Hub.
``decoder``: a plain ``decoder.pth``-layout state dict. ``onnx``: the ``stats``, ``stylize``,
``encode`` and ``decode`` graphs. ``web``: the static web app, ready for any static host.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from adain.cli.common import run_command
from adain.cli.model_options import add_model_options
from adain.cli.parser import Parser, fields_from, model_ref
from adain.io.atomic import remove_stale_parts
from adain.methods.export import HubExport, NetworkRef, export_decoder, export_hub, export_onnx_graphs, export_web

__all__ = ["PROG", "build_parser", "main"]

PROG = "adain-export"


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog=PROG, description="Export a trained decoder, or a model's ONNX graphs.")
    sub = p.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print one JSON object per output on stdout")
    d = sub.add_parser("decoder", parents=[common], help="an adain-train checkpoint's decoder as a small weights file")
    d.add_argument("checkpoint", help="an adain-train checkpoint (.ckpt)")
    d.add_argument("output", help="decoder file to write (parent folders are created)")
    d.add_argument("--half", action="store_true", help="store fp16 (half the size)")
    d.add_argument("--overwrite", action="store_true", help="replace an existing output")
    o = sub.add_parser("onnx", parents=[common], help="ONNX graphs (stats, stylize, encode, decode) of a model")
    o.add_argument("output", help="directory for <graph>.onnx")
    add_model_options(o, run=False)
    o.add_argument("--graphs", nargs="+", choices=["stats", "stylize", "encode", "decode"], help="default: all four")
    o.add_argument("--overwrite", action="store_true", help="replace existing files")
    w = sub.add_parser(
        "web", parents=[common], help="the static browser app (page, graphs, ONNX Runtime Web) for any static host"
    )
    w.add_argument("output", help="the folder to write (served as is: python -m http.server -d FOLDER)")
    add_model_options(w, run=False)
    w.add_argument(
        "--runtime",
        metavar="NODE_MODULES",
        help="the node_modules folder with onnxruntime-web (default: web/node_modules, after npm ci --prefix web)",
    )
    w.add_argument("--no-webgpu", action="store_true", help="leave out the WebGPU build (6.6 MB less; WASM only)")
    w.add_argument("--overwrite", action="store_true", help="replace a folder adain-export web wrote before")
    h = sub.add_parser(
        "hub",
        parents=[common],
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
    return run_command(PROG, lambda: _run(build_parser().parse_args(args)))


def _ref(a: argparse.Namespace) -> NetworkRef:
    return fields_from(NetworkRef, a, weights_check="off" if getattr(a, "custom_weights", False) else "warn")


def _run(a: argparse.Namespace) -> int:
    out = Path(a.output).expanduser()
    for d in (out.parent, out):  # what an export killed earlier left beside the output or inside it
        if d.is_dir():
            remove_stale_parts(d)
    rows = _export(a)
    for row in rows:
        if a.json:
            print(json.dumps(row))
        elif "pushed" in row:
            print(f"pushed to {row['pushed']}")
        else:
            print(f"wrote {row['output']} ({_size(row['bytes'])}{row.get('note', '')})")
    if a.command == "web" and not a.json:
        print(
            f"try it: python -m http.server --bind 127.0.0.1 --directory {a.output} 8000, then open http://127.0.0.1:8000/"
        )
    return 0


def _export(a: argparse.Namespace) -> list[dict[str, Any]]:
    """What the subcommand wrote: one row per output (``command``, ``output``, ``bytes``)."""

    def row(path: Path, **extra: Any) -> dict[str, Any]:
        size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.is_dir() else path.stat().st_size
        return {"command": a.command, "output": str(path), "bytes": size, **extra}

    if a.command == "hub":
        options = fields_from(HubExport, a, evaluation=a.eval, sample=tuple(a.sample) if a.sample else None)
        written = export_hub(a.output, _ref(a), options)
        return [row(p) if isinstance(p, Path) else {"command": "hub", "pushed": p} for p in written]
    if a.command == "web":
        info = export_web(a.output, _ref(a), a.runtime, not a.no_webgpu, a.overwrite)
        return [
            row(
                Path(a.output),
                files=len(info["files"]),
                model=info["model"],
                note=f", {len(info['files'])} files; {info['model']}",
            )
        ]
    if a.command == "decoder":
        return [row(export_decoder(a.checkpoint, a.output, a.half, a.overwrite))]
    return [row(p) for p in export_onnx_graphs(a.output, _ref(a), a.graphs, a.overwrite)]


def _size(n: int) -> str:
    return f"{n / 2**20:.1f} MiB" if n >= 2**20 else f"{n / 1024:.0f} KiB"


if __name__ == "__main__":
    sys.exit(main())
