"""The training command's configuration surface: LightningCLI over :class:`AdaINLitModule` and
:class:`ContentStyleDataModule` (``adain-train`` is :func:`train_main` plus exit statuses), usable from
a notebook as ``train_main(["fit", "--config", "configs/debug.yaml"])``."""

from __future__ import annotations

import sys
from typing import Any, NoReturn

import lightning as L
from lightning.pytorch.callbacks import RichProgressBar, TQDMProgressBar
from lightning.pytorch.cli import LightningCLI

from adain.runtime.precision import default_precision
from adain.training.callbacks import StepProgressBar
from adain.training.data import ContentStyleDataModule
from adain.training.module import AdaINLitModule
from adain.training.runs import last_checkpoints, refuse_foreign_run_folder, use_run_folder
from adain.weights.loading import check_training_checkpoint

__all__ = ["AdainCLI", "train_main"]


class AdainCLI(LightningCLI):
    """LightningCLI whose default progress bar counts steps to ``max_steps``, also after a resume,
    which checks ``--ckpt_path`` before anything is built or written, and whose default
    ``trainer.precision`` is picked for the machine (:func:`default_precision`)."""

    def init_parser(self, **kwargs: Any) -> Any:
        from adain._version import __version__

        parser = super().init_parser(**kwargs)
        parser.add_argument("--version", action="version", version=f"adain-train {__version__}")
        parser.error = _one_line_error  # (an instance attribute: every subcommand's parser too)
        return parser

    def add_arguments_to_parser(self, parser: Any) -> None:
        parser.set_defaults({"trainer.precision": default_precision()})

    def parse_arguments(self, parser: Any, args: Any) -> None:
        # LightningCLI reads the checkpoint's hyper-parameters right after parsing, before any hook,
        # and a bad file would end in its traceback: check it here first (one line).
        super().parse_arguments(parser, args)
        sub = self.config.get("subcommand")
        cfg = self.config.get(sub) if sub else self.config
        ckpt = cfg.get("ckpt_path") if cfg is not None else None
        if ckpt and str(ckpt) not in ("last", "best", "hpc", "registry"):
            check_training_checkpoint(str(ckpt))

    def before_fit(self) -> None:
        # ``--ckpt_path last`` names a file only the trainer can find: check it the same way, now
        # that the trainer exists and before fit writes anything (config.yaml, logs, checkpoints).
        ckpt = str(self.config_init.get("fit", {}).get("ckpt_path") or "")
        if ckpt == "last":
            for path in last_checkpoints(self.trainer):
                check_training_checkpoint(path)
        refuse_foreign_run_folder(self.trainer, ckpt)

    def instantiate_trainer(self, **kwargs: Any) -> L.Trainer:
        configured = self._get(self.config_init, "trainer", default={}).get("callbacks") or []
        user_bars = {id(cb) for cb in (configured if isinstance(configured, list) else [configured])}
        trainer = super().instantiate_trainer(**kwargs)
        use_run_folder(trainer)
        for i, cb in enumerate(trainer.callbacks):
            # Lightning's default bar (rich's when rich is installed, e.g. alongside Gradio)
            if type(cb) in (TQDMProgressBar, RichProgressBar) and id(cb) not in user_bars:
                trainer.callbacks[i] = StepProgressBar(
                    refresh_rate=getattr(cb, "refresh_rate", 1), process_position=getattr(cb, "process_position", 0)
                )
        return trainer


def _one_line_error(message: str, ex: Exception | None = None) -> NoReturn:
    """A bad option or config file: one line (not the 90-line usage) and exit status 2."""
    text = "; ".join(line.strip() for line in str(message).splitlines() if line.strip())
    if len(text) > 400:
        text = text[:397] + "..."
    print(f"adain-train: error: {text} (see adain-train fit --help)", file=sys.stderr)
    sys.exit(2)


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
