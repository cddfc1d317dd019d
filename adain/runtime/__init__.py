"""Runtimes: where the networks run, behind one interface (:class:`~adain.runtime.base.Runtime`):
torch (:mod:`~adain.runtime.torch_backend`), OpenVINO / ONNX Runtime on exported ONNX graphs
(:mod:`~adain.runtime.graph_backend`, :mod:`~adain.runtime.onnx_export`), the factory
(:func:`make_runtime`), and what the machine is fast at (:mod:`~adain.runtime.hardware`,
:mod:`~adain.runtime.precision`: the one precision resolver).
"""

from __future__ import annotations

from adain._lazy import lazy_exports

_EXPORTS = {  # submodule: the names it defines
    "base": "BACKENDS Runtime Stats available_backends check_backend resolve_backend",
    "torch_backend": "DTYPES TorchRuntime resolve_device resolve_precision",
    "onnx_export": "GRAPHS GRAPH_FORMAT export_graph export_onnx",
    "graph_backend": "GraphRuntime compiled_dir",
    "precision": "PRECISIONS check_precision default_precision resolve_precision_name",
    "config": "RunConfig",
    "hardware": "cpu_flags cpu_has_fast_bf16 keep_freed_memory nvidia_gpu_present",
    "factory": "make_runtime",
}
__all__, __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
