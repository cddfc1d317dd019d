"""Which model runs, from which files, and how, as one value: :class:`ModelSpec` (the model
options every command shares; a library user can build the same pipeline from it)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

from adain.io.images import DEFAULT_MAX_PIXELS
from adain.runtime.config import RunConfig

if TYPE_CHECKING:
    from adain.pipeline.core import Pipeline

__all__ = ["ModelSpec"]


@dataclass(frozen=True)
class ModelSpec:
    """The model, its weight files and where it runs; :meth:`build` makes the pipeline.

    Attributes:
        model: ``auto``, a registered name (``canonical``, ``small16x``…), a model folder or a Hub
            id ``owner/name[@revision]`` (:mod:`adain.weights`).
        checkpoint: an ``adain-train`` checkpoint instead of ``model``.
        encoder_weights, decoder_weights: weight files instead of the cache or a download.
        download: fetch missing weights (else fail when they are not cached).
        custom_weights: an encoder file that differs from the registered one on purpose (no warning).
        run: where and how the networks run (:class:`~adain.runtime.config.RunConfig`).
        max_pixels: the largest input accepted (:attr:`Pipeline.max_pixels`).
    """

    model: str = "auto"
    checkpoint: str | None = None
    encoder_weights: str | None = None
    decoder_weights: str | None = None
    download: bool = True
    custom_weights: bool = False
    run: RunConfig = dataclasses.field(default_factory=RunConfig)
    max_pixels: int = DEFAULT_MAX_PIXELS

    def chosen(self) -> tuple[str, str | None]:
        """The model that runs (what ``auto`` stands for here, or the checkpoint) and, for ``auto``,
        one line saying so and how to get the other (:func:`adain.weights.registry.choose_model`)."""
        from adain.weights.registry import choose_model

        if self.checkpoint:
            return self.checkpoint, None
        return choose_model(self.model, bool(self.encoder_weights or self.decoder_weights))

    def build(self) -> Pipeline:
        """The pipeline: the checkpoint's networks, else the chosen model's (found, verified or
        downloaded by :mod:`adain.weights`), on the runtime :attr:`run` picks."""
        from adain.pipeline.core import Pipeline

        if self.checkpoint:
            return Pipeline.from_checkpoint(
                self.checkpoint, self.encoder_weights, run=self.run, max_pixels=self.max_pixels
            )
        return Pipeline.from_pretrained(
            self.chosen()[0],
            self.encoder_weights,
            self.decoder_weights,
            download=self.download,
            weights_check="off" if self.custom_weights else "warn",
            run=self.run,
            max_pixels=self.max_pixels,
        )
