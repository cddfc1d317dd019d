"""Training data: independent, endless, reproducible sampling of (content, style) pairs.

The paper trains on MS-COCO contents and WikiArt styles, each resized so the shorter side is 512
and randomly cropped to 256×256, content and style drawn independently. Training length is
``max_steps``; there are no epochs to speak of.

Reproducibility and exact resume: batch ``b`` of rank ``r`` is a pure function of
``(seed, b·world_size + r)`` — which files, which crops. Worker ``w`` of ``n`` produces batches
``start + w, start + w + n, …`` so the ``DataLoader``'s round-robin order is the global order,
and a resumed run starts at ``start = global_step · accumulate_grad_batches``. Ranks draw disjoint
batches, so DDP needs no ``DistributedSampler``.

Unreadable files never kill a run: a cheap header scan at setup drops files that are not images,
decompression bombs and files above ``max_pixels`` (one warning that counts them); validation
files are decoded once at setup (a truncated one is dropped then, not mid-run); a training file
that fails to decode later (truncated JPEG) is replaced by another draw, with a warning; each
batch carries how many files were skipped so the module can log it.
"""

from __future__ import annotations

import itertools
import os
import warnings
from collections.abc import Iterator
from pathlib import Path

import lightning as L
import numpy as np
import torch
from PIL import Image
from torch import Tensor
from torch.utils.data import DataLoader, Dataset, IterableDataset, get_worker_info

from adain.errors import ImageError, UsageError
from adain.io.images import (
    DEFAULT_MAX_PIXELS,
    IMAGE_EXTENSIONS,
    load_image,
    probe_size,
    read_image_u8,
    resize_image,
    resized_shape,
)

__all__ = ["Batch", "ContentStyleDataModule", "PairStream", "decodable_images", "find_images", "scan_images"]


Batch = tuple[Tensor, Tensor, Tensor]


def find_images(root: str | os.PathLike[str], what: str, option: str | None = None) -> list[Path]:
    """All image files under ``root`` (recursive, sorted).

    Raises:
        ImageError: ``root`` missing (naming ``option``, the setting that chooses it), not a
            directory, or without images.
    """
    p = Path(root).expanduser()
    if not p.exists():
        hint = f" (set --{option} to your {what} images)" if option else ""
        raise ImageError(f"{p}: {what} directory does not exist{hint}")
    if not p.is_dir():
        raise ImageError(f"{p}: {what} directory is not a directory")
    files = sorted(q for q in p.rglob("*") if q.is_file() and q.suffix.lower() in IMAGE_EXTENSIONS)
    if not files:
        raise ImageError(f"{p}: {what} directory contains no images")
    return files


def _skip_warning(bad: list[str], total: int, what: str) -> None:
    if bad:
        more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
        first = bad[0].replace("--max-pixels", "--data.max_pixels")
        warnings.warn(f"skipped {len(bad)} of {total} {what} files: {first}{more}", stacklevel=3)


def scan_images(files: list[Path], what: str, max_pixels: int = DEFAULT_MAX_PIXELS) -> tuple[list[Path], int]:
    """Drop files whose header is not a usable image (unreadable, a decompression bomb, above
    ``max_pixels``), with one warning that counts them; return (good, n_bad).

    Raises:
        ImageError: no usable file at all.
    """
    good: list[Path] = []
    bad: list[str] = []
    for f in files:
        try:
            probe_size(f, max_pixels)
            good.append(f)
        except ImageError as e:
            bad.append(str(e))
    if not good:
        raise ImageError(f"no readable {what} images among {len(files)} files (first: {bad[0]})")
    _skip_warning(bad, len(files), what)
    return good, len(bad)


def decodable_images(
    files: list[Path], what: str, size: int, needed: int, max_pixels: int = DEFAULT_MAX_PIXELS
) -> list[Path]:
    """The first ``needed`` files that decode in full (validation images are used on every
    validation run, so a truncated one is dropped here, with one counting warning, not mid-run)."""
    good: list[Path] = []
    bad: list[str] = []
    for f in files:
        if len(good) >= needed:
            break
        try:
            read_image_u8(f, size, max_pixels)
            good.append(f)
        except ImageError as e:
            bad.append(str(e))
    if not good and needed:
        raise ImageError(f"no decodable {what} images among {len(files)} files (first: {bad[0]})")
    _skip_warning(bad, len(files), what)
    return good


