"""Training callbacks: a rank-zero preview grid, and a progress bar that counts steps to ``max_steps``.

Grid layout: the top row holds a blank cell then the styles; each following row holds a content
then its stylizations. Written to ``<run dir>/samples/step_XXXXXXX.jpg`` and sent to the active
logger (wandb image, TensorBoard image) — the file is always written.
"""

from __future__ import annotations

import math
from pathlib import Path

import lightning as L
import torch
from lightning.pytorch.callbacks import TQDMProgressBar
from lightning.pytorch.callbacks.progress.tqdm_progress import convert_inf
from lightning.pytorch.utilities import rank_zero_only
from torch import Tensor
from torchvision.utils import make_grid

from adain.io.images import save_image
from adain.nets.network import AdaINNet
from adain.pipeline.core import Pipeline
from adain.runtime.torch_backend import TorchRuntime

__all__ = ["SampleGrid", "StepProgressBar", "grid_pipeline", "stylization_grid"]


def grid_pipeline(model: AdaINNet) -> Pipeline:
    """The pipeline of sample grids: the network as it is (device, train/eval mode and memory
    format untouched, weights read at every call), in fp32."""
    return Pipeline(TorchRuntime(model, precision="fp32", channels_last=False, prepare=False))


def stylization_grid(model: AdaINNet | Pipeline, contents: Tensor, styles: Tensor, alpha: float = 1.0) -> Tensor:
    """``(3, H', W')`` grid of every content × style, through the one pipeline step (of
    :func:`grid_pipeline` when given a network)."""
    pipe = model if isinstance(model, Pipeline) else grid_pipeline(model)
    n_s = styles.shape[0]
    stats = [pipe.style_stats(s.detach().float().cpu().numpy(), size=0) for s in styles]
    cells = [torch.ones_like(contents[0]).cpu()] + list(styles.float().cpu())
    for i in range(contents.shape[0]):
        x = contents[i : i + 1].detach().float().cpu().numpy()
        outs = [pipe.run(x, [st], alpha=alpha)[0] for st in stats]
        cells += [contents[i].float().cpu()] + [torch.from_numpy(o) for o in outs]
    return make_grid(torch.stack(cells), nrow=n_s + 1, padding=2, pad_value=1.0)


class SampleGrid(L.Callback):
    """Every ``every_n_steps`` training steps (and at the end), write and log a sample grid.

    Args:
        every_n_steps: interval in optimiser steps.
        n_contents: rows of the grid.
        n_styles: columns of the grid.
        dirname: sub-directory of the run directory.
    """

    def __init__(
        self, every_n_steps: int = 1000, n_contents: int = 3, n_styles: int = 4, dirname: str = "samples"
    ) -> None:
        super().__init__()
        if every_n_steps < 1:
            raise ValueError(f"every_n_steps must be >= 1, got {every_n_steps}")
        self.every_n_steps = every_n_steps
        self.n_contents, self.n_styles, self.dirname = n_contents, n_styles, dirname
        self._images: tuple[Tensor, Tensor] | None = None
        self._pipe: Pipeline | None = None
        self.last_path: Path | None = None

    def _run_dir(self, trainer: L.Trainer) -> Path:
        logger = trainer.logger
        if logger is not None and getattr(logger, "save_dir", None):
            name = getattr(logger, "name", None) or ""
            version = getattr(logger, "version", None)
            version = version if isinstance(version, str) else (f"version_{version}" if version is not None else "")
            return Path(logger.save_dir) / str(name) / version
        return Path(trainer.default_root_dir)

    @rank_zero_only
    def write(self, trainer: L.Trainer, pl_module: L.LightningModule) -> Path | None:
        dm = trainer.datamodule
        if dm is None or not hasattr(dm, "sample_images"):
            return None
        if self._images is None:
            self._images = dm.sample_images(self.n_contents, self.n_styles)
        contents, styles = (t.to(pl_module.device) for t in self._images)
        was_training = pl_module.training
        pl_module.eval()
        if self._pipe is None or self._pipe.runtime.torch_network() is not pl_module.net:
            self._pipe = grid_pipeline(pl_module.net)  # once per run, not per grid
        with torch.no_grad():
            grid = stylization_grid(self._pipe, contents, styles)
        pl_module.train(was_training)
        step = trainer.global_step
        path = self._run_dir(trainer) / self.dirname / f"step_{step:07d}.jpg"
        save_image(grid, path, overwrite=True)
        self.last_path = path
        for logger in trainer.loggers:
            if hasattr(logger, "log_image"):  # WandbLogger
                logger.log_image(key="samples", images=[str(path)], step=step)
            elif hasattr(getattr(logger, "experiment", None), "add_image"):  # TensorBoard
                logger.experiment.add_image("samples", grid, step)
        return path

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, *args: object) -> None:
        if trainer.global_step > 0 and trainer.global_step % self.every_n_steps == 0:
            self.write(trainer, pl_module)

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.last_path is None or not self.last_path.name.endswith(f"{trainer.global_step:07d}.jpg"):
            self.write(trainer, pl_module)


class StepProgressBar(TQDMProgressBar):
    """Lightning's TQDM bar, sized by ``max_steps`` from the start, also when a run resumes.

    Training here is one endless epoch bounded by ``max_steps``. Lightning sizes its bar in
    ``on_train_epoch_start``, a hook it skips when a checkpoint resumes mid-epoch, so resumed runs
    showed ``N/?`` without an ETA. This bar sizes itself in ``on_train_start`` too, and starts
    its count (and rate) at the resumed batch. ``adain-train`` uses it in place of the default bar.
    """

    @property
    def total_train_batches(self) -> int | float:
        trainer = self.trainer
        if trainer.max_steps > 0 and math.isinf(trainer.num_training_batches):
            return trainer.max_steps * trainer.accumulate_grad_batches
        return super().total_train_batches

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        super().on_train_start(trainer, pl_module)
        done = trainer.fit_loop.epoch_loop.batch_progress.current.ready  # batches of this epoch already run
        bar = self.train_progress_bar
        bar.reset(total=convert_inf(self.total_train_batches))
        bar.n = bar.last_print_n = bar.initial = done
        bar.set_description(f"Epoch {trainer.current_epoch}")
