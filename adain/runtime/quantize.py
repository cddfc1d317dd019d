"""int8 inference: post-training quantization of a model's graphs with NNCF, behind a quality gate.

OpenVINO fp32 on a 2-core CPU is near the FMA units' limit; only cheaper operations make it
faster. NNCF (the compression library made for OpenVINO) quantizes the ``decode`` graph — the
one a slider move in the studio runs — and the ``encode`` graph to int8, calibrated on a few
images: weights per channel, activations per tensor (``MIXED`` preset: asymmetric after ReLU).
What quality needs stays in float: the decoder's last convolution (the RGB output) and the
encoder's first (raw pixels), AdaIN's statistics and the alpha mix (computed between the graphs
in float32, see :class:`adain.runtime.graph_backend.GraphRuntime`), and the style statistics
(``stats`` graph, run once per style).

**The gate.** A quantized model is only used if it passes a check against fp32 at conversion
time, on held-out pairs the package makes itself (so a broken calibration cannot also break the
check): the median PSNR of the output and the change of its style and content losses (mean/std
loss on the model's own fp32 encoder). The encoder is kept in int8 only if the pair of int8
graphs passes; otherwise the decoder alone is tried; if that fails too, fp32 runs instead (one
line says so). The result and its numbers are cached with the graphs (``gate.json``, beside the
model's converted graphs, which are keyed by the weights' sha256).

**Calibration data.** By default the package makes its own: *dead leaves* images (occluding discs
with power-law radii — the classic synthetic model of natural-image statistics) with 1/f
texture, as contents and as styles. A folder of images (``calibration=DIR``, e.g. a training
set) can be used instead; evaluation images should never be.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from adain.errors import UsageError
from adain.ops.mixing import adain_mix, code_stats, pad_to_multiple
from adain.runtime.offline import block_telemetry, import_openvino

__all__ = [
    "GATE_CONTENT_CHANGE",
    "GATE_PSNR",
    "GATE_STYLE_CHANGE",
    "GateResult",
    "calibration_id",
    "calibration_images",
    "default_calibration",
    "dead_leaves",
    "psnr_8bit",
    "quantize_model",
    "read_gate",
]

log = logging.getLogger(__name__)


#: the gate: median PSNR (dB) of the int8 output against fp32 on the held-out pairs
GATE_PSNR = 32.0
#: the gate: largest relative change of the mean style loss and of the mean content loss
GATE_STYLE_CHANGE = 0.05
GATE_CONTENT_CHANGE = 0.05

#: bump when calibration or the gate change (cached results are then redone)
QUANT_FORMAT = 1

_CALIBRATION_PAIRS = 16
_GATE_PAIRS = 8
_SIZE = 256


@dataclass(frozen=True)
class GateResult:
    """What the gate measured for one model; ``graphs`` are the int8 graphs in use (empty: fp32)."""

    passed: bool
    graphs: tuple[str, ...]
    psnr_median: float
    psnr_min: float
    style_change: float
    content_change: float
    calibration: str
    reason: str = ""
    format: int = QUANT_FORMAT

    def summary(self) -> str:
        return (
            f"PSNR {self.psnr_median:.1f} dB median (min {self.psnr_min:.1f}), style loss {self.style_change:+.1%}, "
            f"content loss {self.content_change:+.1%} against fp32"
        )


def read_gate(directory: Path) -> GateResult | None:
    """The cached gate result in ``directory`` (``gate.json``), or ``None`` (absent, unreadable, old)."""
    try:
        data = json.loads((directory / "gate.json").read_text())
        result = GateResult(**{**data, "graphs": tuple(data["graphs"])})
    except (OSError, ValueError, TypeError, KeyError):
        return None
    return result if result.format == QUANT_FORMAT else None


# ----------------------------------------------------------------------------- calibration data
def dead_leaves(size: int, seed: int) -> np.ndarray:
    """A photo-like synthetic image ``(3, size, size)`` in [0, 1]: occluding discs with power-law
    radii (the dead leaves model), colours from a random palette, a 1/f texture and soft shading."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    palette = rng.random((6, 3)) ** rng.uniform(0.6, 1.6)
    img = np.empty((3, size, size), np.float32)
    img[:] = palette[0][:, None, None]
    covered = np.zeros((size, size), bool)
    r_min, r_max = size / 64, size / 3
    for _ in range(600):  # front to back: a disc only paints where nothing nearer already did
        u = rng.random()
        r = (r_min**-2 + u * (r_max**-2 - r_min**-2)) ** -0.5  # density ∝ r^-3
        cy, cx = rng.uniform(-r, size + r, 2)
        disc = ((yy - cy) ** 2 + (xx - cx) ** 2 < r * r) & ~covered
        colour = np.clip(palette[rng.integers(len(palette))] + rng.normal(0, 0.08, 3), 0, 1)
        img[:, disc] = colour[:, None]
        covered |= disc
        if covered.all():
            break
    f = np.fft.fftfreq(size)
    radius = np.sqrt(f[:, None] ** 2 + f[None, :] ** 2)
    radius[0, 0] = 1.0
    noise = np.fft.ifft2(np.fft.fft2(rng.normal(size=(size, size))) / radius).real.astype(np.float32)
    noise = (noise - noise.mean()) / (noise.std() + 1e-8)
    shade = 1 + 0.25 * np.sin(2 * math.pi * (xx * rng.uniform(0.2, 1.5) + yy * rng.uniform(0.2, 1.5)) / size)
    img = img * shade[None] + rng.uniform(0.02, 0.12) * noise[None]
    return np.clip(img, 0, 1).astype(np.float32)


