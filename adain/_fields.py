"""One helper for the frozen option objects (:class:`~adain.pipeline.request.StylizeRequest`,
:class:`~adain.runtime.config.RunConfig`): a copy with some fields changed, unknown names refused."""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

from adain.errors import UsageError

__all__ = ["replace_known"]

T = TypeVar("T")


def replace_known(obj: T, what: str, fields: dict[str, Any]) -> T:
    """``obj`` with ``fields`` changed (its checks run again); a name it has no field for is one
    :class:`UsageError` naming ``what`` (``unknown stylization option(s): alpah``)."""
    unknown = sorted(set(fields) - {f.name for f in dataclasses.fields(obj)})  # type: ignore[arg-type]
    if unknown:
        raise UsageError(f"unknown {what}(s): {', '.join(unknown)}")
    return dataclasses.replace(obj, **fields) if fields else obj  # type: ignore[type-var]
