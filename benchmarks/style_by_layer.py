"""Where the style loss lives: per layer, by the independent evaluator and by the training's proxy.

    python benchmarks/style_by_layer.py --models small16x experiments/small16x_skip \
        --content ../shared/images/content --style ../shared/images/style --limit 4 8 \
        --eval-weights ../shared/weights/wct_normalised_vgg/vgg_normalised_conv3_1.pth \
        --proxy ../shared/weights/cd16x_wct/4SE.pth

For each model (name, folder or checkpoint) and each content × style pair (the first N contents ×
M styles of the sorted folders, or with ``--last`` the last — a training set's held-out files — at
``--size``), the mean/std style loss of the output at each
layer: (a) by the genuine normalised VGG-19 (``--eval-weights``, what ``adain-evaluate`` sums,
relu1_1–relu3_1) and (b) through the distillation heads of the small16x encoder (``--proxy``: what
``style_features: aux`` trains against, relu1_1–relu4_1). A model can improve (b) where (a) does
not see it; this table shows at which layer.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from adain.io.files import list_images
from adain.io.images import load_image, resize_image
from adain.methods.evaluation import EvalEncoder
from adain.methods.stylizer import Stylizer
from adain.nets.encoder import AuxHeads
from adain.nets.names import STAGES
from adain.ops.stats import calc_mean_std
from adain.weights.loading import load_pretrained, load_state_dict_file


def _losses(out: dict[str, torch.Tensor], ref: dict[str, torch.Tensor], layers: tuple[str, ...]) -> torch.Tensor:
    vals = []
    for layer in layers:
        (mo, so), (mr, sr) = calc_mean_std(out[layer]), calc_mean_std(ref[layer])
        vals.append(float(((mo - mr) ** 2).mean() + ((so - sr) ** 2).mean()))
    return torch.tensor(vals)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", nargs="+", required=True)
    p.add_argument("--content", type=Path, required=True)
    p.add_argument("--style", type=Path, required=True)
    p.add_argument("--limit", type=int, nargs=2, default=(4, 8), metavar=("CONTENTS", "STYLES"))
    p.add_argument(
        "--last",
        action="store_true",
        help="the last N contents × M styles instead of the first (a training set's held-out files, "
        "as data.val_holdout takes them: for selecting a model without the evaluation images)",
    )
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--eval-weights", type=Path, required=True)
    p.add_argument("--proxy", type=Path, required=True, help="a Collaborative Distillation 4SE.pth (its heads)")
    a = p.parse_args()
    ev = EvalEncoder(a.eval_weights)
    small = load_pretrained("small16x").encoder
    heads = AuxHeads(load_state_dict_file(a.proxy), STAGES, str(a.proxy))
    contents, styles = sorted(list_images([a.content])), sorted(list_images([a.style]))
    pick = (lambda xs, n: xs[-n:]) if a.last else (lambda xs, n: xs[:n])
    contents, styles = pick(contents, a.limit[0]), pick(styles, a.limit[1])
    print(f"# {len(contents)} contents × {len(styles)} styles at {a.size} px; mean/std style loss per layer")
    print(f"| model | {' | '.join(f'evaluator {x}' for x in ev.layers)} | evaluator sum | "
          f"{' | '.join(f'proxy {x}' for x in STAGES)} |")  # fmt: skip
    print("|---" * (2 + len(ev.layers) + len(STAGES)) + "|")
    for model in a.models:
        kw = {"backend": "torch", "precision": "fp32"}
        st = Stylizer.from_checkpoint(model, **kw) if model.endswith(".ckpt") else Stylizer.from_pretrained(model, **kw)
        genuine, proxy = torch.zeros(len(ev.layers)), torch.zeros(len(STAGES))
        with torch.no_grad():
            for c in contents:
                for s in styles:
                    out = st.stylize(c, s, content_size=a.size, style_size=a.size).clamp(0, 1)[None]
                    ref = resize_image(load_image(s), a.size)[None]
                    genuine += _losses(ev.features(out), ev.features(ref), ev.layers)
                    proxy += _losses(heads(small(out)), heads(small(ref)), STAGES)
        n = len(contents) * len(styles)
        g, q = genuine / n, proxy / n
        print(f"| {model} | {' | '.join(f'{v:.3f}' for v in g)} | {float(g.sum()):.3f} | "
              f"{' | '.join(f'{v:.3f}' for v in q)} |", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
