"""Directory-to-directory stylization at scale through Lightning's ``Trainer.predict``.

The same command runs on one CPU, several GPUs or several nodes (``--devices``, ``--num-nodes``,
``--strategy ddp``): every rank takes every ``world_size``-th pending job (no padding, so no
duplicated outputs), a :class:`ImageWriter` callback writes each result atomically as soon as its
batch is done, and outputs already present are skipped — an interrupted run resumes where it
stopped.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from lightning.pytorch.callbacks import BasePredictionWriter
from torch import Tensor
from torch.utils.data import DataLoader, Dataset, Sampler

from adain.errors import UsageError
from adain.io.images import (
    DEFAULT_MAX_PIXELS,
    IMAGE_EXTENSIONS,
    probe_size,
    read_image,
    resize_array,
    resized_shape,
    save_image,
)
from adain.nets.network import AdaINNet
from adain.pipeline.core import Pipeline
from adain.pipeline.request import StylizeRequest
from adain.runtime.base import Stats
from adain.runtime.config import RunConfig
from adain.runtime.torch_backend import TorchRuntime

__all__ = [
    "DeviceRun",
    "ImageWriter",
    "Job",
    "JobDataset",
    "StylizeModule",
    "check_devices",
    "check_devices_run",
    "predict_directory",
    "predict_jobs",
]


Job = tuple[Path, Path]  # (content, output)


class JobDataset(Dataset):
    """The jobs of one rank: ``jobs[rank::world_size]`` (set by :meth:`shard`); items are resized
    contents (as the single-process path loads them: shorter side, then optional square crop)."""

    def __init__(
        self, jobs: Sequence[Job], content_size: int, max_pixels: int = DEFAULT_MAX_PIXELS, crop: bool = False
    ) -> None:
        self.all_jobs = list(jobs)
        self.jobs = list(jobs)
        self.content_size, self.max_pixels, self.crop = content_size, max_pixels, crop

    def shard(self, rank: int, world_size: int) -> None:
        self.jobs = self.all_jobs[rank::world_size]

    def __len__(self) -> int:
        return len(self.jobs)

    def shape(self, i: int) -> tuple[int, int]:
        """The item's (H, W) without decoding it (header and EXIF orientation only)."""
        h, w = resized_shape(*probe_size(self.jobs[i][0], self.max_pixels), self.content_size)
        return (min(h, w), min(h, w)) if self.crop else (h, w)

    def __getitem__(self, i: int) -> tuple[Tensor, int]:
        content, _ = self.jobs[i]
        x = resize_array(read_image(content, self.max_pixels), self.content_size, self.crop)
        return torch.from_numpy(x), i


class _SameSizeBatches(Sampler[list[int]]):
    """Batches of up to ``batch_size`` items of the same (resized) size, in job order."""

    def __init__(self, dataset: JobDataset, batch_size: int) -> None:
        self.dataset, self.batch_size = dataset, batch_size
        self._cache: tuple[int, list[list[int]]] | None = None

    def _batches(self) -> list[list[int]]:
        """Grouped once per shard (``__len__`` and ``__iter__`` both ask; headers are read once)."""
        key = id(self.dataset.jobs)
        if self._cache is None or self._cache[0] != key:
            groups: dict[tuple[int, int], list[int]] = {}
            for i in range(len(self.dataset)):
                groups.setdefault(self.dataset.shape(i), []).append(i)
            self._cache = (
                key,
                [idx[k : k + self.batch_size] for idx in groups.values() for k in range(0, len(idx), self.batch_size)],
            )
        return self._cache[1]

    def __iter__(self) -> Iterator[list[int]]:
        return iter(self._batches())

    def __len__(self) -> int:
        return len(self._batches())


class StylizeModule(L.LightningModule):
    """Wraps an :class:`AdaINNet` and fixed style statistics for ``predict``; each batch goes
    through the one pipeline step on this rank's device, in ``precision``."""

    def __init__(
        self,
        net: AdaINNet,
        styles: Sequence[Stats],
        weights: Sequence[float] | None,
        alpha: float,
        precision: str = "auto",
        channels_last: bool = True,
    ) -> None:
        super().__init__()
        self.net = net
        self.styles = [(np.asarray(m), np.asarray(s)) for m, s in styles]
        self.weights, self.alpha = weights, alpha
        self.run_precision, self.channels_last = precision, channels_last
        self.pipeline: Pipeline | None = None

    def on_predict_start(self) -> None:
        runtime = TorchRuntime(self.net, self.device, self.run_precision, channels_last=self.channels_last)
        self.pipeline = Pipeline(runtime)

    def predict_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> tuple[np.ndarray, Tensor]:
        x, idx = batch
        assert self.pipeline is not None  # set in on_predict_start
        return self.pipeline.run(x.cpu().numpy(), self.styles, self.weights, self.alpha), idx.cpu()


