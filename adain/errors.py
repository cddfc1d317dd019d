"""User-facing errors: the CLIs turn these into one line on stderr and exit status 2."""

from __future__ import annotations

__all__ = ["AdainError", "ImageError", "WeightsError"]


class AdainError(Exception):
    """Base class of every error that is the user's input, not a bug."""


class ImageError(AdainError):
    """An input image is missing, unreadable, truncated, or too large."""


class WeightsError(AdainError):
    """A weights file is missing, cannot be downloaded, or does not verify."""
