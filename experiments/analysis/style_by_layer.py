"""Where the style loss lives: per layer, by the independent evaluator and by the training's proxy.

    python experiments/analysis/style_by_layer.py --models small16x experiments/small16x_skip \
        --content ../shared/images/content --style ../shared/images/style --limit 4 8 \
        --eval-weights ../shared/weights/wct_normalised_vgg/vgg_normalised_conv3_1.pth \
        --proxy ../shared/weights/cd16x_wct/{3SE,4SE,5SE}.pth

For each model (name, folder or checkpoint) and each content × style pair (the first N contents ×
M styles of the sorted folders, or with ``--last`` the last — a training set's held-out files — at
``--size``), the mean/std style loss of the output at each
layer: (a) by the genuine normalised VGG-19 (``--eval-weights``, what ``adain-evaluate`` sums,
relu1_1–relu3_1) and (b) through distillation heads (``--proxy``, each file through its own distilled
encoder: ``4SE.pth`` is small16x's encoder, what ``style_features: aux`` trains against,
relu1_1–relu4_1; ``2SE``/``3SE``/``5SE`` are the other levels' distillations, to compare loss
networks). A model can improve (b) where (a) does not see it; this table shows at which layer.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from adain.io.files import list_images
from adain.io.images import load_image, resize_image
from adain.methods.evaluation import EvalEncoder
from adain.methods.stylizer import Stylizer
from adain.nets.encoder import AuxHeads, build_encoder, load_encoder_state_dict
from adain.ops.losses import mean_std_loss
from adain.ops.stats import TensorStats, calc_mean_std
from adain.weights.loading import load_state_dict_file


def _losses(out: dict[str, torch.Tensor], ref: dict[str, TensorStats], layers: tuple[str, ...]) -> torch.Tensor:
    """The paper's mean/std style loss of ``out`` at each layer against the reference statistics."""
    return torch.tensor([float(mean_std_loss(out[layer], *ref[layer])) for layer in layers])


def _stats(feats: dict[str, torch.Tensor]) -> dict[str, TensorStats]:
    return {k: calc_mean_std(v) for k, v in feats.items()}


def _proxy(path: Path) -> tuple[torch.nn.Module, AuxHeads, tuple[str, ...]]:
    """A distilled encoder ``kSE.pth`` with its heads, to the deepest stage (≤ relu4_1) it has heads for."""
    sd = load_state_dict_file(path)
    stages = AuxHeads.stages_in(sd)
    if not stages:
        raise SystemExit(f"{path}: no distillation heads (conv11_aux …)")
    enc = build_encoder("vgg19_small16x", stages[-1])
    load_encoder_state_dict(enc, sd, str(path))
    return enc.eval(), AuxHeads(sd, stages, str(path)), stages


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
    p.add_argument(
        "--proxy",
        type=Path,
        nargs="+",
        required=True,
        help="Collaborative Distillation kSE.pth files: each through its own distilled encoder and heads",
    )
    a = p.parse_args()
    ev = EvalEncoder(a.eval_weights)
    proxies = [_proxy(f) for f in a.proxy]
    contents, styles = sorted(list_images([a.content])), sorted(list_images([a.style]))
    pick = (lambda xs, n: xs[-n:]) if a.last else (lambda xs, n: xs[:n])
    contents, styles = pick(contents, a.limit[0]), pick(styles, a.limit[1])
    print(f"# {len(contents)} contents × {len(styles)} styles at {a.size} px; mean/std style loss per layer")
    print(f"| model | {' | '.join(f'evaluator {x}' for x in ev.layers)} | evaluator sum | "
          f"{' | '.join(f'{f.stem} {x}' for f, (_, _, st) in zip(a.proxy, proxies) for x in st)} |")  # fmt: skip
    print("|---" * (2 + len(ev.layers) + sum(len(st) for _, _, st in proxies)) + "|")
    refs = {}  # each style's reference statistics, by the evaluator and by every proxy: computed once
    with torch.no_grad():
        for s in styles:
            img = resize_image(load_image(s), a.size)[None]
            refs[s] = (_stats(ev.features(img)), [_stats(heads(enc(img, st))) for enc, heads, st in proxies])
    for model in a.models:
        kw = {"backend": "torch", "precision": "fp32"}
        stylizer = (Stylizer.from_checkpoint if model.endswith(".ckpt") else Stylizer.from_pretrained)(model, **kw)
        genuine = torch.zeros(len(ev.layers))
        proxy = [torch.zeros(len(stages)) for _, _, stages in proxies]
        with torch.no_grad():
            for c in contents:
                for s in styles:
                    out = stylizer.stylize(c, s, content_size=a.size, style_size=a.size).clamp(0, 1)[None]
                    ref_genuine, ref_proxies = refs[s]
                    genuine += _losses(ev.features(out), ref_genuine, ev.layers)
                    for k, ((enc, heads, stages), ref) in enumerate(zip(proxies, ref_proxies)):
                        proxy[k] += _losses(heads(enc(out, stages)), ref, stages)
        n = len(contents) * len(styles)
        g, q = genuine / n, torch.cat(proxy) / n
        print(f"| {model} | {' | '.join(f'{v:.3f}' for v in g)} | {float(g.sum()):.3f} | "
              f"{' | '.join(f'{v:.3f}' for v in q)} |", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