class ImageWriter(BasePredictionWriter):
    """Writes every predicted image to its job's output path as soon as the batch ends."""

    def __init__(self, dataset: JobDataset, overwrite: bool = False) -> None:
        super().__init__(write_interval="batch")
        self.dataset, self.overwrite = dataset, overwrite
        self.written: list[Path] = []

    def write_on_batch_end(
        self,
        trainer: L.Trainer,
        pl_module: L.LightningModule,
        prediction: Any,
        batch_indices: Sequence[int] | None,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int,
    ) -> None:
        images, idx = prediction
        for img, i in zip(images, idx.tolist()):
            self.written.append(save_image(img, self.dataset.jobs[i][1], overwrite=self.overwrite))


class _ShardingDataModule(L.LightningDataModule):
    def __init__(self, dataset: JobDataset, num_workers: int, batch_size: int) -> None:
        super().__init__()
        self.dataset, self.num_workers, self.batch_size = dataset, num_workers, batch_size

    def setup(self, stage: str) -> None:
        self.dataset.shard(self.trainer.global_rank, self.trainer.world_size)

    def predict_dataloader(self) -> DataLoader:
        return DataLoader(
            self.dataset, batch_sampler=_SameSizeBatches(self.dataset, self.batch_size), num_workers=self.num_workers
        )


#: the environment a multi-node launch sets (torchrun / SLURM / Lightning's own launcher)
_CLUSTER_VARS = ("MASTER_ADDR", "SLURM_NTASKS", "LOCAL_RANK", "NODE_RANK")
#: Lightning's strategies that fit stylizing (DDP family; ``auto``)
_STRATEGIES = ("auto", "ddp", "ddp_spawn", "ddp_fork", "ddp_notebook", "fsdp", "deepspeed", "single_device")


def check_devices(devices: str, num_nodes: int, strategy: str, accelerator: str) -> None:
    """``--devices``/``--num-nodes``/``--strategy``/``--accelerator`` against what this machine has,
    before Lightning sees them (a second node that never comes would hang the run forever)."""
    from adain.runtime.hardware import nvidia_gpu_present

    if not (devices in ("auto", "-1") or (devices.isdigit() and 1 <= int(devices) <= 1024)):
        raise UsageError(f"--devices must be a device count from 1 to 1024, -1 (all) or auto, got {devices!r}")
    if not 1 <= num_nodes <= 100_000:
        raise UsageError(f"--num-nodes must be between 1 and 100000, got {num_nodes}")

    if accelerator not in ("auto", "cpu", "gpu", "cuda", "mps", "tpu"):
        raise UsageError(f"--accelerator must be auto, cpu, gpu, cuda or mps, got {accelerator!r}")
    if accelerator in ("gpu", "cuda") and not nvidia_gpu_present():
        raise UsageError(f"--accelerator {accelerator}: this machine has no NVIDIA GPU (use cpu or auto)")
    if accelerator == "tpu":
        raise UsageError("--accelerator tpu is not supported (use cpu, gpu or auto)")
    if accelerator == "mps" and sys.platform != "darwin":
        raise UsageError("--accelerator mps exists on Apple silicon only (use cpu, gpu or auto)")
    if strategy.split("_find_unused")[0] not in _STRATEGIES:
        raise UsageError(f"--strategy must be one of {', '.join(_STRATEGIES)}, got {strategy!r}")
    if num_nodes > 1 and not any(os.environ.get(v) for v in _CLUSTER_VARS):
        raise UsageError(
            f"--num-nodes {num_nodes}: no cluster launcher here (torchrun or SLURM set MASTER_ADDR/SLURM_NTASKS); "
            "run one node, or start this command on every node through the launcher"
        )


