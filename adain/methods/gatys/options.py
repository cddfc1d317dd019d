"""Options of the optimisation method, validated in one place, and its size limit."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from adain.errors import UsageError

__all__ = ["INITS", "LOSSES", "MAX_OPTIMIZE_PIXELS", "OPTIMIZERS", "OptimizeOptions", "check_optimize_size"]


LOSSES = ("gram", "meanstd")


OPTIMIZERS = ("lbfgs", "adam")


INITS = ("adain", "content", "noise")


#: largest image (pixels) optimised at full resolution; a 2048² float32 backward pass of the VGG
#: loss network needs several GB
MAX_OPTIMIZE_PIXELS = 2048 * 2048


@dataclass
class OptimizeOptions:
    """What the optimisation does.

    Attributes:
        iterations: optimiser steps at the finest scale (each coarser scale gets the same number).
        optimizer: ``lbfgs`` (default; strong-Wolfe line search) or ``adam``.
        lr: step size; default 1.0 for L-BFGS, 0.05 for Adam (in the sigmoid's logit space).
        content_weight / style_weight / tv_weight: weights of the three terms. Content and style
            terms are relative squared errors (divided by their target's mean square), so the
            defaults suit every loss network.
        loss: ``gram`` (Gatys et al.) or ``meanstd`` (AdaIN's channel mean/std statistics).
        style_layers: encoder stages of the style term.
        content_layer: encoder stage of the content term.
        scales: coarse-to-fine levels (each half the size of the next); 0 = automatic (one level per
            doubling above 640 px on the shorter side).
        tol / patience: early stop when the objective improved by less than ``tol`` (relative)
            over the last ``patience`` iterations.
        seed: seeds the noise initialisation (results are deterministic for a seed on a device).
    """

    iterations: int = 50
    optimizer: str = "lbfgs"
    lr: float | None = None
    content_weight: float = 1.0
    style_weight: float = 10.0
    tv_weight: float = 10.0
    loss: str = "gram"
    style_layers: tuple[str, ...] = ("relu1_1", "relu2_1", "relu3_1", "relu4_1")
    content_layer: str = "relu4_1"
    scales: int = 0
    tol: float = 1e-3
    patience: int = 20
    seed: int = 0

    def validate(self, layers: Sequence[str] | None = None) -> OptimizeOptions:
        """Check every option (one message per mistake); ``layers``: those the loss network has."""
        if not isinstance(self.iterations, int) or self.iterations < 0:
            raise UsageError(f"iterations must be a whole number >= 0, got {self.iterations}")
        if self.optimizer not in OPTIMIZERS:
            raise UsageError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {self.optimizer!r}")
        if self.loss not in LOSSES:
            raise UsageError(f"loss must be gram or meanstd, got {self.loss!r}")
        for name in ("content_weight", "style_weight", "tv_weight"):
            v = getattr(self, name)
            if not math.isfinite(v) or v < 0:
                raise UsageError(f"{name.replace('_', '-')} must be a finite number >= 0, got {v}")
        if self.content_weight == 0 and self.style_weight == 0:
            raise UsageError("content-weight and style-weight are both 0: nothing to optimise")
        if self.lr is not None and not (math.isfinite(self.lr) and self.lr > 0):
            raise UsageError(f"lr must be > 0, got {self.lr}")
        if not 0 <= self.seed < 2**63:
            raise UsageError(f"seed must be a whole number in [0, 2**63), got {self.seed}")
        if self.scales < 0 or self.scales > 6:
            raise UsageError(f"scales must be between 0 (automatic) and 6, got {self.scales}")
        if self.tol < 0 or self.patience < 1:
            raise UsageError(f"tol must be >= 0 and patience >= 1, got {self.tol} and {self.patience}")
        if not self.style_layers:
            raise UsageError("at least one style layer is needed")
        if layers is not None:
            for layer in (*self.style_layers, self.content_layer):
                if layer not in layers:
                    raise UsageError(f"the loss network has no layer {layer!r}; it has {', '.join(layers)}")
        return self

    @property
    def step_size(self) -> float:
        return self.lr if self.lr is not None else (1.0 if self.optimizer == "lbfgs" else 0.05)


def check_optimize_size(h: int, w: int, source: str = "image") -> None:
    """The one size limit of optimisation (its memory grows with the pixels, and L-BFGS keeps a
    history of them).

    Raises:
        UsageError: above :data:`MAX_OPTIMIZE_PIXELS`.
    """
    if h * w > MAX_OPTIMIZE_PIXELS:
        raise UsageError(
            f"{source}: {w}x{h} is too large to optimise (limit {MAX_OPTIMIZE_PIXELS / 1e6:.1f} MP); "
            "lower --content-size"
        )
