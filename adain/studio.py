"""``adain-studio``: a local web app for stylizing, with a live preview (Gradio).

Two layers, like the rest of the package:

- :class:`StudioEngine` — the handlers, without Gradio: a live preview that only runs the decoder
  (the content's code comes from :meth:`Pipeline.content_code <adain.pipeline.Pipeline.content_code>`
  and each style's statistics from :meth:`Pipeline.style_stats
  <adain.pipeline.Pipeline.style_stats>`, both computed once per upload), full-size renders through
  :meth:`Pipeline.stylize <adain.pipeline.Pipeline.stylize>` (the path of ``adain-stylize``, tiling
  huge images), the alpha-sweep and blend grids of :mod:`adain.grids`. Mistakes raise
  :class:`~adain.errors.AdainError` with a readable message.
- :func:`build_app` — the page: uploads (file, paste, webcam), up to four styles with a weight
  slider each (and a gallery of ``--styles DIR``), alpha, colour preservation, a painted mask for
  two styles, output size, the result with download, the grids; one compute queue per model.
  Its API endpoint ``/stylize`` takes ``(content, style, alpha)``.

Files never leave the machine: the server listens on 127.0.0.1 unless told otherwise, Gradio's
analytics are off, and ``--share`` is opt-in.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import traceback
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import AdainError, ImageError, UsageError
from .io import DEFAULT_MAX_PIXELS, list_images, probe_size, save_image
from .mixing import normalize_weights
from .pipeline import COLOR_MODES, Pipeline

if TYPE_CHECKING:
    import gradio as gr

__all__ = ["MAX_STYLES", "StudioEngine", "build_app", "build_parser", "main", "painted_mask", "studio_main"]

PROG = "adain-studio"
MAX_STYLES = 4
#: output sizes offered in the page (shorter side; 0 = the upload's own size)
OUTPUT_SIZES = (256, 384, 512, 768, 1024, 1536, 2048, 0)

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


class StudioEngine:
    """The studio's handlers over one :class:`~adain.pipeline.Pipeline` (one per loaded model).

    Args:
        pipeline: the model, on its runtime.
        preview_size: the live preview's longer side, in pixels.
        style_size: shorter side styles are encoded at (as ``adain-stylize --style-size``).
        output_dir: where renders and grids are written (default: a new temporary directory).
    """

    def __init__(self, pipeline: Pipeline, preview_size: int = 384, style_size: int = 512,
                 output_dir: str | os.PathLike[str] | None = None) -> None:
        if preview_size < 16:
            raise UsageError(f"preview size must be >= 16, got {preview_size}")
        self.pipeline = pipeline
        self.preview_size = preview_size
        self.style_size = style_size
        self.output_dir = Path(output_dir) if output_dir else Path(tempfile.mkdtemp(prefix="adain-studio-"))
        self.output_dir.mkdir(parents=True, exist_ok=True)
        self._coral: OrderedDict[tuple[Any, ...], list[Any]] = OrderedDict()
        # One model, one compute at a time: Gradio's queue serialises page events, and this lock
        # also covers direct (API or library) callers from other threads.
        self._lock = threading.RLock()

    # ------------------------------------------------------------------ inputs
    def _content(self, content: str | None) -> str:
        if not content:
            raise UsageError("upload a content image first")
        return str(content)

    def _styles(self, styles: Sequence[str | None], weights: Sequence[float] | None) -> tuple[list[str], list[float]]:
        ws = list(weights) if weights is not None else [1.0] * len(styles)
        if len(ws) < len(styles):
            ws += [1.0] * (len(styles) - len(ws))
        chosen = [(str(s), float(w)) for s, w in zip(styles, ws) if s]
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
            raise UsageError(f"a painted mask needs exactly two styles (the painted region gets style 1), got {n_styles}")
        h, w = probe_size(content, self.pipeline.max_pixels)
        mh, mw = mask.shape[-2:]
        if abs(mh * w - mw * h) > 0.02 * h * mw:
            raise ImageError(f"the painted mask is {mw}x{mh} but the content is {w}x{h}: paint on the content "
                             "(it appears in the mask editor when uploaded)")
        m = np.clip(np.asarray(mask, dtype=np.float32), 0.0, 1.0)
        return [m, 1.0 - m]

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
    def preview(self, content: str | None, styles: Sequence[str | None], weights: Sequence[float] | None = None,
                alpha: float = 1.0, color: str = "none", mask: np.ndarray | None = None) -> np.ndarray:
        """The live preview, ``(H, W, 3)`` uint8 with the longer side at most :attr:`preview_size`.

        Only the decoder runs on a slider move: the content's code and the styles' statistics are
        cached by file (:meth:`Pipeline.content_code`, :meth:`Pipeline.style_stats`).
        """
        content = self._content(content)
        paths, wts = self._styles(styles, weights)
        _check_color(color)
        masks = self._masks(content, mask, len(paths))
        with self._lock:
            size = self.preview_shape(content)
            x, code = self.pipeline.content_code(content, size)
            stats = self._stats(x, (content, size), paths, color)
            m = self.pipeline.load_masks(masks, len(paths), x.shape[-2:]) if masks else None
            out = self.pipeline.run(x, stats, None if m is not None else wts, alpha, masks=m, code=code)[0]
            out = self.pipeline.finish(out, x[0], color)
        return _to_uint8(out)

    def render(self, content: str | None, styles: Sequence[str | None], weights: Sequence[float] | None = None,
               alpha: float = 1.0, color: str = "none", mask: np.ndarray | None = None, size: int = 512,
               progress: Progress | None = None) -> Path:
        """The full-size result through the path of ``adain-stylize`` (tiles for huge images),
        written as a PNG under :attr:`output_dir`; returns its path."""
        content = self._content(content)
        paths, wts = self._styles(styles, weights)
        _check_color(color)
        size = _check_size(size)
        masks = self._masks(content, mask, len(paths))
        _report(progress, 0.0, "stylizing")
        with self._lock:
            out = self.pipeline.stylize(content, paths, alpha, None if masks else wts, content_size=size,
                                        style_size=self.style_size, preserve_color=color, masks=masks)
        _report(progress, 0.9, "saving")
        path = self._save(out, content, paths, "stylized")
        _report(progress, 1.0, "done")
        return path

    def alpha_grid(self, content: str | None, styles: Sequence[str | None], color: str = "none",
                   size: int = 512) -> Path:
        """Content, style 1 and alpha 0 / .25 / .5 / .75 / 1 in one picture (as ``--grid alpha``)."""
        from .grids import alpha_sweep

        content = self._content(content)
        paths, _ = self._styles(styles, None)
        _check_color(color)
        with self._lock:
            grid = alpha_sweep(self.pipeline, content, paths[0], content_size=_check_size(size),
                               style_size=self.style_size, preserve_color=color)
        return self._save(grid, content, paths[:1], "alpha_grid")

    def blend_grid(self, content: str | None, styles: Sequence[str | None], alpha: float = 1.0,
                   color: str = "none", size: int = 512) -> Path:
        """The 5×5 interpolation of exactly four styles at the corners (as ``--grid blend``)."""
        from .grids import blend_grid

        content = self._content(content)
        paths, _ = self._styles(styles, None)
        if len(paths) != 4:
            raise UsageError(f"a blend grid needs exactly 4 styles, got {len(paths)}")
        _check_color(color)
        with self._lock:
            grid = blend_grid(self.pipeline, content, paths, alpha=alpha, content_size=_check_size(size),
                              style_size=self.style_size, preserve_color=color)
        return self._save(grid, content, paths, "blend_grid")

    def api_stylize(self, content: str | None, style: str | None, alpha: float = 1.0) -> Path:
        """The API endpoint ``/stylize``: one content, one style, alpha; 512 px; returns the PNG."""
        return self.render(content, [style], None, alpha)

    def _save(self, img: Any, content: str, styles: list[str], kind: str) -> Path:
        stem = f"{Path(content).stem}_{kind}_{'+'.join(Path(s).stem for s in styles)}"[:120]
        fd, name = tempfile.mkstemp(prefix=stem + "_", suffix=".png", dir=self.output_dir)
        os.close(fd)  # claimed exclusively; written atomically over the empty placeholder
        return save_image(img, name, overwrite=True)


def _check_color(color: str) -> None:
    if color not in COLOR_MODES:
        raise UsageError(f"colour preservation must be one of {', '.join(COLOR_MODES)}, got {color!r}")


def _check_size(size: Any) -> int:
    from .io import MAX_SIZE

    try:
        v = int(size)
    except (TypeError, ValueError):
        raise UsageError(f"output size must be a number of pixels, got {size!r}") from None
    if not 0 <= v <= MAX_SIZE:
        raise UsageError(f"output size must be between 0 (original) and {MAX_SIZE}, got {v}")
    return v


def _report(progress: Progress | None, fraction: float, what: str) -> None:
    if progress is not None:
        progress(fraction, what)


def _to_uint8(img: np.ndarray) -> np.ndarray:
    return (np.clip(img, 0.0, 1.0).transpose(1, 2, 0) * 255.0 + 0.5).astype(np.uint8)


# ====================================================================== the page (Gradio)
def _friendly(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Handler → page: our errors (and unreadable files) become a readable message in the page;
    anything else is logged on the server and reported in one line. The server keeps serving."""
    import functools

    import gradio as gr

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except AdainError as e:
            raise gr.Error(_short_paths(str(e), args), print_exception=False) from None
        except (OSError, ValueError) as e:
            raise gr.Error(_short_paths(f"could not process this input: {e}", args), print_exception=False) from None
        except Exception as e:  # noqa: BLE001 - a page must never show a stack trace
            traceback.print_exc()
            raise gr.Error(f"internal error ({type(e).__name__}): {e}", print_exception=False) from None

    return wrapper


