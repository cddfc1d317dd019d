"""``adain-stylize``: stylize photos with paintings from the command line (a thin shell).

Every content × every style, or one blended output per content with ``--style-weights``.
Bad input (missing/corrupt/huge images, wrong weights, bad flags, unwritable output) ends with
one line on stderr and exit status 2, before any output is written; outputs are written to a
temporary name and renamed, and existing files are only replaced with ``--overwrite``.
"""

from __future__ import annotations

import argparse
import itertools
import signal
import sys
import tempfile
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from tqdm.auto import tqdm

from .errors import AdainError, UsageError
from .hardware import PRECISIONS
from .io import DEFAULT_MAX_PIXELS, IMAGE_EXTENSIONS, VIDEO_EXTENSIONS, list_images, read_image, save_image
from .runtime import BACKENDS
from .weights import MODELS

__all__ = ["add_model_options", "build_parser", "infer_main", "main", "make_pipeline"]

PROG = "adain-stylize"
_OUT_EXTS = ("jpg", "png", "webp", "bmp", "tif")


def _size(text: str) -> int:
    """A shorter-side size: 0 (keep the original) up to :data:`adain.io.MAX_SIZE`."""
    from .io import MAX_SIZE

    v = int(text)
    if not 0 <= v <= MAX_SIZE:
        raise argparse.ArgumentTypeError(f"must be between 0 and {MAX_SIZE}, got {v}")
    return v


def _split_list(values: Sequence[str]) -> list[str]:
    """Accept both ``--style a.jpg b.jpg`` and ``--style a.jpg,b.jpg``."""
    out: list[str] = []
    for v in values:
        out.extend(p for p in v.split(",") if p)
    return out


