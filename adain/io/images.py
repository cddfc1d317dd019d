"""Image reading/writing, input coercion and input discovery — without torch.

Every input kind (a path, a PIL image, a NumPy array, a torch tensor) becomes a float32
``(3, H, W)`` NumPy array in [0, 1] through :func:`to_array`, under the same rules: EXIF
orientation honoured, every PIL mode converted to RGB (grayscale, palette, RGBA composited on
white, CMYK, 16-bit), ``max_pixels`` enforced. Masks go through :func:`to_mask` (luma
``0.299 R + 0.587 G + 0.114 B`` for every kind). Resizing is one implementation
(:func:`resize_array`, Pillow's antialiased bilinear on float planes). Writing goes to a temporary
name in the target directory and is renamed into place, so an interrupted run never leaves half
an image, and an existing file is only replaced when asked.

torch is imported only by the tensor conveniences (:func:`load_image`, :func:`resize_image`,
:func:`pil_to_tensor`), so the command-line fast path never pays for it.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from adain.errors import ImageError, UsageError
from adain.io.atomic import atomic_write

if TYPE_CHECKING:
    from torch import Tensor

__all__ = [
    "image_format_of",
    "DEFAULT_MAX_PIXELS",
    "IMAGE_EXTENSIONS",
    "ImageLike",
    "MAX_SIZE",
    "is_tensor",
    "label_map_to_masks",
    "load_image",
    "pil_to_array",
    "pil_to_tensor",
    "probe_size",
    "read_image",
    "read_image_resized",
    "read_image_u8",
    "resize_array",
    "resize_planes",
    "resize_image",
    "resized_shape",
    "save_image",
    "tensor_to_pil",
    "to_array",
    "to_mask",
    "to_pil",
]


IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".gif"})

#: PIL format → file extension, for images that come without a name (stdin)
_FORMAT_EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "BMP": "bmp", "TIFF": "tif", "GIF": "gif"}


def image_format_of(data: bytes) -> str | None:
    """The file extension of an encoded image given as bytes (``jpg``, ``png``, …), from its
    header; ``None`` when it is not an image format this package reads."""
    import io

    try:
        with Image.open(io.BytesIO(data)) as img:
            return _FORMAT_EXTENSIONS.get(img.format or "")
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        return None


DEFAULT_MAX_PIXELS = 100_000_000


#: anything the library accepts as an image
ImageLike = Union[str, os.PathLike, Image.Image, np.ndarray, "Tensor"]


def is_tensor(obj: object) -> bool:
    """A torch tensor, recognised without importing torch."""
    return type(obj).__module__.startswith("torch") and hasattr(obj, "detach")


class _NotFinite(ValueError):
    """A float image with NaN or infinite pixels."""


def _to_rgb(img: Image.Image) -> Image.Image:
    if img.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        arr = np.asarray(img, dtype=np.float32)
        if not np.isfinite(arr).all():
            raise _NotFinite
        top = arr.max(initial=0)
        # float images are usually [0, 1]; integer ones 8 or 16 bit
        hi = 1.0 if img.mode == "F" and top <= 1.0 else 65535.0 if img.mode.startswith("I;16") or top > 255 else 255.0
        arr = np.clip(arr / hi * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return Image.fromarray(arr, mode="L").convert("RGB")
    if img.mode == "P":
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return img if img.mode == "RGB" else img.convert("RGB")  # convert() copies even RGB


def _allow_pixels(max_pixels: int) -> None:
    """Pillow refuses images above 2 × ``Image.MAX_IMAGE_PIXELS`` (179 MP) before we can look; our
    own ``max_pixels`` is the limit, so Pillow's is raised to it when a user asks for more."""
    limit = Image.MAX_IMAGE_PIXELS
    if limit is not None and max_pixels > 2 * limit:
        Image.MAX_IMAGE_PIXELS = max_pixels // 2 + 1


def _check_pixels(w: int, h: int, max_pixels: int, source: str) -> None:
    if w * h > max_pixels:
        raise ImageError(
            f"{source}: image is {w}x{h} = {w * h / 1e6:.1f} MP, above the limit of "
            f"{max_pixels / 1e6:.1f} MP (raise it with --max-pixels)"
        )
    if w < 1 or h < 1:
        raise ImageError(f"{source}: image is empty ({w}x{h})")


def _upright(img: Image.Image) -> Image.Image:
    """The image as displayed (EXIF orientation applied), without a copy when it is upright
    already (Pillow's ``exif_transpose`` copies every image otherwise: 300 MB for 100 MP)."""
    if img.getexif().get(0x0112, 1) in (None, 1):
        return img
    return ImageOps.exif_transpose(img)


