"""The jobs of a stylization run (``adain-stylize``): which outputs it makes, and making them.

:func:`plan` turns contents × styles into ``(content, styles, output)`` jobs and refuses what
would go wrong (collisions, outputs that are inputs, existing files). :func:`execute` makes them:
decoding the next contents and encoding/writing finished images run in worker threads (PIL
releases the GIL), overlapped with the network on the main thread. Every output is claimed
atomically (:func:`adain.io.atomic.atomic_path`), so whatever two runs do, a file that exists is
complete and was written by one of them; an output another run wrote first is left alone, and
no failure or interrupt ever removes an output this run finished.
"""

from __future__ import annotations

import contextlib
import itertools
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from adain.errors import OutputExistsError, UsageError
from adain.io.atomic import check_writable, refuse_inputs, remove_stale_parts
from adain.io.files import VIDEO_EXTENSIONS, is_video
from adain.io.images import IMAGE_EXTENSIONS, read_image_resized, save_image
from adain.pipeline.request import StylizeRequest

if TYPE_CHECKING:
    from adain.pipeline.core import Pipeline

__all__ = [
    "OUT_EXTS",
    "Job",
    "Outcome",
    "check_inputs",
    "describe",
    "execute",
    "plan",
    "resize_note",
    "resolve_masks",
    "variant_name",
]

#: output formats of ``--ext``
OUT_EXTS = ("jpg", "png", "webp", "bmp", "tif")
#: extensions that name the same format as an ``--ext`` value
_SAME_FORMAT = {"jpg": ("jpg", "jpeg"), "tif": ("tif", "tiff")}
#: (content, styles, output file)
Job = tuple[Path, list[Path], Path]

T = TypeVar("T")
R = TypeVar("R")


def plan(
    contents: list[Path],
    styles: list[Path],
    output: str,
    request: StylizeRequest,
    *,
    ext: str | None = None,
    skip_existing: bool = False,
    method: str = "",
    overwrite: bool | None = None,
) -> list[Job]:
    """Every job of ``request`` over contents × styles; refuses collisions, outputs that are inputs
    (masks too) and (unless ``overwrite`` or ``skip_existing``) existing files; ``skip_existing``
    drops finished jobs.

    Output names are ``<content>_<kind>_<styles>[_<variant>].<ext>``: kind ``stylized`` or the grid
    (``alpha_grid``, ``blend_grid``, ``style_grid``); styles joined by ``+`` where one output takes
    them all (:attr:`StylizeRequest.together`); the variant is what differs from the defaults
    (:func:`variant_name`, with ``method``: ``gatys``, ``refine10``), so variants of one pair in one
    folder never collide.

    Args:
        ext: output format, else the content's (jpg if unknown; mp4 for videos).
        overwrite: replace existing outputs (default: ``request.overwrite``).
    """
    overwrite = request.overwrite if overwrite is None else overwrite
    inputs = [Path(m) for m in request.masks or () if isinstance(m, (str, os.PathLike))]
    kind = {"alpha": "alpha_grid", "blend": "blend_grid", "styles": "style_grid"}.get(request.grid or "", "stylized")
    variant = variant_name(request, method)
    together = request.together
    protected = [*contents, *styles, *inputs]
    groups = [styles] if together else [[s] for s in styles]
    n_jobs = len(contents) * len(groups)
    out = Path(output).expanduser()
    video = is_video(contents[0])
    file_exts = VIDEO_EXTENSIONS if video else IMAGE_EXTENSIONS
    names_a_file = out.suffix.lower() in file_exts and not out.is_dir() and not output.endswith(("/", os.sep))
    if names_a_file and n_jobs > 1:
        raise UsageError(f"{out}: --output is a file name but there are {n_jobs} outputs; give a directory")
    if names_a_file and video and out.suffix.lower() != ".mp4":
        raise UsageError(f"{out}: stylized videos are MP4 (H.264); name the output .mp4")
    if names_a_file and ext and out.suffix.lower().lstrip(".") not in _SAME_FORMAT.get(ext, (ext,)):
        raise UsageError(f"{out}: the name says {out.suffix.lstrip('.')} but --ext is {ext}; drop one of them")
    jobs, seen = [], {}
    for c in contents:
        own = c.suffix.lower().lstrip(".")
        suffix = "mp4" if is_video(c) else ext or (own if own in (*OUT_EXTS, "jpeg") else "jpg")
        for group in groups:
            tail = f"_{variant}" if variant else ""
            name = f"{c.stem}_{kind}_{'+'.join(s.stem for s in group)}{tail}.{suffix}"
            target = out if names_a_file else out / name
            if target in seen:
                raise UsageError(f"{target}: two inputs ({seen[target]} and {c}) would write the same output")
            seen[target] = c
            refuse_inputs(target, protected)
            if target.exists() and skip_existing:
                continue
            if target.exists() and not overwrite:
                raise OutputExistsError(
                    f"{target}: output exists (use --overwrite to replace it, or --skip-existing to resume)"
                )
            jobs.append((c, group, target))
    return jobs


