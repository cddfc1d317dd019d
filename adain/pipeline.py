"""The one stylization pipeline: inputs → (pad → network → crop → clamp) → images, on any runtime.

Every caller — plain, blended and masked stylization, tiles, video, ``Trainer.predict``, the
training sample grids, the alpha sweep and blend grids — goes through :meth:`Pipeline.run`, the
single step. Arrays are float32 NumPy ``(N, 3, H, W)`` in [0, 1]; the networks run in a
:class:`~adain.runtime.Runtime` (torch, OpenVINO or ONNX Runtime). The common request (plain,
blend, alpha) needs no torch: AdaIN runs inside the runtime's ``stylize`` call, and blends are
weighted sums of statistics (:mod:`adain.mixing`). Requests with maths between encoder and
decoder (masks, tiles with global statistics, video smoothing, several alphas or blends of one
content) encode once and use :mod:`adain.functional` for that maths.

Style statistics (all AdaIN needs of a style) are computed once per style file and reused.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

import numpy as np

from .errors import ImageError, UsageError
from .io import DEFAULT_MAX_PIXELS, ImageLike, is_tensor, label_map_to_masks, resize_array, to_array, to_mask
from .mixing import check_alpha, mix_stats, normalize_weights
from .runtime import Runtime, Stats, make_runtime

if TYPE_CHECKING:
    from .graphs import ModelSource
    from .model import AdaINNet

__all__ = ["COLOR_MODES", "Pipeline", "StyleLike", "Variant", "is_stats", "pad_to_multiple"]

COLOR_MODES = ("none", "coral", "luminance")
#: a style: an image, or precomputed ``(mean, std)`` statistics
StyleLike = Union[ImageLike, Stats, tuple[Any, Any]]
#: one output of a content: (style weights or None for equal, alpha)
Variant = tuple[Union[Sequence[float], None], float]
#: content statistics for :meth:`Pipeline.run`: given, or computed from the batch's own
ContentStats = Union[Stats, Callable[[Any], Any], None]


def is_stats(obj: object) -> bool:
    """A precomputed ``(mean, std)`` pair (NumPy arrays or tensors)."""
    return isinstance(obj, tuple) and len(obj) == 2 and all(isinstance(t, np.ndarray) or is_tensor(t) for t in obj)


def _np_stats(stats: Any) -> Stats:
    m, s = stats
    conv = lambda t: (t.detach().float().cpu().numpy() if is_tensor(t) else np.asarray(t, dtype=np.float32))
    return conv(m), conv(s)


def pad_to_multiple(x: np.ndarray, multiple: int) -> np.ndarray:
    """Pad H and W (bottom/right) up to a multiple of ``multiple``, and to at least ``2·multiple``
    (the deepest code then has at least 2×2 cells, which its reflection-padded convolutions need,
    so even a 1×1 image works): reflection, or replication for images too small to reflect. Crop
    the result back with ``[..., :H, :W]``."""
    h, w = x.shape[-2:]
    ph, pw = max((-h) % multiple, 2 * multiple - h), max((-w) % multiple, 2 * multiple - w)
    if not (ph or pw):
        return x
    width = [(0, 0)] * (x.ndim - 2) + [(0, ph), (0, pw)]
    return np.pad(x, width, mode="reflect" if ph < h and pw < w else "edge")


class Pipeline:
    """Stylization on a :class:`~adain.runtime.Runtime`.

    Args:
        runtime: where the networks run.
        max_pixels: refuse input images larger than this (every input kind).
        max_untiled_pixels: images with more pixels are stylized in tiles automatically (bounded
            memory); default 16 MP on CUDA, 4 MP elsewhere.
        tile: default tile size when tiling automatically.
        tile_margin: context around each tile; more than the ~140 px receptive field of encoder
            and decoder, so tiles equal the untiled result.
    """

    def __init__(
        self,
        runtime: Runtime,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        max_untiled_pixels: int | None = None,
        tile: int = 1024,
        tile_margin: int = 160,
    ) -> None:
        self.runtime = runtime
        self.max_pixels = max_pixels
        self.max_untiled_pixels = max_untiled_pixels or (
            4096 * 4096 if runtime.device.startswith("cuda") else 2048 * 2048)
        self.default_tile = tile
        self.code_cache_size = 4
        self.tile_margin = tile_margin
        self._style_cache: dict[tuple[Any, ...], Stats] = {}
        self._code_cache: OrderedDict[tuple[Any, ...], tuple[np.ndarray, np.ndarray]] = OrderedDict()

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_source(cls, source: ModelSource, backend: str = "auto", device: str = "auto", precision: str = "auto",
                    channels_last: bool = True, compile: bool = False, max_pixels: int = DEFAULT_MAX_PIXELS,
                    verbose: bool = True) -> Pipeline:
        """A pipeline for ``source`` on a backend (see :func:`adain.runtime.make_runtime`)."""
        runtime = make_runtime(source, backend, device, precision, channels_last, compile, verbose)
        return cls(runtime, max_pixels)

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
        (``weights_check``: :func:`adain.weights.model_files`)."""
        return cls.from_source(pretrained_source(name, encoder_weights, decoder_weights, download, weights_check),
                               **kwargs)

    @classmethod
    def from_checkpoint(cls, path: str | os.PathLike[str], encoder_weights: str | os.PathLike[str] | None = None,
                        **kwargs: Any) -> Pipeline:
        """A pipeline for an ``adain-train`` checkpoint (its encoder verified by sha256)."""
        from .checkpoint import load_checkpoint_net
        from .graphs import ModelSource

        return cls.from_source(ModelSource.from_net(load_checkpoint_net(path, encoder_weights), Path(path).name), **kwargs)

    # ------------------------------------------------------------------ inputs
    def load(self, image: ImageLike, size: int = 0, crop: bool = False) -> np.ndarray:
        """Any supported input → ``(1, 3, H, W)`` float32, resized (shorter side ``size``; 0 keeps it).

        Raises:
            ImageError: the image, or the size it would be resized to, has more than
                :attr:`max_pixels` pixels (a 20000×20 strip at ``size=512`` would be 262 MP).
        """
        x = to_array(image, self.max_pixels)
        check_working_size(x.shape[-2], x.shape[-1], size, crop, self.max_pixels, _name(image))
        return resize_array(x, size, crop)[None]

    def style_stats(self, style: StyleLike, size: int = 512, crop: bool = False) -> Stats:
        """Channel statistics of a style's code; files are cached (by path, mtime, size, crop).

        A ``(mean, std)`` pair (from an earlier call) is passed through.
        """
        if is_stats(style):
            return _np_stats(style)
        key = _file_key(style, size, crop)
        if key is not None:
            if key in self._style_cache:
                return self._style_cache[key]
            disk = self._disk_cache(key)
            if disk is not None and disk.is_file():
                try:
                    with np.load(disk) as f:
                        stats = (f["mean"], f["std"])
                    self._style_cache[key] = stats
                    return stats
                except (OSError, ValueError, KeyError):
                    pass  # unreadable cache entry: recompute (and rewrite it)
        x = self.load(style, size, crop)  # type: ignore[arg-type]
        stats = self.runtime.style_stats(pad_to_multiple(x, self.runtime.downsampling))
        if key is not None:
            self._style_cache[key] = stats
            self._save_disk_cache(key, stats)
        return stats

    def content_code(self, content: ImageLike, size: int = 512, crop: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """A content loaded ``(1, 3, H, W)`` and its code (encoder output of the padded image), for
        :meth:`run`'s ``code``. Files are cached (by path, mtime, size, crop; the last
        :attr:`code_cache_size`), so a live preview decodes again for every slider move without
        encoding again."""
        key = _file_key(content, size, crop)
        if key is not None and key in self._code_cache:
            self._code_cache.move_to_end(key)
            return self._code_cache[key]
        x = self.load(content, size, crop)
        entry = (x, self.runtime.encode(pad_to_multiple(x, self.runtime.downsampling)))
        if key is not None:
            self._code_cache[key] = entry
            while len(self._code_cache) > self.code_cache_size:
                self._code_cache.popitem(last=False)
        return entry

    def _disk_cache(self, key: tuple[Any, ...]) -> Path | None:
        """Style statistics persist across runs when the runtime has a cache directory (graph
        backends: keyed by model weights and precision; entries by path, mtime, size, options)."""
        if self.runtime.cache_dir is None:
            return None
        import hashlib

        return self.runtime.cache_dir / "styles" / (hashlib.sha256(repr(key).encode()).hexdigest()[:32] + ".npz")

    def _save_disk_cache(self, key: tuple[Any, ...], stats: Stats) -> None:
        path = self._disk_cache(key)
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.stem}.{os.getpid()}.part.npz")
            np.savez(tmp, mean=stats[0], std=stats[1])
            os.replace(tmp, path)
        except OSError:
            pass  # a read-only cache only costs recomputing next time

    def load_masks(self, masks: Sequence[ImageLike], k: int, size: tuple[int, int]) -> np.ndarray:
        """``(1, K, H, W)`` masks at the content's size: one mask per style, or one label map."""
        loaded = [to_mask(m, self.max_pixels) for m in masks]
        if len(loaded) == 1 and k > 1:
            src = str(masks[0]) if isinstance(masks[0], (str, os.PathLike)) else "label map"
            stack = label_map_to_masks(loaded[0], k, src)
        elif len(loaded) != k:
            raise UsageError(f"got {len(loaded)} masks for {k} styles (give one per style, or one label map)")
        else:
            stack = np.stack(loaded)
        return (stack if stack.shape[-2:] == tuple(size) else _resize_to(stack, tuple(size)))[None]

    # ------------------------------------------------------------------ the step
    def run(
        self,
        x: np.ndarray,
        stats: Sequence[Stats],
        weights: Sequence[float] | None = None,
        alpha: float = 1.0,
        content_stats: ContentStats = None,
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
                (tiles: the whole image's), or a function mapping the batch's own to the ones to
                use (video: a moving average).
            masks: ``(1 or N, K, H, W)`` soft masks at image size: region k gets style k.
            variants: several ``(weights, alpha)`` outputs per content (alpha sweeps, blend
                grids): encoded once, decoded once per variant; outputs are variant-major.
            code: ``x``'s code from :meth:`content_code` (a live preview): only the decoder runs.
        """
        variants = [(weights, check_alpha(alpha))] if variants is None else [(w, check_alpha(a)) for w, a in variants]
        if masks is not None and len(stats) != masks.shape[1]:
            raise UsageError(f"{masks.shape[1]} masks for {len(stats)} styles")
        d = self.runtime.downsampling
        h, w = x.shape[-2:]
        if code is None and len(variants) == 1 and masks is None and content_stats is None:
            xp = pad_to_multiple(np.ascontiguousarray(x, dtype=np.float32), d)
            mean, std = mix_stats(stats, variants[0][0])
            out = self.runtime.stylize(xp, mean, std, variants[0][1])
        else:
            if code is None:
                code = self.runtime.encode(pad_to_multiple(np.ascontiguousarray(x, dtype=np.float32), d))
            if masks is not None:
                masks = pad_to_multiple(masks, d)
            outs = [self.runtime.decode(_transfer(code, stats, wv, av, content_stats, masks)) for wv, av in variants]
            out = np.concatenate(outs) if len(outs) > 1 else outs[0]
        return np.clip(out[:, :, :h, :w], 0.0, 1.0)

    # ------------------------------------------------------------------ requests
    def stylize(
        self,
        content: ImageLike,
        style: StyleLike | Sequence[StyleLike],
        alpha: float = 1.0,
        weights: Sequence[float] | None = None,
        content_size: int = 512,
        style_size: int = 512,
        crop: bool = False,
        preserve_color: str = "none",
        masks: Sequence[ImageLike] | None = None,
        tile: int | None = None,
    ) -> np.ndarray:
        """Stylize one content with one style or a weighted blend; ``(3, H, W)`` in [0, 1].

        See :meth:`adain.inference.Stylizer.stylize` for the arguments.
        """
        styles = check_request(style, alpha, weights, preserve_color, tile, masks)
        x = self.load(content, content_size, crop)
        stats = self.stats_for(styles, style_size, crop, preserve_color, x)
        if masks is not None:
            m = self.load_masks(masks, len(stats), x.shape[-2:])
            out = self.run(x, stats, alpha=alpha, masks=m)[0]
        elif tile or (tile is None and x.shape[-2] * x.shape[-1] > self.max_untiled_pixels):
            from .tiling import stylize_tiled

            out = stylize_tiled(self, x, stats, weights, alpha, tile or self.default_tile)
        else:
            out = self.run(x, stats, weights, alpha)[0]
        return self.finish(out, x[0], preserve_color)

    def stats_for(self, styles: Sequence[StyleLike], size: int, crop: bool, preserve_color: str,
                  content: np.ndarray) -> list[Stats]:
        """The statistics of each style; with ``coral``, of the style recoloured to the content."""
        if preserve_color != "coral":
            return [self.style_stats(s, size, crop) for s in styles]
        if any(is_stats(s) for s in styles):
            raise UsageError("preserve_color='coral' needs style images, not precomputed statistics")
        import torch

        from . import functional as AF

        c = torch.from_numpy(content[0])
        out = []
        for s in styles:
            recoloured = AF.coral(torch.from_numpy(self.load(s, size, crop)[0]), c).clamp(0, 1).numpy()  # type: ignore[arg-type]
            out.append(self.runtime.style_stats(pad_to_multiple(recoloured[None], self.runtime.downsampling)))
        return out

    @staticmethod
    def finish(out: np.ndarray, content: np.ndarray, preserve_color: str) -> np.ndarray:
        """Colour post-processing: ``luminance`` keeps the content's chroma (YCbCr)."""
        if preserve_color != "luminance":
            return out
        import torch

        from . import functional as AF

        return AF.luminance_transfer(torch.from_numpy(out), torch.from_numpy(content)).clamp(0, 1).numpy()

    def stylize_batch(
        self,
        contents: Sequence[ImageLike],
        style: StyleLike | Sequence[StyleLike],
        alpha: float = 1.0,
        weights: Sequence[float] | None = None,
        content_size: int = 512,
        style_size: int = 512,
        crop: bool = False,
        batch_size: int = 8,
        tile: int | None = None,
    ) -> list[np.ndarray]:
        """:meth:`stylize` for many contents: contents of the same (resized) size run as batches;
        images above :attr:`max_untiled_pixels` are tiled (one by one). Outputs in input order."""
        styles = check_request(style, alpha, weights, "none", tile, None)
        if batch_size < 1:
            raise UsageError(f"batch size must be >= 1, got {batch_size}")
        stats = [self.style_stats(s, style_size, crop) for s in styles]
        images = [self.load(c, content_size, crop) for c in contents]
        results: list[np.ndarray | None] = [None] * len(images)
        by_size: dict[tuple[int, int], list[int]] = {}
        for i, img in enumerate(images):
            if tile or (tile is None and img.shape[-2] * img.shape[-1] > self.max_untiled_pixels):
                from .tiling import stylize_tiled

                results[i] = stylize_tiled(self, img, stats, weights, alpha, tile or self.default_tile)
            else:
                by_size.setdefault(tuple(img.shape[-2:]), []).append(i)
        for idx in by_size.values():
            for k in range(0, len(idx), batch_size):
                chunk = idx[k : k + batch_size]
                out = self.run(np.concatenate([images[i] for i in chunk]), stats, weights, alpha)
                for j, i in enumerate(chunk):
                    results[i] = out[j]
        return results  # type: ignore[return-value]


def _file_key(image: Any, size: int, crop: bool) -> tuple[Any, ...] | None:
    """A cache key for an image file (path, mtime, size in bytes, options); ``None`` for other inputs."""
    if not (isinstance(image, (str, os.PathLike)) and Path(image).is_file()):
        return None
    p = Path(image).resolve()
    st = p.stat()
    return (str(p), st.st_mtime_ns, st.st_size, size, crop)


def _name(image: Any) -> str:
    return str(image) if isinstance(image, (str, os.PathLike)) else "image"


def check_working_size(h: int, w: int, size: int, crop: bool, max_pixels: int, source: str) -> tuple[int, int]:
    """The ``(H, W)`` an image will be processed at; refuse it above ``max_pixels``.

    Memory of a request is bounded by the pixels it processes (tiles bound it further above
    :attr:`Pipeline.max_untiled_pixels`), so the limit applies after resizing, not only to the file.
    """
    from .io import resized_shape

    nh, nw = resized_shape(h, w, size)
    if crop:
        nh = nw = min(nh, nw)
    if nh * nw > max_pixels:
        raise ImageError(
            f"{source}: {w}x{h} would be processed at {nw}x{nh} = {nh * nw / 1e6:.0f} MP, above the limit of "
            f"{max_pixels / 1e6:.0f} MP (lower --content-size/--style-size, or raise --max-pixels)")
    return nh, nw


def check_request(style: Any, alpha: float, weights: Sequence[float] | None, preserve_color: str,
                  tile: int | None, masks: Sequence[Any] | None) -> list[Any]:
    """Validate a request's options (one message per mistake, the same for library and CLIs);
    returns the styles as a list."""
    check_alpha(alpha)
    styles = list(style) if isinstance(style, (list, tuple)) and not is_stats(style) else [style]
    if not styles:
        raise UsageError("at least one style is needed")
    if weights is not None:
        normalize_weights(weights, len(styles))
    if preserve_color not in COLOR_MODES:
        raise UsageError(f"preserve_color must be none, coral or luminance, got {preserve_color!r}")
    if tile is not None and tile < 0:
        raise UsageError(f"tile must be >= 0, got {tile}")
    if masks is not None:
        if tile:
            raise UsageError("masks and tiling cannot be combined")
        if weights is not None:
            raise UsageError("masks assign one style per region; they cannot be combined with style weights")
    return styles


def _resize_to(stack: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bilinear resize of ``(K, H, W)`` planes to ``size`` (masks to the content's size)."""
    from PIL import Image

    return np.stack([np.asarray(Image.fromarray(np.ascontiguousarray(p, dtype=np.float32), mode="F").resize(
        (size[1], size[0]), Image.BILINEAR)) for p in stack]).clip(0, 1)


def _transfer(code: np.ndarray, stats: Sequence[Stats], weights: Sequence[float] | None, alpha: float,
              content_stats: ContentStats, masks: np.ndarray | None) -> np.ndarray:
    """AdaIN target of a code (masks, given content statistics), alpha-mixed with the code."""
    import torch

    from . import functional as AF
    from .mixing import mix_alpha

    c = torch.from_numpy(np.ascontiguousarray(code, dtype=np.float32))
    tstats = [(torch.from_numpy(m), torch.from_numpy(s)) for m, s in stats]
    if masks is not None:
        m = AF.resize_masks(torch.from_numpy(np.ascontiguousarray(masks, dtype=np.float32)), tuple(c.shape[-2:]))
        target = AF.masked_adain(c, tstats, m)
    else:
        cs = None
        if callable(content_stats):
            cs = content_stats(AF.calc_mean_std(c))
        elif content_stats is not None:
            cs = tuple(t if is_tensor(t) else torch.from_numpy(np.asarray(t, dtype=np.float32)) for t in content_stats)
        target = AF.blend_stats(c, tstats, weights, content_stats=cs)
    return mix_alpha(target, c, alpha).numpy()


def pretrained_source(
    name: str = "auto",
    encoder_weights: str | os.PathLike[str] | None = None,
    decoder_weights: str | os.PathLike[str] | None = None,
    download: bool = True,
    weights_check: str = "warn",
) -> ModelSource:
    """A :class:`~adain.graphs.ModelSource` for a named model, found without torch."""
    from .graphs import ModelSource
    from .weights import MODELS, choose_model, model_files

    model = choose_model(name, encoder_weights is not None or decoder_weights is not None)[0]
    card = MODELS[model]

    def verify(p: Path) -> None:  # only called before/after a download: the slow path anyway
        from .model import load_encoder

        load_encoder(card.encoder, p)

    enc, dec = model_files(model, encoder_weights, decoder_weights, download=download, verify_encoder=verify,
                           weights_check=weights_check)

    def build() -> AdaINNet:
        from .model import load_pretrained

        return load_pretrained(model, enc, dec, download=False, weights_check="off")  # checked above

    return ModelSource.from_files(model, [card.encoder, enc, dec], 8, build)