def default_calibration() -> str:
    """The label of the built-in calibration set (synthetic dead-leaves images)."""
    return f"dead-leaves-v{QUANT_FORMAT}"


def calibration_id(calibration: str | os.PathLike[str] | None) -> str:
    """What a calibration set is, by content: the built-in set's label, or ``folder:<name>:<digest>``
    with the sha256 of the folder's image files (names and bytes), so a verdict is reused only for
    the very same images."""
    if calibration is None:
        return default_calibration()
    import hashlib

    from adain.io.files import list_images

    folder = Path(calibration).expanduser()
    if not folder.is_dir():
        raise UsageError(f"{folder}: calibration folder not found")
    from adain.weights.download import sha256_file

    h = hashlib.sha256()
    for p in list_images([folder], recursive=True):
        h.update(f"{p.relative_to(folder)}\0{sha256_file(p)}\0".encode())
    return f"folder:{folder.name}:{h.hexdigest()[:16]}"


def calibration_images(
    calibration: str | os.PathLike[str] | None, n: int, size: int = _SIZE, seed: int = 0
) -> tuple[list[np.ndarray], str]:
    """``n`` images ``(3, h, w)`` for calibration and a label saying where they came from.

    ``None``: :func:`dead_leaves` images. A folder: its images (sorted, every k-th to get ``n``),
    resized so the shorter side is ``size``.

    Raises:
        UsageError: the folder is missing or has fewer than 2 readable images.
    """
    if calibration is None:
        return [dead_leaves(size, seed + i) for i in range(n)], default_calibration()
    from adain.io.files import list_images
    from adain.io.images import read_image_resized

    folder = Path(calibration).expanduser()
    if not folder.is_dir():
        raise UsageError(f"{folder}: calibration folder not found")
    found = list_images([folder], recursive=True)
    images = []
    for p in found[:: max(1, len(found) // n)]:
        try:
            images.append(read_image_resized(p, size))
        except Exception:  # noqa: BLE001 - an unreadable file is skipped; none at all is an error
            continue
        if len(images) == n:
            break
    if len(images) < 2:
        found_n = "no readable image" if not images else "only one readable image"
        raise UsageError(
            f"{folder}: {found_n} to calibrate on; int8 calibration needs at least 2 (content/style pairs)"
        )
    return images, f"{calibration_id(folder)}:{len(images)}"


# ----------------------------------------------------------------------------- measuring
def psnr_8bit(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR (dB) of two float images in [0, 1] after clamping and rounding to 8 bits (100: equal)."""
    qa, qb = (np.round(np.clip(v, 0, 1) * 255) for v in (a, b))
    mse = float(((qa - qb) ** 2).mean())
    return 100.0 if mse == 0 else 10 * math.log10(255.0**2 / mse)


# ----------------------------------------------------------------------------- quantization
class _Graphs:
    """Compiled OpenVINO graphs: the fp32 references and the candidates."""

    def __init__(self, directory: Path) -> None:
        ov = import_openvino()
        self.core = ov.Core()
        self.dir = directory
        self.fp32 = {g: self.compile(self.core.read_model(str(directory / f"{g}.onnx"))) for g in ("encode", "decode")}

    def compile(self, model: Any) -> Any:
        return self.core.compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})

    @staticmethod
    def run(compiled: Any, x: np.ndarray) -> np.ndarray:
        return np.array(compiled.create_infer_request().infer([x])[compiled.outputs[0]])


def _convolutions(model: Any) -> list[str]:
    """Names of a graph's convolutions, in order (what NNCF's ignored scopes name)."""
    return [op.get_friendly_name() for op in model.get_ordered_ops() if op.get_type_name() == "Convolution"]


def _quantize(graphs: _Graphs, name: str, samples: list[np.ndarray], keep_float: list[str] | None = None) -> Any:
    """``name``'s graph in int8 but for ``keep_float`` (default: the decoder's RGB output layer, the
    encoder's layer on raw pixels)."""
    block_telemetry()
    import nncf

    model = graphs.core.read_model(str(graphs.dir / f"{name}.onnx"))
    if keep_float is None:
        convs = _convolutions(model)
        keep_float = [convs[-1]] if name == "decode" else [convs[0]]
    return nncf.quantize(
        model,
        nncf.Dataset(samples),
        preset=nncf.QuantizationPreset.MIXED,
        subset_size=len(samples),
        ignored_scope=nncf.IgnoredScope(names=keep_float),
    )


def _calibration_samples(
    graphs: _Graphs, calibration: str | os.PathLike[str] | None, stride: int
) -> tuple[list[np.ndarray], list[np.ndarray], str]:
    """NNCF's samples for the ``encode`` graph (images) and the ``decode`` graph (AdaIN targets of
    content/style pairs by the fp32 encoder, at alpha 1 and 0.5), and where the images came from."""
    images, source = calibration_images(calibration, 2 * _CALIBRATION_PAIRS)
    enc_samples = [pad_to_multiple(img[None], stride) for img in images]
    dec_samples = []
    for c, s in zip(enc_samples[::2], enc_samples[1::2]):
        code = graphs.run(graphs.fp32["encode"], c)
        s_mean, s_std = code_stats(graphs.run(graphs.fp32["encode"], s))
        dec_samples += [adain_mix(code, s_mean, s_std, a) for a in (1.0, 0.5)]
    return enc_samples, dec_samples, source


def _measure(
    graphs: _Graphs, encoder: Any, decoder: Any, pairs: list[tuple[np.ndarray, np.ndarray]], stride: int
) -> tuple[float, float, float, float]:
    """(median PSNR, min PSNR, style-loss change, content-loss change) of a candidate against fp32."""
    enc32, dec32 = graphs.fp32["encode"], graphs.fp32["decode"]
    psnrs, style, content = [], [0.0, 0.0], [0.0, 0.0]
    for c, s in pairs:
        x = pad_to_multiple(c[None], stride)
        s_mean, s_std = code_stats(graphs.run(enc32, pad_to_multiple(s[None], stride)))
        goal = adain_mix(graphs.run(enc32, x), s_mean, s_std, 1.0)  # the fp32 target code
        ref = np.clip(graphs.run(dec32, goal), 0, 1)
        code = goal if encoder is enc32 else adain_mix(graphs.run(encoder, x), s_mean, s_std, 1.0)
        out = np.clip(graphs.run(decoder, code), 0, 1)
        psnrs.append(psnr_8bit(out, ref))
        for k, img in enumerate((ref, out)):  # the losses of AdaIN's training, on the fp32 encoder
            code = graphs.run(enc32, img.astype(np.float32))
            m, sd = code_stats(code)
            style[k] += float(((m - s_mean) ** 2).mean() + ((sd - s_std) ** 2).mean())
            content[k] += float(((code - goal) ** 2).mean())
    return (
        float(np.median(psnrs)),
        float(min(psnrs)),
        style[1] / max(style[0], 1e-12) - 1,
        content[1] / max(content[0], 1e-12) - 1,
    )


def quantize_model(
    directory: Path, stride: int, calibration: str | os.PathLike[str] | None = None, label: str = "the model"
) -> GateResult:
    """Quantize ``directory``'s ``encode.onnx`` and ``decode.onnx`` (written by the graph runtime),
    check them (the gate) and cache what passed in ``directory/int8``; returns the gate's result.

    Raises:
        UsageError: NNCF is not installed, or the calibration folder is unusable.
    """
    try:
        _quiet_nncf()
    except ImportError as e:
        raise UsageError("--precision int8 needs NNCF: pip install 'adain[int8]' (or pip install nncf)") from e
    import tempfile

    ov = import_openvino()

    from adain.io.atomic import atomic_path

    graphs = _Graphs(directory)
    enc_samples, dec_samples, source = _calibration_samples(graphs, calibration, stride)
    held_out = [(dead_leaves(_SIZE, 10_000 + 2 * i), dead_leaves(_SIZE, 10_001 + 2 * i)) for i in range(_GATE_PAIRS)]

    int8 = {"encode": _quantize(graphs, "encode", enc_samples), "decode": _quantize(graphs, "decode", dec_samples)}
    compiled = {g: graphs.compile(m) for g, m in int8.items()}
    result = None
    for names in (("encode", "decode"), ("decode",)):
        enc = compiled["encode"] if "encode" in names else graphs.fp32["encode"]
        med, low, ds, dc = _measure(graphs, enc, compiled["decode"], held_out, stride)
        ok = med >= GATE_PSNR and ds <= GATE_STYLE_CHANGE and dc <= GATE_CONTENT_CHANGE
        result = GateResult(ok, names if ok else (), med, low, ds, dc, source)
        if ok:
            break
    assert result is not None
    if not result.passed:
        reason = f"below the gate (PSNR >= {GATE_PSNR:.0f} dB, losses within {GATE_STYLE_CHANGE:.0%})"
        result = dataclasses.replace(result, reason=reason)
    out = directory / "int8"
    out.mkdir(exist_ok=True)
    for g in result.graphs:
        tmp = Path(tempfile.mkdtemp(prefix=f".{g}.", dir=out))
        try:
            ov.save_model(int8[g], str(tmp / f"{g}.xml"), compress_to_fp16=False)
            os.replace(tmp / f"{g}.bin", out / f"{g}.bin")  # the weights first, then the graph naming them
            os.replace(tmp / f"{g}.xml", out / f"{g}.xml")
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    with atomic_path(out / "gate.json", overwrite=True) as tmp:
        Path(tmp).write_text(json.dumps(asdict(result), indent=2) + "\n")
    if result.passed:  # (a failure is said once, by the runtime that falls back)
        log.info("int8 passed its quality check for %s: %s", label, result.summary())
    return result


def _quiet_nncf() -> None:
    """Import NNCF with its INFO log off (its import sets its logger's level, so set it after)."""
    import logging

    block_telemetry()
    import nncf  # noqa: F401

    logging.getLogger("nncf").setLevel(logging.ERROR)  # (its progress bars stay: calibration takes seconds)
    logging.getLogger("torch.utils.cpp_extension").setLevel(logging.ERROR)  # NNCF imports torch: no CUDA notes
