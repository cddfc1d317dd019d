"""User-facing errors: the CLIs turn these (and only these) into one line on stderr and exit status 2.

Every mistake a user can make is raised as an :class:`AdainError` subclass, by the library and
the CLIs alike, so the wording is the same everywhere. The subclasses that also derive from a
builtin (``ValueError``, ``FileExistsError``) keep ``except ValueError`` in user code working.
"""

from __future__ import annotations

__all__ = [
    "EXTRAS",
    "AdainError",
    "ArchitectureError",
    "ImageError",
    "MissingDependencyError",
    "OutputExistsError",
    "UsageError",
    "WeightsError",
    "describe_os_error",
    "missing_dependency",
    "os_reason",
]


class AdainError(Exception):
    """Base class of every error that is the user's input, not a bug."""


class UsageError(AdainError, ValueError):
    """A bad option or argument value (alpha outside [0, 1], unknown precision, …)."""


class ImageError(AdainError):
    """An input image is missing, unreadable, truncated, or too large."""


class WeightsError(AdainError):
    """A weights file is missing, cannot be downloaded, or does not verify."""


class ArchitectureError(WeightsError, ValueError):
    """A weights file does not fit the network (names the first mismatched key or shape)."""


class OutputExistsError(AdainError, FileExistsError):
    """An output file exists and replacing it was not asked for."""


class MissingDependencyError(AdainError, ImportError):
    """Something asked for needs an optional dependency that is not installed (names the extra)."""


#: optional packages → the extra of ``pip install 'adain[extra]'`` that brings them
EXTRAS = {
    "torch": "torch",
    "torchvision": "torch",
    "lightning": "train",
    "lightning_fabric": "train",
    "jsonargparse": "train",
    "wandb": "train",
    "gradio": "studio",
    "gradio_client": "studio",
    "onnxruntime": "onnxruntime",
    "nncf": "int8",
}

_WHY = {
    "torch": "PyTorch (the base install stylizes with OpenVINO)",
    "train": "the training stack",
    "studio": "the studio's web UI",
    "onnxruntime": "ONNX Runtime",
    "int8": "NNCF (int8 quantization)",
}


def missing_dependency(e: ImportError, extra: str | None = None) -> MissingDependencyError | None:
    """The one-line error for an optional package that is not installed, or ``None`` when ``e``
    is about anything else (a bug, or a package every install has). ``extra`` names the extra to
    install instead of the package's own (a command whose whole stack comes with one extra)."""
    name = (getattr(e, "name", None) or "").split(".")[0]
    if name not in EXTRAS:
        return None
    extra = extra or EXTRAS[name]
    return MissingDependencyError(
        f"this needs {_WHY[extra]}, which is not installed ({name}): pip install 'adain[{extra}]'"
    )


def os_reason(e: OSError) -> str:
    """Why a file-system call failed, in words (``No space left on device``)."""
    return e.strerror or str(e) or type(e).__name__


def describe_os_error(e: OSError) -> str:
    """``path: reason`` of a file-system error (the path it names, if any), for one-line messages."""
    return f"{e.filename}: {os_reason(e)}" if e.filename not in (None, "") else os_reason(e)
