"""The Python API for stylization: :class:`Stylizer`.

>>> stylizer = Stylizer.from_pretrained("small16x")                 # doctest: +SKIP
>>> out = stylizer.stylize("photo.jpg", "painting.jpg", alpha=0.8)  # doctest: +SKIP
>>> save_image(out, "photo_stylized_painting.jpg")                  # doctest: +SKIP

Style statistics (the channel mean/std of the style's relu4_1 code — all AdaIN needs of a style)
are computed once per style and reused for every content of the run.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Union

import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor

from . import functional as AF
from .errors import AdainError
from .io import DEFAULT_MAX_PIXELS, label_map_to_masks, load_image, load_mask, pil_to_tensor, resize_image
from .model import AdaINNet, Stats, load_pretrained

__all__ = ["ImageLike", "Stylizer", "resolve_device", "resolve_precision"]

ImageLike = Union[str, os.PathLike, Image.Image, Tensor]

_PRECISIONS = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``auto`` → CUDA if available, else MPS, else CPU; an unavailable explicit choice is an error."""
    if isinstance(device, torch.device):
        return device
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    dev = torch.device(device)
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise AdainError("--device cuda: no CUDA GPU is available (use --device cpu or auto)")
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise AdainError("--device mps: MPS is not available on this machine")
    return dev


def _cpu_has_fast_bf16() -> bool:
    """True on x86 CPUs with AMX-BF16 or AVX512-BF16, where oneDNN's bf16 convolutions beat fp32.

    Elsewhere (e.g. AVX2-only CPUs) bf16 convolutions are emulated and 10-100x *slower* than fp32,
    so ``auto`` must not pick them.
    """
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return bool(flags & {"amx_bf16", "avx512_bf16"})
    except OSError:
        pass
    return False


def resolve_precision(precision: str, device: torch.device) -> torch.dtype:
    """``auto`` → bf16 on CPUs with AMX and on CUDA GPUs with bf16, else fp32."""
    if precision == "auto":
        if device.type == "cuda" and torch.cuda.is_bf16_supported():
            return torch.bfloat16
        if device.type == "cpu" and _cpu_has_fast_bf16():
            return torch.bfloat16
        return torch.float32
    if precision not in _PRECISIONS:
        raise AdainError(f"unknown precision {precision!r}; choose from auto, {', '.join(_PRECISIONS)}")
    return _PRECISIONS[precision]


