"""Optimisation-based stylization (Gatys, Ecker & Bethge, CVPR 2016) and AdaIN-initialised refinement:
the options and the size limit (:mod:`~adain.methods.gatys.options`, no torch), the loss network
(:mod:`~adain.methods.gatys.loss_network`), the objective and the loop, which knows nothing of the
request (:mod:`~adain.methods.gatys.optim`), and one request on a pipeline
(:mod:`~adain.methods.gatys.request`)."""

from __future__ import annotations

from adain._lazy import lazy_exports

_EXPORTS = {
    "INITS": "options",
    "LOSSES": "options",
    "MAX_OPTIMIZE_PIXELS": "options",
    "OPTIMIZERS": "options",
    "OptimizeOptions": "options",
    "check_optimize_size": "options",
    "LossNetwork": "loss_network",
    "loss_network_for": "loss_network",
    "loss_network_of_pipeline": "loss_network",
    "Objective": "optim",
    "OptimizeResult": "optim",
    "optimize_image": "optim",
    "scale_sizes": "optim",
    "stylize_optimized": "request",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
