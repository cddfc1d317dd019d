"""Video stylization with PyAV (FFmpeg): decode, stylize in batches, encode H.264, copy audio.

Style statistics are computed once for the whole clip. Temporal consistency (``temporal``):

* ``flow`` (default): the texture carried along the content's optical flow and the structure
  blended with the previous output's where the flow is reliable, scene cuts reset
  (:class:`adain.methods.temporal.FlowConsistency`); on cutBunny it halves the warping error
  (−45 … −50 % for three styles, at +6 … +13 % style loss; README "Video without flicker");
* ``ema``: each frame's content statistics replaced by an exponential moving average
  ``m_t = β m_{t-1} + (1-β) m(frame_t)`` (``temporal_smoothing=β``) — cheap, but per-frame
  statistics are not where AdaIN's flicker comes from, and it measurably changes little;
* ``off``: every frame on its own.

Blends, alpha, masks, luminance colour preservation and tiling of large frames all apply per
frame, before the consistency step. Masks are images (one for the whole clip) or per frame
(:class:`MaskFrames`): a mask video or a folder of mask frames, one per style or one label map.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import numpy as np
from tqdm.auto import tqdm

from adain.errors import ImageError, UsageError
from adain.io.atomic import atomic_path, ensure_new
from adain.io.files import is_video, list_images
from adain.io.images import (
    DEFAULT_MAX_PIXELS,
    ImageLike,
    label_map_to_masks,
    read_image,
    resize_array,
    resize_planes,
    resized_shape,
    to_mask,
)
from adain.methods.temporal import FlowConsistency
from adain.ops.mixing import check_alpha
from adain.pipeline.core import Pipeline
from adain.pipeline.request import check_working_size
from adain.pipeline.step import code_stats
from adain.pipeline.strokes import canvas_shape, check_stroke_scale, restore_scale
from adain.runtime.base import Stats

__all__ = [
    "TEMPORAL_MODES",
    "MaskFrames",
    "VideoOptions",
    "check_mask_frames",
    "flicker",
    "is_frame_source",
    "probe_video_size",
    "read_frames",
    "stylize_video",
]

#: the temporal-consistency modes of :func:`stylize_video`
TEMPORAL_MODES = ("flow", "ema", "off")


def _even(x: np.ndarray) -> np.ndarray:
    h, w = x.shape[-2:]
    return x[..., : h - h % 2, : w - w % 2]


def _frame(frame: av.VideoFrame) -> np.ndarray:
    return np.ascontiguousarray(frame.to_ndarray(format="rgb24").transpose(2, 0, 1), dtype=np.float32) / 255.0


def _check_frame(frame: av.VideoFrame, max_pixels: int, src: Path, index: int) -> None:
    """A decoded frame larger than ``max_pixels`` is refused before it is converted (a stream may
    declare one size and carry frames of another)."""
    if frame.width * frame.height > max_pixels:
        raise ImageError(
            f"{src}: frame {index} is {frame.width}x{frame.height} = {frame.width * frame.height / 1e6:.3g} MP, "
            f"above the limit of {max_pixels / 1e6:.3g} MP (raise it with --max-pixels)"
        )


def _open_video(path: str | os.PathLike[str], what: str = "video") -> Any:
    """An open PyAV container with a video stream.

    Raises:
        ImageError: unreadable, or without a video stream.
    """
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError) as e:
        raise ImageError(f"{path}: not a readable {what} ({e})") from None
    if not container.streams.video:
        container.close()
        raise ImageError(f"{path}: has no video stream")
    return container


def is_frame_source(path: Any) -> bool:
    """Whether a mask is given per frame: a folder of frames or a video (not one image)."""
    return isinstance(path, (str, os.PathLike)) and (Path(path).is_dir() or is_video(path))


class MaskFrames:
    """Per-frame masks for a clip: one source per style (soft masks) or one label-map source for
    K styles, each a video or a folder of frames (sorted by name), read in step with the clip.

    A label map in a folder must hold exactly K grey levels per frame (darkest = style 1, as for
    images); in a video (lossy), each frame is rounded to K evenly spaced levels (two styles:
    black / white at 50 %).

    Raises:
        ImageError: a source is unreadable or empty, or runs out of frames (:meth:`next`).
    """

    def __init__(self, sources: Sequence[str | os.PathLike[str]], k: int, max_pixels: int) -> None:
        if len(sources) not in (1, k):
            raise UsageError(f"got {len(sources)} mask sources for {k} styles (one per style, or one label map)")
        self.sources = [Path(p) for p in sources]
        self.k, self.max_pixels = k, max_pixels
        self.label_map = len(sources) == 1 and k > 1
        self._readers = [self._reader(p) for p in self.sources]
        self.index = 0

    def counts(self) -> list[int | None]:
        """Frames per source where known without decoding (folders; videos with a count in the header)."""
        out: list[int | None] = []
        for p in self.sources:
            if p.is_dir():
                out.append(len(list_images([p])))
            else:
                with _open_video(p, "mask video") as container:
                    out.append(container.streams.video[0].frames or None)
        return out

    def _reader(self, path: Path) -> Iterator[np.ndarray]:
        if path.is_dir():
            for f in list_images([path]):
                yield read_image(f, self.max_pixels)
            return
        with _open_video(path, "mask video") as container:
            for frame in container.decode(video=0):
                yield _frame(frame)

    def next(self, size: tuple[int, int]) -> np.ndarray:
        """The next frame's ``(1, K, H, W)`` masks at ``size``."""
        planes = []
        for p, reader in zip(self.sources, self._readers):
            try:
                rgb = next(reader)
            except StopIteration:
                raise ImageError(f"{p}: ran out of mask frames at frame {self.index + 1} of the video") from None
            planes.append((p, to_mask(rgb, self.max_pixels)))
        self.index += 1
        if self.label_map:
            p, luma = planes[0]
            if p.is_dir():
                stack = label_map_to_masks(luma, self.k, f"{p} (frame {self.index})")
            else:
                levels = np.round(luma * (self.k - 1))
                stack = np.stack([(levels == i).astype(np.float32) for i in range(self.k)])
        else:
            stack = np.stack([luma for _, luma in planes])
        return (stack if stack.shape[-2:] == tuple(size) else resize_planes(stack, *size))[None]


