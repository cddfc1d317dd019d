"""``adain-train``: LightningCLI over :class:`AdaINLitModule` and :class:`ContentStyleDataModule`.

    adain-train fit --config configs/adain.yaml
    adain-train fit --config configs/adain.yaml --config configs/debug.yaml
    adain-train fit --config runs/…/config.yaml --ckpt_path runs/…/checkpoints/last.ckpt
"""

from __future__ import annotations

import sys
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import RichProgressBar, TQDMProgressBar
from lightning.pytorch.cli import LightningCLI

from .callbacks import StepProgressBar
from .datamodule import ContentStyleDataModule
from .errors import AdainError
from .lit_module import AdaINLitModule

__all__ = ["default_precision", "main", "train_main"]


def default_precision() -> str:
    """Trainer precision for this machine: ``bf16-mixed`` on CUDA GPUs with bf16 and on CPUs with
    AMX/AVX512-BF16 (about 2× faster there), ``32-true`` elsewhere (AVX2-only CPUs emulate bf16
    convolutions, 10–100× slower than fp32)."""
    from .hardware import cpu_has_fast_bf16, nvidia_gpu_present

    if nvidia_gpu_present():
        import torch

        if torch.cuda.is_available() and torch.cuda.is_bf16_supported():
            return "bf16-mixed"
        return "32-true"
    return "bf16-mixed" if cpu_has_fast_bf16() else "32-true"


class AdainCLI(LightningCLI):
    """LightningCLI whose default progress bar counts steps to ``max_steps``, also after a resume,
    which checks ``--ckpt_path`` before anything is built or written, and whose default
    ``trainer.precision`` is picked for the machine (:func:`default_precision`)."""

    def add_arguments_to_parser(self, parser: Any) -> None:
        parser.set_defaults({"trainer.precision": default_precision()})

    def _parse_ckpt_path(self) -> None:
        # LightningCLI reads the checkpoint's hyper-parameters here, before any hook, and a bad file
        # would end in its traceback: check it first (one line), then let Lightning read it.
        sub = self.config.get("subcommand")
        cfg = self.config.get(sub) if sub else self.config
        ckpt = cfg.get("ckpt_path") if cfg is not None else None
        if ckpt and str(ckpt) not in ("last", "best", "hpc", "registry"):
            check_training_checkpoint(str(ckpt))
        super()._parse_ckpt_path()

    def instantiate_trainer(self, **kwargs: Any) -> L.Trainer:
        configured = self._get(self.config_init, "trainer", default={}).get("callbacks") or []
        user_bars = {id(cb) for cb in (configured if isinstance(configured, list) else [configured])}
        trainer = super().instantiate_trainer(**kwargs)
        for i, cb in enumerate(trainer.callbacks):
            # Lightning's default bar (rich's when rich is installed, e.g. alongside Gradio)
            if type(cb) in (TQDMProgressBar, RichProgressBar) and id(cb) not in user_bars:
                trainer.callbacks[i] = StepProgressBar(refresh_rate=getattr(cb, "refresh_rate", 1),
                                                       process_position=getattr(cb, "process_position", 0))
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


def check_training_checkpoint(path: str) -> None:
    """A resume checkpoint must exist, load as plain data (``weights_only``: it never runs code)
    and come from ``adain-train``; else one line (:class:`~adain.errors.WeightsError`)."""
    from pathlib import Path

    from .checkpoint import encoder_record
    from .errors import WeightsError
    from .weights import load_state_dict_file

    if not Path(path).is_file():
        raise WeightsError(f"{path}: --ckpt_path not found")
    ckpt = load_state_dict_file(path)
    encoder_record(ckpt)
    if "state_dict" not in ckpt or "loops" not in ckpt:
        raise WeightsError(f"{path}: not a training checkpoint (no trainer state to resume from)")


def main() -> None:
    """Entry point of ``adain-train``: exit 2 with one line for bad options/files, 143 when stopped
    by SIGTERM (a scheduler must not mistake it for success), 130 on Ctrl-C."""
    from lightning.pytorch.utilities.exceptions import SIGTERMException

    from .hardware import keep_freed_memory

    # the command owns its process: reuse freed activations across steps instead of fresh
    # zero-filled pages (train_main, called in-process by tests and notebooks, leaves it alone)
    keep_freed_memory()
    try:
        train_main()
    except AdainError as e:
        print(f"adain-train: error: {e}", file=sys.stderr)
        sys.exit(2)
    except SIGTERMException:
        print("adain-train: stopped by SIGTERM before max_steps; resume with --ckpt_path <run>/checkpoints/last.ckpt",
              file=sys.stderr)
        sys.exit(143)


if __name__ == "__main__":  # pragma: no cover
    main()