def _robust(component: Any, fallback: Callable[[Any], Any]) -> Any:
    """Make ``component.preprocess`` total: an upload Pillow cannot open is handed on as
    ``fallback(payload)`` (an image's path, so our handler names what is wrong with the file in one
    line; "nothing painted" for the mask editor) instead of failing in Gradio's preprocessing.
    (An instance attribute, not a subclass: Gradio writes ``.pyi`` stubs beside subclasses.)"""
    original = component.preprocess

    def preprocess(payload: Any) -> Any:
        try:
            return original(payload)
        except Exception:  # noqa: BLE001 - reported by the handler, readably
            return fallback(payload)

    component.preprocess = preprocess
    return component


def _short_paths(message: str, values: Sequence[Any]) -> str:
    """Uploads live under Gradio's cache with long hashed paths: name them by their file name."""
    for v in values:
        for item in v if isinstance(v, (list, tuple)) else [v]:
            if isinstance(item, str) and os.sep in item and item in message:
                message = message.replace(item, Path(item).name)
    return message


def build_app(engine: StudioEngine, styles_dir: str | os.PathLike[str] | None = None,
              model_line: str = "") -> gr.Blocks:
    """The studio page over ``engine``. Components with stable ``elem_id``: ``content``, ``style``
    (and ``style2``…``style4``), ``weight1``…``weight4``, ``alpha``, ``color``, ``size``, ``mask``,
    ``use_mask``, ``preview``, ``stylize`` (the render button), ``result``, ``download``,
    ``alpha_grid``, ``blend_grid``, ``grid``, ``gallery``."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    import gradio as gr

    def Upload(**kwargs: Any) -> gr.Image:  # noqa: N802 - a component factory
        return _robust(gr.Image(**kwargs), lambda payload: getattr(payload, "path", None))

    gallery_paths = [str(p) for p in list_images([styles_dir])] if styles_dir else []
    model = {"concurrency_id": "model", "concurrency_limit": 1}

    with gr.Blocks(title="adain studio") as demo:
        gr.Markdown("## adain studio — arbitrary style transfer (AdaIN)" + (f"\n{model_line}" if model_line else ""))
        with gr.Row():
            with gr.Column(scale=1):
                content = Upload(label="Content", type="filepath", image_mode=None, elem_id="content",
                                 sources=["upload", "clipboard", "webcam"], height=260)
                style_slots, weight_sliders = [], []
                with gr.Row():
                    for k in range(2):
                        with gr.Column(min_width=120):
                            style_slots.append(Upload(label=f"Style {k + 1}", type="filepath", image_mode=None,
                                                      elem_id="style" if k == 0 else f"style{k + 1}",
                                                      sources=["upload", "clipboard"], height=160))
                            weight_sliders.append(gr.Slider(0, 1, value=1.0, step=0.05, label=f"weight {k + 1}",
                                                            elem_id=f"weight{k + 1}"))
                with gr.Accordion("Styles 3 and 4", open=False), gr.Row():
                    for k in range(2, MAX_STYLES):
                        with gr.Column(min_width=120):
                            style_slots.append(Upload(label=f"Style {k + 1}", type="filepath", image_mode=None,
                                                      elem_id=f"style{k + 1}", sources=["upload", "clipboard"],
                                                      height=160))
                            weight_sliders.append(gr.Slider(0, 1, value=1.0, step=0.05, label=f"weight {k + 1}",
                                                            elem_id=f"weight{k + 1}"))
                if gallery_paths:
                    target = gr.Radio([f"style {k + 1}" for k in range(MAX_STYLES)], value="style 1",
                                      label="A gallery click fills", elem_id="gallery_target")
                    gallery = gr.Gallery(gallery_paths, label=f"Styles in {styles_dir}", columns=6, height=200,
                                         allow_preview=False, elem_id="gallery")
            with gr.Column(scale=1):
                alpha = gr.Slider(0, 1, value=1.0, step=0.01, label="alpha (style strength)", elem_id="alpha")
                color = gr.Radio(list(COLOR_MODES), value="none", label="keep the content's colours",
                                 elem_id="color")
                size = gr.Dropdown([("original", 0)] + [(f"{s} px", s) for s in OUTPUT_SIZES if s], value=512,
                                   label="output size (shorter side)", elem_id="size")
                preview = gr.Image(label=f"Live preview (≤ {engine.preview_size} px)", type="numpy",
                                   interactive=False, format="png", elem_id="preview", height=300)
                with gr.Row():
                    render_btn = gr.Button("Render full size", variant="primary", elem_id="stylize")
                    alpha_btn = gr.Button("Alpha sweep", elem_id="alpha_grid")
                    blend_btn = gr.Button("Blend grid (4 styles)", elem_id="blend_grid")
                result = gr.Image(label="Result", type="filepath", interactive=False, format="png",
                                  elem_id="result", buttons=["download", "fullscreen"])
                download = gr.File(label="Download (PNG)", interactive=False, elem_id="download")
                grid = gr.Image(label="Grid", type="filepath", interactive=False, format="png", elem_id="grid",
                                buttons=["download", "fullscreen"])
        with gr.Accordion("Mask for two styles: paint the region that gets style 1", open=False):
            use_mask = gr.Checkbox(False, label="use the painted mask (style 1 inside, style 2 outside)",
                                   elem_id="use_mask")
            mask = gr.ImageEditor(type="numpy", label="Paint on the content", sources=(), elem_id="mask",
                                  brush=gr.Brush(colors=["#ff3030"], color_mode="fixed"), layers=False,
                                  transforms=())
            _robust(mask, lambda payload: None)

        def collect(content_v: Any, *rest: Any) -> tuple[Any, list[Any], list[float], Any]:
            styles = list(rest[:MAX_STYLES])
            weights = [float(w) for w in rest[MAX_STYLES : 2 * MAX_STYLES]]
            mask_v, use = rest[2 * MAX_STYLES], rest[2 * MAX_STYLES + 1]
            return content_v, styles, weights, painted_or_none(mask_v, use)

        def painted_or_none(mask_v: Any, use: bool) -> np.ndarray | None:
            if not use:
                return None
            m = painted_mask(mask_v)
            if m is None:
                raise UsageError("paint the region for style 1 on the mask first (or untick 'use the painted mask')")
            return m

        common = [content, *style_slots, *weight_sliders, mask, use_mask]

        @_friendly
        def on_preview(*values: Any) -> Any:
            content_v, styles, weights, m = collect(*values[: len(common)])
            a, col = values[len(common):]
            if not content_v or not any(styles):
                return None  # nothing to show yet; not an error
            return engine.preview(content_v, styles, weights, a, col, m)

        @_friendly
        def on_render(*values: Any, progress: gr.Progress = gr.Progress()) -> tuple[str, str]:
            content_v, styles, weights, m = collect(*values[: len(common)])
            a, col, sz = values[len(common):]
            path = engine.render(content_v, styles, weights, a, col, m, sz,
                                 progress=lambda f, what: progress(f, desc=what))
            return str(path), str(path)

        @_friendly
        def on_alpha_grid(content_v: Any, *rest: Any) -> str:
            col, sz = rest[MAX_STYLES:]
            return str(engine.alpha_grid(content_v, list(rest[:MAX_STYLES]), col, sz))

        @_friendly
        def on_blend_grid(content_v: Any, *rest: Any) -> str:
            a, col, sz = rest[MAX_STYLES:]
            return str(engine.blend_grid(content_v, list(rest[:MAX_STYLES]), a, col, sz))

        @_friendly
        def api_stylize(content_v: Any, style_v: Any, a: float) -> str:
            return str(engine.api_stylize(content_v, style_v, a))

        def to_editor(content_v: Any) -> Any:
            """The uploaded content becomes the mask editor's canvas (when it is a readable image)."""
            try:
                probe_size(content_v, engine.pipeline.max_pixels)
            except (AdainError, OSError, TypeError):
                return None
            return {"background": content_v, "layers": [], "composite": content_v}

        preview_inputs = [*common, alpha, color]
        live = {"fn": on_preview, "inputs": preview_inputs, "outputs": preview, "show_progress": "minimal",
                "trigger_mode": "always_last", "api_visibility": "undocumented", **model}
        content.change(to_editor, content, mask, api_visibility="undocumented", queue=False)
        for comp in (content, *style_slots, color, use_mask):
            comp.change(**live)
        for slider in (alpha, *weight_sliders):
            slider.change(**live)
        mask.apply(**live)
        render_btn.click(on_render, [*common, alpha, color, size], [result, download], api_name="render",
                         **model)
        alpha_btn.click(on_alpha_grid, [content, *style_slots, color, size], grid, api_name="alpha_grid", **model)
        blend_btn.click(on_blend_grid, [content, *style_slots, alpha, color, size], grid, api_name="blend_grid",
                        **model)
        # The stable programmatic endpoint: (content image, style image, alpha) → stylized image.
        api_btn = gr.Button(visible=False, elem_id="api_stylize")
        api_btn.click(api_stylize, [content, style_slots[0], alpha], result, api_name="stylize", **model)
        if gallery_paths:
            def pick(choice: str, evt: gr.SelectData) -> list[Any]:
                k = int(choice.split()[-1]) - 1
                return [gr.update(value=gallery_paths[evt.index]) if i == k else gr.update()
                        for i in range(MAX_STYLES)]

            pick.__annotations__["evt"] = gr.SelectData  # resolved, so Gradio passes the event data
            gallery.select(pick, target, style_slots, api_visibility="undocumented", queue=False)
    return demo


