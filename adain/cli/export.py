"""Export models: a trained decoder to a small standalone file, or any model to ONNX graphs.

    adain-export decoder runs/small16x/.../last.ckpt adain/pretrained/small16x_decoder.pt --half
    adain-export onnx out_dir/ --model small16x            # or --checkpoint CKPT, --encoder/decoder-weights

``decoder``: a plain ``decoder.pth``-layout state dict (fp16 with ``--half``: half the size, and the
difference after loading into fp32 is below 8-bit image precision), loadable with
``--decoder-weights`` or shipped in the package as a pretrained model.

``onnx``: the ``stats``, ``stylize``, ``encode`` and ``decode`` graphs (see :mod:`adain.runtime.onnx_export`),
fp32 with dynamic batch/height/width, for OpenVINO, ONNX Runtime or any ONNX consumer. The older
form ``adain-export CKPT OUT [--half]`` still exports a decoder.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import torch

from adain.cli.common import Parser, run_command
from adain.errors import OutputExistsError
from adain.io.atomic import atomic_write, refuse_inputs
from adain.weights.loading import load_checkpoint_decoder
from adain.weights.registry import MODELS

__all__ = ["PROG", "build_parser", "export_decoder", "export_model_onnx", "main"]


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
    if checkpoint:
        from adain.weights.loading import load_checkpoint_net

        net = load_checkpoint_net(checkpoint, encoder_weights)
    else:
        from adain.weights.loading import load_pretrained

        net = load_pretrained(model, encoder_weights, decoder_weights, weights_check=weights_check)
    return export_onnx(net, d, names)


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
    o.add_argument("--model", default="auto", choices=["auto", *sorted(MODELS)])
    o.add_argument("--checkpoint", help="an adain-train checkpoint instead of --model")
    o.add_argument("--encoder-weights", metavar="PATH")
    o.add_argument("--decoder-weights", metavar="PATH")
    o.add_argument(
        "--custom-weights",
        action="store_true",
        help="an --encoder-weights file that intentionally differs from the registered one (no warning)",
    )
    o.add_argument("--graphs", nargs="+", choices=["stats", "stylize", "encode", "decode"], help="default: all four")
    o.add_argument("--overwrite", action="store_true", help="replace existing files")
    return p


def main(args: Sequence[str] | None = None) -> int:
    raw = list(sys.argv[1:] if args is None else args)
    if raw and raw[0] not in ("decoder", "onnx", "-h", "--help"):
        raw = ["decoder", *raw]  # the older form: CKPT OUT [--half]
    return run_command(PROG, lambda: _run(build_parser().parse_args(raw)))


def _run(a: argparse.Namespace) -> int:
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