def add_model_options(p: argparse.ArgumentParser) -> argparse._ArgumentGroup:
    """The model options shared by ``adain-stylize`` and ``adain-studio`` (read by :func:`make_pipeline`)."""
    md = p.add_argument_group("model")
    md.add_argument("--model", default="auto", choices=["auto", *sorted(MODELS)],
                    help="pretrained model; auto = canonical when its files are cached, else the built-in small16x")
    md.add_argument("--backend", default="auto", choices=list(BACKENDS),
                    help="where the networks run; auto = OpenVINO on CPU when installed, torch on GPUs")
    md.add_argument("--checkpoint", metavar="CKPT", help="an adain-train checkpoint instead of --model")
    md.add_argument("--encoder-weights", metavar="PATH", help="encoder weights file (default: cache, then download)")
    md.add_argument("--decoder-weights", metavar="PATH", help="decoder weights file (default: cache, then download)")
    md.add_argument("--no-download", action="store_true", help="never download weights; fail if not cached")
    md.add_argument("--custom-weights", action="store_true",
                    help="an --encoder-weights file that intentionally differs from the registered one (no warning)")
    md.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    md.add_argument("--precision", default="auto", choices=list(PRECISIONS),
                    help="precision of the convolutions (statistics and AdaIN stay fp32); auto = bf16 on "
                         "CUDA GPUs with bf16 and on CPUs with AMX/AVX512-BF16, else fp32")
    md.add_argument("--compile", action="store_true", help="torch.compile the networks (pays off on long runs)")
    md.add_argument("--no-channels-last", action="store_true", help="keep NCHW memory format")
    return md


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG,
        description="Arbitrary style transfer with AdaIN (Huang & Belongie, 2017).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    io = p.add_argument_group("inputs and outputs")
    io.add_argument("--content", nargs="+", metavar="PATH", help="content image(s) or directories (required)")
    io.add_argument("--style", nargs="+", metavar="PATH", help="style image(s) or directories (required)")
    io.add_argument("--style-weights", nargs="+", type=float, metavar="W",
                    help="blend all styles into one output with these weights (normalised to sum 1)")
    io.add_argument("--output", default="output", metavar="PATH",
                    help="output directory, or a file name when there is exactly one output")
    io.add_argument("--ext", default=None, choices=_OUT_EXTS,
                    help="output format (default: the content's extension, jpg if unknown)")
    io.add_argument("--overwrite", action="store_true", help="replace existing output files")
    io.add_argument("--skip-existing", action="store_true",
                    help="resume: leave outputs that already exist alone and make only the missing ones")
    io.add_argument("--max-pixels", type=int, default=DEFAULT_MAX_PIXELS,
                    help="refuse input images with more pixels (decompression-bomb guard)")
    st = p.add_argument_group("stylization")
    st.add_argument("--alpha", type=float, default=1.0, help="style strength in [0, 1]")
    st.add_argument("--content-size", type=_size, default=512, help="shorter side of the content; 0 keeps the original")
    st.add_argument("--style-size", type=_size, default=512, help="shorter side of the style; 0 keeps the original")
    st.add_argument("--crop", action="store_true", help="centre-crop content and style to squares")
    cr = p.add_argument_group("creative control and big inputs")
    cr.add_argument("--mask", nargs="+", metavar="PATH",
                    help="one mask per style (region k gets style k; uncovered areas keep the content), "
                         "or one label map with one grey level per style; also m1.png,m2.png")
    cr.add_argument("--preserve-color", default="none", choices=["none", "coral", "luminance"],
                    help="keep the content's colours: coral = recolour the style first (paper); "
                         "luminance = stylize luminance only")
    cr.add_argument("--grid", choices=["alpha", "blend"],
                    help="alpha: content, style and alpha 0/.25/.5/.75/1 in one image; "
                         "blend: 5x5 bilinear interpolation of exactly 4 styles")
    cr.add_argument("--tile", type=int, default=None, metavar="N",
                    help="stylize in NxN tiles (bounded memory; automatic above 4 MP on CPU); 0 never tiles")
    cr.add_argument("--temporal-smoothing", type=float, default=0.0, metavar="BETA",
                    help="video: moving average of content statistics across frames (0 = off, e.g. 0.9)")
    from .optimize_options import add_optimize_options

    add_optimize_options(p)
    md = add_model_options(p)
    md.add_argument("--download", metavar="MODEL", choices=sorted(MODELS),
                    help="download a model's weights into the cache (sha256-checked) and exit")
    md.add_argument("--batch-size", type=int, default=4, help="contents of the same size stylized together")
    sc = p.add_argument_group("batches at scale (Lightning Trainer.predict; resumable: existing outputs are skipped)")
    sc.add_argument("--devices", default=None, help="use Trainer.predict on this many devices (e.g. 2, or auto)")
    sc.add_argument("--num-nodes", type=int, default=1, help="nodes for multi-node runs (with --devices)")
    sc.add_argument("--strategy", default="auto", help="Lightning strategy, e.g. ddp (with --devices)")
    sc.add_argument("--accelerator", default="auto", help="Lightning accelerator: auto, cpu, gpu (with --devices)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def _plan(args: argparse.Namespace, contents: list[Path], styles: list[Path],
          inputs: Sequence[Path] = ()) -> list[tuple[Path, list[Path], Path]]:
    """(content, styles, output path) for every job; refuses collisions, outputs that are inputs
    and (unless --overwrite/--skip-existing) existing files; --skip-existing drops finished jobs."""
    protected = {p.resolve() for p in [*contents, *styles, *inputs]}
    together = args.style_weights is not None or args.mask is not None or args.grid == "blend"
    groups = [styles] if together else [[s] for s in styles]
    n_jobs = len(contents) * len(groups)
    out = Path(args.output).expanduser()
    file_exts = VIDEO_EXTENSIONS if _is_video(contents[0]) else IMAGE_EXTENSIONS
    single_file = n_jobs == 1 and out.suffix.lower() in file_exts and not out.is_dir()
    if out.suffix.lower() in file_exts and not out.is_dir() and n_jobs > 1:
        raise AdainError(f"{out}: --output is a file name but there are {n_jobs} outputs; give a directory")
    jobs = []
    seen: dict[Path, Path] = {}
    for c in contents:
        ext = args.ext or (c.suffix.lower().lstrip(".") if c.suffix.lower().lstrip(".") in _OUT_EXTS + ("jpeg",) else "jpg")
        if _is_video(c):
            ext = "mp4"
        kind = {"alpha": "alpha_grid", "blend": "blend_grid"}.get(args.grid or "", "stylized")
        for group in groups:
            style_name = "+".join(s.stem for s in group)
            target = out if single_file else out / f"{c.stem}_{kind}_{style_name}.{ext}"
            if target in seen:
                raise AdainError(f"{target}: two inputs ({seen[target]} and {c}) would write the same output")
            seen[target] = c
            if target.resolve() in protected:
                raise UsageError(f"{target}: the output would replace an input file; choose another --output")
            if target.exists() and getattr(args, "skip_existing", False):
                continue
            if target.exists() and not args.overwrite:
                raise AdainError(f"{target}: output exists (use --overwrite to replace it, or --skip-existing to resume)")
            jobs.append((c, group, target))
    return jobs


