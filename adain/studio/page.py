"""The studio's page (Gradio): uploads, up to four styles with weights, alpha, colour, a painted
mask, output size, the result with download, the grids; one compute queue per model.
"""

from __future__ import annotations

import os
import re
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from adain.errors import AdainError, UsageError
from adain.io.files import list_images
from adain.io.images import probe_size
from adain.pipeline.request import COLOR_MODES
from adain.studio.engine import MAX_STYLES, OUTPUT_SIZES, StudioEngine, painted_mask

if TYPE_CHECKING:
    import gradio as gr

__all__ = ["build_app"]


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


def _number(component: Any, what: str, integer: bool = False) -> Any:
    """Make a slider's or a size menu's ``preprocess`` accept numbers sent as strings (``"512"``,
    which API clients send for a menu listed with string values) and refuse anything else in one
    line naming the control, instead of Gradio's multi-line processing error."""
    import gradio as gr

    original = component.preprocess

    def preprocess(payload: Any) -> Any:
        value = payload
        if isinstance(payload, str):
            try:
                value = int(payload) if integer else float(payload)
            except ValueError:
                raise gr.Error(f"{what} must be a number, got {payload!r}", print_exception=False) from None
        try:
            return original(value)
        except gr.Error as e:  # Gradio's own range check: named after the control
            raise gr.Error(f"{what}: {e.message}", print_exception=False) from None
        except Exception as e:  # noqa: BLE001 - wrong type: one line
            raise gr.Error(
                f"{what}: {str(e).splitlines()[0] or type(e).__name__} (got {payload!r})", print_exception=False
            ) from None

    component.preprocess = preprocess
    return component


def _short_paths(message: str, values: Sequence[Any]) -> str:
    """Uploads live under Gradio's cache with long hashed paths: name them by their file name."""
    for v in values:
        for item in v if isinstance(v, (list, tuple)) else [v]:
            if isinstance(item, str) and os.sep in item and item in message:
                message = message.replace(item, Path(item).name)
    return message


@dataclass
class _Page:
    """The page's components (see :func:`build_app` for their ``elem_id``)."""

    content: Any
    style_slots: list[Any]
    weight_sliders: list[Any]
    gallery: Any
    gallery_target: Any
    alpha: Any
    color: Any
    size: Any
    stroke: Any
    preview: Any
    render_btn: Any
    alpha_btn: Any
    blend_btn: Any
    result: Any
    download: Any
    grid: Any
    use_mask: Any = None
    mask: Any = None

    @property
    def common(self) -> list[Any]:
        """The inputs of every stylization: content, styles, weights, the painted mask."""
        return [self.content, *self.style_slots, *self.weight_sliders, self.mask, self.use_mask]


#: what the studio is given: uploads from the user's browser, never addresses for the server to fetch
NO_URLS = "the studio takes uploaded images, not URLs: download the image and upload the file"


def _local_only(gr: Any, component: Any) -> Any:
    """Refuse an input given as a URL (``{"path": "https://…"}`` through the API) before Gradio's
    preprocessing downloads it on the server: the studio fetches nothing from the network.
    (Instance attributes wrapping the component's public cache hooks, as in :func:`_robust`.)"""
    sync, asynchronous = component.move_resource_to_block_cache, component.async_move_resource_to_block_cache

    def refuse(value: Any) -> None:
        if isinstance(value, str) and re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", value):
            raise gr.Error(NO_URLS)

    def move(url_or_file_path: Any) -> Any:
        refuse(url_or_file_path)
        return sync(url_or_file_path)

    async def move_async(url_or_file_path: Any) -> Any:
        refuse(url_or_file_path)
        return await asynchronous(url_or_file_path)

    component.move_resource_to_block_cache = move
    component.async_move_resource_to_block_cache = move_async
    return component


def _upload(gr: Any, **kwargs: Any) -> Any:
    image = _local_only(gr, gr.Image(type="filepath", image_mode=None, **kwargs))
    return _robust(image, lambda payload: getattr(payload, "path", None))


def _style_slot(gr: Any, k: int, slots: list[Any], sliders: list[Any]) -> None:
    with gr.Column(min_width=120):
        elem = "style" if k == 0 else f"style{k + 1}"
        slots.append(_upload(gr, label=f"Style {k + 1}", elem_id=elem, sources=["upload", "clipboard"], height=160))
        slider = gr.Slider(0, 1, value=1.0, step=0.05, label=f"weight {k + 1}", elem_id=f"weight{k + 1}")
        sliders.append(_number(slider, f"weight {k + 1}"))


