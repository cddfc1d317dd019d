"""Weights and models: the registry of named files and models (:mod:`~adain.weights.registry`),
the verified download cache (:mod:`~adain.weights.download`), every loader of weights files and
checkpoints (:mod:`~adain.weights.loading`) and the model source the runtimes convert
(:mod:`~adain.weights.source`). ``python -m adain.weights download canonical`` fetches a model.
"""

from __future__ import annotations

from adain._lazy import lazy_exports

_EXPORTS = {  # submodule: the names it defines
    "registry": (
        "BEST_MODEL BUILTIN_MODEL ENCODER_WEIGHTS MODELS PretrainedModel WEIGHTS WeightSpec cache_dir "
        "choose_model is_cached packaged_file"
    ),
    "loading": "ENCODER_PREFIX RANDOM encoder_record load_checkpoint_net load_pretrained make_encoder",
    "source": "ModelSource pretrained_source",
    "download": "download_model file_digest model_files resolve_weights sha256_file",
    "files": "load_encoder load_state_dict_file",
}
__all__, __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