def _is_video(p: Path) -> bool:
    return p.suffix.lower() in VIDEO_EXTENSIONS


def _validate_creative(args: argparse.Namespace, contents: list[Path], styles: list[Path]) -> list[Path] | None:
    """Checks of the creative flags; returns the mask files (or None)."""
    from .tiling import MIN_TILE

    if args.tile is not None and args.tile < 0:
        raise UsageError(f"--tile must be >= 0, got {args.tile}")
    if args.tile and args.tile < MIN_TILE:
        raise UsageError(f"--tile must be 0 (never tile) or at least {MIN_TILE}, got {args.tile}")
    if not 0.0 <= args.temporal_smoothing < 1.0:
        raise AdainError(f"--temporal-smoothing must be in [0, 1), got {args.temporal_smoothing}")
    videos = [c for c in contents if _is_video(c)]
    if videos and (len(contents) > 1):
        raise AdainError(f"{videos[0]}: a video must be the only --content")
    if videos and (args.mask or args.grid or args.preserve_color != "none"):
        raise AdainError(f"{videos[0]}: --mask, --grid and --preserve-color work on images, not video")
    if not videos and args.temporal_smoothing:
        raise AdainError("--temporal-smoothing applies to video contents only")
    if getattr(args, "optimize", None) is not None:
        what = "--refine" if args.method == "adain" else "--method gatys"
        if videos:
            raise AdainError(f"{videos[0]}: {what} works on images; video stays AdaIN-only (drop {what})")
        if args.grid or args.tile or args.devices is not None:
            raise UsageError(f"{what} makes one optimised image per output; it cannot be combined with "
                             "--grid, --tile or --devices")
    if args.grid == "blend" and len(styles) != 4:
        raise AdainError(f"--grid blend needs exactly 4 styles, got {len(styles)}")
    if args.grid and (args.mask or args.style_weights is not None):
        raise AdainError("--grid cannot be combined with --mask or --style-weights")
    if args.mask is None:
        return None
    if args.style_weights is not None:
        raise AdainError("--mask assigns one style per region; it cannot be combined with --style-weights")
    if args.tile:
        raise AdainError("--mask cannot be combined with --tile")
    masks = list_images(_split_list(args.mask))
    from .io import label_map_to_masks, to_mask

    loaded = [to_mask(m, args.max_pixels) for m in masks]
    if len(masks) == 1 and len(styles) > 1:
        label_map_to_masks(loaded[0], len(styles), str(masks[0]))
    elif len(masks) != len(styles):
        raise AdainError(f"{masks[0]}: got {len(masks)} masks for {len(styles)} styles (one per style, or one label map)")
    return masks


def _check_writable(directory: Path) -> bool:
    """Create ``directory`` if needed and prove it is writable; returns whether it was created."""
    created = not directory.exists()
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".adain-write-test"):
            pass
    except OSError as e:
        raise AdainError(f"{directory}: output directory is not writable ({e.strerror or e})") from None
    return created


T = TypeVar("T")
R = TypeVar("R")


