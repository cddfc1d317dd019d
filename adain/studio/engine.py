"""``adain-studio``: a local web app for stylizing, with a live preview (Gradio).

Two layers, like the rest of the package:

- :class:`StudioEngine` — the handlers, without Gradio: a live preview that only runs the decoder
  (the content's code comes from :meth:`Pipeline.content_code <adain.pipeline.core.Pipeline.content_code>`
  and each style's statistics from :meth:`Pipeline.style_stats
  <adain.pipeline.core.Pipeline.style_stats>`, both computed once per upload), full-size renders through
  :meth:`Pipeline.stylize <adain.pipeline.core.Pipeline.stylize>` (the path of ``adain-stylize``, tiling
  huge images), the alpha-sweep and blend grids of :mod:`adain.methods.grids`. Mistakes raise
  :class:`~adain.errors.AdainError` with a readable message.
- :func:`build_app` — the page: uploads (file, paste, webcam), up to four styles with a weight
  slider each (and a gallery of ``--styles DIR``), alpha, colour preservation, a painted mask for
  two styles, output size, the result with download, the grids; one compute queue per model.
  Its API endpoint ``/stylize`` takes ``(content, style, alpha)``.

Files never leave the machine: the server listens on 127.0.0.1 unless told otherwise, Gradio's
analytics are off, and ``--share`` is opt-in.
"""

from __future__ import annotations

import logging
import math
import os
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from adain.errors import ImageError, UsageError
from adain.io.images import probe_size, resize_array, resized_shape, save_image
from adain.ops.mixing import normalize_weights
from adain.pipeline.core import Pipeline
from adain.pipeline.request import COLOR_MODES, StylizeRequest
from adain.pipeline.strokes import check_stroke_scale

log = logging.getLogger(__name__)

__all__ = ["MAX_STYLES", "OUTPUT_SIZES", "Progress", "StudioEngine", "painted_mask"]


MAX_STYLES = 4


#: output sizes offered in the page (shorter side; 0 = the upload's own size)
OUTPUT_SIZES = (256, 384, 512, 768, 1024, 1536, 2048, 0)

#: pictures in an alpha grid (content, style, five alphas) and in a 5×5 blend grid: they share
#: the render bound, so a grid never costs more memory than one render
ALPHA_GRID_CELLS = 7
BLEND_GRID_CELLS = 25


Progress = Callable[[float, str], None]


def painted_mask(editor: Any) -> np.ndarray | None:
    """The painted region of an image-editor value (``{"background", "layers", "composite"}`` with
    RGBA layers) as an ``(H, W)`` float mask in [0, 1] (the strokes' opacity); ``None`` when
    nothing is painted."""
    if not isinstance(editor, dict):
        return None
    layers = [np.asarray(layer) for layer in editor.get("layers") or [] if layer is not None]
    layers = [layer for layer in layers if layer.ndim == 3 and layer.shape[-1] == 4]
    if not layers:
        return None
    alpha = np.max(np.stack([layer[..., 3] for layer in layers if layer.shape == layers[0].shape]), axis=0)
    mask = alpha.astype(np.float32) / 255.0
    return mask if mask.max() > 0 else None


class LiveSession:
    """One webcam stream: its temporal consistency state and its measured frame rate."""

    def __init__(self, strength: float = 0.8) -> None:
        from adain.methods.temporal import FlowConsistency

        self.consistency = FlowConsistency(strength)
        self.fps = 0.0
        self._last: float | None = None

    def step(self, x: np.ndarray, out: np.ndarray) -> np.ndarray:
        import time

        out = self.consistency(x, out)
        now = time.perf_counter()
        if self._last is not None:
            rate = 1.0 / max(now - self._last, 1e-6)
            self.fps = rate if self.fps == 0 else 0.8 * self.fps + 0.2 * rate
        self._last = now
        return out


