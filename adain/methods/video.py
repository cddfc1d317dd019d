"""Video stylization with PyAV (FFmpeg): decode, stylize in batches, encode H.264, copy audio.

Style statistics are computed once for the whole clip. ``temporal_smoothing=β`` replaces each
frame's content statistics by an exponential moving average ``m_t = β m_{t-1} + (1-β) m(frame_t)``
(same for std), which removes most of the frame-to-frame flicker that per-frame instance
statistics cause, at no extra cost.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import av
import numpy as np
from tqdm.auto import tqdm

from adain.errors import ImageError, UsageError
from adain.io.atomic import atomic_path, ensure_new
from adain.io.images import ImageLike, resize_array, resized_shape
from adain.ops.mixing import check_alpha
from adain.pipeline.core import Pipeline
from adain.pipeline.request import check_working_size
from adain.pipeline.step import code_stats
from adain.runtime.base import Stats

__all__ = ["flicker", "probe_video_size", "stylize_video"]


def _even(x: np.ndarray) -> np.ndarray:
    h, w = x.shape[-2:]
    return x[..., : h - h % 2, : w - w % 2]


def _frame(frame: av.VideoFrame) -> np.ndarray:
    return np.ascontiguousarray(frame.to_ndarray(format="rgb24").transpose(2, 0, 1), dtype=np.float32) / 255.0


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
    """Stylizes frames in batches of ``batch_size`` and encodes them into ``stream`` of ``out``."""

    def __init__(
        self,
        pipe: Pipeline,
        stats: list[Stats],
        weights: Sequence[float] | None,
        alpha: float,
        smooth: _Smoother | None,
        batch_size: int,
        out: Any,
        stream: Any,
        bar: Any,
    ) -> None:
        self.pipe, self.stats, self.weights, self.alpha, self.smooth = pipe, stats, weights, alpha, smooth
        self.batch_size, self.out, self.stream, self.bar = batch_size, out, stream, bar
        self.buffer: list[np.ndarray] = []

    def add(self, frame: np.ndarray) -> None:
        if self.pipe.tile_size(frame[None], None):  # a frame too large for one pass: alone, in tiles
            self._encode([self.pipe.render(frame[None], self.stats, [(self.weights, self.alpha)])[0]])
            return
        self.buffer.append(frame)
        if len(self.buffer) == self.batch_size:
            self.flush()

    def flush(self) -> None:
        if not self.buffer:
            return
        x = np.stack(self.buffer)
        if self.smooth is None:
            frames = self.pipe.run(x, self.stats, self.weights, self.alpha)
        else:
            code = self.pipe.encode(x)
            frames = self.pipe.run(
                x, self.stats, self.weights, self.alpha, content_stats=self.smooth(code_stats(code)), code=code
            )
        self._encode(frames)
        self.buffer.clear()

    def _encode(self, frames: Sequence[np.ndarray]) -> None:
        for f in frames:
            arr = np.ascontiguousarray((f.transpose(1, 2, 0) * 255 + 0.5).astype(np.uint8))
            for packet in self.stream.encode(av.VideoFrame.from_ndarray(arr, format="rgb24")):
                self.out.mux(packet)
        self.bar.update(len(frames))

    def close(self) -> None:
        self.flush()
        for packet in self.stream.encode():
            self.out.mux(packet)


def stylize_video(
    pipe: Pipeline,
    src: str | os.PathLike[str],
    style: ImageLike | Sequence[ImageLike],
    dst: str | os.PathLike[str],
    alpha: float = 1.0,
    weights: Sequence[float] | None = None,
    content_size: int = 512,
    style_size: int = 512,
    batch_size: int = 8,
    temporal_smoothing: float = 0.0,
    overwrite: bool = False,
    progress: bool = True,
    crf: int = 18,
) -> Path:
    """Stylize every frame of ``src`` into an H.264 ``dst`` with the source frame rate (and audio).

    Raises:
        ImageError: unreadable video, no video stream.
        ValueError: bad ``temporal_smoothing`` or ``alpha``.
        FileExistsError: ``dst`` exists and not ``overwrite``.
    """
    if not 0.0 <= temporal_smoothing < 1.0:
        raise UsageError(f"temporal smoothing must be in [0, 1), got {temporal_smoothing}")
    check_alpha(alpha)
    src, dst = Path(src), ensure_new(dst, overwrite)  # fail before any decoding; atomic_path checks again
    styles = list(style) if isinstance(style, (list, tuple)) else [style]
    stats = [pipe.style_stats(s, style_size) for s in styles]
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
            h, w = vin.codec_context.height, vin.codec_context.width
            check_working_size(h, w, content_size, False, pipe.max_pixels, str(src))  # before any decoding
            with av.open(str(tmp), "w", format="mp4") as out:
                oh, ow = resized_shape(vin.codec_context.height, vin.codec_context.width, content_size)
                vout = out.add_stream("libx264", rate=vin.average_rate or vin.guessed_rate or 25)
                vout.width, vout.height = ow - ow % 2, oh - oh % 2
                vout.pix_fmt = "yuv420p"
                vout.options = {"crf": str(crf)}
                aout = out.add_stream_from_template(ain) if ain is not None else None
                bar = tqdm(total=vin.frames or None, desc="frames", unit="frame", disable=not progress or None)
                frames = _Frames(
                    pipe,
                    stats,
                    weights,
                    alpha,
                    _Smoother(temporal_smoothing) if temporal_smoothing else None,
                    batch_size,
                    out,
                    vout,
                    bar,
                )
                for packet in inp.demux(*([vin] + ([ain] if ain is not None else []))):
                    if packet.stream.type == "audio":
                        if packet.dts is not None:
                            packet.stream = aout
                            out.mux(packet)
                        continue
                    for frame in packet.decode():
                        frames.add(_even(resize_array(_frame(frame), content_size)))
                frames.close()
                bar.close()
    except av.FFmpegError as e:
        raise ImageError(f"{src}: video decoding/encoding failed ({e})") from None
    return dst


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
    try:
        with av.open(str(path)) as c:
            if not c.streams.video:
                raise ImageError(f"{path}: has no video stream")
            cc = c.streams.video[0].codec_context
            return cc.height, cc.width
    except (av.FFmpegError, OSError) as e:
        raise ImageError(f"{path}: not a readable video ({e})") from None
