"""What is built on the pipeline: :class:`Stylizer` (the torch-tensor API), alpha sweeps and blend
grids (:mod:`~adain.methods.grids`), video (:mod:`~adain.methods.video`), the optimisation method of
Gatys et al. (:mod:`adain.methods.gatys`), evaluation metrics (:mod:`~adain.methods.evaluation`)
and batches at scale with ``Trainer.predict`` (:mod:`~adain.methods.predict`).
"""

from __future__ import annotations

from adain._lazy import lazy_exports

_EXPORTS = {
    "ALPHAS": "grids",
    "EVAL_LAYERS": "evaluation",
    "EvalEncoder": "evaluation",
    "ImageWriter": "predict",
    "Job": "predict",
    "JobDataset": "predict",
    "PairMetrics": "evaluation",
    "StylizeModule": "predict",
    "Stylizer": "stylizer",
    "alpha_sweep": "grids",
    "blend_grid": "grids",
    "content_distance": "evaluation",
    "evaluate": "evaluation",
    "fit_to": "grids",
    "flicker": "video",
    "pair_metrics": "evaluation",
    "predict_directory": "predict",
    "style_distances": "evaluation",
    "stylize_video": "video",
    "summarize": "evaluation",
    "write_reports": "evaluation",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
