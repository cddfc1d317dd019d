"""The commands' argument parsing: a parser whose mistakes are one line with a suggestion,
``--help`` that says each default once, and the option types they share."""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NoReturn, TypeVar

from adain.io.images import MAX_SIZE
from adain.weights.registry import MODELS

T = TypeVar("T")

__all__ = [
    "DefaultsOnceFormatter",
    "Parser",
    "bounded",
    "fields_from",
    "given",
    "model_ref",
    "plain_text",
    "size_type",
    "split_list",
]


class DefaultsOnceFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """``--help`` with each default said once: none for options without one (``None``, off
    switches) or whose help already says it; reST markup of docstrings shown as plain text."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if default is None or default is False or default == argparse.SUPPRESS or not action.option_strings:
            return text
        if "default" in text or f"({default})" in text or "%(default)" in text:
            return text
        return super()._get_help_string(action)

    def format_help(self) -> str:
        return plain_text(super().format_help())


def plain_text(text: str) -> str:
    """reST roles and literals (``:mod:`adain.x```, ````x````) as plain text."""
    text = re.sub(r":\w+:`~?([^`<]+?)(?:\s*<[^>]+>)?`", r"\1", text)
    return text.replace("``", "")


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose mistakes are one line (and where to look), not the usage block:
    ``adain-stylize: error: argument --alpha: invalid float value: 'abc' (see adain-stylize --help)``.

    Options are never abbreviated (``--iter`` is a mistake with a suggestion, not ``--iterations``),
    so :func:`given` can tell which options the user typed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        kwargs.setdefault("formatter_class", DefaultsOnceFormatter)
        super().__init__(*args, **kwargs)
        from adain._version import __version__

        self.add_argument(
            "--version",
            action="version",
            version=f"adain {__version__}"
            if self.prog.startswith("python")
            else f"{self.prog.split()[0]} {__version__}",
        )

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        argv = list(sys.argv[1:] if args is None else args)
        ns, rest = super().parse_known_args(argv, namespace)
        ns._given = frozenset(self._typed(argv))
        return ns, rest

    def _typed(self, argv: list[str]) -> Iterator[str]:
        """The destinations of the options that appear in ``argv`` (before a bare ``--``)."""
        owner = {o: a.dest for a in self._actions for o in a.option_strings}
        for token in argv:
            if token == "--":
                return
            name = token.split("=", 1)[0] if token.startswith("--") else token
            if name in owner:
                yield owner[name]

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}{self._suggestion(message)} (see {self.prog} --help)\n")

    def _suggestion(self, message: str) -> str:
        """``; did you mean --style-weights?`` for a mistyped option (the closest known one)."""
        if not message.startswith("unrecognized arguments:"):
            return ""
        known = [o for a in self._actions for o in a.option_strings if o.startswith("--")]
        for word in message.split(":", 1)[1].split():
            if word.startswith("--"):
                name = word.split("=", 1)[0]
                close = [k for k in known if k.startswith(name)][:3]  # an abbreviation (not accepted)
                close = close or difflib.get_close_matches(name, known, n=1, cutoff=0.75)
                if close:
                    return f"; did you mean {' or '.join(close)}?"
        return ""


def given(ns: argparse.Namespace, dest: str) -> bool:
    """Whether the user typed the option stored in ``dest`` (not just its default)."""
    return dest in getattr(ns, "_given", frozenset())


def fields_from(cls: type[T], ns: argparse.Namespace, **spelt_otherwise: Any) -> T:
    """The dataclass ``cls`` made from the parsed options named like its fields (a field without
    an option keeps its default), and ``spelt_otherwise`` for the fields whose option has another
    name or meaning (``weights=ns.style_weights``), so no command re-lists a dataclass's fields."""
    import dataclasses

    same = {f.name: getattr(ns, f.name) for f in dataclasses.fields(cls) if f.init and hasattr(ns, f.name)}  # type: ignore[arg-type]
    return cls(**{**same, **spelt_otherwise})


def bounded(kind: Callable[[str], Any], low: float | None = None, high: float | None = None) -> Callable[[str], Any]:
    """An option type: a ``kind`` (``int``, ``float``) value in ``[low, high]`` (an open end: ``None``);
    argparse says ``argument --queue-size: must be >= 1, got 0``."""

    def parse(text: str) -> Any:
        v = kind(text)  # a ValueError: argparse's "invalid int value: 'abc'"
        if not ((low is None or v >= low) and (high is None or v <= high)):  # (NaN is in no range)
            where = (
                (f"between {low} and {high}" if high is not None else f">= {low}") if low is not None else f"<= {high}"
            )
            raise argparse.ArgumentTypeError(f"must be {where}, got {v}")
        return v

    parse.__name__ = getattr(kind, "__name__", "value")  # argparse names the type in its messages
    return parse


#: a shorter-side size: 0 (keep the original) up to :data:`adain.io.images.MAX_SIZE`
size_type = bounded(int, 0, MAX_SIZE)


def model_ref(text: str) -> str:
    """``--model``: ``auto``, a registered name, a model folder, or a Hub id ``owner/name[@revision]``."""
    from adain.weights.registry import is_model_ref

    if text == "auto" or text in MODELS or is_model_ref(text):
        return text
    raise argparse.ArgumentTypeError(
        f"{text!r} is not a model: choose auto, {', '.join(sorted(MODELS))}, a model folder or a Hub id (owner/name)"
    )


def split_list(values: Sequence[str]) -> list[str]:
    """Accept both ``--style a.jpg b.jpg`` and ``--style a.jpg,b.jpg``."""
    out: list[str] = []
    for v in values:
        out.extend(p for p in v.split(",") if p)
    return out
