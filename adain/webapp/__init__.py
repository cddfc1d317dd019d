"""The static web app: AdaIN in any browser with nothing installed, on ONNX Runtime Web.

:func:`build_web_app` writes a self-contained folder that any static host serves (GitHub Pages,
``python -m http.server``): the page (``static/``: ``index.html``, ``app.js``, ``engine.mjs``,
``style.css``, public-domain example paintings), the model's ``encode`` and ``decode`` graphs
(fp32; see :mod:`adain.runtime.onnx_export`) with ``models/model.json``, and the runtime files of
the npm packages ``onnxruntime-web`` (WASM with threads and SIMD; WebGPU where the browser has
it) and ``coi-serviceworker`` (cross-origin isolation on hosts that cannot send COOP/COEP
headers, so WASM threads work there). Nothing is fetched from any other origin.

The ``.wasm`` files are stored gzipped (a quarter of their size) and inflated by the page with the
browser's ``DecompressionStream``, so the folder stays small whatever the host compresses.

The runtime comes from npm, not from here: ``npm ci --prefix web`` in the repository, then
``adain-export web DIR`` finds ``web/node_modules`` (or pass ``runtime=``).
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import tempfile
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

from adain.errors import OutputExistsError, UsageError
from adain.io.atomic import remove_stale_parts, temp_dir_prefix
from adain.nets.names import model_bytes_per_pixel

if TYPE_CHECKING:
    from adain.nets.network import AdaINNet

__all__ = ["MARKER", "ORT_VERSION", "RUNTIME_FILES", "build_web_app", "find_runtime"]


#: the onnxruntime-web version the page is written and tested against (web/package.json pins it)
ORT_VERSION = "1.30.0"

#: files taken from ``node_modules`` → where they go in the folder (``.gz``: stored gzipped)
RUNTIME_FILES = {
    "onnxruntime-web/dist/ort.wasm.min.mjs": "ort/ort.wasm.min.mjs",
    "onnxruntime-web/dist/ort-wasm-simd-threaded.mjs": "ort/ort-wasm-simd-threaded.mjs",
    "onnxruntime-web/dist/ort-wasm-simd-threaded.wasm": "ort/ort-wasm-simd-threaded.wasm.gz",
    "coi-serviceworker/coi-serviceworker.min.js": "coi-serviceworker.min.js",
}

#: the WebGPU build (left out with ``webgpu=False``: 6.6 MB less)
WEBGPU_FILES = {
    "onnxruntime-web/dist/ort.webgpu.min.mjs": "ort/ort.webgpu.min.mjs",
    "onnxruntime-web/dist/ort-wasm-simd-threaded.asyncify.mjs": "ort/ort-wasm-simd-threaded.asyncify.mjs",
    "onnxruntime-web/dist/ort-wasm-simd-threaded.asyncify.wasm": "ort/ort-wasm-simd-threaded.asyncify.wasm.gz",
}

#: npm package → (title, copyright holder: for the MIT text where the package ships no LICENSE)
_LICENCES = {
    "onnxruntime-web": ("ONNX Runtime Web (MIT), https://github.com/microsoft/onnxruntime", "Microsoft Corporation"),
    "coi-serviceworker": ("coi-serviceworker (MIT), https://github.com/gzuidhof/coi-serviceworker", "Guido Zuidhof"),
}

_MIT = """MIT License

Copyright (c) {holder}