def _input_column(gr: Any, styles_dir: Any, gallery_paths: list[str]) -> dict[str, Any]:
    """Content, up to four styles with weights, and the gallery of ``--styles DIR``."""
    content = _upload(gr, label="Content", elem_id="content", sources=["upload", "clipboard", "webcam"], height=260)
    slots: list[Any] = []
    sliders: list[Any] = []
    with gr.Row():
        for k in range(2):
            _style_slot(gr, k, slots, sliders)
    with gr.Accordion("Styles 3 and 4", open=False), gr.Row():
        for k in range(2, MAX_STYLES):
            _style_slot(gr, k, slots, sliders)
    target = gallery = None
    if gallery_paths:
        choices = [f"style {k + 1}" for k in range(MAX_STYLES)]
        target = gr.Radio(choices, value="style 1", label="A gallery click fills", elem_id="gallery_target")
        gallery = gr.Gallery(
            gallery_paths,
            label=f"Styles in {styles_dir}",
            columns=6,
            height=200,
            allow_preview=False,
            elem_id="gallery",
        )
    return {
        "content": content,
        "style_slots": slots,
        "weight_sliders": sliders,
        "gallery": gallery,
        "gallery_target": target,
    }


def _output_column(gr: Any, preview_size: int) -> dict[str, Any]:
    """Alpha, colour, output size, the live preview, the buttons, the result and the grid."""
    out = {
        "alpha": _number(
            gr.Slider(0, 1, value=1.0, step=0.01, label="alpha (style strength)", elem_id="alpha"), "alpha"
        ),
        "color": gr.Radio(list(COLOR_MODES), value="none", label="keep the content's colours", elem_id="color"),
        "stroke": _number(
            gr.Slider(0.5, 4, value=1.0, step=0.25, label="stroke size (× the model's own)", elem_id="stroke"),
            "stroke size",
        ),
        "size": _number(
            gr.Dropdown(
                [("original", 0)] + [(f"{s} px", s) for s in OUTPUT_SIZES if s],
                value=512,
                label="output size (shorter side)",
                elem_id="size",
            ),
            "output size",
            integer=True,
        ),
        "preview": gr.Image(
            label=f"Live preview (≤ {preview_size} px)",
            type="numpy",
            interactive=False,
            format="png",
            elem_id="preview",
            height=300,
        ),
    }
    with gr.Row():
        out["render_btn"] = gr.Button("Render full size", variant="primary", elem_id="stylize")
        out["alpha_btn"] = gr.Button("Alpha sweep", elem_id="alpha_grid")
        out["blend_btn"] = gr.Button("Blend grid (4 styles)", elem_id="blend_grid")
    shown = {"type": "filepath", "interactive": False, "format": "png", "buttons": ["download", "fullscreen"]}
    out["result"] = gr.Image(label="Result", elem_id="result", **shown)
    out["download"] = gr.File(label="Download (PNG)", interactive=False, elem_id="download")
    out["grid"] = gr.Image(label="Grid", elem_id="grid", **shown)
    return out


def _editor_pixels(item: Any) -> int:
    """Pixels of one image of an editor payload (a file, or bytes held by Gradio), read from its
    header only; 0 for nothing."""
    import io

    from PIL import Image

    path = getattr(item, "path", None)
    source: Any = path if isinstance(path, str) else io.BytesIO(item) if isinstance(item, (bytes, bytearray)) else None
    if source is None:
        return 0
    try:
        with Image.open(source) as img:
            return img.width * img.height
    except Exception:  # noqa: BLE001 - not an image: Gradio's own preprocessing reports it
        return 0


def _bounded_editor(gr: Any, component: Any, max_pixels: int) -> Any:
    """The mask editor's layers are checked by their headers before Gradio decodes them: in all at
    most ``max_pixels`` (4 layers of 13000² would otherwise be decoded first, gigabytes)."""
    original = component.preprocess

    def preprocess(payload: Any) -> Any:
        if payload is not None:
            cached = component.blob_storage.get(payload.id) if getattr(payload, "id", None) is not None else None
            parts = cached if cached is not None else payload
            items = [getattr(parts, "background", None), getattr(parts, "composite", None)]
            items += list(getattr(parts, "layers", None) or [])
            total = sum(_editor_pixels(i) for i in items)
            if total > max_pixels:
                raise gr.Error(
                    f"the painted mask's images hold {total / 1e6:.0f} MP in all, above the studio's "
                    f"{max_pixels / 1e6:.0f} MP: paint on a smaller content"
                )
        return original(payload)

    component.preprocess = preprocess
    return component


