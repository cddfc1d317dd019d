"""Issue 27, lever 2: a training-free cascade after the relu4_1 pass, scored like ``adain-evaluate``.

After small16x's output, re-stylize at relu_k_1 for each ``k`` in ``--levels`` (e.g. ``1`` or
``321``) with the Collaborative Distillation reconstruction pairs ``kSE``/``kSD``
(``../shared/weights/cd16x_wct``, MIT): ``x ← kSD(α · AdaIN(kSE(x), kSE(style)) + (1 − α) · kSE(x))``.
Prints content / style / Gram / colour (genuine VGG relu1_1–relu3_1 evaluator) on a subset
(``--subset``: 4 contents × 5 styles) or all 220 pairs, and writes the grid.

    python experiments/analysis/bench_cascade.py --shared ../shared --levels 1 --alpha 0.5 --subset
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
import torch.nn.functional as F

#: the layers of kSE up to relu_k_1 (after ``conv0``), and of kSD back to RGB ("up": nearest ×2)
ENCODERS = {
    1: ["conv11"],
    2: ["conv11", "conv12", "pool", "conv21"],
    3: ["conv11", "conv12", "pool", "conv21", "conv22", "pool", "conv31"],
}
DECODERS = {
    1: ["conv11"],
    2: ["conv21", "up", "conv12", "conv11"],
    3: ["conv31", "up", "conv22", "conv21", "up", "conv12", "conv11"],
}


def _conv(x: torch.Tensor, sd: dict, name: str, relu: bool = True) -> torch.Tensor:
    x = F.conv2d(F.pad(x, (1, 1, 1, 1), mode="reflect"), sd[f"{name}.weight"], sd[f"{name}.bias"])
    return F.relu(x) if relu else x


def encode(k: int, sd: dict, x: torch.Tensor) -> torch.Tensor:
    x = F.conv2d(x, sd["conv0.weight"], sd["conv0.bias"])
    for n in ENCODERS[k]:
        x = F.max_pool2d(x, 2) if n == "pool" else _conv(x, sd, n)
    return x


def decode(k: int, sd: dict, x: torch.Tensor) -> torch.Tensor:
    for n in DECODERS[k]:
        x = F.interpolate(x, scale_factor=2, mode="nearest") if n == "up" else _conv(x, sd, n, n != "conv11")
    return x


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--shared", default="../shared")
    p.add_argument("--levels", default="1", help="digits, deepest first (e.g. 321); 'none' for the plain model")
    p.add_argument("--alpha", type=float, default=1.0)
    p.add_argument("--subset", action="store_true", help="4 contents x 5 styles instead of all 220 pairs")
    p.add_argument("--grid", help="write the evaluation grid here")
    a = p.parse_args()

    from torchvision.utils import save_image

    from adain.methods.evaluation import EvalEncoder, evaluate, summarize
    from adain.methods.stylizer import Stylizer
    from adain.ops.stats import adain

    shared = Path(a.shared)
    levels = [] if a.levels == "none" else [int(c) for c in a.levels]
    weights = shared / "weights/cd16x_wct"

    def load(name: str) -> dict:
        return torch.load(weights / f"{name}.pth", map_location="cpu", weights_only=True)["model"]

    se, sd = {k: load(f"{k}SE") for k in levels}, {k: load(f"{k}SD") for k in levels}
    st = Stylizer.from_pretrained("small16x", backend="torch", precision="fp32")

    def pad8(x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        return F.pad(x[None], (0, (-w) % 8, 0, (-h) % 8), mode="reflect")

    @torch.no_grad()
    def stylize(c: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        x = st.stylize(c, s, content_size=0, style_size=0)
        h, w = x.shape[-2:]
        for k in levels:
            f = encode(k, se[k], pad8(x))
            t = adain(f, encode(k, se[k], pad8(s)))
            x = decode(k, sd[k], a.alpha * t + (1 - a.alpha) * f)[0, :, :h, :w].clamp(0, 1)
        return x

    evaluator = EvalEncoder(shared / "weights/wct_normalised_vgg/vgg_normalised_conv3_1.pth")
    contents = sorted((shared / "images/content").glob("*"))
    styles = sorted((shared / "images/style").glob("*"))
    if a.subset:
        contents, styles = contents[:: len(contents) // 4][:4], styles[:: len(styles) // 5][:5]
    rows, grid = evaluate(stylize, contents, styles, evaluator, 512, progress=False)
    m = summarize(rows)
    print(
        f"| {a.levels} | {a.alpha} | {len(rows)} | {m['content_loss']:.3f} | {m['style_loss']:.3f} | "
        f"{m['gram_loss']:.3f} | {m['color_distance']:.3f} |"
    )
    if a.grid:
        save_image(grid, a.grid)


if __name__ == "__main__":
    main()