Permission is hereby granted, free of charge, to any person obtaining a copy of this software and
associated documentation files (the "Software"), to deal in the Software without restriction,
including without limitation the rights to use, copy, modify, merge, publish, distribute,
sublicense, and/or sell copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all copies or
substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT
NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND
NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM,
DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT
OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE."""

#: the file that marks a folder as written by :func:`build_web_app` (only such a folder is replaced)
MARKER = "adain-web.json"

#: memory the page's network may use in one pass (tiles above it; phones have little)
NETWORK_BUDGET = 384 * 2**20

#: the largest image the page decodes, and the largest it stylizes (in tiles)
MAX_SOURCE_PIXELS = 100_000_000
MAX_WORKING_PIXELS = 50_000_000

#: context around each tile: more than the ~140 px receptive field (adain.pipeline.core.Pipeline)
TILE_MARGIN = 160


def _default_runtime_dirs() -> list[Path]:
    here = Path(__file__).resolve()
    return [Path.cwd() / "web" / "node_modules", Path.cwd() / "node_modules", here.parents[2] / "web" / "node_modules"]


def find_runtime(runtime: str | os.PathLike[str] | None = None) -> Path:
    """The ``node_modules`` folder that holds ``onnxruntime-web`` and ``coi-serviceworker``.

    Raises:
        UsageError: not found (says how to install it), or a file the page needs is missing.
    """
    candidates = [Path(runtime).expanduser()] if runtime else _default_runtime_dirs()
    for d in candidates:
        if (d / "onnxruntime-web" / "package.json").is_file():
            missing = [src for src in {**RUNTIME_FILES, **WEBGPU_FILES} if not (d / src).is_file()]
            if missing:
                raise UsageError(f"{d}: {missing[0]} is missing (reinstall with `npm ci --prefix web`)")
            return d
    where = ", ".join(str(d) for d in candidates)
    raise UsageError(
        f"onnxruntime-web not found (looked in {where}): run `npm ci --prefix web` in the adain repository, "
        "or pass --runtime NODE_MODULES"
    )


def _runtime_version(runtime: Path) -> str:
    return str(json.loads((runtime / "onnxruntime-web" / "package.json").read_text()).get("version", "?"))


def _check_destination(out: Path, overwrite: bool) -> None:
    if out.exists() and not out.is_dir():
        raise OutputExistsError(f"{out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()):
        if not overwrite:
            raise OutputExistsError(
                f"{out}: already exists (use --overwrite to replace a folder adain-export web wrote)"
            )
        if not (out / MARKER).is_file():
            raise OutputExistsError(f"{out}: not a folder adain-export web wrote (no {MARKER}); refusing to replace it")


def _copy_static(dst: Path) -> None:
    static = files("adain.webapp") / "static"

    def copy(node: Any, to: Path) -> None:
        to.mkdir(parents=True, exist_ok=True)
        for child in node.iterdir():
            if child.is_dir():
                copy(child, to / child.name)
            else:
                (to / child.name).write_bytes(child.read_bytes())

    copy(static, dst)


def _manifest(net: AdaINNet, label: str) -> dict[str, Any]:
    return {
        "format": 1,
        "model": label,
        "encoder": net.encoder.name,
        "stride": net.downsampling,
        "channels": net.decoder.in_channels,
        "weights": "fp32",
        "graphs": {"encode": "encode.onnx", "decode": "decode.onnx"},
        "bytes_per_pixel": model_bytes_per_pixel(net.encoder.name, list(net.decoder.widths)),
        "tile_overhead": 1.5,
        "tile_margin": TILE_MARGIN,
        "network_budget_bytes": NETWORK_BUDGET,
        "max_source_pixels": MAX_SOURCE_PIXELS,
        "max_working_pixels": MAX_WORKING_PIXELS,
    }


def build_web_app(
    out_dir: str | os.PathLike[str],
    net: AdaINNet,
    label: str,
    runtime: str | os.PathLike[str] | None = None,
    webgpu: bool = True,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Write the deployable web app for ``net`` into ``out_dir``; returns its ``adain-web.json``.

    All or nothing: the folder is assembled beside ``out_dir`` and moved into place at the end, so
    a failure leaves nothing (and an existing folder as it was). ``overwrite`` replaces only a
    folder this function wrote before.

    Raises:
        UsageError: the npm runtime is missing (see :func:`find_runtime`).
        OutputExistsError: ``out_dir`` exists (without ``overwrite``) or is not such a folder.
    """
    from adain.runtime.onnx_export import export_graph

    out = Path(out_dir).expanduser()
    _check_destination(out, overwrite)
    node_modules = find_runtime(runtime)
    out.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_parts(out.parent)  # what a killed export left beside it
    tmp = Path(tempfile.mkdtemp(prefix=temp_dir_prefix(out), suffix=".tmp", dir=out.parent))
    try:
        _copy_static(tmp)
        models = tmp / "models"
        models.mkdir()
        for graph in ("encode", "decode"):
            export_graph(net, graph, models / f"{graph}.onnx")
        (models / "model.json").write_text(json.dumps(_manifest(net, label), indent=2) + "\n")
        chosen = {**RUNTIME_FILES, **(WEBGPU_FILES if webgpu else {})}
        for src, dst in chosen.items():
            target = tmp / dst
            target.parent.mkdir(parents=True, exist_ok=True)
            if dst.endswith(".gz"):
                with open(node_modules / src, "rb") as f, gzip.open(target, "wb", compresslevel=9) as g:
                    shutil.copyfileobj(f, g)
            else:
                shutil.copyfile(node_modules / src, target)
        _write_licences(tmp, node_modules)
        listing = sorted(str(p.relative_to(tmp)) for p in tmp.rglob("*") if p.is_file())
        info = {
            "format": 1,
            "model": label,
            "onnxruntime_web": _runtime_version(node_modules),
            "webgpu": webgpu,
            "bytes": sum((tmp / p).stat().st_size for p in listing),
            "files": listing,
        }
        (tmp / MARKER).write_text(json.dumps(info, indent=2) + "\n")
        os.chmod(tmp, 0o755)  # mkdtemp's 0700 would hide the folder from a web server's user
        _swap_into_place(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return info


def _write_licences(dst: Path, node_modules: Path) -> None:
    parts = ["# Licences of what this folder holds\n"]
    parts.append("The page and the model: adain (see the package's licence). Example paintings: examples/LICENSE.md.\n")
    for package, (title, holder) in _LICENCES.items():
        text = next((p.read_text() for p in sorted((node_modules / package).glob("LICENSE*")) if p.is_file()), None)
        parts.append(f"## {title}\n\n```\n{(text or _MIT.format(holder=holder)).strip()}\n```\n")
    (dst / "LICENSES.md").write_text("\n".join(parts))


def _swap_into_place(tmp: Path, out: Path) -> None:
    if not out.exists():
        tmp.rename(out)
        return
    old = Path(tempfile.mkdtemp(prefix=temp_dir_prefix(out), suffix=".old", dir=out.parent))
    old.rmdir()
    out.rename(old)
    try:
        tmp.rename(out)
    except BaseException:
        old.rename(out)  # put the user's folder back
        raise
    shutil.rmtree(old, ignore_errors=True)