class _Smoother:
    """Exponential moving average of per-frame content statistics, across batches."""

    def __init__(self, beta: float) -> None:
        self.beta = beta
        self.state: Stats | None = None

    def __call__(self, stats: Stats) -> Stats:
        means, stds = [], []
        for m, s in zip(*stats):
            cur = (m[None], s[None])
            self.state = (
                cur
                if self.state is None
                else (
                    self.beta * self.state[0] + (1 - self.beta) * cur[0],
                    self.beta * self.state[1] + (1 - self.beta) * cur[1],
                )
            )
            means.append(self.state[0])
            stds.append(self.state[1])
        return np.concatenate(means), np.concatenate(stds)


class _Frames:
    """Stylizes frames in batches of ``batch_size``, makes them consistent in order, and encodes
    them into ``stream`` of ``out``."""

    def __init__(self, pipe: Pipeline, stats: list[Stats], o: VideoOptions, out: Any, stream: Any, bar: Any) -> None:
        beta = (o.temporal_smoothing or 0.9) if o.temporal == "ema" else 0.0
        self.pipe, self.stats, self.weights, self.alpha = pipe, stats, o.weights, o.alpha
        self.smooth = _Smoother(beta) if beta else None
        self.consistency = FlowConsistency(o.temporal_strength) if o.temporal == "flow" else None
        self.batch_size, self.out, self.stream, self.bar = o.batch_size, out, stream, bar
        masks = self.masks = o.masks
        self.preserve_color, self.stroke_scale = o.preserve_color, o.stroke_scale
        self.per_frame = masks is not None and any(is_frame_source(m) for m in masks)
        if self.per_frame and not all(is_frame_source(m) for m in masks or ()):
            raise UsageError("masks: give images (one for the whole clip) or frame sources (videos/folders), not both")
        self.mask_frames = MaskFrames(masks, len(stats), pipe.max_pixels) if self.per_frame else None  # type: ignore[arg-type]
        self._loaded: np.ndarray | None = None
        self.buffer: list[np.ndarray] = []
        self.pts: list[int | None] = []
        self.mask_buffer: list[np.ndarray] = []

    def add(self, frame: np.ndarray, pts: int | None = None) -> None:
        """Queue a frame; ``pts``: its presentation time in the output stream's codec time base."""
        canvas = self._canvas(frame[None])
        if self.masks is None and self.pipe.tile_size(canvas, None):  # too large for one pass: in tiles
            painted = self.pipe.render(canvas, self.stats, [(self.weights, self.alpha)])
            self._encode([frame], self._restored(painted, frame[None]), [pts])
            return
        self.buffer.append(frame)
        self.pts.append(pts)
        if self.mask_frames is not None:
            self.mask_buffer.append(self.mask_frames.next(canvas.shape[-2:]))
        if len(self.buffer) == self.batch_size:
            self.flush()

    def flush(self) -> None:
        if not self.buffer:
            return
        full = np.stack(self.buffer)
        x = self._canvas(full)
        if self.mask_frames is not None:
            frames = self.pipe.run(x, self.stats, alpha=self.alpha, masks=np.concatenate(self.mask_buffer))
            self.mask_buffer.clear()
        elif self.masks is not None:
            if self._loaded is None or self._loaded.shape[-2:] != x.shape[-2:]:
                self._loaded = self.pipe.load_masks(self.masks, len(self.stats), x.shape[-2:])
            frames = self.pipe.run(x, self.stats, alpha=self.alpha, masks=self._loaded)
        elif self.smooth is None:
            frames = self.pipe.run(x, self.stats, self.weights, self.alpha)
        else:
            code = self.pipe.encode(x)
            frames = self.pipe.run(
                x, self.stats, self.weights, self.alpha, content_stats=self.smooth(code_stats(code)), code=code
            )
        self._encode(list(full), self._restored(frames, full), self.pts)
        self.buffer.clear()
        self.pts = []

    def _canvas(self, x: np.ndarray) -> np.ndarray:
        """Frames ``(N, 3, H, W)`` as the network paints them: at ``1 / stroke_scale`` of the size."""
        if self.stroke_scale == 1.0:
            return x
        h, w = canvas_shape(*x.shape[-2:], self.stroke_scale)
        return resize_planes(x, h, w)

    def _restored(self, painted: np.ndarray, full: np.ndarray) -> list[np.ndarray]:
        """Painted canvases back at the frames' size, with the frames' fine detail."""
        if self.stroke_scale == 1.0:
            return list(painted)
        return [restore_scale(p, f) for p, f in zip(painted, full)]

    def _encode(self, contents: Sequence[np.ndarray], frames: Sequence[np.ndarray], pts: Sequence[int | None]) -> None:
        for c, f, t in zip(contents, frames, pts):
            f = self.pipe.finish(f, c, self.preserve_color)
            if self.consistency is not None:
                f = self.consistency(c, f)
            arr = np.empty((*f.shape[1:], 3), dtype=np.uint8)
            arr[...] = np.clip(f.transpose(1, 2, 0), 0.0, 1.0) * 255 + 0.5
            vf = av.VideoFrame.from_ndarray(arr, format="rgb24")
            vf.pts = t
            for packet in self.stream.encode(vf):
                self.out.mux(packet)
        self.bar.update(len(frames))

    def close(self) -> None:
        self.flush()
        for packet in self.stream.encode():
            self.out.mux(packet)


