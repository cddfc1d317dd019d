"""What every command shares: the entry wrapper (one line and exit 2 for a user's mistake,
SIGTERM handled like Ctrl-C), option types, and the model options with the pipeline they build.

Commands parse their arguments, turn them into plain values (:class:`ModelOptions`) and pass those
down; nothing writes into a parsed namespace.
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import logging
import re
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

from adain.errors import AdainError, missing_dependency
from adain.io.images import DEFAULT_MAX_PIXELS, MAX_SIZE
from adain.runtime.base import BACKENDS
from adain.runtime.precision import PRECISIONS
from adain.weights.registry import MODELS, choose_model

if TYPE_CHECKING:
    from adain.pipeline.core import Pipeline
    from adain.runtime.config import RunConfig

__all__ = [
    "ModelOptions",
    "Parser",
    "DefaultsOnceFormatter",
    "describe_os_error",
    "given",
    "plain_text",
    "add_model_options",
    "command_logging",
    "make_pipeline",
    "model_ref",
    "report_interrupt",
    "run_command",
    "size_type",
    "split_list",
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


def describe_os_error(e: OSError) -> str:
    """``path: reason`` of a file-system error (the path it names, if any)."""
    where = e.filename if e.filename is not None else ""
    reason = e.strerror or str(e) or type(e).__name__
    return f"{where}: {reason}" if where else reason


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


# ----------------------------------------------------------------------------- option types
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


def size_type(text: str) -> int:
    """A shorter-side size: 0 (keep the original) up to :data:`adain.io.images.MAX_SIZE`."""
    v = int(text)
    if not 0 <= v <= MAX_SIZE:
        raise argparse.ArgumentTypeError(f"must be between 0 and {MAX_SIZE}, got {v}")
    return v


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


# ----------------------------------------------------------------------------- the model
def add_model_options(p: argparse.ArgumentParser) -> argparse._ArgumentGroup:
    """The model options shared by ``adain-stylize`` and ``adain-studio`` (read by :meth:`ModelOptions.from_args`)."""
    md = p.add_argument_group("model")
    md.add_argument(
        "--model",
        default="auto",
        type=model_ref,
        metavar="MODEL",
        help="auto (canonical when its files are cached, else the built-in small16x), canonical, small16x, "
        "a model folder (adain-export hub) or a Hugging Face Hub id owner/name[@revision]",
    )
    md.add_argument(
        "--backend",
        default="auto",
        choices=list(BACKENDS),
        help="where the networks run; auto = OpenVINO on CPU when installed, torch on GPUs",
    )
    md.add_argument("--checkpoint", metavar="CKPT", help="an adain-train checkpoint instead of --model")
    md.add_argument("--encoder-weights", metavar="PATH", help="encoder weights file (default: cache, then download)")
    md.add_argument("--decoder-weights", metavar="PATH", help="decoder weights file (default: cache, then download)")
    md.add_argument("--no-download", action="store_true", help="never download weights; fail if not cached")
    md.add_argument(
        "--custom-weights",
        action="store_true",
        help="an --encoder-weights file that intentionally differs from the registered one (no warning)",
    )
    md.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    md.add_argument(
        "--precision",
        default="auto",
        choices=list(PRECISIONS),
        help="precision of the convolutions (statistics and AdaIN stay fp32); auto = bf16 on "
        "CUDA GPUs with bf16 and on CPUs with AMX/AVX512-BF16, else fp32; int8 (OpenVINO): quantized "
        "with NNCF behind a quality gate, fp32 if it fails; auto then picks int8 where it passed",
    )
    md.add_argument(
        "--calibration",
        metavar="DIR",
        help="images to calibrate --precision int8 on (default: the package's synthetic set)",
    )
    md.add_argument("--compile", action="store_true", help="torch.compile the networks (pays off on long runs)")
    md.add_argument("--no-channels-last", action="store_true", help="keep NCHW memory format")
    return md


@dataclass(frozen=True)
class ModelOptions:
    """The model and where it runs, as plain values (see :func:`add_model_options`)."""

    model: str = "auto"
    checkpoint: str | None = None
    encoder_weights: str | None = None
    decoder_weights: str | None = None
    download: bool = True
    custom_weights: bool = False
    backend: str = "auto"
    device: str = "auto"
    precision: str = "auto"
    compile: bool = False
    channels_last: bool = True
    max_pixels: int = DEFAULT_MAX_PIXELS
    quiet: bool = False
    calibration: str | None = None

    @classmethod
    def from_args(cls, ns: argparse.Namespace) -> ModelOptions:
        return cls(
            ns.model,
            ns.checkpoint,
            ns.encoder_weights,
            ns.decoder_weights,
            not ns.no_download,
            ns.custom_weights,
            ns.backend,
            ns.device,
            ns.precision,
            ns.compile,
            not ns.no_channels_last,
            getattr(ns, "max_pixels", DEFAULT_MAX_PIXELS),
            bool(ns.quiet),
            getattr(ns, "calibration", None),
        )

    def replace(self, **changes: Any) -> ModelOptions:
        return dataclasses.replace(self, **changes)

    @property
    def run(self) -> RunConfig:
        """How the model runs (:class:`~adain.runtime.config.RunConfig`)."""
        from adain.runtime.config import RunConfig

        return RunConfig(
            self.backend,
            self.device,
            self.precision,
            self.channels_last,
            self.compile,
            self.calibration,
            not self.quiet,
        )


def make_pipeline(opts: ModelOptions, prog: str) -> Pipeline:
    """The pipeline for the model options (prints which model ``--model auto`` chose)."""
    from adain.pipeline.core import Pipeline  # not for --help

    kw = {"run": opts.run, "max_pixels": opts.max_pixels}
    if opts.checkpoint:
        return Pipeline.from_checkpoint(opts.checkpoint, opts.encoder_weights, **kw)
    model, note = choose_model(opts.model, bool(opts.encoder_weights or opts.decoder_weights))
    if note and not opts.quiet:
        print(f"{prog}: {note}", file=sys.stderr)
    return Pipeline.from_pretrained(
        model,
        opts.encoder_weights,
        opts.decoder_weights,
        download=opts.download,
        weights_check="off" if opts.custom_weights else "warn",
        **kw,
    )
