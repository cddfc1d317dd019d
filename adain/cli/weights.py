"""``python -m adain.weights download canonical`` / ``python -m adain.weights list``."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from adain.cli.common import run_command
from adain.cli.parser import Parser
from adain.weights.download import download_model
from adain.weights.registry import MODELS, is_cached

__all__ = ["main"]


def main(args: Sequence[str] | None = None) -> int:
    """``python -m adain.weights download canonical`` / ``python -m adain.weights list``."""
    p = Parser(prog="python -m adain.weights", description="Download and list pretrained models.")
    sub = p.add_subparsers(dest="command", required=True)
    d = sub.add_parser("download", help="download a model's weights into the cache (sha256-checked)")
    d.add_argument("model", choices=sorted(MODELS))
    d.add_argument("--quiet", action="store_true", help="no progress bar")
    sub.add_parser("list", help="list the models and whether they are available offline")
    ns = p.parse_args(args)
    return run_command("python -m adain.weights", lambda: _run(ns), -1 if getattr(ns, "quiet", False) else 0)


def _run(ns: argparse.Namespace) -> int:
    if ns.command == "download":
        for path in download_model(ns.model, progress=not ns.quiet):
            print(path)
    else:
        for name, card in MODELS.items():
            state = "available offline" if is_cached(name) else "downloads on first use"
            print(f"{name:10s} {state:24s} {card.description}")
    return 0
