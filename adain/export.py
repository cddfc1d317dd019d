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

from .errors import AdainError
from .lit_module import load_checkpoint_net

__all__ = ["export_decoder", "main"]


def export_decoder(checkpoint: str | os.PathLike[str], dst: str | os.PathLike[str], half: bool = True,
                   encoder_weights: str | os.PathLike[str] | None = None, overwrite: bool = False) -> Path:
    """Write the checkpoint's decoder state dict to ``dst`` (atomically); returns ``dst``."""
    dst = Path(dst)
    if dst.exists() and not overwrite:
        raise AdainError(f"{dst}: exists (use --overwrite)")
    net = load_checkpoint_net(checkpoint, encoder_weights)
    sd = {k: (v.half() if half and v.is_floating_point() else v).contiguous() for k, v in net.decoder.state_dict().items()}
    tmp = dst.with_suffix(dst.suffix + ".part")
    torch.save(sd, tmp)
    tmp.replace(dst)
    return dst


def main(args: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m adain.export", description=__doc__.split("\n\n")[0])
    p.add_argument("checkpoint")
    p.add_argument("output")
    p.add_argument("--half", action="store_true", help="store fp16")
    p.add_argument("--encoder-weights")
    p.add_argument("--overwrite", action="store_true")
    a = p.parse_args(args)
    try:
        out = export_decoder(a.checkpoint, a.output, a.half, a.encoder_weights, a.overwrite)
    except AdainError as e:
        print(f"adain.export: error: {e}", file=sys.stderr)
        return 2
    print(f"wrote {out} ({out.stat().st_size / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
