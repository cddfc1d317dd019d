"""The stroke-size figure: one photo and one painting at several ``--stroke-scale`` values, labelled,
with the measured texture scale of each (:func:`adain.pipeline.strokes.texture_scale`).

python docs/figures/make_strokes.py PHOTO PAINTING docs/strokes.jpg [--scales 0.5 1 2 4] [--model NAME]
"""

from __future__ import annotations

import argparse

import numpy as np
from PIL import Image, ImageDraw

from adain import Stylizer
from adain.pipeline.strokes import texture_scale


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("photo")
    ap.add_argument("painting")
    ap.add_argument("output")
    ap.add_argument("--scales", type=float, nargs="+", default=[0.5, 1.0, 2.0, 4.0])
    ap.add_argument("--model", default="auto")
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--height", type=int, default=320)
    args = ap.parse_args()
    st = Stylizer.from_pretrained(args.model)
    tiles, base = [], None
    print(f"{'stroke scale':>12} | {'texture scale (px)':>18} | {'ratio to S=1':>12}")
    for s in args.scales:
        out = st.stylize(args.photo, args.painting, content_size=args.size, stroke_scale=s).numpy()
        scale = texture_scale(out)
        base = scale if s == 1.0 else base
        tiles.append((s, scale, Image.fromarray((out.transpose(1, 2, 0) * 255 + 0.5).astype(np.uint8))))
    for s, scale, _ in tiles:
        print(f"{s:>12g} | {scale:>18.2f} | {scale / base if base else float('nan'):>12.2f}")
    tiles_img = [t.resize((round(t.width * args.height / t.height), args.height), Image.LANCZOS) for *_, t in tiles]
    pad, band = 6, 28
    sheet = Image.new(
        "RGB", (sum(t.width for t in tiles_img) + pad * (len(tiles_img) - 1), args.height + band), "white"
    )
    draw = ImageDraw.Draw(sheet)
    x = 0
    for (s, scale, _), t in zip(tiles, tiles_img):
        sheet.paste(t, (x, band))
        draw.text((x + 6, 6), f"--stroke-scale {s:g}  (texture {scale:.1f} px)", fill="black")
        x += t.width + pad
    sheet.save(args.output, quality=88)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
