"""``adain-train``: LightningCLI over :class:`AdaINLitModule` and :class:`ContentStyleDataModule`.

    adain-train fit --config configs/adain.yaml
    adain-train fit --config configs/adain.yaml --config configs/debug.yaml
    adain-train fit --config runs/…/config.yaml --ckpt_path runs/…/checkpoints/last.ckpt
"""

from __future__ import annotations

import sys

from lightning.pytorch.cli import LightningCLI

from .datamodule import ContentStyleDataModule
from .errors import AdainError
from .lit_module import AdaINLitModule

__all__ = ["main", "train_main"]


def train_main(args: list[str] | None = None, run: bool = True) -> LightningCLI:
    """Run the training CLI with ``args`` (``None``: ``sys.argv``); returns the CLI object."""
    return LightningCLI(
        AdaINLitModule,
        ContentStyleDataModule,
        seed_everything_default=0,
        save_config_kwargs={"overwrite": True},
        args=args,
        run=run,
        parser_kwargs={"prog": "adain-train"},
    )


def main() -> None:
    try:
        train_main()
    except AdainError as e:
        print(f"adain-train: error: {e}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":  # pragma: no cover
    main()
