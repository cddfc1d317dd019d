"""Directory-to-directory stylization at scale through Lightning's ``Trainer.predict``.

The same command runs on one CPU, several GPUs or several nodes (``--devices``, ``--num-nodes``,
``--strategy ddp``): every rank takes every ``world_size``-th pending job (no padding, so no
duplicated outputs), a :class:`ImageWriter` callback writes each result atomically as soon as its
batch is done, and outputs already present are skipped — an interrupted run resumes where it
stopped.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import BasePredictionWriter
from torch import Tensor
from torch.utils.data import DataLoader, Dataset

from . import functional as AF
from .io import DEFAULT_MAX_PIXELS, load_image, resize_image, save_image
from .model import AdaINNet, Stats

__all__ = ["ImageWriter", "JobDataset", "StylizeModule", "predict_directory"]

Job = tuple[Path, Path]  # (content, output)


class JobDataset(Dataset):
    """The jobs of one rank: ``jobs[rank::world_size]`` (set by :meth:`shard`)."""

    def __init__(self, jobs: Sequence[Job], content_size: int, max_pixels: int = DEFAULT_MAX_PIXELS) -> None:
        self.all_jobs = list(jobs)
        self.jobs = list(jobs)
        self.content_size, self.max_pixels = content_size, max_pixels

    def shard(self, rank: int, world_size: int) -> None:
        self.jobs = self.all_jobs[rank::world_size]

    def __len__(self) -> int:
        return len(self.jobs)

    def __getitem__(self, i: int) -> tuple[Tensor, int]:
        content, _ = self.jobs[i]
        return resize_image(load_image(content, self.max_pixels), self.content_size), i


class StylizeModule(L.LightningModule):
    """Wraps an :class:`AdaINNet` and fixed style statistics for ``predict``."""

    def __init__(self, net: AdaINNet, styles: Sequence[Stats], weights: Sequence[float] | None, alpha: float) -> None:
        super().__init__()
        self.net = net
        self.styles = [(m.cpu(), s.cpu()) for m, s in styles]
        self.weights, self.alpha = weights, alpha

    def predict_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> tuple[Tensor, Tensor]:
        x, idx = batch
        h, w = x.shape[-2:]
        x = AF.pad_to_multiple(x, self.net.downsampling)
        stats = [(a.to(self.device), b.to(self.device)) for a, b in self.styles]
        out = self.net.decode(self.net.transfer(self.net.encode(x), stats, self.weights, self.alpha))
        return out[:, :, :h, :w].float().clamp(0, 1).cpu(), idx.cpu()


class ImageWriter(BasePredictionWriter):
    """Writes every predicted image to its job's output path as soon as the batch ends."""

    def __init__(self, dataset: JobDataset, overwrite: bool = False) -> None:
        super().__init__(write_interval="batch")
        self.dataset, self.overwrite = dataset, overwrite
        self.written: list[Path] = []

    def write_on_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, prediction: Any,
                           batch_indices: Sequence[int] | None, batch: Any, batch_idx: int, dataloader_idx: int) -> None:
        images, idx = prediction
        for img, i in zip(images, idx.tolist()):
            self.written.append(save_image(img, self.dataset.jobs[i][1], overwrite=self.overwrite))


class _ShardingDataModule(L.LightningDataModule):
    def __init__(self, dataset: JobDataset, num_workers: int) -> None:
        super().__init__()
        self.dataset, self.num_workers = dataset, num_workers

    def setup(self, stage: str) -> None:
        self.dataset.shard(self.trainer.global_rank, self.trainer.world_size)

    def predict_dataloader(self) -> DataLoader:
        # batch 1: contents may differ in size; the network still runs on the accelerator
        return DataLoader(self.dataset, batch_size=1, num_workers=self.num_workers)


def predict_directory(
    net: AdaINNet,
    styles: Sequence[Stats],
    jobs: Sequence[Job],
    weights: Sequence[float] | None = None,
    alpha: float = 1.0,
    content_size: int = 512,
    overwrite: bool = False,
    devices: int | str = 1,
    num_nodes: int = 1,
    strategy: str = "auto",
    accelerator: str = "auto",
    precision: str = "32-true",
    num_workers: int = 0,
    progress: bool = True,
) -> list[Path]:
    """Stylize ``jobs`` (content → output path) with ``Trainer.predict``; existing outputs are
    skipped unless ``overwrite``. Returns the paths this process wrote."""
    pending = [j for j in jobs if overwrite or not j[1].exists()]
    dataset = JobDataset(pending, content_size)
    writer = ImageWriter(dataset, overwrite)
    trainer = L.Trainer(accelerator=accelerator, devices=devices, num_nodes=num_nodes, strategy=strategy,
                        precision=precision, logger=False, callbacks=[writer], enable_progress_bar=progress,
                        enable_model_summary=False, use_distributed_sampler=False, default_root_dir=None)
    trainer.predict(StylizeModule(net, styles, weights, alpha), datamodule=_ShardingDataModule(dataset, num_workers),
                    return_predictions=False)
    return writer.written