class Stylizer:
    """Arbitrary style transfer with a trained :class:`~adain.model.AdaINNet`.

    Args:
        model: encoder + decoder.
        device: ``auto``, ``cpu``, ``cuda``, ``cuda:1``, ``mps`` or a ``torch.device``.
        precision: ``fp32``, ``bf16``, ``fp16`` or ``auto``; convolutions run in it, statistics
            and AdaIN always in fp32.
        max_pixels: refuse input images larger than this.
        channels_last: NHWC memory format (faster convolutions on CPU and GPU; identical results
            up to float rounding).
        compile: ``torch.compile`` encoder and decoder (first call pays the compilation).
    """

    def __init__(
        self,
        model: AdaINNet,
        device: str | torch.device = "auto",
        precision: str = "auto",
        max_pixels: int = DEFAULT_MAX_PIXELS,
        channels_last: bool = True,
        compile: bool = False,
    ) -> None:
        self.device = resolve_device(device)
        self.dtype = resolve_precision(precision, self.device)
        self.channels_last = channels_last
        self.model = model.to(self.device).eval()
        if channels_last:
            self.model.to(memory_format=torch.channels_last)
        if compile:
            self.model.encoder.forward = torch.compile(self.model.encoder.forward, dynamic=True)  # type: ignore[method-assign]
            self.model.decoder.forward = torch.compile(self.model.decoder.forward, dynamic=True)  # type: ignore[method-assign]
        self.max_pixels = max_pixels
        #: images with more pixels are stylized in tiles automatically (bounded memory)
        self.max_untiled_pixels = 4096 * 4096 if self.device.type == "cuda" else 2048 * 2048
        self.default_tile = 1024
        #: context added around every tile; larger than the ~140 px receptive field of encoder+decoder
        self.tile_margin = 160
        self._style_cache: dict[tuple[str, int, bool], Stats] = {}

    @classmethod
    def from_pretrained(
        cls,
        name: str = "canonical",
        encoder_weights: str | os.PathLike[str] | None = None,
        decoder_weights: str | os.PathLike[str] | None = None,
        download: bool = True,
        **kwargs: object,
    ) -> Stylizer:
        """A stylizer for a model of :data:`adain.model.MODELS` (weights: path → cache → download)."""
        return cls(load_pretrained(name, encoder_weights, decoder_weights, download), **kwargs)  # type: ignore[arg-type]

    @classmethod
    def from_checkpoint(
        cls,
        path: str | os.PathLike[str],
        encoder_weights: str | os.PathLike[str] | None = None,
        **kwargs: object,
    ) -> Stylizer:
        """A stylizer from an ``adain-train`` checkpoint (e.g. ``runs/…/checkpoints/last.ckpt``).

        The encoder is rebuilt from the checkpoint's record; its weights file must have the
        sha256 recorded at training time.
        """
        from .lit_module import load_checkpoint_net

        return cls(load_checkpoint_net(path, encoder_weights), **kwargs)  # type: ignore[arg-type]

    # ------------------------------------------------------------------ inputs
    def load(self, image: ImageLike, size: int = 0, crop: bool = False) -> Tensor:
        """Any supported input → ``(1, 3, H, W)`` float on the stylizer's device."""
        if isinstance(image, Tensor):
            x = image.detach()
            if x.dim() == 3:
                x = x.unsqueeze(0)
            if x.dim() != 4 or x.shape[:2] != (1, 3):
                raise ValueError(f"image tensors must be (3, H, W) or (1, 3, H, W), got {tuple(image.shape)}")
            x = x.float()
        elif isinstance(image, Image.Image):
            x = pil_to_tensor(image).unsqueeze(0)
        else:
            x = load_image(image, self.max_pixels).unsqueeze(0)
        x = resize_image(x, size, crop).to(self.device)
        return x.contiguous(memory_format=torch.channels_last) if self.channels_last else x

    @contextlib.contextmanager
    def _compute(self) -> Iterator[None]:
        with torch.inference_mode():
            if self.dtype == torch.float32:
                yield
            else:
                with torch.autocast(self.device.type, dtype=self.dtype):
                    yield

    def _pad(self, x: Tensor) -> tuple[Tensor, int, int]:
        """Reflect-pad H and W up to a multiple of the encoder stride, so shapes round-trip."""
        h, w = x.shape[-2:]
        return AF.pad_to_multiple(x, self.model.downsampling), h, w

    # ------------------------------------------------------------------ styles
    def style_stats(self, style: ImageLike | Stats, size: int = 512, crop: bool = False) -> Stats:
        """Channel statistics of a style's code; paths are cached for the stylizer's lifetime.

        A ``(mean, std)`` tuple (from an earlier call) is passed through unchanged.
        """
        if isinstance(style, tuple):
            return style
        key = None
        if isinstance(style, (str, os.PathLike)):
            key = (str(Path(style).resolve()), size, crop)
            if key in self._style_cache:
                return self._style_cache[key]
        x = self.load(style, size, crop)
        with self._compute():
            stats = self.model.style_stats(x)
        stats = (stats[0].float(), stats[1].float())
        if key is not None:
            self._style_cache[key] = stats
        return stats

    # ------------------------------------------------------------------ stylize
    def stylize(
        self,
        content: ImageLike,
        style: ImageLike | Stats | Sequence[ImageLike | Stats],
        alpha: float = 1.0,
        weights: Sequence[float] | None = None,
        content_size: int = 512,
        style_size: int = 512,
        crop: bool = False,
        preserve_color: str = "none",
        masks: Sequence[ImageLike] | None = None,
        tile: int | None = None,
    ) -> Tensor:
        """Stylize one content image with one style, or a weighted blend of several.

        Args:
            content: path, PIL image or ``(3, H, W)`` tensor in [0, 1].
            style: one style (path, PIL, tensor or precomputed stats) or a list of them.
            alpha: 0 = content code only, 1 = full style (paper Eq. 14); in [0, 1].
            weights: blending weights for several styles (normalised to sum 1); default equal.
            content_size / style_size: shorter side before encoding; 0 keeps the original.
            crop: centre-crop content and styles to squares.
            preserve_color: ``none``; ``coral`` (style re-coloured to the content's colour mean and
                covariance before stylizing, as in the paper); ``luminance`` (stylize, then keep
                the content's chroma, YCbCr).
            masks: spatial control — one mask per style (region k gets style k; uncovered pixels
                keep the content), or one label map with one grey level per style.
            tile: stylize in tiles of this size (bounded memory for huge images); ``None`` tiles
                automatically above :attr:`max_untiled_pixels`; 0 never tiles.

        Returns:
            ``(3, H, W)`` float tensor in [0, 1], on the CPU, the content's (resized) size.
        """
        styles = _check_request(style, alpha)
        if preserve_color not in ("none", "coral", "luminance"):
            raise ValueError(f"preserve_color must be none, coral or luminance, got {preserve_color!r}")
        x = self.load(content, content_size, crop)
        if preserve_color == "coral":
            stats = [self._coral_stats(s, x, style_size, crop) for s in styles]
        else:
            stats = [self.style_stats(s, style_size, crop) for s in styles]  # type: ignore[arg-type]
        if masks is not None:
            if tile:
                raise ValueError("masks and tiling cannot be combined")
            out = self._run_masked(x, stats, self._load_masks(masks, len(stats), x.shape[-2:]), alpha)[0]
        elif tile or (tile is None and x.shape[-2] * x.shape[-1] > self.max_untiled_pixels):
            out = self._run_tiled(x, stats, weights, alpha, tile or self.default_tile)
        else:
            out = self._run(x, stats, weights, alpha)[0]
        if preserve_color == "luminance":
            out = AF.luminance_transfer(out, x[0].float().cpu()).clamp(0, 1)
        return out

    def _coral_stats(self, style: ImageLike | Stats, content: Tensor, size: int, crop: bool) -> Stats:
        if _is_stats(style):
            raise ValueError("preserve_color='coral' needs style images, not precomputed statistics")
        s = self.load(style, size, crop)[0]  # type: ignore[arg-type]
        recoloured = AF.coral(s.float(), content[0].float()).clamp(0, 1)
        with self._compute():
            stats = self.model.style_stats(self._mf(recoloured[None]))
        return stats[0].float(), stats[1].float()

    def _mf(self, x: Tensor) -> Tensor:
        return x.contiguous(memory_format=torch.channels_last) if self.channels_last else x

    def _load_masks(self, masks: Sequence[ImageLike], k: int, size: tuple[int, int] | torch.Size) -> Tensor:
        """``(1, K, H, W)`` masks at the content's size from mask images or one label map."""
        loaded = []
        for m in masks:
            if isinstance(m, Tensor):
                t = m.detach().float()
                t = t if t.dim() == 2 else t.reshape(-1, *t.shape[-2:]).mean(0)
            elif isinstance(m, Image.Image):
                t = pil_to_tensor(m).mean(0)
            else:
                t = load_mask(m, self.max_pixels)
            loaded.append(t)
        if len(loaded) == 1 and k > 1:
            stack = label_map_to_masks(loaded[0], k, str(masks[0]) if not isinstance(masks[0], Tensor) else "label map")
        elif len(loaded) != k:
            raise ValueError(f"got {len(loaded)} masks for {k} styles (give one per style, or one label map)")
        else:
            stack = torch.stack(loaded)
        stack = torch.nn.functional.interpolate(stack[None], size=tuple(size), mode="bilinear", align_corners=False)
        return stack.clamp(0, 1).to(self.device)

    def _run_masked(self, x: Tensor, stats: list[Stats], masks: Tensor, alpha: float) -> Tensor:
        x, h, w = self._pad(x)
        masks = F.pad(masks, (0, x.shape[-1] - w, 0, x.shape[-2] - h), mode="replicate")
        with self._compute():
            code = self.model.encode(x)
            m = AF.resize_masks(masks, tuple(code.shape[-2:]))
            target = AF.masked_adain(code, stats, m)
            target = alpha * target + (1 - alpha) * code.float()
            out = self.model.decode(target)
        return out[:, :, :h, :w].float().clamp(0, 1).cpu()

    def _run_tiled(self, x: Tensor, stats: list[Stats], weights: Sequence[float] | None, alpha: float, tile: int) -> Tensor:
        """Two passes over tiles: global content statistics, then encode/AdaIN/decode per tile.

        Each tile is extended by :attr:`tile_margin` pixels of real context on every side (more
        than the encoder+decoder receptive field), so tile interiors equal the untiled result and
        there are no seams to hide; tile offsets are multiples of the encoder stride so pooling
        grids line up.
        """
        m = self.model.downsampling
        tile = max(m, tile - tile % m)
        margin = self.tile_margin - self.tile_margin % m
        x, h, w = self._pad(x)
        H, W = x.shape[-2:]
        boxes = [(y0, x0) for y0 in range(0, H, tile) for x0 in range(0, W, tile)]

        def extended(y0: int, x0: int) -> tuple[int, int, int, int]:
            return max(0, y0 - margin), max(0, x0 - margin), min(H, y0 + tile + margin), min(W, x0 + tile + margin)

        total = torch.zeros((), dtype=torch.float64)
        s1 = s2 = None
        with self._compute():
            for y0, x0 in boxes:  # pass 1: statistics of the whole content code
                ey0, ex0, ey1, ex1 = extended(y0, x0)
                code = self.model.encode(x[:, :, ey0:ey1, ex0:ex1]).float()
                iy, ix = (y0 - ey0) // m, (x0 - ex0) // m
                inner = code[:, :, iy : iy + min(tile, H - y0) // m, ix : ix + min(tile, W - x0) // m].double()
                a, b = inner.sum(dim=(2, 3), keepdim=True), (inner**2).sum(dim=(2, 3), keepdim=True)
                s1, s2 = (a, b) if s1 is None else (s1 + a, s2 + b)
                total += inner.shape[2] * inner.shape[3]
            mean = s1 / total
            var = (s2 / total - mean**2).clamp_min(0)
            c_stats = (mean.float(), torch.sqrt(var + AF.DEFAULT_EPS).float())
            canvas = torch.empty(3, H, W)
            for y0, x0 in boxes:  # pass 2: stylize each tile with the global statistics
                ey0, ex0, ey1, ex1 = extended(y0, x0)
                code = self.model.encode(x[:, :, ey0:ey1, ex0:ex1])
                target = self.model.transfer(code, stats, weights, alpha, content_stats=c_stats)
                out = self.model.decode(target).float()
                ty, tx = min(tile, H - y0), min(tile, W - x0)
                canvas[:, y0 : y0 + ty, x0 : x0 + tx] = out[0, :, y0 - ey0 : y0 - ey0 + ty, x0 - ex0 : x0 - ex0 + tx].cpu()
        return canvas[:, :h, :w].clamp(0, 1)

    def _run(self, x: Tensor, stats: list[Stats], weights: Sequence[float] | None, alpha: float) -> Tensor:
        """Batch ``(N, 3, H, W)`` on the device → stylized ``(N, 3, H, W)`` in [0, 1] on the CPU."""
        x, h, w = self._pad(x)
        with self._compute():
            code = self.model.encode(x)
            out = self.model.decode(self.model.transfer(code, stats, weights, alpha))
        return out[:, :, :h, :w].float().clamp(0, 1).cpu()

    def stylize_batch(
        self,
        contents: Sequence[ImageLike],
        style: ImageLike | Stats | Sequence[ImageLike | Stats],
        alpha: float = 1.0,
        weights: Sequence[float] | None = None,
        content_size: int = 512,
        style_size: int = 512,
        crop: bool = False,
        batch_size: int = 8,
    ) -> list[Tensor]:
        """Like :meth:`stylize` for many contents: contents of the same (resized) size run as batches.

        Returns:
            One ``(3, H, W)`` tensor per content, in input order.
        """
        styles = _check_request(style, alpha)
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        stats = [self.style_stats(s, style_size, crop) for s in styles]  # type: ignore[arg-type]
        images = [self.load(c, content_size, crop) for c in contents]
        by_size: dict[tuple[int, int], list[int]] = {}
        for i, img in enumerate(images):
            by_size.setdefault(tuple(img.shape[-2:]), []).append(i)
        results: list[Tensor | None] = [None] * len(images)
        for idx in by_size.values():
            for k in range(0, len(idx), batch_size):
                chunk = idx[k : k + batch_size]
                out = self._run(torch.cat([images[i] for i in chunk]), stats, weights, alpha)
                for j, i in enumerate(chunk):
                    results[i] = out[j]
        return results  # type: ignore[return-value]


def _check_request(style: object, alpha: float) -> list:
    """Validate ``alpha`` and turn one style (or precomputed stats) or a list of them into a list."""
    if not 0.0 <= float(alpha) <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    return list(style) if isinstance(style, (list, tuple)) and not _is_stats(style) else [style]


def _is_stats(obj: object) -> bool:
    return isinstance(obj, tuple) and len(obj) == 2 and all(isinstance(t, Tensor) for t in obj)
