"""Export a trained decoder from an ``adain-train`` checkpoint to a small standalone file.

    python -m adain.export runs/small16x/.../last.ckpt adain/pretrained/small16x_decoder.pt --half

The file is a plain ``decoder.pth``-layout state dict (fp16 with ``--half``: half the size, and
the difference after loading into fp32 is below 8-bit image precision), loadable with
``--decoder-weights`` or shipped in the package as a pretrained model.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import torch

from .decoder import build_decoder, load_decoder_state_dict
from .encoder import STAGES, build_encoder
from .errors import AdainError
from .io import atomic_write
from .lit_module import encoder_record
from .weights import load_state_dict_file

__all__ = ["export_decoder", "main"]


def export_decoder(checkpoint: str | os.PathLike[str], dst: str | os.PathLike[str], half: bool = True,
                   overwrite: bool = False) -> Path:
    """Write the checkpoint's decoder state dict to ``dst`` (atomically); returns ``dst``.

    Only the decoder is read: the architecture comes from the checkpoint's record, so the encoder
    weights file is not needed.

    Raises:
        AdainError: unreadable checkpoint, one without a decoder, or ``dst`` exists (no ``overwrite``).
    """
    src = str(checkpoint)
    ckpt = load_state_dict_file(src)
    rec = encoder_record(ckpt)
    try:
        decoder = build_decoder(build_encoder(rec["encoder"], rec.get("stages", list(STAGES))[-1]))
        load_decoder_state_dict(decoder, ckpt, src)
        return atomic_write(dst, lambda f: torch.save(_stored(decoder.state_dict(), half), f), overwrite)
    except (ValueError, FileExistsError) as e:
        raise AdainError(str(e)) from None


def _stored(sd: dict[str, torch.Tensor], half: bool) -> dict[str, torch.Tensor]:
    return {k: (v.half() if half and v.is_floating_point() else v).contiguous() for k, v in sd.items()}


def main(args: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m adain.export", description=__doc__.split("\n\n")[0])
    p.add_argument("checkpoint", help="an adain-train checkpoint (.ckpt)")
    p.add_argument("output", help="decoder file to write (parent folders are created)")
    p.add_argument("--half", action="store_true", help="store fp16 (half the size)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output")
    a = p.parse_args(args)
    try:
        out = export_decoder(a.checkpoint, a.output, a.half, a.overwrite)
    except AdainError as e:
        print(f"adain.export: error: {e}", file=sys.stderr)
        return 2
    print(f"wrote {out} ({out.stat().st_size / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
