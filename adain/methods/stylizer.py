"""The Python API for stylization with torch tensors: :class:`Stylizer`.

>>> stylizer = Stylizer.from_pretrained()                           # doctest: +SKIP
>>> out = stylizer.stylize("photo.jpg", "painting.jpg", alpha=0.8)  # doctest: +SKIP
>>> save_image(out, "photo_stylized_painting.jpg")                  # doctest: +SKIP

A thin layer over :class:`~adain.pipeline.core.Pipeline` (the one pipeline, NumPy in and out, on any
runtime) that takes and returns torch tensors. Style statistics are computed once per style file
and reused for every content of the run.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from adain.io.images import DEFAULT_MAX_PIXELS, ImageLike
from adain.methods.gatys.loss_network import LossNetwork, loss_network_of_pipeline
from adain.methods.gatys.options import OptimizeOptions
from adain.methods.gatys.request import stylize_optimized
from adain.methods.grids import alpha_sweep, blend_grid
from adain.nets.network import AdaINNet
from adain.pipeline.core import Pipeline
from adain.pipeline.request import StyleLike, StylizeRequest
from adain.runtime.base import Runtime
from adain.runtime.config import RunConfig
from adain.runtime.factory import make_runtime
from adain.runtime.torch_backend import DTYPES, TorchRuntime
from adain.weights.source import ModelSource

__all__ = ["Stylizer"]


class Stylizer:
    """Arbitrary style transfer with a trained :class:`~adain.nets.network.AdaINNet`.

    Args:
        model: encoder + decoder.
        device: ``auto``, ``cpu``, ``cuda``, ``cuda:1``, ``mps`` or a ``torch.device``.
        precision: ``fp32``, ``bf16``, ``fp16`` or ``auto`` (bf16 on CUDA GPUs and on CPUs that are
            fast at it); convolutions run in it, statistics and AdaIN always in fp32.
        max_pixels: refuse input images larger than this.
        channels_last: NHWC memory format (torch backend).
        compile: ``torch.compile`` encoder and decoder (torch backend).
        backend: ``torch`` (default for a network in memory), ``openvino``, ``onnxruntime`` or
            ``auto``; the graph backends convert the network once and cache it in ``$ADAIN_HOME``.
    """

    def __init__(
        self,
        model: AdaINNet,
        device: str | torch.device = "auto",
        precision: str = "auto",
        max_pixels: int = DEFAULT_MAX_PIXELS,
        channels_last: bool = True,
        compile: bool = False,
        backend: str = "torch",
    ) -> None:
        run = RunConfig(backend, str(device), precision, channels_last, compile)
        if backend == "torch":  # this very network (it may be the one being trained), not a copy
            runtime: Runtime = TorchRuntime(model, device, precision, channels_last=channels_last, compile=compile)
        else:
            runtime = make_runtime(ModelSource.from_net(model), run)
        self.pipeline = Pipeline(runtime, max_pixels)

    @classmethod
    def from_pipeline(cls, pipeline: Pipeline) -> Stylizer:
        self = cls.__new__(cls)
        self.pipeline = pipeline
        return self

    @classmethod
    def from_pretrained(
        cls,
        name: str = "auto",
        encoder_weights: str | os.PathLike[str] | None = None,
        decoder_weights: str | os.PathLike[str] | None = None,
        download: bool = True,
        **kwargs: Any,
    ) -> Stylizer:
        """A stylizer for a model of :data:`adain.weights.MODELS` (``auto``: the canonical model when
        cached, else the built-in one), a model folder (``adain-export hub``) or a Hugging Face Hub
        id ``owner/name[@revision]``. ``backend`` defaults to ``auto`` here."""
        kwargs.setdefault("backend", "auto")
        if isinstance(kwargs.get("device"), torch.device):
            kwargs["device"] = str(kwargs["device"])
        return cls.from_pipeline(Pipeline.from_pretrained(name, encoder_weights, decoder_weights, download, **kwargs))

    @classmethod
    def from_checkpoint(
        cls,
        path: str | os.PathLike[str],
        encoder_weights: str | os.PathLike[str] | None = None,
        **kwargs: Any,
    ) -> Stylizer:
        """A stylizer from an ``adain-train`` checkpoint (e.g. ``runs/…/checkpoints/last.ckpt``).

        The encoder is rebuilt from the checkpoint's record; its weights file must have the
        sha256 recorded at training time.
        """
        kwargs.setdefault("backend", "auto")
        if isinstance(kwargs.get("device"), torch.device):
            kwargs["device"] = str(kwargs["device"])
        return cls.from_pipeline(Pipeline.from_checkpoint(path, encoder_weights, **kwargs))

    # ------------------------------------------------------------------ properties
    @property
    def runtime(self) -> Runtime:
        return self.pipeline.runtime

    @property
    def model(self) -> AdaINNet | None:
        """The torch network (torch backend), else ``None``."""
        return self.runtime.torch_network() if self.runtime.backend == "torch" else None

    @property
    def device(self) -> torch.device:
        return torch.device(self.runtime.device)

    @property
    def dtype(self) -> torch.dtype:
        return DTYPES.get(self.runtime.precision, torch.float32)  # int8 graphs give float32

    @property
    def max_pixels(self) -> int:
        return self.pipeline.max_pixels

    # ------------------------------------------------------------------ API
    def load(self, image: ImageLike, size: int = 0, crop: bool = False) -> Tensor:
        """Any supported input → ``(1, 3, H, W)`` float tensor on the stylizer's device."""
        return torch.from_numpy(self.pipeline.load(image, size, crop)).to(self.device)

    def style_stats(self, style: StyleLike, size: int = 512, crop: bool = False) -> tuple[Tensor, Tensor]:
        """Channel statistics ``(mean, std)`` of a style's code, float32 ``(1, C, 1, 1)``; files cached."""
        m, s = self.pipeline.style_stats(style, size, crop)
        return torch.from_numpy(m), torch.from_numpy(s)

    def stylize(
        self,
        content: ImageLike,
        style: StyleLike | Sequence[StyleLike],
        request: StylizeRequest | None = None,
        **fields: Any,
    ) -> Tensor:
        """Stylize one content image with one style, or a weighted blend of several.

        Args:
            content: path, PIL image, array or ``(3, H, W)`` tensor in [0, 1].
            style: one style (path, PIL, array, tensor or precomputed stats) or a list of them.
            request: how (:class:`~adain.pipeline.request.StylizeRequest`: alpha, blend weights,
                sizes, crop, colour, masks, tiles, stroke scale); default its defaults.
            **fields: fields of the request to change, e.g. ``alpha=0.5, content_size=0``.

        Returns:
            ``(3, H, W)`` float tensor in [0, 1], on the CPU, the content's (resized) size.
        """
        out = self.pipeline.stylize(content, style, request, **fields)
        return torch.from_numpy(np.ascontiguousarray(out))

    def stylize_batch(
        self,
        contents: Sequence[ImageLike],
        style: StyleLike | Sequence[StyleLike],
        request: StylizeRequest | None = None,
        **fields: Any,
    ) -> list[Tensor]:
        """Like :meth:`stylize` for many contents: contents of the same (resized) size run as batches.

        Returns:
            One ``(3, H, W)`` tensor per content, in input order.
        """
        outs = self.pipeline.stylize_batch(contents, style, request, **fields)
        return [torch.from_numpy(np.ascontiguousarray(o)) for o in outs]

    def loss_network(self, heads: str = "auto") -> LossNetwork:
        """The loss network of optimisation (this model's encoder; built once per ``heads``)."""
        cache: dict[str, LossNetwork] = self.__dict__.setdefault("_loss_networks", {})
        if heads not in cache:
            cache[heads] = loss_network_of_pipeline(self.pipeline, heads)
        return cache[heads]

    def refine(
        self,
        content: ImageLike,
        style: StyleLike | Sequence[StyleLike],
        iterations: int = 50,
        init: str = "adain",
        request: StylizeRequest | None = None,
        heads: str = "auto",
        progress: bool = False,
        **fields: Any,
    ) -> Tensor:
        """Optimisation-based stylization (Gatys et al. 2016), by default started from the AdaIN output.

        ``init="adain"`` refines :meth:`stylize`'s result (same request) with ``iterations`` L-BFGS
        steps; ``init="content"`` or ``"noise"`` runs the full method of Gatys et al. Blends become
        weighted targets, masks masked statistics; ``coral`` recolours the styles first, ``luminance``
        keeps the content's chroma. ``iterations=0`` with ``init="adain"`` is exactly :meth:`stylize`.

        Args:
            heads: small16x loss network through its distillation heads (``auto``/``on``/``off``).
            **fields: fields of the :class:`~adain.pipeline.request.StylizeRequest` (``alpha``,
                ``content_size`` …) and of :class:`~adain.methods.gatys.options.OptimizeOptions`
                (``style_weight``, ``tv_weight``, ``loss``, ``optimizer``, ``style_layers``,
                ``scales``, ``seed`` …).

        Returns:
            ``(3, H, W)`` float tensor in [0, 1], on the CPU.
        """
        names = {f.name for f in dataclasses.fields(StylizeRequest)}
        req = StylizeRequest.make(request, **{k: v for k, v in fields.items() if k in names})
        opts = OptimizeOptions(iterations=iterations, **{k: v for k, v in fields.items() if k not in names})
        out = stylize_optimized(self.pipeline, self.loss_network(heads), content, style, init, opts, req, progress)
        return torch.from_numpy(np.ascontiguousarray(out))

    # ------------------------------------------------------------------ pictures and video
    def alpha_sweep(self, content: ImageLike, style: ImageLike, **kwargs: Any) -> Tensor:
        """:func:`adain.methods.grids.alpha_sweep` with this stylizer's model."""
        return alpha_sweep(self.pipeline, content, style, **kwargs)

    def blend_grid(self, content: ImageLike, styles: Sequence[ImageLike], **kwargs: Any) -> Tensor:
        """:func:`adain.methods.grids.blend_grid` with this stylizer's model."""
        return blend_grid(self.pipeline, content, styles, **kwargs)

    def stylize_video(self, *args: Any, **kwargs: Any) -> Path:
        """:func:`adain.methods.video.stylize_video` with this stylizer's model (``src``, ``style``,
        ``dst``, then a :class:`~adain.methods.video.VideoOptions`, ``overwrite``, ``progress``)."""
        from adain.methods.video import stylize_video

        return stylize_video(self.pipeline, *args, **kwargs)
