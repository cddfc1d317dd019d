"""What every command shares: the entry wrapper (one line and exit 2 for a user's mistake,
SIGTERM handled like Ctrl-C, the package's log on stderr). Parsing: :mod:`adain.cli.parser`; the
model options: :mod:`adain.cli.model_options`.

Commands parse their arguments, turn them into plain values and pass those down; nothing writes
into a parsed namespace.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from adain.errors import AdainError, describe_os_error, missing_dependency

__all__ = [
    "command_logging",
    "report_interrupt",
    "run_command",
    "terminate_as_interrupt",
]


# ----------------------------------------------------------------------------- entry wrapper
class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a record is emitted (a test's capture, a redirect)."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(logging.Formatter("adain: %(message)s"))

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


@contextmanager
def command_logging(verbosity: int = 0) -> Iterator[None]:
    """The package's log (``logging.getLogger("adain")``) on stderr as ``adain: …`` while a command
    runs: INFO by default (what a first run converts, what int8 decided), warnings only with
    ``-q``/``-qq`` (a damaged cache, a fallback: never hidden), DEBUG with ``-v``. Restored
    afterwards, so a library user's own configuration is left as it was."""
    logger = logging.getLogger("adain")
    level = logging.WARNING if verbosity < 0 else logging.INFO if verbosity == 0 else logging.DEBUG
    handler = _StderrHandler()
    saved = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]


def run_command(prog: str, fn: Callable[[], int], verbosity: int = 0) -> int:
    """Run a command's body: an :class:`~adain.errors.AdainError` or a file-system error becomes
    ``prog: error: …`` (one line) on stderr and exit status 2; Ctrl-C and SIGTERM end with one line
    and 128 + the signal. The package's log goes to stderr meanwhile (:func:`command_logging`)."""
    with terminate_as_interrupt(), command_logging(verbosity):
        try:
            return fn()
        except AdainError as e:
            print(f"{prog}: error: {e}", file=sys.stderr)
            return 2
        except ImportError as e:  # an optional extra the request needs: which one to install
            missing = missing_dependency(e)
            if missing is None:
                raise
            print(f"{prog}: error: {missing}", file=sys.stderr)
            return 2
        except BrokenPipeError:  # `adain-stylize --info | head`: the reader left; stop quietly, like cat
            _silence_stdout()
            return 141  # 128 + SIGPIPE, what a shell reports for a tool ended by a closed pipe
        except OSError as e:  # disk full, read-only, name too long, permissions: the file and why
            print(f"{prog}: error: {describe_os_error(e)}", file=sys.stderr)
            return 2
        except KeyboardInterrupt as e:
            return report_interrupt(prog, e)


def _silence_stdout() -> None:
    import os

    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # Python's exit flush must not fail again
    except (OSError, ValueError):
        pass


@contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM (a scheduler, ``kill``) is handled like Ctrl-C: it raises :class:`KeyboardInterrupt`
    (with ``signum``) so the same cleanup runs; the previous handler is restored afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        e = KeyboardInterrupt()
        e.signum = signum  # type: ignore[attr-defined]
        raise e

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def report_interrupt(prog: str, e: KeyboardInterrupt) -> int:
    """One line for an interrupted run; the exit status is 128 + the signal (130 Ctrl-C, 143 SIGTERM)."""
    signum = getattr(e, "signum", signal.SIGINT)
    name = signal.Signals(signum).name
    kept, total = getattr(e, "kept", None), getattr(e, "total", None)
    if kept is None:
        print(f"{prog}: interrupted ({name}); nothing was written", file=sys.stderr)
    else:
        print(
            f"{prog}: interrupted ({name}) after {kept} of {total} outputs; the finished ones were kept, "
            "rerun with --skip-existing to make the rest",
            file=sys.stderr,
        )
    return 128 + int(signum)
