"""What every benchmark shares: the machine it ran on, one timer, and rows as a markdown table or
JSON lines.

A benchmark script builds its parser with :func:`parser` (``--json``, ``--repeats``), prints
:func:`header` first, times with :func:`median_seconds`, and emits rows through :class:`Table`::

    a = parser(__doc__).parse_args()
    print(header(a.json))
    table = Table(["model", "ms"], a.json)
    table.row(model="small16x", ms=1e3 * median_seconds(fn, a.repeats))

Scripts run as ``python benchmarks/NAME.py`` (this folder is then on ``sys.path``) against the
installed package.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = [
    "PEAK_RSS_PROBE",
    "Table",
    "header",
    "machine",
    "median_seconds",
    "parser",
    "random_canonical_files",
    "user_env",
]

PACKAGES = ("adain", "torch", "openvino", "onnxruntime", "numpy")

#: code to prepend to a child's ``python -c``: at exit it writes its own peak RSS (``VmHWM``, kB) to
#: the file ``$ADAIN_PEAK_RSS_FILE`` (``ru_maxrss`` of the children would count a forked parent's pages)
PEAK_RSS_PROBE = (
    "import atexit, os, re\n"
    "def _hwm():\n"
    "    f = os.environ.get('ADAIN_PEAK_RSS_FILE')\n"
    "    if f:\n"
    "        kb = re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1)\n"
    "        open(f, 'w').write(kb)\n"
    "atexit.register(_hwm)\n"
)


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict[str, Any]:
    """CPU model, instruction set (torch's CPU capability and the flags that decide precision),
    threads, and the versions that matter, as plain data."""
    info: dict[str, Any] = {"cpu": _cpu_model(), "cores": os.cpu_count(), "python": platform.python_version()}
    for name in PACKAGES:
        try:
            info[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            info[name] = None
    try:
        import torch

        info["isa"] = torch.backends.cpu.get_cpu_capability()
        info["threads"] = torch.get_num_threads()
        info["cuda"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    except ImportError:
        info["isa"] = info["threads"] = info["cuda"] = None
    from adain.runtime.hardware import cpu_has_fast_bf16

    info["fast_bf16"] = cpu_has_fast_bf16()
    return info


def header(as_json: bool = False) -> str:
    """The machine as one line: a ``# machine: …`` comment, or a JSON object ``{"machine": …}``."""
    m = machine()
    if as_json:
        return json.dumps({"machine": m})
    versions = ", ".join(f"{k} {m[k]}" for k in PACKAGES if m.get(k))
    gpu = f", GPU {m['cuda']}" if m.get("cuda") else ""
    bf16 = "fast bf16" if m["fast_bf16"] else "no fast bf16"
    return (
        f"# machine: {m['cpu']} ({m['cores']} cores, torch threads {m['threads']}, ISA {m['isa']}, {bf16}{gpu}); "
        f"Python {m['python']}, {versions}"
    )


def median_seconds(fn: Callable[[], Any], repeats: int = 5, warmup: int = 1) -> float:
    """The median wall time of ``fn()`` over ``repeats`` calls, after ``warmup`` untimed ones."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(max(1, repeats)):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


class Table:
    """Rows printed as they come: a markdown table (header first), or one JSON object per row."""

    def __init__(self, columns: Sequence[str], as_json: bool = False, digits: int = 3) -> None:
        self.columns, self.as_json, self.digits, self._started = list(columns), as_json, digits, False

    def row(self, **values: Any) -> None:
        if self.as_json:
            print(json.dumps({c: values.get(c) for c in self.columns}), flush=True)
            return
        if not self._started:
            print("| " + " | ".join(self.columns) + " |")
            print("|" + "---|" * len(self.columns))
            self._started = True
        cells = [self._cell(values.get(c)) for c in self.columns]
        print("| " + " | ".join(cells) + " |", flush=True)

    def _cell(self, v: Any) -> str:
        if v is None:
            return "–"
        if isinstance(v, float):
            return f"{v:.{self.digits}f}"
        return str(v)


def parser(doc: str | None) -> argparse.ArgumentParser:
    """An argument parser with the options every benchmark has: ``--json`` and ``--repeats``."""
    p = argparse.ArgumentParser(description=(doc or "").split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--json", action="store_true", help="the machine and every row as JSON lines on stdout")
    p.add_argument("--repeats", type=int, default=5, help="timed repetitions (median), after one warm-up")
    return p


def random_canonical_files(folder: Path, seed: int = 0) -> tuple[Path, Path]:
    """Random weights of the canonical architecture (speed and memory do not depend on the values)
    as an encoder file (``vgg_normalised.pth`` layout, to relu4_1) and a ``decoder.pth``; written once."""
    import torch

    from adain import AdaINNet, build_encoder

    enc, dec = folder / "random_vgg_normalised.pth", folder / "random_decoder.pth"
    if not (enc.is_file() and dec.is_file()):
        folder.mkdir(parents=True, exist_ok=True)
        torch.manual_seed(seed)
        net = AdaINNet(build_encoder("vgg19_normalised"))
        torch.save(net.encoder.state_dict(), enc)
        torch.save(net.decoder.state_dict(), dec)
    return enc, dec


def user_env(**extra: str) -> dict[str, str]:
    """The environment for a timed child process, as a user's shell has it: Python writes and
    reuses its bytecode caches (``PYTHONDONTWRITEBYTECODE``, set in some CI images, would make every
    run compile the package from source: ~40 ms of a 0.5 s run)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, **extra}
