"""``adain-train``: :func:`adain.training.cli.train_main` (LightningCLI) with the exit statuses a
scheduler reads.

adain-train fit --config configs/adain.yaml
adain-train fit --config configs/adain.yaml --config configs/debug.yaml
adain-train fit --config runs/…/config.yaml --ckpt_path runs/…/checkpoints/last.ckpt
"""

from __future__ import annotations

import sys
from typing import NoReturn

from adain.cli.common import command_logging
from adain.errors import AdainError
from adain.training.cli import AdainCLI, train_main

__all__ = ["AdainCLI", "main", "train_main"]


def main() -> None:
    """Entry point of ``adain-train``: exit 2 with one line for bad options/files, 143 when stopped
    by SIGTERM (a scheduler must not mistake it for success), 130 on Ctrl-C."""
    from lightning.fabric.utilities.exceptions import MisconfigurationException
    from lightning.pytorch.utilities.exceptions import SIGTERMException

    from adain.runtime.hardware import keep_freed_memory

    # the command owns its process: reuse freed activations across steps instead of fresh
    # zero-filled pages (train_main, called in-process by tests and notebooks, leaves it alone)
    keep_freed_memory()
    try:
        with command_logging():  # the package's own log lines (a download, a cache) as every command shows them
            train_main()
    except (AdainError, MisconfigurationException) as e:  # Lightning's: a setting it refuses (max_steps -5)
        print(f"adain-train: error: {str(e).strip().splitlines()[0]}", file=sys.stderr)
        sys.exit(2)
    except SIGTERMException:
        _stopped("stopped by SIGTERM before max_steps")
    except RuntimeError as e:  # `pkill -f adain-train` also signals the data loader's workers
        if "DataLoader worker" not in str(e) or "killed by signal" not in str(e):
            raise
        _stopped(f"stopped: {str(e).strip().splitlines()[0]}")


def _stopped(what: str) -> NoReturn:
    """A run ended by a signal: one line with how to resume, and 143 (a scheduler must not take it for success)."""
    print(f"adain-train: {what}; resume with --ckpt_path <run>/checkpoints/last.ckpt", file=sys.stderr)
    sys.exit(143)


if __name__ == "__main__":  # pragma: no cover
    main()
