"""What is built on the pipeline: :class:`Stylizer` (the torch-tensor API), alpha sweeps and blend
grids (:mod:`~adain.methods.grids`), video (:mod:`~adain.methods.video`), the optimisation method of
Gatys et al. (:mod:`adain.methods.gatys`), evaluation metrics (:mod:`~adain.methods.evaluation`)
and batches at scale with ``Trainer.predict`` (:mod:`~adain.methods.predict`).
"""

from __future__ import annotations

from adain._lazy import lazy_exports

_EXPORTS = {  # submodule: the names it defines
    "grids": "ALPHAS alpha_sweep blend_grid fit_to",
    "evaluation": (
        "EVAL_LAYERS EvalEncoder PairMetrics content_distance evaluate pair_metrics style_distances summarize "
        "write_reports"
    ),
    "predict": "ImageWriter Job JobDataset StylizeModule predict_directory",
    "stylizer": "Stylizer",
    "video": "flicker stylize_video",
}
__all__, __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