def _prefetch(pool: ThreadPoolExecutor, fn: Callable[[T], R], items: Sequence[T], ahead: int) -> Iterator[R]:
    """``map(fn, items)`` computed in ``pool``, at most ``ahead`` items in advance (bounded memory)."""
    queue: deque[Future[R]] = deque()
    it = iter(items)
    for item in itertools.islice(it, ahead):
        queue.append(pool.submit(fn, item))
    while queue:
        result = queue.popleft().result()
        for item in itertools.islice(it, 1):
            queue.append(pool.submit(fn, item))
        yield result


def _batched(iterable: Iterable[T], n: int) -> Iterator[list[T]]:
    it = iter(iterable)
    while chunk := list(itertools.islice(it, n)):
        yield chunk


def make_pipeline(args: argparse.Namespace, prog: str = PROG) -> Any:
    """The pipeline for the model options (prints which model ``--model auto`` chose)."""
    from .pipeline import Pipeline
    from .weights import choose_model

    opts = {"backend": args.backend, "device": args.device, "precision": args.precision,
            "channels_last": not args.no_channels_last, "compile": args.compile, "max_pixels": args.max_pixels,
            "verbose": not args.quiet}
    if args.checkpoint:
        return Pipeline.from_checkpoint(args.checkpoint, args.encoder_weights, **opts)
    model, note = choose_model(args.model, bool(args.encoder_weights or args.decoder_weights))
    if note and not args.quiet:
        print(f"{prog}: {note}", file=sys.stderr)
    return Pipeline.from_pretrained(model, args.encoder_weights, args.decoder_weights, download=not args.no_download,
                                    weights_check="off" if args.custom_weights else "warn", **opts)