class PairStream(IterableDataset):
    """Endless stream of ``(content, style, n_skipped)`` batches, deterministic per batch index.

    Args:
        contents / styles: image files.
        image_size: shorter side after resizing (0: keep).
        crop_size: random square crop (0: none; then images of a batch must share a size).
        batch_size: images per batch.
        seed: base seed.
        start: index of the first batch (for resume).
        rank / world_size: distributed position; ranks draw disjoint batches.
    """

    def __init__(
        self,
        contents: list[Path],
        styles: list[Path],
        image_size: int,
        crop_size: int,
        batch_size: int,
        seed: int = 0,
        start: int = 0,
        rank: int = 0,
        world_size: int = 1,
        max_pixels: int = DEFAULT_MAX_PIXELS,
    ) -> None:
        super().__init__()
        self.contents, self.styles = contents, styles
        self.max_pixels = max_pixels
        self.image_size, self.crop_size, self.batch_size = image_size, crop_size, batch_size
        self.seed, self.start, self.rank, self.world_size = seed, start, rank, world_size

    def read(self, f: Path) -> np.ndarray:
        """One file as uint8 ``(H, W, 3)``, shorter side ``image_size`` (decoded at reduced size)."""
        return read_image_u8(f, self.image_size, self.max_pixels)

    def _load(self, files: list[Path], rng: np.random.Generator) -> tuple[Tensor, int]:
        skipped = 0
        for _ in range(100):
            f = files[int(rng.integers(len(files)))]
            try:
                img = self.read(f)
            except ImageError as e:
                skipped += 1
                warnings.warn(f"{e} — skipped", stacklevel=2)
                continue
            if self.crop_size:
                h, w = img.shape[:2]
                if min(h, w) < self.crop_size:  # only with image_size 0: upscale small files
                    nh, nw = resized_shape(h, w, self.crop_size)
                    img = np.asarray(Image.fromarray(img).resize((nw, nh), Image.BILINEAR))
                    h, w = img.shape[:2]
                top = int(rng.integers(h - self.crop_size + 1))
                left = int(rng.integers(w - self.crop_size + 1))
                img = img[top : top + self.crop_size, left : left + self.crop_size]
            # only the crop is converted to float
            return torch.from_numpy(_to_float(img)), skipped
        raise ImageError(f"100 consecutive unreadable images (last: {f})")

    def batch(self, index: int) -> Batch:
        """Batch number ``index`` of this rank (pure function of seed, index, rank)."""
        rng = np.random.default_rng([self.seed, index * self.world_size + self.rank])
        cs, ss, skipped = [], [], 0
        for _ in range(self.batch_size):
            c, n1 = self._load(self.contents, rng)
            s, n2 = self._load(self.styles, rng)
            cs.append(c)
            ss.append(s)
            skipped += n1 + n2
        return torch.stack(cs), torch.stack(ss), torch.tensor(skipped)

    def __iter__(self) -> Iterator[Batch]:
        info = get_worker_info()
        wid, nw = (info.id, info.num_workers) if info is not None else (0, 1)
        for j in itertools.count():
            yield self.batch(self.start + wid + nw * j)


def _to_float(img: np.ndarray) -> np.ndarray:
    """uint8 ``(H, W, 3)`` → float32 ``(3, H, W)`` in [0, 1]."""
    return np.ascontiguousarray(img.transpose(2, 0, 1), dtype=np.float32) / np.float32(255.0)


class _FixedPairs(Dataset):
    """Validation: every content paired with styles in turn, centre-cropped, fixed."""

    def __init__(self, contents: list[Path], styles: list[Path], image_size: int, crop_size: int, n: int) -> None:
        self.pairs = [(contents[i % len(contents)], styles[i % len(styles)]) for i in range(n)]
        self.image_size, self.crop_size = image_size, crop_size

    def __len__(self) -> int:
        return len(self.pairs)

    def _prep(self, f: Path) -> Tensor:
        # Square, so a validation batch stacks whatever the files' aspect ratios.
        return resize_image(load_image(f), self.crop_size or self.image_size, crop=True)

    def __getitem__(self, i: int) -> Batch:
        c, s = self.pairs[i]
        return self._prep(c), self._prep(s), torch.tensor(0)


