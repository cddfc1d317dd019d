"""Training curves from a Lightning ``CSVLogger`` file as a PNG (one panel per metric; Pillow only).

    python docs/figures/plot_curves.py runs/x/csv/version_0/metrics.csv docs/curves.png \
        train/loss_generator train/loss_disc train/loss_adv train/loss_style
"""

from __future__ import annotations

import argparse
import csv

from PIL import Image, ImageDraw


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("metrics")
    p.add_argument("output")
    p.add_argument("columns", nargs="+")
    p.add_argument("--title", default="")
    args = p.parse_args()
    with open(args.metrics, newline="") as f:
        rows = list(csv.DictReader(f))
    w, h, pad = 360, 200, 36
    img = Image.new("RGB", (w * len(args.columns), h + 24), "white")
    draw = ImageDraw.Draw(img)
    if args.title:
        draw.text((6, 4), args.title, fill="black")
    for i, col in enumerate(args.columns):
        pts = [(float(r["step"]), float(r[col])) for r in rows if r.get(col) not in (None, "")]
        x0, y0 = i * w + pad, 24
        draw.rectangle([x0, y0, x0 + w - pad - 8, y0 + h - pad], outline="grey")
        draw.text((x0 + 4, y0 + 2), col, fill="black")
        if len(pts) < 2:
            continue
        xs, ys = [q[0] for q in pts], [q[1] for q in pts]
        lo, hi = min(ys), max(ys)
        hi = hi if hi > lo else lo + 1.0
        sx = (w - pad - 10) / (max(xs) - min(xs) or 1.0)
        sy = (h - pad - 16) / (hi - lo)
        line = [(x0 + 1 + (x - min(xs)) * sx, y0 + h - pad - 2 - (y - lo) * sy) for x, y in pts]
        draw.line(line, fill=(30, 90, 200), width=2)
        draw.text((x0 - pad + 2, y0 + 12), f"{hi:.3g}", fill="black")
        draw.text((x0 - pad + 2, y0 + h - pad - 12), f"{lo:.3g}", fill="black")
        draw.text((x0, y0 + h - pad + 4), f"step {min(xs):.0f}", fill="black")
        draw.text((x0 + w - pad - 70, y0 + h - pad + 4), f"step {max(xs):.0f}", fill="black")
    img.save(args.output)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