@dataclass(frozen=True)
class VideoOptions:
    """What :func:`stylize_video` makes of a clip, checked when made.

    Attributes:
        temporal: ``flow`` (default), ``ema`` or ``off`` (see the module docstring).
        temporal_strength: with ``flow``, how much of the warped previous output is kept (0–1).
        temporal_smoothing: with ``ema``, β of the moving average (0.9 when not given).
        masks: one mask per style, or one label map: images (for the whole clip) or per frame,
            videos or folders of frames (:class:`MaskFrames`); resized to the frames.
        preserve_color: ``none`` or ``luminance`` (the content's chroma, per frame).
        crf: the H.264 quality (lower is better and larger).
        max_frames: stop after this many frames (``None``: the whole clip).
        stroke_scale: strokes this many times as large at the same output size
            (:mod:`adain.pipeline.strokes`; the consistency step works at the output size).

    Raises:
        UsageError: bad ``temporal``, strength, smoothing, colour mode or ``alpha``.
    """

    alpha: float = 1.0
    weights: Sequence[float] | None = None
    content_size: int = 512
    style_size: int = 512
    batch_size: int = 8
    temporal: str = "flow"
    temporal_strength: float = 0.8
    temporal_smoothing: float = 0.0
    masks: Sequence[ImageLike] | None = None
    preserve_color: str = "none"
    crf: int = 18
    max_frames: int | None = None
    stroke_scale: float = 1.0

    def __post_init__(self) -> None:
        if self.temporal not in TEMPORAL_MODES:
            raise UsageError(f"temporal must be one of {', '.join(TEMPORAL_MODES)}, got {self.temporal!r}")
        if not 0.0 <= self.temporal_smoothing < 1.0:
            raise UsageError(f"temporal smoothing must be in [0, 1), got {self.temporal_smoothing}")
        if self.preserve_color not in ("none", "luminance"):
            raise UsageError(
                f"video keeps colours with 'luminance' only (coral recolours per image), got {self.preserve_color!r}"
            )
        check_alpha(self.alpha)
        check_stroke_scale(self.stroke_scale)