def _prefetch(pool: ThreadPoolExecutor, fn: Callable[[T], R], items: Sequence[T], ahead: int) -> Iterator[R]:
    """``map(fn, items)`` computed in ``pool``, at most ``ahead`` items in advance (bounded memory)."""
    queue: deque[Future[R]] = deque()
    it = iter(items)
    for item in itertools.islice(it, ahead):
        queue.append(pool.submit(fn, item))
    while queue:
        result = queue.popleft().result()
        for item in itertools.islice(it, 1):
            queue.append(pool.submit(fn, item))
        yield result


def _batched(iterable: Iterable[T], n: int) -> Iterator[list[T]]:
    it = iter(iterable)
    while chunk := list(itertools.islice(it, n)):
        yield chunk


def render_one(
    pipe: Pipeline,
    req: StylizeRequest,
    content: Path,
    group: list[Path],
    target: Path,
    optimize: Callable[[Path, list[Path]], Any] | None,
) -> Any:
    """One job that is not plain: a video (written here; returns its path), a grid, an optimised
    image or a masked/colour-preserved stylization (returns the image to save)."""
    if is_video(content):
        from adain.methods.video import VideoOptions, stylize_video

        options = VideoOptions(
            req.alpha, req.weights, req.content_size, req.style_size, req.batch_size, req.temporal,
            req.temporal_strength, req.temporal_smoothing, req.masks, req.preserve_color,
            stroke_scale=req.stroke_scale,
        )  # fmt: skip
        return stylize_video(pipe, content, group, target, options, req.overwrite, progress=not req.quiet)
    if req.grid == "alpha":
        from adain.methods.grids import alpha_sweep

        return alpha_sweep(pipe, content, group[0], request=req)
    if req.grid == "blend":
        from adain.methods.grids import blend_grid

        return blend_grid(pipe, content, group, request=req)
    if req.grid == "styles":
        from adain.methods.grids import style_sheet

        return style_sheet(pipe, content, group, [style_name(s) for s in group], req)
    if optimize is not None:
        return optimize(content, group)
    return pipe.stylize(content, group, req)


def style_name(path: Path) -> str:
    """A style's label: a shipped painting's short name (``matisse``), else the file's stem."""
    from adain.io.styles import named_styles

    for style in named_styles().values():
        if style.path == path.resolve():
            return style.name
    return path.stem


@dataclass
class Outcome:
    """What a run made: files it wrote, and outputs another run wrote first (left alone)."""

    written: list[Path] = field(default_factory=list)
    taken: list[Path] = field(default_factory=list)


def _claim(write: Callable[[], Path], target: Path, outcome: Outcome) -> None:
    """Run ``write``; an output that another run claimed meanwhile is recorded, not an error."""
    try:
        outcome.written.append(write())
    except OutputExistsError:
        outcome.taken.append(target)


#: decoded photos waiting for the network at most (a large --batch-size does not hold 2x its images)
PREFETCH_LIMIT = 16


class _NoBar:
    """The progress bar of a run with one output: nothing to show (and tqdm not imported)."""

    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def _progress(total: int, quiet: bool) -> Any:
    if total <= 1:
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="stylizing", unit="img", disable=quiet or None)


