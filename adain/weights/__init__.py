"""Weights and models: the registry of named files and models (:mod:`~adain.weights.registry`),
the verified download cache (:mod:`~adain.weights.download`), every loader of weights files and
checkpoints (:mod:`~adain.weights.loading`) and the model source the runtimes convert
(:mod:`~adain.weights.source`). ``python -m adain.weights download canonical`` fetches a model.
"""

from __future__ import annotations

from adain._lazy import lazy_exports

_EXPORTS = {
    "BEST_MODEL": "registry",
    "BUILTIN_MODEL": "registry",
    "ENCODER_PREFIX": "loading",
    "ENCODER_WEIGHTS": "registry",
    "MODELS": "registry",
    "ModelSource": "source",
    "PretrainedModel": "registry",
    "RANDOM": "loading",
    "WEIGHTS": "registry",
    "WeightSpec": "registry",
    "cache_dir": "registry",
    "choose_model": "registry",
    "download_model": "download",
    "encoder_record": "loading",
    "file_digest": "download",
    "is_cached": "registry",
    "load_checkpoint_net": "loading",
    "load_encoder": "files",
    "load_pretrained": "loading",
    "load_state_dict_file": "files",
    "make_encoder": "loading",
    "model_files": "download",
    "packaged_file": "registry",
    "pretrained_source": "source",
    "resolve_weights": "download",
    "sha256_file": "download",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
