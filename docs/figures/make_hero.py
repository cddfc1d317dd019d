"""The README's hero picture: photo | painting | result with the default model.

python docs/figures/make_hero.py PHOTO PAINTING docs/hero.jpg [--model NAME]
"""

from __future__ import annotations

import argparse

from PIL import Image
from torchvision.transforms.functional import to_pil_image

from adain import Stylizer
from adain.io.images import load_image, resize_image


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("photo")
    ap.add_argument("painting")
    ap.add_argument("output")
    ap.add_argument("--model", default="auto")
    ap.add_argument("--height", type=int, default=300)
    args = ap.parse_args()
    st = Stylizer.from_pretrained(args.model)
    photo, painting = load_image(args.photo), load_image(args.painting)
    result = st.stylize(photo, painting)
    tiles = [to_pil_image(resize_image(x, 512).clamp(0, 1)) for x in (photo, painting)] + [to_pil_image(result)]
    tiles = [t.resize((round(t.width * args.height / t.height), args.height), Image.LANCZOS) for t in tiles]
    pad = 6
    sheet = Image.new("RGB", (sum(t.width for t in tiles) + pad * (len(tiles) - 1), args.height), "white")
    x = 0
    for t in tiles:
        sheet.paste(t, (x, 0))
        x += t.width + pad
    sheet.save(args.output, quality=88)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
