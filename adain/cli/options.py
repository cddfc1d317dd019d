"""The optimisation options of ``adain-stylize`` and ``adain-evaluate``, parsed into plain values."""

from __future__ import annotations

from typing import Any

from adain.cli.parser import fields_from
from adain.errors import UsageError
from adain.methods.gatys.options import INITS, LOSSES, OPTIMIZERS, OptimizeOptions

__all__ = ["add_optimize_options", "optimization_request", "options_from_args"]


def add_optimize_options(p: Any, iterations: bool = True) -> Any:
    """The optimisation options of ``adain-stylize`` and ``adain-evaluate`` (read by
    :func:`options_from_args`)."""
    d = OptimizeOptions()
    g = p.add_argument_group("optimisation (Gatys et al. 2016): slow, best quality; images only (video stays AdaIN)")
    g.add_argument(
        "--method",
        default="adain",
        choices=["adain", "gatys"],
        help="adain: one forward pass; gatys: optimise the image itself (see --init, --iterations)",
    )
    g.add_argument(
        "--refine",
        type=int,
        default=0,
        metavar="N",
        help="refine the AdaIN output with N optimisation iterations (about 10 make a visible "
        "difference; 0 = plain AdaIN)",
    )
    if iterations:
        g.add_argument("--iterations", type=int, default=300, metavar="N", help="--method gatys: iterations")
    g.add_argument(
        "--init",
        default="content",
        choices=list(INITS),
        help="--method gatys: start from the content, noise, or the AdaIN output",
    )
    g.add_argument(
        "--loss",
        default=d.loss,
        choices=list(LOSSES),
        help="style statistics: gram (Gatys et al.) or meanstd (AdaIN's channel mean/std)",
    )
    g.add_argument("--style-weight", type=float, default=d.style_weight, help="weight of the style term")
    g.add_argument("--content-weight", type=float, default=d.content_weight, help="weight of the content term")
    g.add_argument("--tv-weight", type=float, default=d.tv_weight, help="weight of the total-variation term")
    g.add_argument("--optimizer", default=d.optimizer, choices=list(OPTIMIZERS), help="L-BFGS or Adam")
    g.add_argument("--lr", type=float, default=None, help="step size (default 1 for L-BFGS, 0.05 for Adam)")
    g.add_argument("--style-layers", default=",".join(d.style_layers), help="comma-separated encoder stages")
    g.add_argument(
        "--scales", type=int, default=d.scales, help="coarse-to-fine levels; 0 = one per doubling above 640 px"
    )
    g.add_argument("--seed", type=int, default=d.seed, help="seed of the noise initialisation")
    g.add_argument(
        "--loss-heads",
        default="auto",
        choices=["auto", "on", "off"],
        help="small16x: measure in VGG-19 space through its distillation heads (auto: when present)",
    )
    return g


def options_from_args(args: Any, iterations: int) -> OptimizeOptions:
    """:class:`OptimizeOptions` from parsed arguments (validated: one line per mistake)."""
    layers = tuple(x.strip() for x in str(args.style_layers).split(",") if x.strip())
    return fields_from(OptimizeOptions, args, iterations=iterations, style_layers=layers).validate()


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
            raise UsageError(
                "--refine refines the AdaIN output; with --method gatys use --iterations (and --init adain)"
            )
        return args.init, iterations
    return ("adain", args.refine) if args.refine else None
