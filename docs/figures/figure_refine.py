"""The README picture of optimisation-based stylization: content | AdaIN | AdaIN + refine N | Gatys.

    python docs/figures/figure_refine.py --pair images/content/cornell.jpg images/style/la_muse.jpg \
        --pair images/content/sailboat.jpg images/style/sketch.png --output docs/refine.jpg

One row per pair (the style is inset in the content's corner); prints seconds per method.
"""

from __future__ import annotations

import argparse
import time

import torch
from torchvision.utils import make_grid

from adain.io.images import resize_image, save_image
from adain.methods.stylizer import Stylizer


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--pair", nargs=2, action="append", metavar=("CONTENT", "STYLE"), required=True)
    p.add_argument("--size", type=int, default=384, help="shorter side of contents and styles")
    p.add_argument("--refine", type=int, default=50)
    p.add_argument("--iterations", type=int, default=300)
    p.add_argument("--model", default="small16x")
    p.add_argument("--output", default="docs/refine.jpg")
    args = p.parse_args()
    st = Stylizer.from_pretrained(args.model, backend="torch", precision="fp32")
    kw = {"content_size": args.size, "style_size": args.size}
    cells = []
    for content, style in args.pair:
        square = lambda t: resize_image(t, args.size, crop=True)  # noqa: E731
        c = square(st.load(content, args.size)[0].cpu())
        s = resize_image(st.load(style, args.size)[0].cpu(), max(32, args.size // 3), crop=True)
        c[:, -s.shape[1] :, -s.shape[2] :] = s  # the style, inset
        row = [c]
        for name, fn in (
            ("adain", lambda: st.stylize(content, style, **kw)),
            (f"refine {args.refine}", lambda: st.refine(content, style, iterations=args.refine, **kw)),
            (
                f"gatys {args.iterations}",
                lambda: st.refine(content, style, iterations=args.iterations, init="content", **kw),
            ),
        ):
            t0 = time.perf_counter()
            out = fn()
            print(f"{content} × {style}: {name}: {time.perf_counter() - t0:.1f} s")
            row.append(square(out))
        cells += row
    grid = make_grid(torch.stack(cells), nrow=4, padding=4, pad_value=1.0)
    save_image(grid, args.output, overwrite=True)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
