"""Graph skeletons: built-in models' OpenVINO graphs assembled from their weight files without torch."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from safetensors.numpy import save_file

from adain.errors import WeightsError
from adain.runtime.graph_pack import MANIFEST, REF, assemble, shipped_graph, strip_weights
from adain.runtime.onnx_export import GRAPH_FORMAT, GRAPHS, export_graph
from adain.weights.folder import load_model_folder, weight_files
from tests.helpers import REPO

BUILTIN = sorted(p.parent.parent.name for p in (REPO / "adain" / "pretrained").glob("*/graphs/manifest.json"))


def test_every_builtin_model_ships_skeletons():
    assert BUILTIN == sorted(p.parent.name for p in (REPO / "adain" / "pretrained").glob("*/config.json"))


@pytest.mark.slow
@pytest.mark.parametrize("name", BUILTIN)
def test_assembled_graphs_are_the_exported_ones(name, tmp_path):
    """Byte for byte what the torch exporter writes today: a skeleton left stale by a change to a
    graph or to the model's weights fails here (rebuild: python -m adain.runtime.graph_pack …)."""
    folder = REPO / "adain" / "pretrained" / name
    net = load_model_folder(folder, download=False)
    files = weight_files(folder, download=False)
    for g in GRAPHS:
        skeleton = folder / "graphs" / f"{g}.onnx"
        assert skeleton.stat().st_size < 100_000  # no weights inside
        exported = export_graph(net, g, tmp_path / f"{g}.onnx").read_bytes()
        assert assemble(skeleton, files) == exported, f"{name}/{g}: stale skeleton"


def _toy(tmp_path: Path) -> tuple[onnx.ModelProto, dict[str, Path]]:
    w = np.arange(6, dtype=np.float32).reshape(2, 3)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y0"]), helper.make_node("Add", ["y0", "b"], ["y"])],
        "toy",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])],
        [numpy_helper.from_array(w, "w"), numpy_helper.from_array(np.array([1.0, 2.0, 3.0], np.float32), "b")],
    )
    f = tmp_path / "m.safetensors"
    save_file({"lin.weight": w.astype(np.float16), "lin.bias": np.array([9.0, 9.0, 9.0], np.float32)}, str(f))
    return helper.make_model(graph), {"model": f}


def test_strip_keeps_what_the_files_do_not_hold_and_assemble_restores(tmp_path):
    model, files = _toy(tmp_path)
    skeleton, embedded = strip_weights(model, files)
    refs = {i.name: i.doc_string for i in skeleton.graph.initializer}
    assert refs["w"] == f"{REF}model:lin.weight"  # matched through the fp16 copy
    assert refs["b"] == ""  # [1, 2, 3] is not [9, 9, 9]: kept inside
    assert embedded == 12
    assert not skeleton.graph.initializer[0].raw_data
    path = tmp_path / "s.onnx"
    onnx.save(skeleton, str(path))
    assert assemble(path, files) == model.SerializeToString()


def test_assemble_refuses_missing_role_or_tensor(tmp_path):
    model, files = _toy(tmp_path)
    skeleton, _ = strip_weights(model, files)
    path = tmp_path / "s.onnx"
    onnx.save(skeleton, str(path))
    with pytest.raises(WeightsError, match="'model' weights"):
        assemble(path, {})
    other = tmp_path / "o.safetensors"
    save_file({"lin.weight": np.zeros((3, 2), np.float32)}, str(other))
    with pytest.raises(WeightsError, match="lin.weight"):
        assemble(path, {"model": other})


def test_shipped_graph_needs_this_graph_format(tmp_path):
    assert shipped_graph(None, "stats") is None
    (tmp_path / "stats.onnx").write_bytes(b"x")
    assert shipped_graph(tmp_path, "stats") is None  # no manifest
    (tmp_path / MANIFEST).write_text(json.dumps({"graph_format": GRAPH_FORMAT + 1}))
    assert shipped_graph(tmp_path, "stats") is None
    (tmp_path / MANIFEST).write_text(json.dumps({"graph_format": GRAPH_FORMAT}))
    assert shipped_graph(tmp_path, "stats") == tmp_path / "stats.onnx"
    assert shipped_graph(tmp_path, "decode") is None
