"""MkDocs hook: the command-line reference is generated from the commands' own parsers.

A page line ``<!-- cli: adain-stylize -->`` becomes that command's ``--help`` (its argparse
parser, rendered at a fixed width), so the reference changes whenever an option changes.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Callable
from typing import Any

MARKER = re.compile(r"^<!-- cli: (?P<name>[\w.-]+) -->$", re.MULTILINE)


def parsers() -> dict[str, Callable[[], argparse.ArgumentParser]]:
    """The documented commands and their parser builders (imported lazily)."""
    from adain.cli import evaluate, export, studio, stylize_options

    return {
        "adain-stylize": stylize_options.build_parser,
        "adain-evaluate": evaluate.build_parser,
        "adain-export": export.build_parser,
        "adain-studio": studio.build_parser,
    }


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:  # argparse offers no public accessor for its sub-commands
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def render(name: str, build: Callable[[], argparse.ArgumentParser]) -> str:
    """Markdown for one command: its full help, and each sub-command's."""
    os.environ["COLUMNS"] = "100"  # argparse wraps at the terminal's width: fix it for a stable page
    parser = build()
    parts = [f"## `{name}`\n\n```text\n{parser.format_help().rstrip()}\n```\n"]
    for sub, sp in _subparsers(parser).items():
        parts.append(f"### `{name} {sub}`\n\n```text\n{sp.format_help().rstrip()}\n```\n")
    return "\n".join(parts)


def expand(markdown: str, builders: dict[str, Callable[[], argparse.ArgumentParser]] | None = None) -> str:
    """Replace every ``<!-- cli: NAME -->`` line with NAME's generated reference."""
    builders = parsers() if builders is None else builders

    def one(m: re.Match[str]) -> str:
        name = m.group("name")
        if name not in builders:
            raise ValueError(f"cli reference: unknown command {name!r}; known: {', '.join(builders)}")
        return render(name, builders[name])

    return MARKER.sub(one, markdown)


def on_page_markdown(markdown: str, **kwargs: Any) -> str:
    return expand(markdown) if MARKER.search(markdown) else markdown