def _run(args: argparse.Namespace) -> int:
    if args.download:
        from .weights import download_model

        for path in download_model(args.download, progress=not args.quiet):
            print(path)
        return 0
    if not args.content or not args.style:
        raise UsageError("--content and --style are required (or --download MODEL)")
    if not 0.0 <= args.alpha <= 1.0:
        raise UsageError(f"--alpha must be in [0, 1], got {args.alpha}")
    if args.batch_size < 1:
        raise UsageError(f"--batch-size must be >= 1, got {args.batch_size}")
    if args.skip_existing and args.overwrite:
        raise UsageError("--skip-existing and --overwrite contradict each other; choose one")
    from .optimize_options import optimization_request, options_from_args

    args.optimize = optimization_request(args)
    opt_options = options_from_args(args, args.optimize[1]) if args.optimize else None
    contents = [Path(c) for c in args.content if _is_video(Path(c)) and Path(c).is_file()] or list_images(args.content)
    styles = list_images(_split_list(args.style))
    masks = _validate_creative(args, contents, styles)
    if args.style_weights is not None:
        from .mixing import normalize_weights

        try:
            normalize_weights(args.style_weights, len(styles))
        except UsageError as e:
            raise UsageError(f"--style-weights: {e}") from None
    if args.devices is not None:
        return _run_predict(args, contents, styles)
    jobs = _plan(args, contents, styles, masks or ())
    if not jobs:
        if not args.quiet:
            print(f"{PROG}: nothing to do: every output already exists (--skip-existing)", file=sys.stderr)
        return 0
    out_dirs = sorted({t.parent for _, _, t in jobs})
    # Before anything is written: every style decodes, and every input's working size (after
    # resizing) is within --max-pixels, so a bad file or a huge request fails the run up front.
    from .io import probe_size
    from .pipeline import check_working_size

    for f in dict.fromkeys(styles):
        check_working_size(*probe_size(f, args.max_pixels), args.style_size, args.crop, args.max_pixels, str(f))
        read_image(f, args.max_pixels)
    for f in contents:
        if not _is_video(f):
            nh, nw = check_working_size(*probe_size(f, args.max_pixels), args.content_size, args.crop,
                                        args.max_pixels, str(f))
            if opt_options is not None:
                from .optimize_options import MAX_OPTIMIZE_PIXELS

                if nh * nw > MAX_OPTIMIZE_PIXELS:
                    raise UsageError(f"{f}: {nw}x{nh} is too large to optimise (limit "
                                     f"{MAX_OPTIMIZE_PIXELS / 1e6:.1f} MP); lower --content-size")
    pipe = make_pipeline(args)
    loss_net = None
    if opt_options is not None:
        from .optimize import loss_network_of_pipeline

        loss_net = loss_network_of_pipeline(pipe, args.loss_heads)
        opt_options.validate(loss_net.layers)
    created = [d for d in out_dirs if _check_writable(d)]
    from .io import remove_stale_parts

    for d in out_dirs:  # temporary files of earlier runs that were killed
        remove_stale_parts(d)
    written: list[Path] = []
    saves: list[Future[Path]] = []
    # Decoding the next contents and encoding/writing finished images run in worker threads
    # (PIL releases the GIL), overlapped with the network on the main thread.
    pool = ThreadPoolExecutor(max_workers=2)
    try:
        groups: dict[tuple[Path, ...], list[tuple[Path, Path]]] = {}
        for content, group, target in jobs:
            groups.setdefault(tuple(group), []).append((content, target))
        simple = (masks is None and args.grid is None and args.preserve_color == "none" and not _is_video(jobs[0][0])
                  and loss_net is None)
        kw = {"alpha": args.alpha, "content_size": args.content_size, "style_size": args.style_size, "crop": args.crop}
        bar = tqdm(total=len(jobs), desc="stylizing", unit="img", disable=args.quiet or None)
        for content, group, target in ([] if simple else jobs):
            if _is_video(content):
                from .video import stylize_video

                written.append(stylize_video(
                    pipe, content, group, target, alpha=args.alpha, weights=args.style_weights,
                    content_size=args.content_size, style_size=args.style_size, batch_size=args.batch_size,
                    temporal_smoothing=args.temporal_smoothing, overwrite=args.overwrite, progress=not args.quiet))
            elif args.grid == "alpha":
                from .grids import alpha_sweep

                grid = alpha_sweep(pipe, content, group[0], preserve_color=args.preserve_color, tile=args.tile,
                                   **{k: v for k, v in kw.items() if k != "alpha"})
                saves.append(pool.submit(save_image, grid, target, args.overwrite))
            elif args.grid == "blend":
                from .grids import blend_grid

                grid = blend_grid(pipe, content, group, alpha=args.alpha, content_size=args.content_size,
                                  style_size=args.style_size, crop=args.crop, preserve_color=args.preserve_color,
                                  tile=args.tile)
                saves.append(pool.submit(save_image, grid, target, args.overwrite))
            elif loss_net is not None:
                from .optimize import stylize_optimized

                out = stylize_optimized(pipe, loss_net, content, group, init=args.optimize[0], options=opt_options,
                                        weights=args.style_weights, preserve_color=args.preserve_color, masks=masks,
                                        progress=not args.quiet, **kw)
                saves.append(pool.submit(save_image, out, target, args.overwrite))
            else:
                out = pipe.stylize(content, group, weights=args.style_weights, preserve_color=args.preserve_color,
                                   masks=masks, tile=args.tile, **kw)
                saves.append(pool.submit(save_image, out, target, args.overwrite))
            bar.update(1)
        for group, items in (groups.items() if simple else []):
            loaded = _prefetch(pool, lambda it: read_image(it[0], args.max_pixels), items, 2 * args.batch_size)
            for chunk in _batched(zip(items, loaded), args.batch_size):
                outs = pipe.stylize_batch(
                    [img for _, img in chunk], list(group), alpha=args.alpha, weights=args.style_weights,
                    content_size=args.content_size, style_size=args.style_size, crop=args.crop,
                    batch_size=args.batch_size, tile=args.tile,
                )
                for ((_, target), _), out in zip(chunk, outs):
                    saves.append(pool.submit(save_image, out, target, args.overwrite))
                bar.update(len(chunk))
        for f in saves:
            written.append(f.result())
        bar.close()
    except BaseException as e:
        for f in saves:
            f.cancel()
        pool.shutdown(wait=True)
        # Only files this run claimed (atomically, see adain.io.atomic_path) are ever touched.
        written = [f.result() for f in saves if f.done() and not f.cancelled() and f.exception() is None]
        if isinstance(e, KeyboardInterrupt):  # Ctrl-C or SIGTERM: keep every finished output
            e.kept = len(written)  # type: ignore[attr-defined]
            e.total = len(jobs)  # type: ignore[attr-defined]
        elif not args.overwrite:  # an error: no partial output from this run
            for w in written:
                w.unlink(missing_ok=True)
            written = []
        if not written:
            for d in created:
                try:
                    d.rmdir()
                except OSError:
                    pass
        raise
    pool.shutdown(wait=True)
    if not args.quiet:
        where = written[0] if len(written) == 1 else out_dirs[0] if len(out_dirs) == 1 else "several directories"
        print(f"wrote {len(written)} image(s) to {where}", file=sys.stderr)
    return 0