def _mask_panel(gr: Any, max_pixels: int = 100_000_000) -> tuple[Any, Any]:
    with gr.Accordion("Mask for two styles: paint the region that gets style 1", open=False):
        use_mask = gr.Checkbox(
            False, label="use the painted mask (style 1 inside, style 2 outside)", elem_id="use_mask"
        )
        mask = gr.ImageEditor(
            type="numpy",
            label="Paint on the content",
            sources=(),
            elem_id="mask",
            brush=gr.Brush(colors=["#ff3030"], color_mode="fixed"),
            layers=False,
            transforms=(),
        )
        _bounded_editor(gr, _robust(_local_only(gr, mask), lambda payload: None), max_pixels)
    return use_mask, mask


def _collect(values: Sequence[Any]) -> tuple[Any, list[Any], list[float], np.ndarray | None]:
    """The values of :attr:`_Page.common` → content, styles, weights, the painted mask (if used)."""
    content_v, rest = values[0], values[1:]
    styles = list(rest[:MAX_STYLES])
    weights = [float(w) for w in rest[MAX_STYLES : 2 * MAX_STYLES]]
    mask_v, use = rest[2 * MAX_STYLES], rest[2 * MAX_STYLES + 1]
    if not use:
        return content_v, styles, weights, None
    m = painted_mask(mask_v)
    if m is None:
        raise UsageError("paint the region for style 1 on the mask first (or untick 'use the painted mask')")
    return content_v, styles, weights, m


def _warn_size(engine: StudioEngine, content: Any, size: Any) -> None:
    """Say on the page when a render is made smaller than asked (:meth:`StudioEngine.render_size`)."""
    import gradio as gr

    if content:
        note = engine.render_size(content, size)[1]
        if note:
            gr.Warning(note)


def _handlers(gr: Any, engine: StudioEngine, n: int) -> dict[str, Callable[..., Any]]:
    """The page's event handlers over ``engine``; ``n`` values of :attr:`_Page.common` come first."""

    @_friendly
    def preview(*values: Any) -> Any:
        content_v, styles, weights, m = _collect(values[:n])
        a, col, stroke = values[n:]
        if not content_v or not any(styles):
            return None  # nothing to show yet; not an error
        return engine.preview(content_v, styles, weights, a, col, m, stroke)

    @_friendly
    def render(*values: Any, progress: gr.Progress = gr.Progress()) -> tuple[str, str]:  # noqa: B008
        content_v, styles, weights, m = _collect(values[:n])
        a, col, sz, stroke = values[n:]
        _warn_size(engine, content_v, sz)
        report = lambda f, what: progress(f, desc=what)  # noqa: E731
        path = engine.render(content_v, styles, weights, a, col, m, sz, progress=report, stroke=stroke)
        return str(path), str(path)

    @_friendly
    def alpha_grid(content_v: Any, *rest: Any) -> str:
        col, sz = rest[MAX_STYLES:]
        _warn_size(engine, content_v, sz)
        return str(engine.alpha_grid(content_v, list(rest[:MAX_STYLES]), col, sz))

    @_friendly
    def blend_grid(content_v: Any, *rest: Any) -> str:
        a, col, sz = rest[MAX_STYLES:]
        _warn_size(engine, content_v, sz)
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

    return {
        "preview": preview,
        "render": render,
        "alpha_grid": alpha_grid,
        "blend_grid": blend_grid,
        "api_stylize": api_stylize,
        "to_editor": to_editor,
    }