def stylize_video(
    pipe: Pipeline,
    src: str | os.PathLike[str],
    style: ImageLike | Sequence[ImageLike],
    dst: str | os.PathLike[str],
    options: VideoOptions | None = None,
    overwrite: bool = False,
    progress: bool = True,
) -> Path:
    """Stylize every frame of ``src`` into an H.264 ``dst`` with the source frame rate (and audio),
    as ``options`` say (default: :class:`VideoOptions`).

    Raises:
        ImageError: unreadable video, no video stream, frames above the pipeline's pixel limit.
        FileExistsError: ``dst`` exists and not ``overwrite``.
    """
    o = options or VideoOptions()
    src, dst = Path(src), ensure_new(dst, overwrite)  # fail before any decoding; atomic_path checks again
    styles = list(style) if isinstance(style, (list, tuple)) else [style]
    stats = [pipe.style_stats(s, o.style_size) for s in styles]
    try:
        inp = av.open(str(src))
    except (av.FFmpegError, OSError) as e:
        raise ImageError(f"{src}: not a readable video ({e})") from None
    try:
        with inp, atomic_path(dst, overwrite) as tmp:
            if not inp.streams.video:
                raise ImageError(f"{src}: has no video stream")
            vin = inp.streams.video[0]
            ain = inp.streams.audio[0] if inp.streams.audio else None
            _check_source(pipe, src, vin, o, len(stats))
            with av.open(str(tmp), "w", format="mp4") as out:
                vout = _video_stream(out, vin, o)
                aout = out.add_stream_from_template(ain) if ain is not None else None
                bar = tqdm(total=vin.frames or None, desc="frames", unit="frame", disable=not progress or None)
                frames = _Frames(pipe, stats, o, out, vout, bar)
                streams = [vin] + ([ain] if ain is not None else [])
                _transcode(inp.demux(*streams), vin, frames, out, aout, vout, pipe.max_pixels, src, o)
                frames.close()
                bar.close()
    except av.FFmpegError as e:
        raise ImageError(f"{src}: video decoding/encoding failed ({e})") from None
    return dst


def _check_source(pipe: Pipeline, src: Path, vin: Any, o: VideoOptions, k: int) -> None:
    """Frames and per-frame masks within the pixel limit, before any decoding."""
    h, w = vin.codec_context.height, vin.codec_context.width
    check_working_size(h, w, o.content_size, False, pipe.max_pixels, str(src))
    if w * h > pipe.max_pixels:
        raise ImageError(
            f"{src}: frames are {w}x{h} = {w * h / 1e6:.3g} MP, above the limit of "
            f"{pipe.max_pixels / 1e6:.3g} MP (raise it with --max-pixels)"
        )
    if o.masks is not None and any(is_frame_source(m) for m in o.masks):
        check_mask_frames(src, o.masks, k, o.max_frames, pipe.max_pixels)


def _video_stream(out: Any, vin: Any, o: VideoOptions) -> Any:
    """The H.264 output stream: the working size (even), the source's rate and time base."""
    oh, ow = resized_shape(vin.codec_context.height, vin.codec_context.width, o.content_size)
    vout = out.add_stream("libx264", rate=vin.average_rate or vin.guessed_rate or 25)
    vout.width, vout.height = ow - ow % 2, oh - oh % 2
    if vin.time_base is not None:  # the source's timestamps carry over (a variable-frame-rate clip keeps its length)
        vout.codec_context.time_base = vin.time_base
    vout.pix_fmt = "yuv420p"
    vout.options = {"crf": str(o.crf)}
    return vout


