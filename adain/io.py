"""Image reading/writing and input discovery.

Reading honours EXIF orientation and converts every mode PIL knows (grayscale, palette, RGBA,
CMYK, 16-bit) to RGB in [0, 1]; decompression bombs and truncated files are refused with a
one-line :class:`~adain.errors.ImageError`. Writing goes to a temporary name in the target
directory and is renamed into place, so an interrupted run never leaves half an image, and an
existing file is only replaced when asked.
"""

from __future__ import annotations

import os
import secrets
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps, UnidentifiedImageError
from torch import Tensor

from .errors import ImageError

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "atomic_path",
    "atomic_write",
    "ensure_new",
    "IMAGE_EXTENSIONS",
    "label_map_to_masks",
    "list_images",
    "load_image",
    "load_mask",
    "pil_to_tensor",
    "resize_image",
    "save_image",
]

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".gif"})
VIDEO_EXTENSIONS = frozenset({".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v"})
DEFAULT_MAX_PIXELS = 100_000_000


def list_images(paths: Iterable[str | os.PathLike[str]], recursive: bool = False) -> list[Path]:
    """Expand files and directories into a list of image files (directories sorted by name).

    Raises:
        ImageError: a path does not exist, or a directory holds no images.
    """
    found: list[Path] = []
    for raw in paths:
        p = Path(raw).expanduser()
        if p.is_dir():
            pattern = "**/*" if recursive else "*"
            imgs = sorted(q for q in p.glob(pattern) if q.is_file() and q.suffix.lower() in IMAGE_EXTENSIONS)
            if not imgs:
                raise ImageError(f"{p}: directory contains no images ({', '.join(sorted(IMAGE_EXTENSIONS))})")
            found.extend(imgs)
        elif p.is_file():
            found.append(p)
        else:
            raise ImageError(f"{p}: no such file or directory")
    return found