def _wire(gr: Any, page: _Page, h: dict[str, Callable[..., Any]], gallery_paths: list[str]) -> None:
    """Events: every input change refreshes the live preview (the latest event wins); the buttons
    render, make grids; ``/stylize`` is the stable API endpoint. One compute queue per model."""
    model = {"concurrency_id": "model", "concurrency_limit": 1}
    common = page.common
    live = {
        "fn": h["preview"],
        "inputs": [*common, page.alpha, page.color, page.stroke],
        "outputs": page.preview,
        "show_progress": "minimal",
        "trigger_mode": "always_last",
        "api_visibility": "undocumented",
        **model,
    }
    page.content.change(h["to_editor"], page.content, page.mask, api_visibility="undocumented", queue=False)
    for comp in (
        page.content,
        *page.style_slots,
        page.color,
        page.use_mask,
        page.alpha,
        page.stroke,
        *page.weight_sliders,
    ):
        comp.change(**live)
    page.mask.apply(**live)
    page.render_btn.click(
        h["render"],
        [*common, page.alpha, page.color, page.size, page.stroke],
        [page.result, page.download],
        api_name="render",
        **model,
    )
    page.alpha_btn.click(
        h["alpha_grid"],
        [page.content, *page.style_slots, page.color, page.size],
        page.grid,
        api_name="alpha_grid",
        **model,
    )
    page.blend_btn.click(
        h["blend_grid"],
        [page.content, *page.style_slots, page.alpha, page.color, page.size],
        page.grid,
        api_name="blend_grid",
        **model,
    )
    # The stable programmatic endpoint: (content image, style image, alpha) → stylized image.
    api_btn = gr.Button(visible=False, elem_id="api_stylize")
    api_btn.click(
        h["api_stylize"], [page.content, page.style_slots[0], page.alpha], page.result, api_name="stylize", **model
    )
    if gallery_paths:

        def pick(choice: str, evt: gr.SelectData) -> list[Any]:
            k = int(choice.split()[-1]) - 1
            return [gr.update(value=gallery_paths[evt.index]) if i == k else gr.update() for i in range(MAX_STYLES)]

        pick.__annotations__["evt"] = gr.SelectData  # resolved, so Gradio passes the event data
        page.gallery.select(pick, page.gallery_target, page.style_slots, api_visibility="undocumented", queue=False)


def build_app(
    engine: StudioEngine, styles_dir: str | os.PathLike[str] | None = None, model_line: str = ""
) -> gr.Blocks:
    """The studio page over ``engine``. Components with stable ``elem_id``: ``content``, ``style``
    (and ``style2``…``style4``), ``weight1``…``weight4``, ``alpha``, ``color``, ``size``, ``stroke``, ``mask``,
    ``use_mask``, ``preview``, ``stylize`` (the render button), ``result``, ``download``,
    ``alpha_grid``, ``blend_grid``, ``grid``, ``gallery``, and the live webcam's ``webcam``
    (the camera), ``live`` (its stylization) and ``live_fps``."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    import gradio as gr

    gallery_paths = [str(p) for p in list_images([styles_dir])] if styles_dir else []
    with gr.Blocks(title="adain studio") as demo:
        gr.Markdown("## adain studio — arbitrary style transfer (AdaIN)" + (f"\n{model_line}" if model_line else ""))
        with gr.Row():
            with gr.Column(scale=1):
                inputs = _input_column(gr, styles_dir, gallery_paths)
            with gr.Column(scale=1):
                outputs = _output_column(gr, engine.preview_size)
        use_mask, mask = _mask_panel(gr, 6 * engine.max_render_pixels)
        page = _Page(**inputs, **outputs, use_mask=use_mask, mask=mask)
        _wire(gr, page, _handlers(gr, engine, len(page.common)), gallery_paths)
        _webcam_panel(gr, engine, page)
    return demo


def _webcam_panel(gr: Any, engine: StudioEngine, page: _Page) -> None:
    """Live webcam: the stream stylized with the current styles, weights, alpha and colour, made
    consistent between frames (optical flow), with the measured frame rate."""
    with gr.Accordion("Webcam (live)", open=False, elem_id="webcam_panel"):
        with gr.Row():
            cam = _local_only(
                gr, gr.Image(sources=["webcam"], streaming=True, type="numpy", label="camera", elem_id="webcam")
            )
            live = gr.Image(label=f"live (shorter side {engine.live_size} px)", type="numpy", elem_id="live")
        fps = gr.Markdown("frame rate: –", elem_id="live_fps")
        session = gr.State(None)

    @_friendly
    def on_frame(frame: Any, *values: Any) -> tuple[Any, str, Any]:
        styles = list(values[:MAX_STYLES])
        weights = [float(w) for w in values[MAX_STYLES : 2 * MAX_STYLES]]
        alpha, color, state = values[2 * MAX_STYLES :]
        out, state = engine.live(frame, styles, weights, float(alpha), color, state)
        return out, f"frame rate: {state.fps:.1f} frames/s", state

    cam.stream(
        on_frame,
        [cam, *page.style_slots, *page.weight_sliders, page.alpha, page.color, session],
        [live, fps, session],
        stream_every=0.1,
        concurrency_limit=1,
        concurrency_id="model",
        api_visibility="undocumented",
        show_progress="hidden",
    )