def _run_predict(args: argparse.Namespace, contents: list[Path], styles: list[Path]) -> int:
    """The --devices path: Trainer.predict over all pending (content, style) jobs, with the same
    options as the single-process path (or a one-line refusal of those it cannot honour)."""
    from .predict import predict_directory

    if args.mask or args.grid or args.preserve_color != "none" or args.tile:
        raise UsageError("--devices handles plain and blended stylization; drop --mask/--grid/--preserve-color/--tile")
    if args.backend not in ("auto", "torch"):
        raise UsageError(f"--devices runs the torch backend; drop --backend {args.backend}")
    if args.device != "auto":
        raise UsageError("--devices picks devices with --accelerator; drop --device")
    if args.compile:
        raise UsageError("--devices does not support --compile")
    if any(_is_video(c) for c in contents):
        raise UsageError("--devices handles images, not video")
    out = Path(args.output).expanduser()
    if out.suffix.lower() in IMAGE_EXTENSIONS:
        raise UsageError(f"{out}: with --devices, --output must be a directory")
    args.overwrite_saved, args.overwrite = args.overwrite, True  # existing outputs are skipped, not errors
    jobs_all = _plan(args, contents, styles)
    args.overwrite = args.overwrite_saved
    for f in dict.fromkeys([*contents, *styles]):
        read_image(f, args.max_pixels)
    _check_writable(out)
    args.backend, args.device = "torch", "cpu"  # the network is built on the CPU; Lightning moves it
    pipe = make_pipeline(args)
    net = pipe.runtime.net
    by_group: dict[tuple[Path, ...], list[tuple[Path, Path]]] = {}
    for content, group, target in jobs_all:
        by_group.setdefault(tuple(group), []).append((content, target))
    devices: int | str = int(args.devices) if str(args.devices).isdigit() else args.devices
    written = 0
    for group, jobs in by_group.items():
        stats = [pipe.style_stats(s, args.style_size, args.crop) for s in group]
        written += len(predict_directory(
            net, stats, jobs, args.style_weights, args.alpha, args.content_size, args.overwrite,
            crop=args.crop, batch_size=args.batch_size, run_precision=args.precision,
            channels_last=not args.no_channels_last, max_pixels=args.max_pixels,
            devices=devices, num_nodes=args.num_nodes, strategy=args.strategy, accelerator=args.accelerator,
            progress=not args.quiet))
    if not args.quiet:
        print(f"wrote {written} image(s) to {out}", file=sys.stderr)
    return 0


def infer_main(args: Sequence[str] | None = None) -> int:
    """Entry point of ``adain-stylize``; returns the exit status (0 ok, 2 bad input)."""
    parser = build_parser()
    ns = parser.parse_args(args)
    with terminate_as_interrupt():
        try:
            return _run(ns)
        except AdainError as e:
            print(f"{PROG}: error: {e}", file=sys.stderr)
            return 2
        except KeyboardInterrupt as e:
            return report_interrupt(PROG, e)


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
        print(f"{prog}: interrupted ({name}) after {kept} of {total} outputs; the finished ones were kept, "
              "rerun with --skip-existing to make the rest", file=sys.stderr)
    return 128 + int(signum)


def main() -> None:
    sys.exit(infer_main())


if __name__ == "__main__":  # pragma: no cover
    main()
