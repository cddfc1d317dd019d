"""Runtimes: where the networks run, behind one interface (:class:`~adain.runtime.base.Runtime`):
torch (:mod:`~adain.runtime.torch_backend`), OpenVINO / ONNX Runtime on exported ONNX graphs
(:mod:`~adain.runtime.graph_backend`, :mod:`~adain.runtime.onnx_export`), the factory
(:func:`make_runtime`), and what the machine is fast at (:mod:`~adain.runtime.hardware`,
:mod:`~adain.runtime.precision`: the one precision resolver).
"""

from __future__ import annotations

from adain._lazy import lazy_exports

_EXPORTS = {
    "BACKENDS": "base",
    "DTYPES": "torch_backend",
    "GRAPHS": "onnx_export",
    "GRAPH_FORMAT": "onnx_export",
    "GraphRuntime": "graph_backend",
    "PRECISIONS": "precision",
    "Runtime": "base",
    "Stats": "base",
    "TorchRuntime": "torch_backend",
    "available_backends": "base",
    "compiled_dir": "graph_backend",
    "cpu_flags": "hardware",
    "cpu_has_fast_bf16": "hardware",
    "default_precision": "precision",
    "export_graph": "onnx_export",
    "export_onnx": "onnx_export",
    "keep_freed_memory": "hardware",
    "make_runtime": "factory",
    "nvidia_gpu_present": "hardware",
    "resolve_backend": "base",
    "resolve_device": "torch_backend",
    "resolve_precision": "torch_backend",
    "resolve_precision_name": "precision",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
