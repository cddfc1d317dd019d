"""ONNX graphs of an AdaIN model, and the OpenVINO / ONNX Runtime runtime that runs them.

Four graphs, all with dynamic batch, height and width (inputs padded to a multiple of 8):

=========  ===========================================  ==========================
graph      inputs                                       outputs
=========  ===========================================  ==========================
stats      ``image (N,3,H,W)``                          ``mean, std (N,C,1,1)``
stylize    ``image``, ``mean``, ``std`` ``(N,C,1,1)``,  ``output (N,3,H,W)``
           ``alpha`` (scalar)
encode     ``image``                                    ``code (N,C,H/8,W/8)``
decode     ``code``                                     ``output (N,3,H,W)``
=========  ===========================================  ==========================

``stylize`` holds AdaIN and the alpha mix, so one graph serves single styles, blends (a blend is
a weighted sum of statistics) and every alpha. ``encode``/``decode`` serve masks, tiles and video
smoothing, where maths runs between the two.

Graphs are exported from the torch model once, on first use, into
``$ADAIN_HOME/compiled/<key>/`` where ``<key>`` is derived from the weights' sha256, and OpenVINO
keeps its compiled blobs beside them: only the first run pays conversion (one line on stderr
says so); later runs import neither torch nor Lightning.
"""

from __future__ import annotations

import hashlib
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import UsageError
from .hardware import resolve_precision_name
from .runtime import Runtime, Stats
from .weights import cache_dir

if TYPE_CHECKING:
    from torch import nn

    from .model import AdaINNet

__all__ = ["GRAPHS", "GraphRuntime", "ModelSource", "compiled_dir", "export_graph", "export_onnx"]

#: the graphs of a model (see the module docstring)
GRAPHS = ("stats", "stylize", "encode", "decode")
#: bump when the graphs' definition changes (invalidates cached conversions)
GRAPH_FORMAT = 1
_OPSET = 17


@dataclass
class ModelSource:
    """A model known by a content key, built (with torch) only when something needs the network.

    Attributes:
        key: hex digest identifying architecture and weights (names the conversion cache).
        label: for messages.
        downsampling: the encoder's total stride.
        builder: returns the :class:`~adain.model.AdaINNet` (imports torch).
    """

    key: str
    label: str
    downsampling: int
    builder: Callable[[], AdaINNet]
    _net: AdaINNet | None = field(default=None, repr=False)

    def build(self) -> AdaINNet:
        if self._net is None:
            self._net = self.builder()
        return self._net

    @classmethod
    def from_net(cls, net: AdaINNet, label: str = "model") -> ModelSource:
        """A source for a network in memory; the key hashes its architecture and weights."""
        h = hashlib.sha256(f"{type(net.encoder).__name__}:{net.encoder.last_stage}".encode())
        for k, v in net.state_dict().items():
            h.update(k.encode())
            h.update(str(tuple(v.shape)).encode())
            h.update(v.detach().float().cpu().contiguous().numpy().tobytes())
        return cls(h.hexdigest(), label, net.downsampling, lambda: net, net)

    @classmethod
    def from_files(cls, label: str, parts: list[str | os.PathLike[str] | str], downsampling: int,
                   builder: Callable[[], AdaINNet]) -> ModelSource:
        """A source whose key hashes ``parts``: architecture names and weights files (by sha256)."""
        from .weights import file_digest

        h = hashlib.sha256()
        for part in parts:
            h.update((file_digest(part) if isinstance(part, Path) else str(part)).encode())
            h.update(b"|")
        return cls(h.hexdigest(), label, downsampling, builder)