def _resized_8bit(img: Image.Image, size: int, draft: bool = False) -> Image.Image:
    """An opened image upright, in RGB, its shorter side ``size`` (0 keeps it), resized in 8 bits
    (antialiased bilinear); ``draft``: JPEGs decoded at the smallest DCT reduction still ≥ ``size``."""
    if draft and size and img.format == "JPEG":
        scale = size / min(img.size)
        img.draft("RGB", (math.ceil(img.width * scale), math.ceil(img.height * scale)))
    img = _to_rgb(_upright(img))
    nh, nw = resized_shape(img.height, img.width, size)
    return img if (nh, nw) == (img.height, img.width) else img.resize((nw, nh), Image.BILINEAR)


def pil_to_array(img: Image.Image, max_pixels: int | None = None, source: str = "PIL image") -> np.ndarray:
    """PIL image (any mode) → float32 ``(3, H, W)`` in [0, 1] (12 bytes per pixel, no float temporaries)."""
    if max_pixels is not None:
        _check_pixels(img.width, img.height, max_pixels, source)
    rgb = _to_rgb(img)
    w, h = rgb.size
    out = np.empty((3, h, w), dtype=np.float32)
    rows = max(1, (1 << 22) // max(w, 1))  # converted in strips of ~4 MP: no full-size 8-bit copy
    for y in range(0, h, rows):
        strip = np.asarray(rgb.crop((0, y, w, min(h, y + rows))), dtype=np.uint8)
        np.divide(strip.transpose(2, 0, 1), np.float32(255.0), out=out[:, y : y + rows], dtype=np.float32)
    return out


def read_image_resized(
    path: str | os.PathLike[str], size: int = 0, crop: bool = False, max_pixels: int = DEFAULT_MAX_PIXELS
) -> np.ndarray:
    """:func:`read_image` then :func:`resize_array`, with the resize done on the decoded 8-bit
    pixels: a 100 MP PNG read at 512 px peaks at its 8-bit size (300 MB), not its float one
    (1.2 GB, plus the resize's planes). The same antialiased bilinear filter; the result differs
    from resizing in float by at most one 8-bit step (Pillow's fixed-point 8-bit resize), a third
    of one on average for noise, less for photos.

    Raises:
        ImageError: as :func:`read_image`.
    """

    def convert(img: Image.Image) -> np.ndarray:
        return resize_array(pil_to_array(_resized_8bit(img, size)), 0, crop)

    if size < 0:
        raise UsageError(f"size must be >= 0, got {size}")
    return _decode(path, max_pixels, convert)


def pil_to_tensor(img: Image.Image) -> Tensor:
    """PIL image (any mode) → float ``(3, H, W)`` tensor in [0, 1]."""
    import torch

    return torch.from_numpy(pil_to_array(img))


def read_image(path: str | os.PathLike[str], max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Read an image file as float32 ``(3, H, W)`` RGB in [0, 1].

    Raises:
        ImageError: missing, not an image, truncated/corrupt, or more than ``max_pixels``.
    """
    return _decode(path, max_pixels, lambda img: pil_to_array(_upright(img)))


def read_image_u8(path: str | os.PathLike[str], size: int = 0, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Read an image as uint8 ``(H, W, 3)`` RGB with its shorter side resized to ``size`` (0 keeps it).

    The fast path of training data: JPEGs are decoded directly at the smallest power-of-two
    reduction whose shorter side is still ≥ ``size`` (DCT scaling, :meth:`PIL.Image.Image.draft`),
    and the resize runs on 8-bit pixels; callers crop before converting to float.

    Raises:
        ImageError: as :func:`read_image`.
    """

    def convert(img: Image.Image) -> np.ndarray:
        return np.asarray(_resized_8bit(img, size, draft=True), dtype=np.uint8)

    return _decode(path, max_pixels, convert)


def _decode(path: str | os.PathLike[str], max_pixels: int, convert: Callable[[Image.Image], np.ndarray]) -> np.ndarray:
    """Open an image file, check its size and decode it with ``convert``; every failure is one
    :class:`ImageError` naming the file."""
    p = Path(path)
    if not p.is_file():
        raise ImageError(f"{p}: no such file")
    with _image_errors(p), warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        _allow_pixels(max_pixels)
        with Image.open(p) as img:
            _check_pixels(img.width, img.height, max_pixels, str(p))
            return convert(img)


@contextmanager
def _image_errors(p: Path) -> Iterator[None]:
    """Every failure of Pillow on ``p`` as one :class:`ImageError` naming the file."""
    try:
        yield
    except ImageError:
        raise
    except Image.DecompressionBombError as e:
        raise ImageError(f"{p}: refused as a decompression bomb ({e}); raise --max-pixels if it is real") from None
    except _NotFinite:
        raise ImageError(f"{p}: holds pixel values that are not numbers (NaN or infinity)") from None
    except FileNotFoundError:
        raise ImageError(f"{p}: no such file") from None
    except UnidentifiedImageError:
        raise ImageError(f"{p}: not an image file (or a format Pillow cannot read)") from None
    except (OSError, SyntaxError, ValueError) as e:
        raise ImageError(f"{p}: corrupt or truncated image ({e})") from None


def probe_size(path: str | os.PathLike[str], max_pixels: int = DEFAULT_MAX_PIXELS) -> tuple[int, int]:
    """``(H, W)`` of an image file as :func:`read_image` would return it (EXIF orientation
    included), from its header only.

    Raises:
        ImageError: as :func:`read_image`, for what the header shows.
    """
    p = Path(path)
    _allow_pixels(max_pixels)
    with _image_errors(p):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(p)
        with img:
            w, h = img.size
            _check_pixels(w, h, max_pixels, str(p))
            if img.getexif().get(0x0112) in (5, 6, 7, 8):  # rotated by 90° on display
                w, h = h, w
            return h, w


def load_image(path: str | os.PathLike[str], max_pixels: int = DEFAULT_MAX_PIXELS) -> Tensor:
    """:func:`read_image` as a float ``(3, H, W)`` torch tensor."""
    import torch

    return torch.from_numpy(read_image(path, max_pixels))


def to_array(image: ImageLike, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Any supported input → float32 ``(3, H, W)`` array in [0, 1]; the input is untouched (a float32
    array already in [0, 1] is returned as a read-only view of it, not copied: a 100 MP image is
    1.2 GB).

    Paths are read with :func:`read_image`; PIL images of any mode are converted like files;
    arrays and tensors must be ``(3, H, W)`` or ``(1, 3, H, W)`` floats in [0, 1] (values are
    clamped). ``max_pixels`` applies to every kind.

    Raises:
        ImageError: unreadable file, or too many pixels.
        UsageError: an array/tensor of the wrong shape.
    """
    if isinstance(image, (str, os.PathLike)):
        return read_image(image, max_pixels)
    if isinstance(image, Image.Image):
        return pil_to_array(image, max_pixels)
    if is_tensor(image):
        image = image.detach().float().cpu().numpy()  # type: ignore[union-attr]
    if isinstance(image, np.ndarray):
        x = image[0] if image.ndim == 4 and image.shape[0] == 1 else image
        if x.ndim != 3 or x.shape[0] != 3:
            raise UsageError(f"image arrays must be (3, H, W) or (1, 3, H, W), got {tuple(image.shape)}")
        _check_pixels(x.shape[2], x.shape[1], max_pixels, "image array")
        x = np.asarray(x, dtype=np.float32)
        if x.size and 0.0 <= x.min() and x.max() <= 1.0:  # already in range: shared, read only
            view = x.view()
            view.flags.writeable = False
            return view
        return np.clip(x, 0.0, 1.0)
    raise UsageError(f"cannot use a {type(image).__name__} as an image (give a path, PIL image, array or tensor)")


_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def to_mask(mask: ImageLike, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Any supported mask input → float32 ``(H, W)`` in [0, 1] (soft masks allowed).

    Colour inputs (files, PIL, ``(3, H, W)`` arrays/tensors) are reduced by the same luma
    weights; ``(H, W)`` or ``(1, H, W)`` arrays/tensors are taken as they are.
    """
    if is_tensor(mask):
        mask = mask.detach().float().cpu().numpy()  # type: ignore[union-attr]
    if isinstance(mask, np.ndarray) and (mask.ndim == 2 or (mask.ndim == 3 and mask.shape[0] == 1)):
        m = mask.reshape(mask.shape[-2:])
        _check_pixels(m.shape[1], m.shape[0], max_pixels, "mask array")
        return np.clip(m.astype(np.float32), 0.0, 1.0)
    rgb = to_array(mask, max_pixels)
    return np.clip(np.tensordot(_LUMA, rgb, axes=1), 0.0, 1.0).astype(np.float32)


def label_map_to_masks(labels: Any, k: int, source: str = "label map") -> Any:
    """Split a label map ``(H, W)`` with exactly ``k`` distinct grey levels into ``(k, H, W)`` binary
    masks, darkest level first (arrays in, arrays out; tensors in, tensors out).

    Raises:
        ImageError: the number of levels differs from ``k``.
    """
    tensor_in = is_tensor(labels)
    arr = labels.detach().cpu().numpy() if tensor_in else np.asarray(labels)
    q = np.round(arr * 255).astype(np.int64)
    levels = np.unique(q)
    if levels.size != k:
        raise ImageError(f"{source}: label map has {levels.size} grey levels, expected one per style ({k})")
    out = np.stack([(q == v).astype(np.float32) for v in levels])
    if tensor_in:
        import torch

        return torch.from_numpy(out)
    return out


#: the largest shorter side any request may be resized to (``--content-size``/``--style-size``)
MAX_SIZE = 16384


def resized_shape(h: int, w: int, size: int) -> tuple[int, int]:
    """``(H, W)`` after scaling the shorter side to ``size`` (0 keeps it)."""
    if size <= 0 or min(h, w) == size:
        return h, w
    scale = size / min(h, w)
    return max(1, round(h * scale)), max(1, round(w * scale))


def resize_planes(x: np.ndarray, nh: int, nw: int) -> np.ndarray:
    """Antialiased bilinear resize of every ``(H, W)`` plane of ``x`` (``(..., H, W)`` float32) to
    ``nh × nw``, clamped to [0, 1]: images, masks and mask stacks alike."""
    planes = x.reshape(-1, *x.shape[-2:])
    out = np.stack([np.asarray(Image.fromarray(p, mode="F").resize((nw, nh), Image.BILINEAR)) for p in planes])
    return np.clip(out.reshape(*x.shape[:-2], nh, nw), 0.0, 1.0)


def resize_array(x: np.ndarray, size: int, crop: bool = False) -> np.ndarray:
    """Resize so the shorter side is ``size`` (0 keeps the original), optionally centre-crop to a square.

    Antialiased bilinear (Pillow, on float32 planes), the one resize used by every path.

    Shape:
        x: ``(3, H, W)`` or ``(N, 3, H, W)`` float32; returns the same rank.
    """
    if size < 0:
        raise UsageError(f"size must be >= 0, got {size}")
    h, w = x.shape[-2:]
    nh, nw = resized_shape(h, w, size)
    if (nh, nw) != (h, w):
        x = resize_planes(np.ascontiguousarray(x, dtype=np.float32), nh, nw)
    if crop:
        h, w = x.shape[-2:]
        s = min(h, w)
        top, left = (h - s) // 2, (w - s) // 2
        x = x[..., top : top + s, left : left + s]
    return np.ascontiguousarray(x)


def resize_image(img: Tensor, size: int, crop: bool = False) -> Tensor:
    """:func:`resize_array` for a float ``(3, H, W)`` or ``(N, 3, H, W)`` tensor (on its device)."""
    import torch

    out = resize_array(img.detach().float().cpu().numpy(), size, crop)
    return torch.from_numpy(out).to(img.device)


_FORMATS = {
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".png": "PNG",
    ".bmp": "BMP",
    ".webp": "WEBP",
    ".tif": "TIFF",
    ".tiff": "TIFF",
}


def to_pil(img: Any) -> Image.Image:
    """Float ``(3, H, W)`` array or tensor (clamped to [0, 1]) → 8-bit RGB PIL image."""
    if isinstance(img, Image.Image):
        return img
    arr = img.detach().float().cpu().numpy() if is_tensor(img) else np.asarray(img, dtype=np.float32)
    h, w = arr.shape[1:]
    u8 = np.empty((h, w, 3), dtype=np.uint8)
    rows = max(1, (1 << 20) // max(w, 1))  # in strips of ~1 MP: no full-size float temporaries
    for y in range(0, h, rows):
        part = np.clip(arr[:, y : y + rows], 0.0, 1.0) * np.float32(255.0)
        part += np.float32(0.5)
        u8[y : y + rows] = part.transpose(1, 2, 0)
    return Image.fromarray(u8, mode="RGB")


tensor_to_pil = to_pil


def save_image(img: Any, path: str | os.PathLike[str], overwrite: bool = False, quality: int = 95) -> Path:
    """Write a float ``(3, H, W)`` array/tensor or a PIL image atomically (see :func:`atomic_write`).

    Raises:
        OutputExistsError: ``path`` exists and ``overwrite`` is False.
        UsageError: unknown extension.
    """
    p = Path(path)
    fmt = _FORMATS.get(p.suffix.lower())
    if fmt is None:
        raise UsageError(f"{p}: unsupported output extension {p.suffix!r}; use one of {sorted(_FORMATS)}")
    pil = to_pil(img)
    kwargs = {"quality": quality} if fmt in ("JPEG", "WEBP") else {}
    return atomic_write(p, lambda f: pil.save(f, format=fmt, **kwargs), overwrite)