def _transcode(
    packets: Iterator[Any],
    vin: Any,
    frames: _Frames,
    out: Any,
    aout: Any,
    vout: Any,
    max_pixels: int,
    src: Path,
    o: VideoOptions,
) -> None:
    """Audio packets copied, video frames decoded (at the working size) into ``frames``."""
    h, w = vin.codec_context.height, vin.codec_context.width
    timing = vin.time_base is not None
    seen, last_pts, start = 0, None, None
    for packet in packets:
        if o.max_frames is not None and seen >= o.max_frames:
            break
        if packet.stream.type == "audio":
            if packet.dts is not None:
                packet.stream = aout
                out.mux(packet)
            continue
        for frame in packet.decode():
            if o.max_frames is None or seen < o.max_frames:
                _check_frame(frame, max_pixels, src, seen)
                if (frame.height, frame.width) == (h, w):
                    x = _even(resize_array(_frame(frame), o.content_size))
                else:  # the stream changed resolution: scaled to the output's size
                    x = _frame(frame.reformat(width=vout.width, height=vout.height))
                pts = None
                if timing and frame.pts is not None:
                    start = frame.pts if start is None else start
                    pts = frame.pts - start
                    if last_pts is not None and pts <= last_pts:
                        pts = last_pts + 1  # strictly increasing, as the encoder needs
                    last_pts = pts
                frames.add(x, pts)
            seen += 1


def check_mask_frames(
    video: str | os.PathLike[str], masks: Sequence[Any], k: int, max_frames: int | None, max_pixels: int
) -> None:
    """Per-frame mask sources with fewer frames than the clip (where the headers tell) fail before
    any frame is decoded.

    Raises:
        ImageError: naming the short (or unreadable) source.
    """
    with _open_video(video) as c:
        frames = c.streams.video[0].frames
    need = min(frames, max_frames) if frames and max_frames else (frames or max_frames)
    if not need:
        return
    for path, n in zip(masks, MaskFrames(masks, k, max_pixels).counts()):
        if n is not None and n < need:
            raise ImageError(f"{path}: {n} mask frames for a {need}-frame video")


def flicker(frames: Sequence[Any]) -> float:
    """Mean absolute frame-to-frame difference (in [0, 1] units) — lower is steadier."""
    if len(frames) < 2:
        return 0.0
    return float(sum((b - a).abs().mean() for a, b in zip(frames[:-1], frames[1:])) / (len(frames) - 1))


def probe_video_size(path: str | os.PathLike[str]) -> tuple[int, int]:
    """``(H, W)`` of a video's first stream, from its header (nothing decoded).

    Raises:
        ImageError: unreadable, or without a video stream.
    """
    with _open_video(path) as c:
        cc = c.streams.video[0].codec_context
        return cc.height, cc.width


def read_frames(
    path: str | os.PathLike[str], size: int = 0, limit: int | None = None, max_pixels: int = DEFAULT_MAX_PIXELS
) -> Iterator[np.ndarray]:
    """The frames of a video as ``(3, H, W)`` float32 in [0, 1], shorter side ``size`` (0 keeps it),
    at most ``limit`` of them; all of the first frame's size (a stream that changes resolution is
    scaled to it).

    Raises:
        ImageError: unreadable, without a video stream, or a frame above ``max_pixels``.
    """
    src = Path(path)
    with _open_video(path) as inp:
        try:
            shape: tuple[int, ...] | None = None  # the output's (H, W), from the first frame
            first: tuple[int, int] | None = None  # the first frame's own (H, W)
            for k, frame in enumerate(inp.decode(inp.streams.video[0])):
                if limit is not None and k >= limit:
                    return
                _check_frame(frame, max_pixels, src, k)
                if shape is not None and first is not None and (frame.height, frame.width) != first:
                    yield _frame(frame.reformat(width=shape[1], height=shape[0]))
                    continue
                x = resize_array(_frame(frame), size)
                if shape is None:
                    shape, first = tuple(x.shape[-2:]), (frame.height, frame.width)
                yield x
        except av.FFmpegError as e:
            raise ImageError(f"{path}: video decoding failed ({e})") from None
