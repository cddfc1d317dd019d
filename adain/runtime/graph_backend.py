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

``--precision int8`` (OpenVINO): ``encode`` and ``decode`` quantized by NNCF behind a quality gate
(:mod:`adain.runtime.quantize`); ``stylize`` then runs as ``encode`` → AdaIN and the alpha mix in
float32 → ``decode``, with the graphs that passed in int8 and the others (and ``stats``) in the
machine's float precision. ``auto`` picks int8 on CPUs with int8 dot products but no fast bf16
(AVX2), once a conversion of this model passed the gate (run once with ``--precision int8``).

Graphs are written once, on first use, into ``$ADAIN_HOME/compiled/<key>/`` where ``<key>`` is
derived from the weights' sha256, and OpenVINO keeps its compiled blobs beside them: only the first
run pays conversion (one line on stderr says so). A built-in model ships its graphs' skeletons
(:mod:`adain.runtime.graph_pack`), assembled from its weight files without torch; other models are
exported from the torch network. Later runs import neither torch nor Lightning.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from adain.errors import UsageError, os_reason
from adain.io.atomic import atomic_path
from adain.ops.mixing import adain_mix
from adain.runtime.base import Runtime, Stats
from adain.runtime.graph_pack import assemble, shipped_graph
from adain.runtime.hardware import cpu_has_fast_bf16, cpu_has_fast_int8
from adain.runtime.offline import import_openvino
from adain.runtime.onnx_export import GRAPH_FORMAT, export_graph
from adain.runtime.precision import resolve_precision_name
from adain.runtime.quantize import GateResult, read_gate
from adain.weights.registry import cache_dir
from adain.weights.source import ModelSource

if TYPE_CHECKING:
    from adain.nets.network import AdaINNet

__all__ = ["GraphRuntime", "compiled_dir"]

