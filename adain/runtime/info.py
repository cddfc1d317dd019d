"""What this install can do (``adain-stylize --info``), without importing the heavy packages.

Versions, the CPU features that decide ``--precision auto`` and what it picks, the backends and
what ``--backend auto`` picks, the models available offline, the named styles and the cache
folders. Plain ``key: value`` lines, or one JSON object with ``--json``.
"""

from __future__ import annotations

import json
import platform
from importlib import metadata
from typing import Any

__all__ = ["PACKAGES", "format_info", "gather_info"]

#: the distributions whose versions are reported (absent ones as ``None``)
PACKAGES = ("torch", "torchvision", "lightning", "openvino", "onnxruntime", "numpy", "pillow")

#: the CPU flags that change what runs fast
_FLAGS = ("avx2", "avx512f", "avx512_bf16", "avx512_vnni", "amx_bf16", "amx_int8")


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def gather_info() -> dict[str, Any]:
    """The facts of this install as plain data (see the module docstring)."""
    from adain._version import __version__
    from adain.io.styles import named_styles
    from adain.runtime.base import available_backends, resolve_backend
    from adain.runtime.graph_backend import compiled_dir
    from adain.runtime.hardware import cpu_flags, cpu_has_fast_bf16, cpu_has_fast_int8, nvidia_gpu_present
    from adain.runtime.precision import resolve_precision_name
    from adain.weights.registry import BUILTIN_MODEL, MODELS, cache_dir, choose_model, is_cached

    flags = cpu_flags()
    return {
        "adain": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "packages": {name: _version(name) for name in PACKAGES},
        "cpu": {
            "machine": platform.machine(),
            "flags": [f for f in _FLAGS if f in flags],
            "fast_bf16": cpu_has_fast_bf16(),
            "fast_int8": cpu_has_fast_int8(),
            "precision_auto": resolve_precision_name("auto", "cpu"),
        },
        "nvidia_gpu": nvidia_gpu_present(),
        "backends": available_backends(),
        "backend_auto": resolve_backend("auto"),
        "models": {
            name: {"offline": is_cached(name), "built_in": m.packaged, "description": m.description}
            for name, m in MODELS.items()
        },
        "model_auto": choose_model("auto")[0],
        "model_built_in": BUILTIN_MODEL,
        "styles": {s.name: s.title for s in named_styles().values()},
        "cache": str(cache_dir()),
        "compiled_graphs": str(compiled_dir()),
    }


def format_info(info: dict[str, Any], as_json: bool = False) -> str:
    """``key: value`` lines (nested values indented), or one JSON object."""
    if as_json:
        return json.dumps(info)
    lines: list[str] = []
    packages = ", ".join(f"{k} {v}" for k, v in info["packages"].items() if v)
    missing = ", ".join(k for k, v in info["packages"].items() if not v)
    cpu = info["cpu"]
    lines.append(f"adain {info['adain']} (Python {info['python']}, {info['platform']})")
    lines.append(f"packages: {packages}" + (f"; not installed: {missing}" if missing else ""))
    lines.append(
        f"cpu: {cpu['machine']}, {' '.join(cpu['flags']) or 'no AVX2'}; --precision auto = {cpu['precision_auto']}"
        + ("" if cpu["fast_bf16"] else " (bf16 would be emulated here)")
    )
    lines.append(f"nvidia gpu: {'yes' if info['nvidia_gpu'] else 'no'}")
    lines.append(f"backends: {', '.join(info['backends'])}; --backend auto = {info['backend_auto']}")
    lines.append(f"models (--model auto = {info['model_auto']}):")
    for name, m in info["models"].items():
        where = "built in" if m["built_in"] else "cached" if m["offline"] else "needs a download"
        lines.append(f"  {name:<14} {where:<17} {m['description']}")
    lines.append("styles (--style NAME):")
    lines.extend(f"  {name:<14} {title}" for name, title in info["styles"].items())
    lines.append(f"cache: {info['cache']}")
    lines.append(f"compiled graphs: {info['compiled_graphs']}")
    return "\n".join(lines)
