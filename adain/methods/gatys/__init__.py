"""Optimisation-based stylization (Gatys, Ecker & Bethge, CVPR 2016) and AdaIN-initialised refinement:
the options and the size limit (:mod:`~adain.methods.gatys.options`, no torch), the loss network
(:mod:`~adain.methods.gatys.loss_network`), the objective and the loop, which knows nothing of the
request (:mod:`~adain.methods.gatys.optim`), and one request on a pipeline
(:mod:`~adain.methods.gatys.request`)."""

from __future__ import annotations

from adain._lazy import lazy_exports

_EXPORTS = {  # submodule: the names it defines
    "options": "INITS LOSSES MAX_OPTIMIZE_PIXELS OPTIMIZERS OptimizeOptions check_optimize_size",
    "loss_network": "LossNetwork loss_network_for loss_network_of_pipeline",
    "optim": "Objective OptimizeResult optimize_image scale_sizes",
    "request": "optimizer_for stylize_optimized",
}
__all__, __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
