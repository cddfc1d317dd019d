"""The one stylization pipeline: inputs → (pad → network → crop → clamp) → images, on any runtime.

Every caller — plain, blended and masked stylization, tiles, video, ``Trainer.predict``, the
training sample grids, the alpha sweep and blend grids — goes through :meth:`Pipeline.run`, the
single step. Arrays are float32 NumPy ``(N, 3, H, W)`` in [0, 1]; the networks run in a
:class:`~adain.runtime.base.Runtime` (torch, OpenVINO or ONNX Runtime). The common request
(plain, blend, alpha) needs no torch: AdaIN runs inside the runtime's ``stylize`` call, and blends
are weighted sums of statistics (:mod:`adain.ops.mixing`). Requests with maths between encoder
and decoder (masks, tiles with global statistics, video, several alphas or blends of one content)
encode once and use :func:`~adain.pipeline.step.adain_target` for that maths.

Whether an image is tiled is decided in one place, :meth:`Pipeline.render`. Style statistics
(all AdaIN needs of a style) are computed once per style file and reused.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from adain.errors import UsageError
from adain.io.images import (
    DEFAULT_MAX_PIXELS,
    ImageLike,
    label_map_to_masks,
    probe_size,
    read_image_resized,
    resize_array,
    resize_planes,
    to_array,
    to_mask,
)
from adain.ops.mixing import check_alpha, mix_stats
from adain.pipeline.caches import CodeCache, FileKeys, StyleStatsCache
from adain.pipeline.request import (
    StyleLike,
    StylizeRequest,
    Variant,
    check_working_size,
    is_stats,
    source_name,
    to_np_stats,
)
from adain.pipeline.step import adain_target, pad_to_multiple
from adain.pipeline.strokes import canvas_shape, restore_scale
from adain.pipeline.tiling import stylize_tiled
from adain.runtime.base import Runtime, Stats
from adain.runtime.config import RunConfig
from adain.runtime.factory import make_runtime
from adain.weights.source import checkpoint_source, pretrained_source

if TYPE_CHECKING:
    from adain.weights.source import ModelSource

__all__ = ["Pipeline"]


#: memory the network may use in one pass, per device kind; automatic tiles are sized to fit it
NETWORK_BUDGET: dict[str, int] = {"cpu": 2**30, "cuda": 4 * 2**30}


class Pipeline:
    """Stylization on a :class:`~adain.runtime.base.Runtime`.

    Args:
        runtime: where the networks run.
        max_pixels: refuse input images larger than this (every input kind).
        max_untiled_pixels: images with more pixels are stylized in tiles automatically (bounded
            memory); default: what fits the network's memory budget (:data:`NETWORK_BUDGET`: 1 GiB
            on the CPU, 4 GiB on CUDA) at the model's :attr:`~adain.runtime.base.Runtime.bytes_per_pixel`
            — about 4 MP for small16x, 1.1 MP for the VGG-19 architecture on the CPU.
        tile: tile size when tiling automatically; default: the largest multiple of 64 (at most
            2048) whose tile plus margins stays within the budget at the runtime's
            :attr:`~adain.runtime.base.Runtime.tile_overhead` (and within ``max_untiled_pixels``).
        tile_margin: context around each tile; more than the ~140 px receptive field of encoder
            and decoder, so tiles equal the untiled result.
    """

    def __init__(
        self,
        runtime: Runtime,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        max_untiled_pixels: int | None = None,
        tile: int | None = None,
        tile_margin: int = 160,
    ) -> None:
        self.runtime = runtime
        self.max_pixels = max_pixels
        budget = NETWORK_BUDGET["cuda" if runtime.device.startswith("cuda") else "cpu"]
        self.max_untiled_pixels = max_untiled_pixels or budget // runtime.bytes_per_pixel
        tile_pixels = min(self.max_untiled_pixels, int(budget / (runtime.bytes_per_pixel * runtime.tile_overhead)))
        side = int(tile_pixels**0.5) - 2 * tile_margin
        self.default_tile = tile or min(2048, max(256, side // 64 * 64))
        self.tile_margin = tile_margin
        self.styles = StyleStatsCache(runtime.cache_dir)
        self.codes = CodeCache(4)
        self.file_keys = FileKeys()

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_source(
        cls,
        source: ModelSource,
        run: RunConfig | None = None,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        **fields: Any,
    ) -> Pipeline:
        """A pipeline for ``source`` as ``run`` says, with ``fields`` of the
        :class:`~adain.runtime.config.RunConfig` changed (``backend``, ``device``, ``precision``,
        ``channels_last``, ``compile``, ``calibration``, ``verbose``); see
        :func:`adain.runtime.factory.make_runtime`."""
        return cls(make_runtime(source, run, **fields), max_pixels)

    @classmethod
    def from_pretrained(
        cls,
        name: str = "auto",
        encoder_weights: str | os.PathLike[str] | None = None,
        decoder_weights: str | os.PathLike[str] | None = None,
        download: bool = True,
        weights_check: str = "warn",
        **kwargs: Any,
    ) -> Pipeline:
        """A pipeline for a named model (``auto``, ``canonical``, ``small16x``); see :mod:`adain.weights`
        (``weights_check``: :func:`adain.weights.download.model_files`)."""
        return cls.from_source(
            pretrained_source(name, encoder_weights, decoder_weights, download, weights_check), **kwargs
        )

    @classmethod
    def from_checkpoint(
        cls, path: str | os.PathLike[str], encoder_weights: str | os.PathLike[str] | None = None, **kwargs: Any
    ) -> Pipeline:
        """A pipeline for an ``adain-train`` checkpoint (its encoder verified by sha256)."""
        return cls.from_source(checkpoint_source(path, encoder_weights), **kwargs)

    # ------------------------------------------------------------------ inputs
    def load(self, image: ImageLike, size: int = 0, crop: bool = False) -> np.ndarray:
        """Any supported input → ``(1, 3, H, W)`` float32, resized (shorter side ``size``; 0 keeps it).

        Raises:
            ImageError: the image, or the size it would be resized to, has more than
                :attr:`max_pixels` pixels (a 20000×20 strip at ``size=512`` would be 262 MP).
        """
        if isinstance(image, (str, os.PathLike)):  # checked from the header, then resized in 8 bits
            h, w = probe_size(image, self.max_pixels)
            check_working_size(h, w, size, crop, self.max_pixels, source_name(image))
            return read_image_resized(image, size, crop, self.max_pixels)[None]
        x = to_array(image, self.max_pixels)
        check_working_size(x.shape[-2], x.shape[-1], size, crop, self.max_pixels, source_name(image))
        return resize_array(x, size, crop)[None]

    def style_stats(self, style: StyleLike, size: int = 512, crop: bool = False) -> Stats:
        """Channel statistics of a style's code; files are cached (by path, mtime, size, crop; on
        disk across runs when the runtime has a cache directory).

        A ``(mean, std)`` pair (from an earlier call) is passed through.
        """
        if is_stats(style):
            return to_np_stats(style)
        key = self.file_keys.key(style, size, crop)
        cached = self.styles.get(key) if key is not None else None
        if cached is not None:
            return cached
        stats = self.runtime.style_stats(self._padded(self.load(style, size, crop)))  # type: ignore[arg-type]
        if key is not None:
            self.styles.put(key, stats)
        return stats

    def encode(self, x: np.ndarray) -> np.ndarray:
        """The code of a batch ``(N, 3, H, W)`` (padded to the encoder's stride first)."""
        return self.runtime.encode(self._padded(x))

    def content_code(self, content: ImageLike, size: int = 512, crop: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """A content loaded ``(1, 3, H, W)`` and its code, for :meth:`run`'s ``code``. Files are
        cached (the last four), so a live preview decodes again for every slider move without
        encoding again."""
        key = self.file_keys.key(content, size, crop)
        entry = self.codes.get(key) if key is not None else None
        if entry is None:
            x = self.load(content, size, crop)
            entry = (x, self.encode(x))
            if key is not None:
                self.codes.put(key, entry)
        return entry

    def load_masks(self, masks: Sequence[ImageLike], k: int, size: tuple[int, int]) -> np.ndarray:
        """``(1, K, H, W)`` masks at the content's size: one mask per style, or one label map."""
        loaded = [to_mask(m, self.max_pixels) for m in masks]
        if len(loaded) == 1 and k > 1:
            stack = label_map_to_masks(loaded[0], k, source_name(masks[0], "label map"))
        elif len(loaded) != k:
            raise UsageError(f"got {len(loaded)} masks for {k} styles (give one per style, or one label map)")
        else:
            stack = np.stack(loaded)
        return (stack if stack.shape[-2:] == tuple(size) else resize_planes(stack, *size))[None]

    def _padded(self, x: np.ndarray) -> np.ndarray:
        return pad_to_multiple(np.ascontiguousarray(x, dtype=np.float32), self.runtime.downsampling)

    # ------------------------------------------------------------------ the step
    def run(
        self,
        x: np.ndarray,
        stats: Sequence[Stats],
        weights: Sequence[float] | None = None,
        alpha: float = 1.0,
        content_stats: Stats | None = None,
        masks: np.ndarray | None = None,
        variants: Sequence[Variant] | None = None,
        code: np.ndarray | None = None,
    ) -> np.ndarray:
        """Pad → network → crop → clamp: stylize a batch ``(N, 3, H, W)`` → ``(N·V, 3, H, W)`` in [0, 1].

        Args:
            x: contents, all of one size.
            stats: K styles' ``(mean, std)``.
            weights: blend weights of the K styles (normalised; equal if ``None``).
            alpha: style strength in [0, 1].
            content_stats: content ``(mean, std)`` to normalise with instead of each image's own
                (tiles: the whole image's; video: a moving average).
            masks: ``(1 or N, K, H, W)`` soft masks at image size: region k gets style k.
            variants: several ``(weights, alpha)`` outputs per content (alpha sweeps, blend
                grids): encoded once, decoded once per variant; outputs are variant-major.
            code: ``x``'s code (:meth:`encode`, :meth:`content_code`): only the decoder runs.
        """
        variants = [(weights, check_alpha(alpha))] if variants is None else [(w, check_alpha(a)) for w, a in variants]
        if masks is not None and len(stats) != masks.shape[1]:
            raise UsageError(f"{masks.shape[1]} masks for {len(stats)} styles")
        h, w = x.shape[-2:]
        if code is None and len(variants) == 1 and masks is None and content_stats is None:
            mean, std = mix_stats(stats, variants[0][0])
            out = self.runtime.stylize(self._padded(x), mean, std, variants[0][1])
        else:
            code = self.encode(x) if code is None else code
            m = None if masks is None else pad_to_multiple(masks, self.runtime.downsampling)
            outs = [self.runtime.decode(adain_target(code, stats, wv, av, content_stats, m)) for wv, av in variants]
            out = np.concatenate(outs) if len(outs) > 1 else outs[0]
        return np.clip(out[:, :, :h, :w], 0.0, 1.0)

    def tile_size(self, x: np.ndarray, tile: int | None) -> int:
        """The one decision to tile: the tile size for ``x`` ``(1, 3, H, W)``, or 0 for one pass.
        ``tile=None`` tiles automatically above :attr:`max_untiled_pixels`; 0 never tiles."""
        if tile is None:
            return self.default_tile if x.shape[-2] * x.shape[-1] > self.max_untiled_pixels else 0
        return tile

    def render(
        self, x: np.ndarray, stats: Sequence[Stats], variants: Sequence[Variant], tile: int | None = None
    ) -> list[np.ndarray]:
        """One content ``(1, 3, H, W)``, one ``(3, H, W)`` output per variant: in one pass, or in
        tiles (:meth:`tile_size`) with bounded memory and no seams."""
        size = self.tile_size(x, tile)
        if not size:
            return list(self.run(x, stats, variants=variants))
        return [
            stylize_tiled(
                x,
                size,
                self.tile_margin,
                self.runtime.downsampling,
                self.encode,
                lambda xt, cs, w=w, a=a: self.run(xt, stats, w, a, content_stats=cs),
            )
            for w, a in variants
        ]

    # ------------------------------------------------------------------ requests
    def stylize(
        self,
        content: ImageLike,
        style: StyleLike | Sequence[StyleLike],
        request: StylizeRequest | None = None,
        **fields: Any,
    ) -> np.ndarray:
        """Stylize one content with one style or a weighted blend; ``(3, H, W)`` in [0, 1].

        ``request`` (default: :class:`~adain.pipeline.request.StylizeRequest`'s defaults) with
        ``fields`` changed (``alpha=0.5``, ``content_size=0``, …) says how.
        """
        r = StylizeRequest.make(request, **fields)
        styles = r.styles_of(style)
        x = self.load(content, r.content_size, r.crop)
        stats = self.stats_for(styles, r.style_size, r.crop, r.preserve_color, x)
        canvas = x
        if r.stroke_scale != 1.0:  # paint on a smaller (bigger strokes) or larger canvas
            ch, cw = canvas_shape(*x.shape[-2:], r.stroke_scale)
            check_working_size(ch, cw, 0, False, self.max_pixels, source_name(content))
            canvas = resize_planes(x, ch, cw)
        if r.masks is not None:
            m = self.load_masks(r.masks, len(stats), canvas.shape[-2:])
            out = self.run(canvas, stats, alpha=r.alpha, masks=m)[0]
        else:
            out = self.render(canvas, stats, [(r.weights, r.alpha)], r.tile)[0]
        if canvas is not x:
            out = restore_scale(out, x[0])
        return self.finish(out, x[0], r.preserve_color)

    def stats_for(
        self, styles: Sequence[StyleLike], size: int, crop: bool, preserve_color: str, content: np.ndarray
    ) -> list[Stats]:
        """The statistics of each style; with ``coral``, of the style recoloured to the content."""
        if preserve_color != "coral":
            return [self.style_stats(s, size, crop) for s in styles]
        if any(is_stats(s) for s in styles):
            raise UsageError("preserve_color='coral' needs style images, not precomputed statistics")
        from adain.pipeline.color import coral_np

        recoloured = [np.clip(coral_np(self.load(s, size, crop)[0], content[0]), 0, 1) for s in styles]
        return [self.runtime.style_stats(self._padded(r[None])) for r in recoloured]

    @staticmethod
    def finish(out: np.ndarray, content: np.ndarray, preserve_color: str) -> np.ndarray:
        """Colour post-processing: ``luminance`` keeps the content's chroma (YCbCr)."""
        if preserve_color != "luminance":
            return out
        from adain.pipeline.color import luminance_transfer_np

        return np.clip(luminance_transfer_np(out, content), 0, 1)

    def stylize_batch(
        self,
        contents: Sequence[ImageLike],
        style: StyleLike | Sequence[StyleLike],
        request: StylizeRequest | None = None,
        **fields: Any,
    ) -> list[np.ndarray]:
        """:meth:`stylize` for many contents: contents of the same (resized) size run as batches of
        at most ``batch_size`` and at most :attr:`max_untiled_pixels` in all (the network's memory
        budget); images that :meth:`tile_size` tiles run one by one. Outputs in input order.

        ``request``/``fields``: as :meth:`stylize` (alpha, weights, sizes, crop, tiles; colour
        modes, masks and stroke scale are per image: :meth:`stylize`), and ``batch_size``."""
        if request is None:
            fields.setdefault("batch_size", 8)
        r = StylizeRequest.make(request, **fields)
        if r.preserve_color != "none" or r.masks is not None or r.stroke_scale != 1.0:
            raise UsageError("stylize_batch runs plain and blended stylization; use stylize for colour, masks, strokes")
        styles, weights, alpha, tile, batch_size = r.styles_of(style), r.weights, r.alpha, r.tile, r.batch_size
        if batch_size < 1:
            raise UsageError(f"batch size must be >= 1, got {batch_size}")
        stats = [self.style_stats(s, r.style_size, r.crop) for s in styles]
        images = [self.load(c, r.content_size, r.crop) for c in contents]
        results: list[np.ndarray | None] = [None] * len(images)
        by_size: dict[tuple[int, int], list[int]] = {}
        for i, img in enumerate(images):
            if self.tile_size(img, tile):
                results[i] = self.render(img, stats, [(weights, alpha)], tile)[0]
            else:
                by_size.setdefault(tuple(img.shape[-2:]), []).append(i)
        for size, idx in by_size.items():
            # a batch holds at most the pixels of one untiled image: the memory budget bounds it too
            step = max(1, min(batch_size, self.max_untiled_pixels // (size[0] * size[1])))
            for k in range(0, len(idx), step):
                chunk = idx[k : k + step]
                out = self.run(np.concatenate([images[i] for i in chunk]), stats, weights, alpha)
                for j, i in enumerate(chunk):
                    results[i] = out[j]
        return results  # type: ignore[return-value]