def _to_rgb(img: Image.Image) -> Image.Image:
    if img.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        arr = np.asarray(img, dtype=np.float32)
        hi = 65535.0 if img.mode.startswith("I;16") or arr.max(initial=0) > 255 else 255.0
        arr = np.clip(arr / hi * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return Image.fromarray(arr, mode="L").convert("RGB")
    if img.mode == "P":
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return img.convert("RGB")


def pil_to_tensor(img: Image.Image) -> Tensor:
    """PIL image (any mode) → float ``(3, H, W)`` in [0, 1]."""
    arr = np.asarray(_to_rgb(img), dtype=np.uint8)
    return torch.from_numpy(arr.copy()).permute(2, 0, 1).float().div_(255.0)


def load_image(path: str | os.PathLike[str], max_pixels: int = DEFAULT_MAX_PIXELS) -> Tensor:
    """Read an image file as float ``(3, H, W)`` RGB in [0, 1].

    Raises:
        ImageError: missing, not an image, truncated/corrupt, or more than ``max_pixels``.
    """
    p = Path(path)
    if not p.is_file():
        raise ImageError(f"{p}: no such file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(p) as img:
                w, h = img.size
                if w * h > max_pixels:
                    raise ImageError(
                        f"{p}: image is {w}x{h} = {w * h / 1e6:.0f} MP, above the limit of "
                        f"{max_pixels / 1e6:.0f} MP (raise it with --max-pixels)"
                    )
                img.load()
                img = ImageOps.exif_transpose(img)
                return pil_to_tensor(img)
    except ImageError:
        raise
    except Image.DecompressionBombError as e:
        raise ImageError(f"{p}: refused as a decompression bomb ({e})") from None
    except UnidentifiedImageError:
        raise ImageError(f"{p}: not an image file (or a format Pillow cannot read)") from None
    except (OSError, SyntaxError, ValueError) as e:
        raise ImageError(f"{p}: corrupt or truncated image ({e})") from None


def resized_shape(h: int, w: int, size: int) -> tuple[int, int]:
    """``(H, W)`` after scaling the shorter side to ``size`` (0 keeps it)."""
    if size <= 0 or min(h, w) == size:
        return h, w
    scale = size / min(h, w)
    return max(1, round(h * scale)), max(1, round(w * scale))


def resize_image(img: Tensor, size: int, crop: bool = False) -> Tensor:
    """Resize so the shorter side is ``size`` (0 keeps the original), optionally centre-crop to a square.

    Shape:
        img: ``(3, H, W)`` or ``(N, 3, H, W)``; returns the same rank.
    """
    if size < 0:
        raise ValueError(f"size must be >= 0, got {size}")
    x = img.unsqueeze(0) if img.dim() == 3 else img
    h, w = x.shape[-2:]
    nh, nw = resized_shape(h, w, size)
    if (nh, nw) != (h, w):
        x = F.interpolate(x, size=(nh, nw), mode="bilinear", antialias=True, align_corners=False)
        x = x.clamp_(0.0, 1.0)
    if crop:
        h, w = x.shape[-2:]
        s = min(h, w)
        top, left = (h - s) // 2, (w - s) // 2
        x = x[..., top : top + s, left : left + s]
    return x[0] if img.dim() == 3 else x


_FORMATS = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".bmp": "BMP", ".webp": "WEBP", ".tif": "TIFF", ".tiff": "TIFF"}


def tensor_to_pil(img: Tensor) -> Image.Image:
    """Float ``(3, H, W)`` (values clamped to [0, 1]) → 8-bit RGB PIL image."""
    arr = img.detach().float().clamp(0, 1).mul(255).round().byte().permute(1, 2, 0).cpu().numpy()
    return Image.fromarray(arr, mode="RGB")


def ensure_new(path: str | os.PathLike[str], overwrite: bool = False) -> Path:
    """``path`` as a Path, if it may be written: absent, or ``overwrite`` is True.

    Raises:
        FileExistsError: ``path`` exists and ``overwrite`` is False.
    """
    p = Path(path)
    if p.exists() and not overwrite:
        raise FileExistsError(f"{p}: already exists (use --overwrite to replace it)")
    return p


@contextmanager
def atomic_path(path: str | os.PathLike[str], overwrite: bool = False) -> Iterator[Path]:
    """Yield a new empty temporary file beside ``path`` (parent folders are created) for the block to
    fill; it is renamed onto ``path`` when the block succeeds and removed when it raises, so
    ``path`` is never partial. The temporary file has the mode a plain ``open()`` would give.

    Raises:
        FileExistsError: ``path`` exists and ``overwrite`` is False.
    """
    p = ensure_new(path, overwrite)
    p.parent.mkdir(parents=True, exist_ok=True)
    while True:  # like mkstemp, but 0o666 less the umask instead of 0o600
        tmp = p.parent / f".{p.stem}.{secrets.token_hex(4)}.part"
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            break
        except FileExistsError:
            continue
    try:
        yield tmp
        os.replace(tmp, p)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write(path: str | os.PathLike[str], write: Callable[[BinaryIO], None], overwrite: bool = False) -> Path:
    """Create ``path`` through ``write(file)`` on a temporary file (see :func:`atomic_path`).

    Raises:
        FileExistsError: ``path`` exists and ``overwrite`` is False.
    """
    with atomic_path(path, overwrite) as tmp, open(tmp, "wb") as f:
        write(f)
    return Path(path)


def save_image(img: Tensor | Image.Image, path: str | os.PathLike[str], overwrite: bool = False, quality: int = 95) -> Path:
    """Write atomically (see :func:`atomic_write`).

    Raises:
        FileExistsError: ``path`` exists and ``overwrite`` is False.
        ValueError: unknown extension.
    """
    p = Path(path)
    fmt = _FORMATS.get(p.suffix.lower())
    if fmt is None:
        raise ValueError(f"{p}: unsupported output extension {p.suffix!r}; use one of {sorted(_FORMATS)}")
    pil = img if isinstance(img, Image.Image) else tensor_to_pil(img)
    kwargs = {"quality": quality} if fmt in ("JPEG", "WEBP") else {}
    return atomic_write(p, lambda f: pil.save(f, format=fmt, **kwargs), overwrite)


def load_mask(path: str | os.PathLike[str], max_pixels: int = DEFAULT_MAX_PIXELS) -> Tensor:
    """Read a mask image as float ``(H, W)`` in [0, 1] (grayscale; soft masks allowed).

    Raises:
        ImageError: as :func:`load_image`.
    """
    rgb = load_image(path, max_pixels)
    return (0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]).clamp(0, 1)


def label_map_to_masks(labels: Tensor, k: int, source: str = "label map") -> Tensor:
    """Split a label map ``(H, W)`` with exactly ``k`` distinct grey levels into ``(k, H, W)`` binary
    masks, darkest level first.

    Raises:
        ImageError: the number of levels differs from ``k``.
    """
    q = torch.round(labels * 255).to(torch.int64)
    levels = torch.unique(q)
    if levels.numel() != k:
        raise ImageError(f"{source}: label map has {levels.numel()} grey levels, expected one per style ({k})")
    return torch.stack([(q == v).float() for v in levels])