# ====================================================================== the command
def build_parser() -> argparse.ArgumentParser:
    from .cli import _size, add_model_options

    p = argparse.ArgumentParser(prog=PROG, description="A local web app for AdaIN style transfer, with live preview.",
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    s = p.add_argument_group("server")
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0 exposes it to your network)")
    s.add_argument("--port", type=int, default=7860, help="port (0: any free port)")
    s.add_argument("--share", action="store_true", help="also publish a temporary public gradio.live link")
    s.add_argument("--styles", metavar="DIR", help="a folder of style images shown as a clickable gallery")
    s.add_argument("--max-upload-mb", type=float, default=25.0, help="largest accepted upload")
    s.add_argument("--max-pixels", type=int, default=DEFAULT_MAX_PIXELS, help="refuse images with more pixels")
    s.add_argument("--queue-size", type=int, default=16, help="requests that may wait; more are refused politely")
    s.add_argument("--preview-size", type=int, default=384, help="longer side of the live preview")
    s.add_argument("--style-size", type=_size, default=512, help="shorter side styles are encoded at")
    s.add_argument("--output-dir", metavar="DIR", help="where renders are kept (default: a temporary folder)")
    s.add_argument("--quiet", action="store_true", help="less output on the console")
    add_model_options(p)
    return p