class ContentStyleDataModule(L.LightningDataModule):
    """Content and style folders → endless random pairs for training, fixed pairs for validation.

    Args:
        content_dir: photos (MS-COCO train2014 in the paper); searched recursively.
        style_dir: artworks (WikiArt in the paper); searched recursively.
        val_content_dir: optional validation photos.
        val_style_dir: optional validation artworks (defaults to ``style_dir`` if only
            ``val_content_dir`` is set).
        image_size: shorter side after resizing (paper: 512).
        crop_size: random square crop (paper: 256).
        batch_size: pairs per batch (paper: 8).
        num_workers: data-loading processes.
        val_pairs: number of fixed validation pairs.
        seed: seed of the sampling stream.
        pin_memory: pin batches (useful on CUDA only).
        val_holdout: without validation folders, hold this many content and style files (the
            last of each sorted list) out of training and validate on them, so model selection
            never looks at the evaluation images.
        max_pixels: files with more pixels are skipped (counted in one warning), like unreadable
            ones, decompression bombs among them.
    """

    def __init__(
        self,
        content_dir: str = "data/coco/train2014",
        style_dir: str = "data/wikiart/train",
        val_content_dir: str | None = None,
        val_style_dir: str | None = None,
        image_size: int = 512,
        crop_size: int = 256,
        batch_size: int = 8,
        num_workers: int = 4,
        val_pairs: int = 8,
        seed: int = 0,
        pin_memory: bool = False,
        val_holdout: int = 0,
        max_pixels: int = DEFAULT_MAX_PIXELS,
    ) -> None:
        super().__init__()
        if batch_size < 1:
            raise UsageError(f"data.batch_size must be >= 1, got {batch_size}")
        if image_size < 0 or crop_size < 0:
            raise UsageError(f"data.image_size and data.crop_size must be >= 0, got {image_size} and {crop_size}")
        if image_size and crop_size > image_size:
            raise UsageError(
                f"data.crop_size {crop_size} is larger than data.image_size {image_size} (the crop is "
                "taken from the resized image; lower crop_size or raise image_size)"
            )
        if val_holdout < 0:
            raise UsageError(f"data.val_holdout must be >= 0, got {val_holdout}")
        if max_pixels < 1:
            raise UsageError(f"data.max_pixels must be >= 1, got {max_pixels}")
        if num_workers < 0 or val_pairs < 0:
            raise UsageError(f"data.num_workers and data.val_pairs must be >= 0, got {num_workers} and {val_pairs}")
        self.save_hyperparameters()
        self.contents: list[Path] = []
        self.styles: list[Path] = []
        self.val_contents: list[Path] = []
        self.val_styles: list[Path] = []
        self.skipped_at_scan = 0

    def setup(self, stage: str | None = None) -> None:
        if self.contents:
            return
        hp = self.hparams
        mp = hp.max_pixels
        self.contents, bad_c = scan_images(find_images(hp.content_dir, "content", "data.content_dir"), "content", mp)
        self.styles, bad_s = scan_images(find_images(hp.style_dir, "style", "data.style_dir"), "style", mp)
        self.skipped_at_scan = bad_c + bad_s
        if hp.val_content_dir:
            self.val_contents, _ = scan_images(
                find_images(hp.val_content_dir, "validation content", "data.val_content_dir"), "content", mp
            )
            val_style = hp.val_style_dir or hp.style_dir
            self.val_styles, _ = scan_images(find_images(val_style, "validation style"), "style", mp)
        elif hp.val_holdout:
            n = hp.val_holdout
            if n >= min(len(self.contents), len(self.styles)):
                raise UsageError(
                    f"data.val_holdout {n} leaves no training images ({len(self.contents)} contents, "
                    f"{len(self.styles)} styles)"
                )
            self.contents, self.val_contents = self.contents[:-n], self.contents[-n:]
            self.styles, self.val_styles = self.styles[:-n], self.styles[-n:]
        if self.val_contents:  # decoded once now: a truncated validation file must not stop a run later
            k = max(hp.val_pairs, 1)
            self.val_contents = decodable_images(self.val_contents, "validation content", hp.image_size, k, mp)
            self.val_styles = decodable_images(self.val_styles, "validation style", hp.image_size, k, mp)

    def _start_batch(self) -> int:
        trainer = self.trainer
        if trainer is None:
            return 0
        return int(trainer.global_step) * int(trainer.accumulate_grad_batches)

    def train_dataloader(self) -> DataLoader:
        hp = self.hparams
        trainer = self.trainer
        rank, world = (trainer.global_rank, trainer.world_size) if trainer is not None else (0, 1)
        stream = PairStream(
            self.contents,
            self.styles,
            hp.image_size,
            hp.crop_size,
            hp.batch_size,
            seed=hp.seed,
            start=self._start_batch(),
            rank=rank,
            world_size=world,
            max_pixels=hp.max_pixels,
        )
        return DataLoader(
            stream,
            batch_size=None,
            num_workers=hp.num_workers,
            pin_memory=hp.pin_memory,
            persistent_workers=False,
            prefetch_factor=4 if hp.num_workers > 0 else None,
        )

    def val_dataloader(self) -> DataLoader | list:
        if not self.val_contents:
            return []
        hp = self.hparams
        ds = _FixedPairs(self.val_contents, self.val_styles, hp.image_size, hp.crop_size, hp.val_pairs)
        return DataLoader(ds, batch_size=hp.batch_size, num_workers=0)

    def sample_images(self, n_contents: int, n_styles: int) -> tuple[Tensor, Tensor]:
        """Fixed images for preview grids: validation files if configured, else the first
        training files; centre-cropped at ``crop_size`` (or 256)."""
        self.setup()
        size = self.hparams.crop_size or 256
        mp = self.hparams.max_pixels
        contents = decodable_images(self.val_contents or self.contents, "preview content", size, n_contents, mp)
        styles = decodable_images(self.val_styles or self.styles, "preview style", size, n_styles, mp)
        ds = _FixedPairs(contents, styles, size, size, max(n_contents, n_styles))
        cs = torch.stack([ds._prep(f) for f in contents[:n_contents]])
        ss = torch.stack([ds._prep(f) for f in styles[:n_styles]])
        return cs, ss
