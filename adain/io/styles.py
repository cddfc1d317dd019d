"""Named styles: public-domain paintings shipped in the package (the web app's examples), usable
wherever a style path is (``--style matisse``). Sources and licence: ``examples/LICENSE.md`` beside
the images."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

__all__ = ["STYLES_DIR", "NamedStyle", "named_styles", "resolve_style"]

#: the shipped paintings (``examples.json`` lists them with their titles)
STYLES_DIR = Path(__file__).resolve().parent.parent / "webapp" / "static" / "examples"


@dataclass(frozen=True)
class NamedStyle:
    """A shipped painting: its short name (the file name's first word), title and file."""

    name: str
    title: str
    path: Path


@cache
def named_styles() -> dict[str, NamedStyle]:
    """Short name → :class:`NamedStyle`, in the order of ``examples.json``."""
    entries = json.loads((STYLES_DIR / "examples.json").read_text(encoding="utf-8"))
    out: dict[str, NamedStyle] = {}
    for entry in entries:
        path = STYLES_DIR / entry["file"]
        name = path.stem.split("_", 1)[0]
        out[name] = NamedStyle(name, entry["title"], path)
    return out


def resolve_style(ref: str) -> str:
    """A style reference as a path: an existing file or folder wins; else a shipped painting's
    name (``matisse``); anything else is returned as given (the caller reports it missing)."""
    if Path(ref).expanduser().exists():
        return ref
    found = named_styles().get(ref.lower())
    return str(found.path) if found else ref
