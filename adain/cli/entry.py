"""Console entry points of the commands that need an optional extra: a missing extra is one line
naming what to install (``pip install 'adain[train]'``), not a traceback at import time."""

from __future__ import annotations

import importlib
import sys

from adain.errors import missing_dependency

__all__ = ["evaluate", "export", "studio", "train"]


def _launch(prog: str, module: str, extra: str | None = None) -> None:
    try:
        status = importlib.import_module(module).main()
    except ImportError as e:  # at import time or where the command imports it lazily
        missing = missing_dependency(e, extra)
        if missing is None:
            raise
        print(f"{prog}: error: {missing}", file=sys.stderr)
        sys.exit(2)
    sys.exit(status)


def train() -> None:
    """``adain-train`` (the ``train`` extra: torch, Lightning, wandb)."""
    _launch("adain-train", "adain.cli.train", "train")


def evaluate() -> None:
    """``adain-evaluate`` (the ``torch`` extra: its metrics run VGG-19 in torch)."""
    _launch("adain-evaluate", "adain.cli.evaluate", "torch")


def export() -> None:
    """``adain-export`` (the ``torch`` extra: exports read torch checkpoints and networks)."""
    _launch("adain-export", "adain.cli.export", "torch")


def studio() -> None:
    """``adain-studio`` (the ``studio`` extra: Gradio)."""
    _launch("adain-studio", "adain.cli.studio")
