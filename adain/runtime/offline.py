"""Offline by default: OpenVINO (and NNCF) without their usage telemetry.

Importing ``openvino`` imports its model converter, which sends an "import" event to Google
Analytics unless the user declined in ``~/intel/openvino_telemetry`` (and NNCF does the same).
This package promises no network use unless a download is asked for, so every import of them goes
through :func:`import_openvino`, which blocks the ``openvino_telemetry`` module before the first
import; OpenVINO then uses its own built-in no-op stub. ``ADAIN_ALLOW_TELEMETRY=1`` leaves it alone.
The user's consent file is never written.
"""

from __future__ import annotations

import os
import sys
from types import ModuleType

__all__ = ["block_telemetry", "import_openvino"]


def block_telemetry() -> None:
    """Make ``import openvino_telemetry`` fail (its users fall back to no-op stubs), unless it was
    imported already or ``$ADAIN_ALLOW_TELEMETRY`` is ``1``."""
    if os.environ.get("ADAIN_ALLOW_TELEMETRY") == "1":
        return
    if sys.modules.get("openvino_telemetry") is None:
        sys.modules["openvino_telemetry"] = None  # type: ignore[assignment]  # the import system's "not available"


def import_openvino() -> ModuleType:
    """``import openvino``, with its telemetry blocked (see the module docstring)."""
    block_telemetry()
    import openvino

    return openvino
