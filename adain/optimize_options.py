"""Options of optimisation-based stylization (:mod:`adain.optimize`), without torch.

The command lines build their parsers from here, so ``adain-stylize --help`` and the plain AdaIN
fast path never import torch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .errors import UsageError

__all__ = [
    "INITS",
    "LOSSES",
    "MAX_OPTIMIZE_PIXELS",
    "OPTIMIZERS",
    "OptimizeOptions",
    "add_optimize_options",
    "optimization_request",
    "options_from_args",
]

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


def add_optimize_options(p: Any, iterations: bool = True) -> Any:
    """The optimisation options of ``adain-stylize`` and ``adain-evaluate`` (read by
    :func:`options_from_args`)."""
    d = OptimizeOptions()
    g = p.add_argument_group("optimisation (Gatys et al. 2016): slow, best quality; images only (video stays AdaIN)")
    g.add_argument("--method", default="adain", choices=["adain", "gatys"],
                   help="adain: one forward pass; gatys: optimise the image itself (see --init, --iterations)")
    g.add_argument("--refine", type=int, default=0, metavar="N",
                   help="refine the AdaIN output with N optimisation iterations (about 10 make a visible "
                        "difference; 0 = plain AdaIN)")
    if iterations:
        g.add_argument("--iterations", type=int, default=300, metavar="N", help="--method gatys: iterations")
    g.add_argument("--init", default="content", choices=list(INITS),
                   help="--method gatys: start from the content, noise, or the AdaIN output")
    g.add_argument("--loss", default=d.loss, choices=list(LOSSES),
                   help="style statistics: gram (Gatys et al.) or meanstd (AdaIN's channel mean/std)")
    g.add_argument("--style-weight", type=float, default=d.style_weight, help="weight of the style term")
    g.add_argument("--content-weight", type=float, default=d.content_weight, help="weight of the content term")
    g.add_argument("--tv-weight", type=float, default=d.tv_weight, help="weight of the total-variation term")
    g.add_argument("--optimizer", default=d.optimizer, choices=list(OPTIMIZERS), help="L-BFGS or Adam")
    g.add_argument("--lr", type=float, default=None, help="step size (default 1 for L-BFGS, 0.05 for Adam)")
    g.add_argument("--style-layers", default=",".join(d.style_layers), help="comma-separated encoder stages")
    g.add_argument("--scales", type=int, default=d.scales,
                   help="coarse-to-fine levels; 0 = one per doubling above 640 px")
    g.add_argument("--seed", type=int, default=d.seed, help="seed of the noise initialisation")
    g.add_argument("--loss-heads", default="auto", choices=["auto", "on", "off"],
                   help="small16x: measure in VGG-19 space through its distillation heads (auto: when present)")
    return g


def options_from_args(args: Any, iterations: int) -> OptimizeOptions:
    """:class:`OptimizeOptions` from parsed arguments (validated: one line per mistake)."""
    layers = tuple(x.strip() for x in str(args.style_layers).split(",") if x.strip())
    return OptimizeOptions(
        iterations=iterations, optimizer=args.optimizer, lr=args.lr, content_weight=args.content_weight,
        style_weight=args.style_weight, tv_weight=args.tv_weight, loss=args.loss, style_layers=layers,
        scales=args.scales, seed=args.seed).validate()


def optimization_request(args: Any) -> tuple[str, int] | None:
    """``(init, iterations)`` of an optimisation request, ``None`` for plain AdaIN; refuses
    contradictions (``--refine`` with ``--method gatys``, negative counts)."""
    if args.refine < 0:
        raise UsageError(f"--refine must be >= 0, got {args.refine}")
    iterations = getattr(args, "iterations", 300)
    if iterations < 0:
        raise UsageError(f"--iterations must be >= 0, got {iterations}")
    if args.method == "gatys":
        if args.refine:
            raise UsageError("--refine refines the AdaIN output; with --method gatys use --iterations (and --init adain)")
        return args.init, iterations
    return ("adain", args.refine) if args.refine else None