class StudioEngine:
    """The studio's handlers over one :class:`~adain.pipeline.core.Pipeline` (one per loaded model).

    Args:
        pipeline: the model, on its runtime.
        preview_size: the live preview's longer side, in pixels.
        style_size: shorter side styles are encoded at (as ``adain-stylize --style-size``).
        output_dir: where renders and grids are written (default: a new temporary directory).
        max_render_pixels: the studio's own bound on a render: a larger request ("original" for a
            100 MP upload) is rendered at the largest size within it, and the page says so.
        live_size: shorter side webcam frames are stylized at.
    """

    def __init__(
        self,
        pipeline: Pipeline,
        preview_size: int = 384,
        style_size: int = 512,
        output_dir: str | os.PathLike[str] | None = None,
        max_render_pixels: int = 4096 * 4096,
        live_size: int = 256,
    ) -> None:
        if preview_size < 16:
            raise UsageError(f"preview size must be >= 16, got {preview_size}")
        if max_render_pixels < 64 * 64:
            raise UsageError(f"the largest render must be >= 4096 pixels, got {max_render_pixels}")
        self.max_render_pixels = max_render_pixels
        if live_size < 16:
            raise UsageError(f"the webcam size must be >= 16, got {live_size}")
        self.live_size = live_size
        self.pipeline = pipeline
        self.preview_size = preview_size
        self.style_size = style_size
        self.output_dir = Path(output_dir) if output_dir else Path(tempfile.mkdtemp(prefix="adain-studio-"))
        self.output_dir.mkdir(parents=True, exist_ok=True)
        self._coral: OrderedDict[tuple[Any, ...], list[Any]] = OrderedDict()
        # One model, one compute at a time: Gradio's queue serialises page events, and this lock
        # also covers direct (API or library) callers from other threads.
        self._lock = threading.RLock()

    # ------------------------------------------------------------------ precision
    def upgrade_to_int8(self) -> threading.Thread | None:
        """Where int8 is the fast precision (int8 dot products but no fast bf16: AVX2) and this
        model has no int8 verdict yet, quantize it in the background (NNCF, behind the gate) and
        switch the studio to int8 once it passes; the verdict is cached, so ``auto`` picks int8 in
        every later run. Meanwhile the studio keeps serving in its float precision. Returns the
        thread, or ``None`` when there is nothing to gain (or NNCF is not installed)."""
        import importlib.util

        from adain.runtime.graph_backend import GraphRuntime
        from adain.runtime.hardware import cpu_has_fast_bf16, cpu_has_fast_int8
        from adain.runtime.quantize import read_gate

        rt = self.pipeline.runtime
        if not isinstance(rt, GraphRuntime) or rt.backend != "openvino" or rt.precision == "int8":
            return None
        if not cpu_has_fast_int8() or cpu_has_fast_bf16() or importlib.util.find_spec("nncf") is None:
            return None
        if read_gate(rt.int8_dir) is not None:  # decided before (a pass would have been picked by auto)
            return None

        def convert() -> None:
            try:
                quantized = GraphRuntime(rt.source, "openvino", "int8", announce=False)
            except Exception as e:  # noqa: BLE001 - the studio keeps serving in float
                log.warning("int8 conversion failed (%s); staying %s", e, rt.precision)
                return
            if quantized.precision == "int8":
                with self._lock:
                    self.pipeline = Pipeline(quantized, self.pipeline.max_pixels)

        thread = threading.Thread(target=convert, name="adain-int8", daemon=True)
        thread.start()
        return thread

    # ------------------------------------------------------------------ inputs
    def _content(self, content: str | None) -> str:
        if not content:
            raise UsageError("upload a content image first")
        return str(content)

    def _styles(self, styles: Sequence[str | None], weights: Sequence[float] | None) -> tuple[list[str], list[float]]:
        ws = list(weights) if weights is not None else [1.0] * len(styles)
        if len(ws) < len(styles):
            ws += [1.0] * (len(styles) - len(ws))
        try:
            chosen = [(str(s), float(w)) for s, w in zip(styles, ws) if s]
        except (TypeError, ValueError):
            raise UsageError(f"style weights must be numbers, got {list(ws)!r}"[:200]) from None
        if not chosen:
            raise UsageError("add a style image (upload one, or click one in the gallery)")
        paths, wts = [p for p, _ in chosen], [w for _, w in chosen]
        try:
            normalize_weights(wts, len(wts))
        except UsageError as e:
            raise UsageError(f"style weights: {e}") from None
        return paths, wts

    def _masks(self, content: str, mask: np.ndarray | None, n_styles: int) -> list[np.ndarray] | None:
        """A painted mask → ``[region, rest]`` for two styles (region 1 gets style 1)."""
        if mask is None:
            return None
        if n_styles != 2:
            raise UsageError(
                f"a painted mask needs exactly two styles (the painted region gets style 1), got {n_styles}"
            )
        h, w = probe_size(content, self.pipeline.max_pixels)
        mh, mw = mask.shape[-2:]
        if abs(mh * w - mw * h) > 0.02 * h * mw:
            raise ImageError(
                f"the painted mask is {mw}x{mh} but the content is {w}x{h}: paint on the content "
                "(it appears in the mask editor when uploaded)"
            )
        m = np.clip(np.asarray(mask, dtype=np.float32), 0.0, 1.0)
        return [m, 1.0 - m]

    def render_size(self, content: str | None, size: Any, cells: int = 1) -> tuple[int, str | None]:
        """The shorter side a render of ``content`` at ``size`` (0: original) gets, within
        :attr:`max_render_pixels` for the whole picture (a grid of ``cells`` renders shares it),
        and a note when that is smaller than asked."""
        size = _check_size(size)
        budget = self.max_render_pixels // max(1, cells)
        h, w = probe_size(self._content(content), self.pipeline.max_pixels)
        nh, nw = resized_shape(h, w, size)
        if nh * nw <= budget:
            return size, None
        fit = max(1, int(min(h, w) * (budget / (h * w)) ** 0.5))
        while fit > 1 and math.prod(resized_shape(h, w, fit)) > budget:
            fit -= 1  # rounding of the longer side
        asked = "the original size" if size == 0 else f"{size} px"
        per = f" for the whole grid of {cells}" if cells > 1 else ""
        return fit, (
            f"{asked} would be {nw}x{nh} = {nw * nh / 1e6:.0f} MP; the studio renders up to "
            f"{self.max_render_pixels / 1e6:.0f} MP{per}, so this is {fit} px (adain-stylize renders any size)"
        )

    def preview_shape(self, content: str) -> int:
        """The shorter side that makes the content's longer side at most :attr:`preview_size`."""
        h, w = probe_size(content, self.pipeline.max_pixels)
        short, long = min(h, w), max(h, w)
        return max(1, min(short, round(self.preview_size * short / long)))

    def _stats(self, x: np.ndarray, content_key: Any, styles: list[str], color: str) -> list[Any]:
        if color != "coral":
            return [self.pipeline.style_stats(s, self.style_size) for s in styles]
        key = (content_key, tuple(styles), tuple(Path(s).stat().st_mtime_ns for s in styles))
        if key not in self._coral:  # recoloured to this content: once per (content, styles)
            self._coral[key] = self.pipeline.stats_for(styles, self.style_size, False, "coral", x)
            while len(self._coral) > 8:
                self._coral.popitem(last=False)
        return self._coral[key]

    # ------------------------------------------------------------------ handlers
    def _inputs(
        self,
        content: str | None,
        styles: Sequence[str | None],
        weights: Sequence[float] | None,
        color: str,
        mask: np.ndarray | None,
        stroke: float = 1.0,
    ) -> tuple[str, list[str], list[float], list[np.ndarray] | None]:
        """What a preview or a render stylizes, checked: the content, the styles and their
        weights, the painted masks (the colour mode and the stroke size are checked too)."""
        content = self._content(content)
        paths, wts = self._styles(styles, weights)
        _check_color(color)
        check_stroke_scale(_float(stroke, "stroke size"))
        return content, paths, wts, self._masks(content, mask, len(paths))

    def preview(
        self,
        content: str | None,
        styles: Sequence[str | None],
        weights: Sequence[float] | None = None,
        alpha: float = 1.0,
        color: str = "none",
        mask: np.ndarray | None = None,
        stroke: float = 1.0,
    ) -> np.ndarray:
        """The live preview, ``(H, W, 3)`` uint8 with the longer side at most :attr:`preview_size`.

        Only the decoder runs on a slider move: the content's code and the styles' statistics are
        cached by file (:meth:`Pipeline.content_code`, :meth:`Pipeline.style_stats`). A stroke size
        other than 1 paints on a smaller or larger canvas (:mod:`adain.pipeline.strokes`).
        """
        content, paths, wts, masks = self._inputs(content, styles, weights, color, mask, stroke)
        if float(stroke) != 1.0:
            request = StylizeRequest(
                alpha=alpha, weights=None if masks else wts, content_size=self.preview_shape(content),
                style_size=self.style_size, preserve_color=color, masks=masks, stroke_scale=float(stroke),
            )  # fmt: skip
            with self._lock:
                return _to_uint8(self.pipeline.stylize(content, paths, request))
        with self._lock:
            size = self.preview_shape(content)
            x, code = self.pipeline.content_code(content, size)
            stats = self._stats(x, (content, size), paths, color)
            m = self.pipeline.load_masks(masks, len(paths), x.shape[-2:]) if masks else None
            out = self.pipeline.run(x, stats, None if m is not None else wts, alpha, masks=m, code=code)[0]
            out = self.pipeline.finish(out, x[0], color)
        return _to_uint8(out)

    def render(
        self,
        content: str | None,
        styles: Sequence[str | None],
        weights: Sequence[float] | None = None,
        alpha: float = 1.0,
        color: str = "none",
        mask: np.ndarray | None = None,
        size: int = 512,
        progress: Progress | None = None,
        stroke: float = 1.0,
    ) -> Path:
        """The full-size result through the path of ``adain-stylize`` (tiles for huge images),
        written as a PNG under :attr:`output_dir`; returns its path."""
        content, paths, wts, masks = self._inputs(content, styles, weights, color, mask, stroke)
        size = self.render_size(content, size)[0]
        _report(progress, 0.0, "stylizing")
        with self._lock:
            out = self.pipeline.stylize(
                content,
                paths,
                alpha=alpha,
                weights=None if masks else wts,
                content_size=size,
                style_size=self.style_size,
                preserve_color=color,
                masks=masks,
                stroke_scale=float(stroke),
            )
        _report(progress, 0.9, "saving")
        path = self._save(out, content, paths, "stylized")
        _report(progress, 1.0, "done")
        return path

    # (the pictures of a grid share the render bound: see the constants)
    def alpha_grid(
        self, content: str | None, styles: Sequence[str | None], color: str = "none", size: int = 512
    ) -> Path:
        """Content, style 1 and alpha 0 / .25 / .5 / .75 / 1 in one picture (as ``--grid alpha``)."""
        from adain.methods.grids import alpha_sweep

        content = self._content(content)
        paths, _ = self._styles(styles, None)
        _check_color(color)
        with self._lock:
            grid = alpha_sweep(
                self.pipeline,
                content,
                paths[0],
                content_size=self.render_size(content, size, ALPHA_GRID_CELLS)[0],
                style_size=self.style_size,
                preserve_color=color,
            )
        return self._save(grid, content, paths[:1], "alpha_grid")

    def blend_grid(
        self,
        content: str | None,
        styles: Sequence[str | None],
        alpha: float = 1.0,
        color: str = "none",
        size: int = 512,
    ) -> Path:
        """The 5×5 interpolation of exactly four styles at the corners (as ``--grid blend``)."""
        from adain.methods.grids import blend_grid

        content = self._content(content)
        paths, _ = self._styles(styles, None)
        if len(paths) != 4:
            raise UsageError(f"a blend grid needs exactly 4 styles, got {len(paths)}")
        _check_color(color)
        with self._lock:
            grid = blend_grid(
                self.pipeline,
                content,
                paths,
                alpha=alpha,
                content_size=self.render_size(content, size, BLEND_GRID_CELLS)[0],
                style_size=self.style_size,
                preserve_color=color,
            )
        return self._save(grid, content, paths, "blend_grid")

    def api_stylize(self, content: str | None, style: str | None, alpha: float = 1.0) -> Path:
        """The API endpoint ``/stylize``: one content, one style, alpha; 512 px; returns the PNG."""
        return self.render(content, [style], None, alpha)

    def live(
        self,
        frame: np.ndarray | None,
        styles: Sequence[str | None],
        weights: Sequence[float] | None = None,
        alpha: float = 1.0,
        color: str = "none",
        session: LiveSession | None = None,
    ) -> tuple[np.ndarray | None, LiveSession]:
        """One webcam frame ``(H, W, 3)`` uint8 → its stylization at :attr:`live_size` (shorter side),
        made consistent with the session's previous frames (optical flow,
        :class:`~adain.methods.temporal.FlowConsistency`); returns it and the session (frame rate in
        :attr:`LiveSession.fps`). Style statistics are cached by file, as for the preview."""
        session = session if session is not None else LiveSession()
        if frame is None:
            return None, session
        paths, wts = self._styles(styles, weights)
        if color not in ("none", "luminance"):
            color = "none"  # coral recolours each style to each frame: too slow to be live
        arr = np.asarray(frame)
        if arr.ndim != 3 or arr.shape[-1] < 3:
            raise ImageError(f"a webcam frame must be (H, W, 3), got {arr.shape}")
        x = resize_array(arr[..., :3].transpose(2, 0, 1).astype(np.float32) / 255.0, self.live_size)
        with self._lock:
            stats = [self.pipeline.style_stats(s, self.style_size) for s in paths]
            out = self.pipeline.run(x[None], stats, wts, alpha)[0]
        out = self.pipeline.finish(out, x, color)
        out = session.step(x, out)
        return _to_uint8(out), session

    def _save(self, img: Any, content: str, styles: list[str], kind: str) -> Path:
        stem = f"{Path(content).stem}_{kind}_{'+'.join(Path(s).stem for s in styles)}"[:120]
        fd, name = tempfile.mkstemp(prefix=stem + "_", suffix=".png", dir=self.output_dir)
        os.close(fd)  # claimed exclusively; written atomically over the empty placeholder
        return save_image(img, name, overwrite=True)


def _check_color(color: str) -> None:
    if color not in COLOR_MODES:
        raise UsageError(f"colour preservation must be one of {', '.join(COLOR_MODES)}, got {color!r}")


def _float(value: Any, what: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise UsageError(f"{what} must be a number, got {value!r}"[:200]) from None


def _check_size(size: Any) -> int:
    from adain.io.images import MAX_SIZE

    try:
        v = int(size)
    except (TypeError, ValueError):
        raise UsageError(f"output size must be a number of pixels, got {size!r}") from None
    if not 0 <= v <= MAX_SIZE:
        raise UsageError(f"output size must be between 0 (original) and {MAX_SIZE}, got {v:.6g}")
    return v


def _report(progress: Progress | None, fraction: float, what: str) -> None:
    if progress is not None:
        progress(fraction, what)


def _to_uint8(img: np.ndarray) -> np.ndarray:
    return (np.clip(img, 0.0, 1.0).transpose(1, 2, 0) * 255.0 + 0.5).astype(np.uint8)
