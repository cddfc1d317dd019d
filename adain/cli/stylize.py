"""``adain-stylize``: stylize photos with paintings from the command line (a thin shell).

Every content × every style, or one blended output per content with ``--style-weights``.
Bad input (missing/corrupt/huge images, wrong weights, bad flags, unwritable output) ends with
one line on stderr and exit status 2, before any output is written; outputs are written to a
temporary name and renamed, and existing files are only replaced with ``--overwrite``. The parsed
options become plain values (:class:`~adain.pipeline.spec.ModelSpec`,
:class:`~adain.pipeline.request.StylizeRequest`) that the jobs (:mod:`adain.methods.jobs`) run on.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path
from typing import Any

from adain.cli.common import run_command
from adain.cli.model_options import make_pipeline, model_spec
from adain.cli.options import optimization_request, options_from_args
from adain.cli.parser import split_list
from adain.cli.stylize_checks import (
    check_creative,
    check_options,
    method_tag,
    refuse_unused,
    resolve_inputs,
)
from adain.cli.stylize_options import PROG, build_parser
from adain.errors import AdainError, UsageError, describe_os_error
from adain.io.atomic import check_writable
from adain.io.files import is_video, list_images, read_stdin_image
from adain.io.images import read_image
from adain.methods.jobs import Outcome, check_inputs, describe, execute, plan, resize_note
from adain.pipeline.request import StylizeRequest

__all__ = ["PROG", "build_parser", "infer_main", "main"]


def _run(args: argparse.Namespace) -> int:
    if args.info:
        from adain.runtime.info import format_info, gather_info

        print(format_info(gather_info(), args.json), flush=True)
        return 0
    if args.list_styles:
        from adain.io.styles import named_styles

        for style in named_styles().values():
            print(f"{style.name:<10} {style.title}  ({style.path})")
        return 0
    if args.download:
        from adain.weights.download import download_model

        for path in download_model(args.download, progress=not args.quiet):
            print(path)
        return 0
    args = resolve_inputs(args)
    check_options(args)
    with ExitStack() as stack:
        args, stdout_file = _stdio(args, stack)
        return _run_files(args, stdout_file)


def _stdio(args: argparse.Namespace, stack: ExitStack) -> tuple[argparse.Namespace, Path | None]:
    """``-`` as the content (stdin, saved to a private temporary folder) and as ``--output`` (a
    temporary file whose bytes go to stdout once it is complete)."""
    reads, writes = args.content == ["-"], args.output == "-"
    if "-" in args.content and not reads:
        raise UsageError("- (stdin) must be the only content")
    if not (reads or writes):
        return args, None
    if writes and args.json:
        raise UsageError("--output - writes the image to stdout; --json would mix with it (choose one)")
    if writes and args.devices is not None:
        raise UsageError("--output - writes one image to stdout; --devices writes folders")
    tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="adain-stdio-")))
    changes: dict[str, Any] = {}
    if reads:
        changes["content"] = [str(read_stdin_image(sys.stdin, tmp))]
    stdout_file = None
    if writes:
        stdout_file = tmp / "out" / f"stdout.{args.ext or 'png'}"
        changes["output"] = str(stdout_file)
    return argparse.Namespace(**{**vars(args), **changes}), stdout_file


def _run_files(args: argparse.Namespace, stdout_file: Path | None) -> int:
    optimize = optimization_request(args)
    if optimize is not None:
        options_from_args(args, optimize[1])  # one line for a bad option, before any work
    contents = (
        [Path(args.content[0])]
        if is_video(args.content[0]) and Path(args.content[0]).is_file()
        else list_images(args.content)
    )
    styles = list_images(split_list(args.style))
    refuse_unused(args, any(is_video(c) for c in contents))
    request = check_creative(args, contents, styles, optimize)
    if args.devices is not None:
        return _run_predict(args, request, contents, styles)
    if stdout_file is not None:
        n = len(contents) * (1 if request.together else len(styles))
        if n != 1 or is_video(contents[0]):
            raise UsageError(f"--output - writes one image to stdout, but this run makes {n} output(s)")
    jobs = plan(
        contents, styles, args.output, request, ext=args.ext, skip_existing=args.skip_existing, method=method_tag(args)
    )
    if not jobs:
        if args.quiet < 2:
            print(f"{PROG}: nothing to do: every output already exists (--skip-existing)", file=sys.stderr)
        return 0
    out_dirs = sorted({t.parent for _, _, t in jobs})
    check_inputs(contents, styles, request, optimize is not None)
    pipe = make_pipeline(model_spec(args), PROG)
    # the backend loads and compiles while the inputs are decoded (one photo: about 0.1 s sooner)
    threading.Thread(target=pipe.runtime.warm_up, name="adain-warm-up", daemon=True).start()
    optimizer = None
    if optimize is not None:
        from adain.methods.gatys.request import optimizer_for

        options = options_from_args(args, optimize[1])
        optimizer = optimizer_for(pipe, args.loss_heads, optimize[0], options, request, progress=not args.quiet)
    started = time.perf_counter()
    try:
        outcome = execute(pipe, request, jobs, optimizer)
    except (AdainError, OSError) as e:
        what = describe_os_error(e) if isinstance(e, OSError) else str(e)
        if getattr(e, "kept", 0):
            what += f" (the {e.kept} output(s) finished before were kept; rerun with --skip-existing for the rest)"  # type: ignore[attr-defined]
        raise AdainError(what) from None
    seconds = (time.perf_counter() - started) / max(1, len(outcome.written))
    written = set(outcome.written)
    report = [describe(pipe, request, job, seconds, args.grid is not None) for job in jobs if job[2] in written]
    if stdout_file is not None:
        sys.stdout.buffer.write(stdout_file.read_bytes())
        sys.stdout.flush()
    if args.json:
        for entry in report:
            print(json.dumps(entry))
        sys.stdout.flush()
    return _summary(args, outcome, out_dirs, report, stdout_file is not None)


def _summary(
    args: argparse.Namespace, outcome: Outcome, out_dirs: list[Path], report: list[dict[str, Any]], to_stdout: bool
) -> int:
    """One line per output another run wrote first, then what this run wrote (and any resize)."""
    for t in outcome.taken:
        print(f"{PROG}: {t}: another run wrote it meanwhile; left alone", file=sys.stderr)
    if args.quiet < 2:
        written = outcome.written
        where = (
            "stdout"
            if to_stdout
            else written[0]
            if len(written) == 1
            else out_dirs[0]
            if len(out_dirs) == 1
            else "several directories"
        )
        taken = f" ({len(outcome.taken)} written by another run)" if outcome.taken else ""
        print(
            f"wrote {len(written)} image(s) to {where}{taken}{resize_note(report, args.content_size)}", file=sys.stderr
        )
    return 0


def _run_predict(args: argparse.Namespace, request: StylizeRequest, contents: list[Path], styles: list[Path]) -> int:
    """The --devices path: Trainer.predict over all pending (content, style) jobs, with the same
    options as the single-process path (or a one-line refusal of those it cannot honour)."""
    from adain.methods.predict import DeviceRun, check_devices_run, predict_jobs

    spec, out = model_spec(args), Path(args.output).expanduser()
    check_devices_run(request, spec.run, contents, args.output)
    # existing outputs are skipped, not errors
    jobs_all = plan(
        contents, styles, args.output, request, ext=args.ext, skip_existing=args.skip_existing, method=method_tag(args),
        overwrite=True,
    )  # fmt: skip
    for f in dict.fromkeys([*contents, *styles]):
        read_image(f, args.max_pixels)
    check_writable(out)
    # the network is built on the CPU; Lightning moves it
    pipe = make_pipeline(replace(spec, run=replace(spec.run, backend="torch", device="cpu")), PROG)
    devices: int | str = int(args.devices) if str(args.devices).isdigit() else args.devices
    run = DeviceRun(
        devices, args.num_nodes, args.strategy, args.accelerator, spec.run.precision, spec.run.channels_last,
        progress=not args.quiet,
    )  # fmt: skip
    written = predict_jobs(pipe, jobs_all, request, run)
    if not args.quiet:
        print(f"wrote {written} image(s) to {out}", file=sys.stderr)
    return 0


def infer_main(args: Sequence[str] | None = None) -> int:
    """Entry point of ``adain-stylize``; returns the exit status (0 ok, 2 bad input)."""
    ns = build_parser().parse_args(args)
    return run_command(PROG, lambda: _run(ns), ns.verbose - ns.quiet)


def main() -> None:
    sys.exit(infer_main())


if __name__ == "__main__":  # pragma: no cover
    main()