# ----------------------------------------------------------------------------- export (torch)
def _graph_module(net: AdaINNet, name: str) -> tuple[nn.Module, tuple[Any, ...], list[str], list[str], dict]:
    import torch

    from . import functional as AF

    class Stats(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = net

        def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            return AF.calc_mean_std(self.net.encode(image))

    class Stylize(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = net

        def forward(self, image: torch.Tensor, mean: torch.Tensor, std: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
            code = self.net.encode(image)
            # alpha is a graph input, so the mix is always written out (alpha=1 gives the target)
            target = AF.adain_from_stats(code, mean, std)
            return self.net.decoder(alpha * target + (1.0 - alpha) * code)

    class Encode(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = net

        def forward(self, image: torch.Tensor) -> torch.Tensor:
            return self.net.encode(image)

    class Decode(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = net

        def forward(self, code: torch.Tensor) -> torch.Tensor:
            return self.net.decoder(code)

    c = net.encoder.out_channels
    img = torch.rand(1, 3, 64, 64)
    image_axes = {0: "batch", 2: "height", 3: "width"}
    stat_axes = {0: "batch"}
    if name == "stats":
        return Stats(), (img,), ["image"], ["mean", "std"], {"image": image_axes, "mean": stat_axes, "std": stat_axes}
    if name == "stylize":
        args = (img, torch.rand(1, c, 1, 1), torch.rand(1, c, 1, 1) + 0.5, torch.tensor(0.5))
        return Stylize(), args, ["image", "mean", "std", "alpha"], ["output"], {
            "image": image_axes, "mean": stat_axes, "std": stat_axes, "output": image_axes}
    if name == "encode":
        return Encode(), (img,), ["image"], ["code"], {"image": image_axes, "code": image_axes}
    if name == "decode":
        return Decode(), (torch.rand(1, c, 8, 8),), ["code"], ["output"], {"code": image_axes, "output": image_axes}
    raise UsageError(f"unknown graph {name!r}; choose from {', '.join(GRAPHS)}")


def export_graph(net: AdaINNet, name: str, path: str | os.PathLike[str]) -> Path:
    """Export one graph of ``net`` (fp32, dynamic batch/height/width) to an ONNX file, atomically."""
    import warnings

    import torch

    from .io import atomic_path

    module, args, inputs, outputs, axes = _graph_module(net.float().eval(), name)
    with atomic_path(path, overwrite=True) as tmp, warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(module, args, str(tmp), input_names=inputs, output_names=outputs, dynamic_axes=axes,
                          opset_version=_OPSET, dynamo=False, do_constant_folding=True)
    return Path(path)


def export_onnx(net: AdaINNet, directory: str | os.PathLike[str], graphs: tuple[str, ...] = GRAPHS) -> list[Path]:
    """Export ``graphs`` of ``net`` as ``<directory>/<graph>.onnx``; returns the paths."""
    d = Path(directory)
    return [export_graph(net, g, d / f"{g}.onnx") for g in graphs]


def compiled_dir() -> Path:
    """Where converted graphs live: ``$ADAIN_COMPILED_DIR``, else ``$ADAIN_HOME/compiled``."""
    env = os.environ.get("ADAIN_COMPILED_DIR")
    return Path(env).expanduser() if env else cache_dir() / "compiled"


# ----------------------------------------------------------------------------- runtime
_OV_PRECISION = {"fp32": "f32", "bf16": "bf16", "fp16": "f16"}


class GraphRuntime(Runtime):
    """Run a model's ONNX graphs with OpenVINO or ONNX Runtime, on the CPU.

    Graphs are exported and compiled lazily, so a plain request touches only ``stats`` and
    ``stylize``. OpenVINO runs in the requested precision (``auto`` = bf16 where the CPU is fast
    at it); ONNX Runtime runs fp32.
    """

    def __init__(self, source: ModelSource, backend: str, precision: str = "auto", announce: bool = True) -> None:
        if backend not in ("openvino", "onnxruntime"):
            raise UsageError(f"GraphRuntime runs openvino or onnxruntime, not {backend!r}")
        self.source = source
        self.backend = backend
        self.device = "cpu"
        self.downsampling = source.downsampling
        name = resolve_precision_name(precision, "cpu")
        if backend == "onnxruntime":
            if precision not in ("auto", "fp32"):
                raise UsageError(f"--backend onnxruntime runs fp32 only, not --precision {precision}")
            name = "fp32"
        self.precision = name
        self.dir = compiled_dir() / f"{source.key[:32]}-v{GRAPH_FORMAT}"
        self._compiled: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._announced = not announce
        self.cache_dir = self.dir / f"results-{self.backend}-{self.precision}"
        if not (self.dir / "stylize.onnx").is_file():
            source.build()  # a cache miss: build now, so bad weights fail before any work

    # ------------------------------------------------------------------ graphs
    def graph_path(self, name: str) -> Path:
        """The ONNX file of graph ``name``, exported from the torch model if not cached yet."""
        path = self.dir / f"{name}.onnx"
        if not path.is_file():
            if not self._announced:
                print(f"adain: converting {self.source.label} for {self.backend} (first run only; cached in "
                      f"{self.dir})", file=sys.stderr)
                self._announced = True
            export_graph(self.source.build(), name, path)
        return path

    def _get(self, name: str) -> Any:
        with self._lock:
            if name not in self._compiled:
                self._compiled[name] = self._compile(self.graph_path(name))
            return self._compiled[name]

    def _compile(self, path: Path) -> Any:
        if self.backend == "openvino":
            import openvino as ov

            core = ov.Core()
            core.set_property({"CACHE_DIR": str(self.dir / "openvino")})
            config = {"INFERENCE_PRECISION_HINT": _OV_PRECISION[self.precision], "PERFORMANCE_HINT": "LATENCY"}
            return core.compile_model(str(path), "CPU", config)
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])

    def _run(self, name: str, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        compiled = self._get(name)
        feeds = {k: np.require(v, np.float32, "C") for k, v in feeds.items()}  # (keeps 0-d alpha 0-d)
        if self.backend == "openvino":
            request = compiled.create_infer_request()  # one per call: safe from several threads
            result = request.infer(feeds)
            return [np.array(result[out]) for out in compiled.outputs]
        return compiled.run(None, feeds)

    # ------------------------------------------------------------------ Runtime
    def style_stats(self, images: np.ndarray) -> Stats:
        mean, std = self._run("stats", {"image": images})
        return mean, std

    def stylize(self, images: np.ndarray, mean: np.ndarray, std: np.ndarray, alpha: float) -> np.ndarray:
        n = images.shape[0]
        mean = np.broadcast_to(mean, (n, *mean.shape[1:]))
        std = np.broadcast_to(std, (n, *std.shape[1:]))
        return self._run("stylize", {"image": images, "mean": mean, "std": std,
                                     "alpha": np.asarray(alpha, dtype=np.float32)})[0]

    def encode(self, images: np.ndarray) -> np.ndarray:
        return self._run("encode", {"image": images})[0]

    def decode(self, code: np.ndarray) -> np.ndarray:
        return self._run("decode", {"code": code})[0]