def execute(
    pipe: Pipeline, req: StylizeRequest, jobs: list[Job], optimize: Callable[[Path, list[Path]], Any] | None = None
) -> Outcome:
    """Make every job (see the module docstring).

    The output folders are made (and proved writable) first, and what killed runs left in them
    is removed; a folder this run made is removed again if the run fails before writing into it.
    Whatever fails, every output this run finished is kept: the exception carries ``kept`` (how
    many) and ``total``. An output another run wrote first is left alone and listed in
    :attr:`Outcome.taken` (several runs over one folder share the work instead of undoing it).
    """
    out_dirs = sorted({target.parent for _, _, target in jobs})
    created = [d for d in out_dirs if check_writable(d)]
    for d in out_dirs:
        remove_stale_parts(d)
    try:
        return _execute(pipe, req, jobs, optimize)
    except BaseException:
        for d in created:  # only if it is still empty
            with contextlib.suppress(OSError):
                d.rmdir()
        raise


def _execute(
    pipe: Pipeline, req: StylizeRequest, jobs: list[Job], optimize: Callable[[Path, list[Path]], Any] | None
) -> Outcome:
    outcome = Outcome()
    saves: list[Future[None]] = []
    pool = ThreadPoolExecutor(max_workers=2)
    bar = _progress(len(jobs), req.quiet)

    def save(img: Any, target: Path) -> None:
        write = lambda: save_image(img, target, req.overwrite)  # noqa: E731
        saves.append(pool.submit(_claim, write, target, outcome))

    try:
        if req.plain and optimize is None and not is_video(jobs[0][0]):
            _render_batches(pipe, req, jobs, pool, save, bar)
        else:
            for content, group, target in jobs:
                if is_video(content):
                    _claim(lambda c=content, g=group, t=target: render_one(pipe, req, c, g, t, None), target, outcome)
                else:
                    save(render_one(pipe, req, content, group, target, optimize), target)
                bar.update(1)
        for f in saves:
            f.result()
        bar.close()
    except BaseException as e:
        if isinstance(e, KeyboardInterrupt):  # stop now; an error lets the images already made be saved
            for f in saves:
                f.cancel()
        pool.shutdown(wait=True)  # the saves under way finish: a finished output is never removed
        e.kept, e.total = len(outcome.written), len(jobs)  # type: ignore[attr-defined]
        raise
    pool.shutdown(wait=True)
    return outcome


def _render_batches(
    pipe: Pipeline,
    req: StylizeRequest,
    jobs: list[Job],
    pool: ThreadPoolExecutor,
    save: Callable[[Any, Path], None],
    bar: Any,
) -> None:
    """Plain jobs, grouped by styles, in batches of contents decoded ahead in ``pool``."""
    groups: dict[tuple[Path, ...], list[tuple[Path, Path]]] = {}
    for content, group, target in jobs:
        groups.setdefault(tuple(group), []).append((content, target))
    for group, items in groups.items():

        def read(item: tuple[Path, Path]) -> np.ndarray:  # at the working size: a huge file never exists in float
            return read_image_resized(item[0], req.content_size, req.crop, req.max_pixels)

        loaded = _prefetch(pool, read, items, min(2 * req.batch_size, PREFETCH_LIMIT))
        for chunk in _batched(zip(items, loaded), req.batch_size):
            outs = pipe.stylize_batch([img for _, img in chunk], list(group), req)
            for ((_, target), _), out in zip(chunk, outs):
                save(out, target)
            bar.update(len(chunk))


def describe(pipe: Pipeline, request: StylizeRequest, job: Job, seconds: float, grid: bool = False) -> dict[str, Any]:
    """One output as plain data (``adain-stylize --json``; the result line's resize note): inputs,
    output, model, backend, precision, seconds, and for images its size and the content's size
    when they differ."""
    from adain.io.images import probe_size

    content, group, target = job
    entry: dict[str, Any] = {
        "content": str(content),
        "styles": [str(s) for s in group],
        "style_weights": None if request.weights is None else list(request.weights),
        "alpha": request.alpha,
        "output": str(target),
        "model": pipe.runtime.label,
        "backend": pipe.runtime.backend,
        "precision": pipe.runtime.precision,
        "seconds": round(seconds, 4),
    }
    if is_video(content):
        return entry
    out_h, out_w = probe_size(target, request.max_pixels)
    entry["size"] = [out_w, out_h]
    if not grid:
        in_h, in_w = probe_size(content, request.max_pixels)
        entry["resized_from"] = [in_w, in_h] if (in_h, in_w) != (out_h, out_w) else None
    return entry


