"""A picture of two (or more) models side by side: content | style | model A | model B | …

    python docs/figures/figure_models.py --models small16x small16x-skip --size 256 \
        --pair ../shared/images/content/lenna.jpg ../shared/images/style/en_campo_gris.jpg \
        --pair ../shared/images/content/avril.jpg ../shared/images/style/impronte_d_artista.jpg \
        --pair … (9 pairs in docs/small16x_skip.jpg, the README's list) --output docs/small16x_skip.jpg

One row per pair, each model stylizing at ``--size`` (shorter side) on the torch backend in fp32;
cells are centre-cropped squares. Prints the seconds of each model per pair.
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
    p.add_argument("--models", nargs="+", required=True, help="model names, folders or Hub ids")
    p.add_argument("--labels", nargs="+", default=None, help="a label per model (printed)")
    p.add_argument("--pair", nargs=2, action="append", metavar=("CONTENT", "STYLE"), required=True)
    p.add_argument("--size", type=int, default=384, help="shorter side of contents and styles")
    p.add_argument("--output", default="docs/models.jpg")
    p.add_argument("--quality", type=int, default=80, help="JPEG quality")
    args = p.parse_args()
    labels = args.labels or args.models
    models = [Stylizer.from_pretrained(m, backend="torch", precision="fp32") for m in args.models]
    kw = {"content_size": args.size, "style_size": args.size}
    cells = []
    for content, style in args.pair:
        square = lambda t: resize_image(t, args.size, crop=True)  # noqa: E731
        cells += [
            square(models[0].load(content, args.size)[0].cpu()),
            square(models[0].load(style, args.size)[0].cpu()),
        ]
        for label, st in zip(labels, models):
            t0 = time.perf_counter()
            out = st.stylize(content, style, **kw)
            print(f"{content} × {style}: {label}: {time.perf_counter() - t0:.2f} s")
            cells.append(square(out.clamp(0, 1)))
    grid = make_grid(torch.stack(cells), nrow=2 + len(models), padding=4, pad_value=1.0)
    save_image(grid, args.output, overwrite=True, quality=args.quality)
    print(f"wrote {args.output} (columns: content, style, {', '.join(labels)})")


if __name__ == "__main__":
    main()
