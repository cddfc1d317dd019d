"""Graphs shipped without their weights: how a built-in model runs on OpenVINO without torch.

A model's ONNX graphs (:data:`~adain.runtime.onnx_export.GRAPHS`) are exported from the torch
network once, by the maintainers, and stored as *skeletons*: every initializer that is a tensor of
the model's weight files (the same values, maybe in another float type) is replaced by a reference
``adain-ref:<role>:<key>`` and its bytes dropped; the rest (constants the exporter computed) stays.
A skeleton of the small16x graphs is a few KB instead of 1-2 MB, and it holds no weights of its own.

On first use the runtime *assembles* a graph: the skeleton plus the tensors read from the weight
files with :mod:`safetensors.numpy` — no torch — gives the same ONNX model the exporter wrote
(tested). ``manifest.json`` beside the skeletons records the graph format and the weight files'
roles; a skeleton of another graph format is ignored and the graph exported from torch instead.

Maintainers rebuild the skeletons after changing a graph or a built-in model::

    python -m adain.runtime.graph_pack adain/pretrained/small16x adain/pretrained/small16x_skip ...
"""

from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from adain.errors import WeightsError
from adain.runtime.onnx_export import GRAPH_FORMAT, GRAPHS

if TYPE_CHECKING:
    import onnx

__all__ = ["MANIFEST", "REF", "SKELETON_DIR", "assemble", "build_skeletons", "shipped_graph", "strip_weights"]

log = logging.getLogger(__name__)

#: prefix of an initializer's ``doc_string`` that names the tensor it stands for
REF = "adain-ref:"
#: the folder of a model folder that holds its skeletons
SKELETON_DIR = "graphs"
MANIFEST = "manifest.json"


def _load_tensors(path: Path) -> dict[str, np.ndarray]:
    from safetensors.numpy import load_file

    try:
        return load_file(str(path))
    except Exception as e:  # noqa: BLE001 - safetensors raises its own error types
        raise WeightsError(f"{path}: unreadable weights file ({e})") from None


def strip_weights(model: onnx.ModelProto, files: Mapping[str, Path]) -> tuple[onnx.ModelProto, int]:
    """``model`` with each initializer that equals a tensor of ``files`` (role → safetensors file)
    replaced by a reference to it; returns the skeleton and the number of bytes it still embeds."""
    import onnx
    from onnx import numpy_helper

    by_shape: dict[tuple[int, ...], list[tuple[str, str, np.ndarray]]] = {}
    for role, path in files.items():
        for key, arr in _load_tensors(Path(path)).items():
            by_shape.setdefault(tuple(arr.shape), []).append((role, key, arr))
    skeleton = onnx.ModelProto()
    skeleton.CopyFrom(model)
    embedded = 0
    for init in skeleton.graph.initializer:
        value = numpy_helper.to_array(init)
        match = next(
            (
                (role, key)
                for role, key, arr in by_shape.get(tuple(value.shape), [])
                if value.size > 1 and np.array_equal(arr.astype(value.dtype), value)
            ),
            None,
        )
        if match is None:
            embedded += value.nbytes
            continue
        ref = onnx.TensorProto(name=init.name, dims=list(init.dims), data_type=init.data_type)
        ref.doc_string = f"{REF}{match[0]}:{match[1]}"
        init.CopyFrom(ref)
    return skeleton, embedded


def assemble(skeleton: Path, files: Mapping[str, Path]) -> bytes:
    """The serialized ONNX model of ``skeleton`` with its references filled from ``files``."""
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(skeleton))
    cache: dict[str, dict[str, np.ndarray]] = {}
    for i, init in enumerate(model.graph.initializer):
        if not init.doc_string.startswith(REF):
            continue
        role, key = init.doc_string[len(REF) :].split(":", 1)
        if role not in files:
            raise WeightsError(f"{skeleton}: refers to {role!r} weights, which this model does not have")
        if role not in cache:
            cache[role] = _load_tensors(Path(files[role]))
        arr = cache[role].get(key)
        if arr is None or list(arr.shape) != list(init.dims):
            raise WeightsError(f"{files[role]}: {key!r} missing or of another shape than {skeleton} expects")
        dtype = helper.tensor_dtype_to_np_dtype(init.data_type)
        model.graph.initializer[i].CopyFrom(numpy_helper.from_array(np.ascontiguousarray(arr, dtype=dtype), init.name))
    return model.SerializeToString()


def shipped_graph(skeletons: Path | None, name: str) -> Path | None:
    """The skeleton of graph ``name`` in ``skeletons`` if it is there and of this graph format."""
    if skeletons is None:
        return None
    path = skeletons / f"{name}.onnx"
    try:
        manifest = json.loads((skeletons / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    if manifest.get("graph_format") != GRAPH_FORMAT or not path.is_file():
        return None
    return path


def build_skeletons(folder: str | os.PathLike[str], graphs: Sequence[str] = GRAPHS) -> dict[str, Any]:
    """Export a model folder's graphs from torch and store their skeletons in ``<folder>/graphs``;
    returns the manifest (which also lists the bytes each skeleton still embeds)."""
    from adain.runtime.onnx_export import export_graph
    from adain.weights.folder import load_model_folder, weight_files

    d = Path(folder)
    net = load_model_folder(d, download=False)
    files = weight_files(d, download=False)
    out = d / SKELETON_DIR
    out.mkdir(exist_ok=True)
    manifest: dict[str, Any] = {"graph_format": GRAPH_FORMAT, "roles": sorted(files), "embedded_bytes": {}}
    import onnx

    with tempfile.TemporaryDirectory() as tmp:
        for g in graphs:
            full = export_graph(net, g, Path(tmp) / f"{g}.onnx")
            skeleton, embedded = strip_weights(onnx.load(str(full)), files)
            onnx.save(skeleton, str(out / f"{g}.onnx"))
            manifest["embedded_bytes"][g] = embedded
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m adain.runtime.graph_pack FOLDER...``: rebuild the skeletons of model folders."""
    folders = list(sys.argv[1:] if argv is None else argv)
    if not folders:
        print("usage: python -m adain.runtime.graph_pack MODEL_FOLDER [MODEL_FOLDER ...]", file=sys.stderr)
        return 2
    for f in folders:
        manifest = build_skeletons(f)
        print(f"{f}/{SKELETON_DIR}: {', '.join(GRAPHS)} (embedded bytes: {manifest['embedded_bytes']})")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