def resize_note(report: list[dict[str, Any]], content_size: int) -> str:
    """`` (683x512, resized from 4032x3024; --content-size 0 keeps the original size)`` when the
    outputs do not have their contents' sizes."""
    resized = [e for e in report if e.get("resized_from")]
    if not resized:
        return ""
    keep = "--content-size 0 keeps the original size"
    if len(report) == 1:
        (w, h), (w0, h0) = resized[0]["size"], resized[0]["resized_from"]
        return f" ({w}x{h}, resized from {w0}x{h0}; {keep})"
    return f" ({len(resized)} of {len(report)} resized to a {content_size} px shorter side; {keep})"


def variant_name(request: StylizeRequest, method: str = "") -> str:
    """What a run changes from the defaults, for output names: ``a0.5``, ``w0.3-0.7``, ``coral``,
    ``s2`` (stroke scale) and ``method`` (``gatys``, ``refine10``) joined by ``_`` (empty for the
    defaults), so that variants of one pair in one folder never collide."""
    parts = []
    if request.alpha != 1.0 and request.grid != "alpha":
        parts.append(f"a{request.alpha:g}")
    if request.weights is not None:
        parts.append("w" + "-".join(f"{w:g}" for w in request.weights))
    if request.preserve_color != "none":
        parts.append(request.preserve_color)
    if request.stroke_scale != 1.0:
        parts.append(f"s{request.stroke_scale:g}")
    if method:
        parts.append(method)
    return "_".join(parts)


def check_inputs(contents: Sequence[Path], styles: Sequence[Path], request: StylizeRequest, optimizing: bool) -> None:
    """Before anything is written: every style decodes, and every input's working size (after
    resizing) is within ``request.max_pixels``, so a bad file or a huge request fails the run up
    front (``optimizing``: also within what the optimiser accepts)."""
    from adain.io.images import probe_size, read_image
    from adain.methods.gatys.options import check_optimize_size
    from adain.pipeline.request import check_working_size

    limit = request.max_pixels
    for f in dict.fromkeys(styles):
        check_working_size(*probe_size(f, limit), request.style_size, request.crop, limit, str(f))
        read_image(f, limit)
    for f in contents:
        if is_video(f):
            from adain.methods.video import probe_video_size

            check_working_size(*probe_video_size(f), request.content_size, False, limit, str(f))
        else:
            nh, nw = check_working_size(*probe_size(f, limit), request.content_size, request.crop, limit, str(f))
            if optimizing:
                check_optimize_size(nh, nw, str(f))


def resolve_masks(sources: Sequence[str], video: Path | None, n_styles: int, max_pixels: int) -> list[Path]:
    """The mask files of a run, checked before any work: one mask per style or one label map with a
    grey level per style; for a ``video``, per-frame masks may be videos or folders of frames (all
    of them, or none). Each image mask is decoded (within ``max_pixels``) to prove it readable.

    Raises:
        UsageError: a count that matches neither form, or per-frame and still masks mixed.
        ImageError: a mask that does not decode, or a folder without frames.
    """
    from adain.io.files import list_images
    from adain.io.images import label_map_to_masks, to_mask

    per_frame = [Path(m).is_dir() or is_video(m) for m in sources]
    if video is not None and any(per_frame):
        if len(sources) not in (1, n_styles):
            raise UsageError(
                f"{sources[0]}: got {len(sources)} mask sources for {n_styles} styles (one per style, or one label map)"
            )
        still = [m for m, frames in zip(sources, per_frame) if not frames]
        if still:
            raise UsageError(f"{still[0]}: per-frame masks are videos or folders of frames; give all masks that way")
        for m in sources:
            if Path(m).is_dir():
                list_images([m])  # a folder without frames fails here
        from adain.methods.video import check_mask_frames

        check_mask_frames(video, [Path(m) for m in sources], n_styles, None, max_pixels)
        return [Path(m) for m in sources]
    masks = list_images(list(sources))
    loaded = [to_mask(m, max_pixels) for m in masks]
    if len(masks) == 1 and n_styles > 1:
        label_map_to_masks(loaded[0], n_styles, str(masks[0]))
    elif len(masks) != n_styles:
        raise UsageError(f"{masks[0]}: got {len(masks)} masks for {n_styles} styles (one per style, or one label map)")
    return masks