log = logging.getLogger(__name__)


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

    def __init__(
        self,
        source: ModelSource,
        backend: str,
        precision: str = "auto",
        announce: bool = True,
        calibration: str | os.PathLike[str] | None = None,
    ) -> None:
        if backend not in ("openvino", "onnxruntime"):
            raise UsageError(f"GraphRuntime runs openvino or onnxruntime, not {backend!r}")
        self.source = source
        self.label = source.label
        self.backend = backend
        self.device = "cpu"
        self.downsampling = source.downsampling
        self.bytes_per_pixel = source.bytes_per_pixel
        self.tile_overhead = 1.5
        name = resolve_precision_name(precision, "cpu")
        if backend == "onnxruntime":
            if precision not in ("auto", "fp32"):
                raise UsageError(f"--backend onnxruntime runs fp32 only, not --precision {precision}")
            name = "fp32"
        self.dir = _usable_cache(compiled_dir() / f"{source.key[:32]}-v{GRAPH_FORMAT}")
        self._compiled: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._announced = not announce
        self.gate: GateResult | None = None  # the int8 gate's result, when int8 was asked for or picked
        cached = (self.dir / "stylize.onnx").is_file() or (self.dir / "encode.onnx").is_file()
        if not cached and shipped_graph(source.skeletons, "stylize") is None:
            source.build()  # a cache miss: build now, so bad weights fail before any work
        auto_int8 = cpu_has_fast_int8() and not cpu_has_fast_bf16() and source.code_levels == 1
        if backend == "openvino" and precision == "auto" and auto_int8:
            # (where bf16 is fast it beats int8: the encoder stays float when its int8 fails the gate;
            # a multi-level code's int8 path moves the packed code through numpy between two graphs,
            # slower than its one-call float graph: 133 vs 104 ms at 512² on an AVX2-capped CPU)
            gate = read_gate(self.int8_dir)
            if gate is not None and gate.passed and self._int8_files(gate):
                name, self.gate = "int8", gate
        elif name == "int8":
            name = self._prepare_int8(calibration)
        self.precision = name
        self.cache_dir = self.dir / f"results-{self.backend}-{self.precision}"

    def torch_network(self) -> AdaINNet:
        return self.source.build()

    # ------------------------------------------------------------------ int8
    @property
    def int8_dir(self) -> Path:
        return self.dir / "int8"

    def _int8_files(self, gate: GateResult) -> bool:
        d = self.int8_dir
        return all((d / f"{g}.xml").is_file() and (d / f"{g}.bin").is_file() for g in gate.graphs)

    def _prepare_int8(self, calibration: str | os.PathLike[str] | None) -> str:
        """The int8 graphs (quantized and gated on first use, then cached); ``fp32`` if the gate failed."""
        from adain.runtime.quantize import calibration_id, quantize_model

        gate = read_gate(self.int8_dir)
        wanted = calibration_id(calibration)
        # A verdict is reused for the same calibration images (by content). Without --calibration,
        # a folder calibration that passed stands; one that failed is redone on the built-in set.
        stale = (
            gate is None
            or not self._int8_files(gate)
            or not (
                gate.calibration.startswith(wanted + ":")
                or gate.calibration == wanted
                or (calibration is None and gate.passed)
            )
        )
        if stale:
            for g in ("encode", "decode"):
                self.graph_path(g)
            gate = quantize_model(self.dir, self.downsampling, calibration, self.source.label)
        self.gate = gate
        if not gate.passed:
            fallback = resolve_precision_name("auto", "cpu")
            log.warning(
                "int8 failed its quality check for %s (%s); running %s", self.source.label, gate.summary(), fallback
            )
            return fallback
        return "int8"

    # ------------------------------------------------------------------ graphs
    def graph_path(self, name: str) -> Path:
        """The ONNX file of graph ``name``, exported from the torch model if not cached yet."""
        path = self.dir / f"{name}.onnx"
        if not path.is_file():
            _heal_dirs(compiled_dir(), self.dir)
            if not self._announced:
                log.info(
                    "converting %s for %s (first run only; cached in %s)", self.source.label, self.backend, self.dir
                )
                self._announced = True
            skeleton = shipped_graph(self.source.skeletons, name)
            if skeleton is not None:
                data = assemble(skeleton, self.source.weight_files)
                with atomic_path(path, overwrite=True) as tmp:
                    tmp.write_bytes(data)
            else:
                export_graph(self.source.build(), name, path)
        return path

    def _get(self, name: str) -> Any:
        with self._lock:
            if name not in self._compiled:
                if self.gate is not None and self.precision == "int8" and name in self.gate.graphs:
                    self._compiled[name] = self._compile(self.int8_dir / f"{name}.xml", "fp32")
                    return self._compiled[name]
                path = self.graph_path(name)
                try:
                    self._compiled[name] = self._compile(path)
                except Exception as e:  # noqa: BLE001 - a damaged cache entry (truncated, emptied): rebuild it once
                    first = (str(e).strip().splitlines() or [type(e).__name__])[0][:160]
                    log.warning("%s: unreadable cached graph (%s); converting it again", path, first)
                    path.unlink(missing_ok=True)
                    self._compiled[name] = self._compile(self.graph_path(name))
            return self._compiled[name]

    def _compile(self, path: Path, precision: str | None = None) -> Any:
        if self.backend == "openvino":
            ov = import_openvino()
            core = ov.Core()
            core.set_property({"CACHE_DIR": str(self.dir / "openvino")})
            # int8: the quantized graphs in fp32 (their float parts), the float ones (stats; encode
            # if it stayed float) in the machine's float precision (bf16 where fast, else fp32)
            float_precision = resolve_precision_name("auto", "cpu") if self.precision == "int8" else self.precision
            hint = _OV_PRECISION[precision or float_precision]
            config = {"INFERENCE_PRECISION_HINT": hint, "PERFORMANCE_HINT": "LATENCY"}
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
    def warm_up(self) -> None:
        try:  # (the lock in _get makes a request wait for this instead of compiling twice)
            for name in ("encode", "decode") if self.precision == "int8" else ("stylize",):
                self._get(name)
        except Exception:  # noqa: BLE001 - the request that needs the graph reports the failure itself
            pass

    def style_stats(self, images: np.ndarray) -> Stats:
        mean, std = self._run("stats", {"image": images})
        return mean, std

    def stylize(self, images: np.ndarray, mean: np.ndarray, std: np.ndarray, alpha: float) -> np.ndarray:
        if self.precision == "int8":  # int8 graphs either side of AdaIN and the mix, which stay float32
            return self.decode(adain_mix(self.encode(images), mean, std, alpha))
        n = images.shape[0]
        mean = np.broadcast_to(mean, (n, *mean.shape[1:]))
        std = np.broadcast_to(std, (n, *std.shape[1:]))
        return self._run(
            "stylize", {"image": images, "mean": mean, "std": std, "alpha": np.asarray(alpha, dtype=np.float32)}
        )[0]

    def encode(self, images: np.ndarray) -> np.ndarray:
        return self._run("encode", {"image": images})[0]

    def decode(self, code: np.ndarray) -> np.ndarray:
        return self._run("decode", {"code": code})[0]


def _usable_cache(d: Path) -> Path:
    """``d``, created if needed; where it cannot be written (a read-only home, a path under a file),
    a temporary folder for this process instead, with one warning: the run goes on without a cache."""
    import atexit
    import shutil
    import tempfile

    try:
        _heal_dirs(compiled_dir(), d)
        d.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=d, prefix=".adain-probe-", delete=True)
        probe.close()
        return d
    except OSError as e:
        tmp = Path(tempfile.mkdtemp(prefix="adain-compiled-"))
        atexit.register(shutil.rmtree, tmp, True)
        log.warning("%s: cannot write the cache (%s); running without it", d, os_reason(e))
        return tmp / d.name


def _heal_dirs(root: Path, d: Path) -> None:
    """A folder of the conversion cache (``root`` down to ``d``) that is a file instead is removed,
    with one line, so the conversion can write there."""
    for p in [root, *(q for q in reversed(d.parents) if q.is_relative_to(root) and q != root), d]:
        if p.exists() and not p.is_dir():
            log.warning("%s: expected a cache folder, found a file; replacing it", p)
            p.unlink()
