"""The training layer (Lightning): the LightningModule that owns losses, optimiser, schedule and
logging (:mod:`~adain.training.module`), the content/style data (:mod:`~adain.training.data`) and
the callbacks (:mod:`~adain.training.callbacks`: sample grids, a step-counting progress bar), the run
folders (:mod:`~adain.training.runs`) and the LightningCLI of ``adain-train`` (:mod:`~adain.training.cli`,
imported on its own)."""

from __future__ import annotations

from adain.training.callbacks import SampleGrid, StepProgressBar, stylization_grid
from adain.training.data import ContentStyleDataModule
from adain.training.module import AdaINLitModule

__all__ = ["AdaINLitModule", "ContentStyleDataModule", "SampleGrid", "StepProgressBar", "stylization_grid"]
