"""User-facing errors: the CLIs turn these (and only these) into one line on stderr and exit status 2.

Every mistake a user can make is raised as an :class:`AdainError` subclass, by the library and
the CLIs alike, so the wording is the same everywhere. The subclasses that also derive from a
builtin (``ValueError``, ``FileExistsError``) keep ``except ValueError`` in user code working.
"""

from __future__ import annotations

__all__ = ["AdainError", "ArchitectureError", "ImageError", "OutputExistsError", "UsageError", "WeightsError"]


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
