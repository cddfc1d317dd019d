"""Run folders: where a run's checkpoints go, which of them ``--ckpt_path last`` resumes, and the
rule of one run per folder (checked before a run writes anything)."""

from __future__ import annotations

import re
from pathlib import Path

import lightning as L
from lightning.pytorch.callbacks import ModelCheckpoint

from adain.errors import OutputExistsError

__all__ = ["checkpoint_dirs", "last_checkpoints", "refuse_foreign_run_folder", "use_run_folder"]


def use_run_folder(trainer: L.Trainer) -> None:
    """Checkpoint callbacks without a ``dirpath`` write to ``<default_root_dir>/checkpoints`` (the
    run folder the configs and docs name), so ``--trainer.default_root_dir`` moves a whole run;
    Lightning would otherwise pick the logger's version folder."""
    for cb in trainer.checkpoint_callbacks:
        if isinstance(cb, ModelCheckpoint) and cb.dirpath is None:
            cb.dirpath = str(Path(trainer.default_root_dir) / "checkpoints")


def checkpoint_dirs(trainer: L.Trainer) -> list[Path]:
    """The folders the run's checkpoint callbacks write to (their ``dirpath``, else Lightning's
    ``<default_root_dir>/checkpoints``)."""
    return sorted(
        {
            Path(cb.dirpath) if cb.dirpath else Path(trainer.default_root_dir) / "checkpoints"
            for cb in trainer.checkpoint_callbacks
            if isinstance(cb, ModelCheckpoint)
        }
    )


def last_checkpoints(trainer: L.Trainer) -> list[str]:
    """The files ``ckpt_path="last"`` may resume from: ``last.ckpt`` and its versions
    (``last-v1.ckpt``) in the checkpoint folders; Lightning picks the newest of them."""
    found: set[str] = set()
    for cb in trainer.checkpoint_callbacks:
        if not isinstance(cb, ModelCheckpoint):
            continue
        folder = Path(cb.dirpath) if cb.dirpath else Path(trainer.default_root_dir) / "checkpoints"
        pattern = re.compile(rf"^{re.escape(cb.CHECKPOINT_NAME_LAST)}(-v?\d+)?$")
        if folder.is_dir():
            found |= {str(p) for p in folder.iterdir() if p.suffix == cb.FILE_EXTENSION and pattern.match(p.stem)}
    return sorted(found)


def refuse_foreign_run_folder(trainer: L.Trainer, ckpt_path: str) -> None:
    """One run per folder: a fresh run (or a resume of a checkpoint from elsewhere) into a folder
    that already holds checkpoints would mix two runs (``last.ckpt`` replaced, ``last-v1.ckpt``
    beside it, the config of the other run); it is refused in one line, before anything is written.
    Resuming a checkpoint of that folder (or ``--ckpt_path last``) continues the same run."""
    if ckpt_path == "last" or trainer.fast_dev_run:  # (a quick check, not a run to keep)
        return
    resumed = Path(ckpt_path).resolve() if ckpt_path else None
    for folder in checkpoint_dirs(trainer):
        held = sorted(folder.glob("*.ckpt")) if folder.is_dir() else []
        if held and (resumed is None or resumed.parent != folder.resolve()):
            raise OutputExistsError(
                f"{folder}: holds the checkpoints of another run ({len(held)} files); resume that run with "
                f"--ckpt_path {folder / 'last.ckpt'} (and its config.yaml), or give a new --trainer.default_root_dir"
            )
