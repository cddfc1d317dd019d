"""``adain-train``: LightningCLI over :class:`AdaINLitModule` and :class:`ContentStyleDataModule`.

    adain-train fit --config configs/adain.yaml
    adain-train fit --config configs/adain.yaml --config configs/debug.yaml
    adain-train fit --config runs/…/config.yaml --ckpt_path runs/…/checkpoints/last.ckpt
"""

from __future__ import annotations

import sys
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import TQDMProgressBar
from lightning.pytorch.cli import LightningCLI

from .callbacks import StepProgressBar
from .datamodule import ContentStyleDataModule
from .errors import AdainError
from .lit_module import AdaINLitModule

__all__ = ["main", "train_main"]


class AdainCLI(LightningCLI):
    """LightningCLI whose default progress bar counts steps to ``max_steps``, also after a resume."""

    def instantiate_trainer(self, **kwargs: Any) -> L.Trainer:
        configured = self._get(self.config_init, "trainer", default={}).get("callbacks") or []
        user_bars = {id(cb) for cb in (configured if isinstance(configured, list) else [configured])}
        trainer = super().instantiate_trainer(**kwargs)
        for i, cb in enumerate(trainer.callbacks):
            if type(cb) is TQDMProgressBar and id(cb) not in user_bars:  # Lightning's default bar
                trainer.callbacks[i] = StepProgressBar(refresh_rate=cb.refresh_rate, process_position=cb.process_position)
        return trainer


def train_main(args: list[str] | None = None, run: bool = True) -> LightningCLI:
    """Run the training CLI with ``args`` (``None``: ``sys.argv``); returns the CLI object."""
    return AdainCLI(
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