def studio_main(args: Sequence[str] | None = None) -> int:
    """Entry point of ``adain-studio``: 0 after a clean shutdown, 2 on bad options/model."""
    ns = build_parser().parse_args(args)
    try:
        demo = _prepare(ns)
    except AdainError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 2
    try:
        demo.launch(server_name=ns.host, server_port=ns.port or None, share=ns.share, inbrowser=False,
                    max_file_size=int(ns.max_upload_mb * 1024 * 1024), quiet=ns.quiet, show_error=True,
                    allowed_paths=[str(Path(ns.styles).resolve())] if ns.styles else None,
                    footer_links=["api"])
    except OSError as e:
        print(f"{PROG}: error: cannot serve on {ns.host}:{ns.port}: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
    return 0


def _prepare(ns: argparse.Namespace) -> gr.Blocks:
    from .cli import make_pipeline

    if not 0 <= ns.port <= 65535:
        raise UsageError(f"--port must be in 0..65535, got {ns.port}")
    if ns.max_upload_mb <= 0 or ns.queue_size < 1 or ns.preview_size < 16:
        raise UsageError("--max-upload-mb must be > 0, --queue-size >= 1 and --preview-size >= 16")
    if ns.styles:
        if not Path(ns.styles).is_dir():
            raise UsageError(f"{ns.styles}: --styles must be a folder of images")
        list_images([ns.styles])  # one line if it holds no image
    ns.batch_size = 1
    pipe = make_pipeline(ns, prog=PROG)
    rt = pipe.runtime
    engine = StudioEngine(pipe, ns.preview_size, ns.style_size, ns.output_dir)
    if hasattr(rt, "source"):
        label = rt.source.label
    elif ns.checkpoint:
        label = Path(ns.checkpoint).name
    else:
        from .weights import choose_model

        label = choose_model(ns.model, bool(ns.encoder_weights or ns.decoder_weights))[0]
    line = f"model **{label}** · {getattr(rt, 'backend', 'torch')} · {rt.device} · {rt.precision}"
    demo = build_app(engine, ns.styles, line)
    demo.queue(max_size=ns.queue_size, default_concurrency_limit=1)
    return demo


def main() -> None:
    sys.exit(studio_main())


if __name__ == "__main__":  # pragma: no cover
    main()