def check_devices_run(request: StylizeRequest, run: RunConfig, contents: Sequence[Path], output: str) -> None:
    """What ``--devices`` (``Trainer.predict``) cannot honour, refused in one line before any work."""
    from adain.io.files import is_video

    if request.masks is not None or request.grid or request.preserve_color != "none" or request.tile:
        raise UsageError("--devices handles plain and blended stylization; drop --mask/--grid/--preserve-color/--tile")
    if run.backend not in ("auto", "torch"):
        raise UsageError(f"--devices runs the torch backend; drop --backend {run.backend}")
    if run.device != "auto":
        raise UsageError("--devices picks devices with --accelerator; drop --device")
    if run.compile:
        raise UsageError("--devices does not support --compile")
    if any(is_video(c) for c in contents):
        raise UsageError("--devices handles images, not video")
    if Path(output).expanduser().suffix.lower() in IMAGE_EXTENSIONS:
        raise UsageError(f"{Path(output).expanduser()}: with --devices, --output must be a directory")


@dataclass(frozen=True)
class DeviceRun:
    """How ``Trainer.predict`` runs: Lightning's ``devices``, ``num_nodes``, ``strategy``,
    ``accelerator`` and ``precision`` (keep ``32-true``); the networks run in ``run_precision``
    (``auto``/``fp32``/``bf16``/``fp16``) and ``channels_last`` like the single-process path."""

    devices: int | str = 1
    num_nodes: int = 1
    strategy: str = "auto"
    accelerator: str = "auto"
    run_precision: str = "auto"
    channels_last: bool = True
    precision: str = "32-true"
    num_workers: int = 0
    progress: bool = True


def predict_directory(
    net: AdaINNet,
    styles: Sequence[Stats],
    jobs: Sequence[Job],
    request: StylizeRequest | None = None,
    run: DeviceRun | None = None,
) -> list[Path]:
    """Stylize ``jobs`` (content → output path) with ``Trainer.predict`` as ``request`` says (alpha,
    style weights, content size, crop, batch size, pixel limit, overwrite); existing outputs are
    skipped unless ``request.overwrite``. Returns the paths this process wrote."""
    req, run = request or StylizeRequest(), run or DeviceRun()
    pending = [j for j in jobs if req.overwrite or not j[1].exists()]
    if not pending:
        return []
    devices = run.devices
    if isinstance(devices, int) and run.num_nodes == 1 and devices > len(pending):
        devices = len(pending)  # a process without an image would stop on an empty loader
    dataset = JobDataset(pending, req.content_size, req.max_pixels, req.crop)
    writer = ImageWriter(dataset, req.overwrite)
    module = StylizeModule(net, styles, req.weights, req.alpha, run.run_precision, run.channels_last)
    with _lightning_output(run.progress):
        trainer = L.Trainer(
            accelerator=run.accelerator,
            devices=devices,
            num_nodes=run.num_nodes,
            strategy=run.strategy,
            precision=run.precision,
            logger=False,
            callbacks=[writer],
            enable_progress_bar=run.progress,
            enable_model_summary=False,
            use_distributed_sampler=False,
            default_root_dir=None,
        )
        data = _ShardingDataModule(dataset, run.num_workers, req.batch_size)
        trainer.predict(module, datamodule=data, return_predictions=False)
    return writer.written


def predict_jobs(
    pipe: Pipeline, jobs: Sequence[tuple[Path, list[Path], Path]], request: StylizeRequest, run: DeviceRun
) -> int:
    """Every (content, styles, output) job of a run through :func:`predict_directory`, one
    prediction per style group (its statistics computed once); returns how many outputs were
    written. ``pipe`` runs the torch backend on the CPU (Lightning moves the network)."""
    net = pipe.runtime.torch_network()
    by_group: dict[tuple[Path, ...], list[tuple[Path, Path]]] = {}
    for content, group, target in jobs:
        by_group.setdefault(tuple(group), []).append((content, target))
    written = 0
    for group, pairs in by_group.items():
        stats = [pipe.style_stats(s, request.style_size, request.crop) for s in group]
        written += len(predict_directory(net, stats, pairs, request, run))
    return written


@contextmanager
def _lightning_output(verbose: bool) -> Iterator[None]:
    """What Lightning prints around a prediction: its notes about our own (deliberate) sampler and
    its internal deprecations never; its banners and tips ("GPU available", "Tip: … litlogger",
    "Initializing distributed") only when the command is not quiet."""
    names = ("lightning.pytorch", "lightning.fabric")
    saved = {n: logging.getLogger(n).level for n in names}
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*custom batch sampler.*")
        warnings.filterwarnings("ignore", message=r".*treespec.*deprecated.*")
        if not verbose:
            for n in names:
                logging.getLogger(n).setLevel(logging.WARNING)
        try:
            yield
        finally:
            for n, level in saved.items():
                logging.getLogger(n).setLevel(level)
