"""Optimisation-based stylization (Gatys, Ecker & Bethge, CVPR 2016) and AdaIN-initialised refinement.

AdaIN is one forward pass; Gatys et al. optimise the image itself so that its features match the
content's (content loss) and its feature statistics match the style's (Gram matrices, or AdaIN's
mean/std), plus a total-variation term. Started from the AdaIN output instead of noise or the
content, a few dozen L-BFGS iterations give what no single pass reaches ("refine").

Layers:

* :class:`LossNetwork` — any of our frozen encoders (canonical VGG, torchvision VGG, small16x —
  the latter through its distillation heads, ≈ VGG-19 feature space) as the loss network.
* :class:`OptimizeOptions` — weights, layers, optimiser, schedule; validated in one place.
* :class:`Objective` — the loss of one request (blends as weighted targets, masks as masked
  statistics), each term normalised by its target's magnitude so the same weights work for every
  loss network.
* :func:`optimize_image` — the loop: sigmoid parameterisation (pixels stay in [0, 1], the
  variables are unconstrained), L-BFGS (strong-Wolfe line search, so the objective never rises)
  or Adam, coarse-to-fine scales, early stop on plateau, a progress bar with the loss.
* :func:`stylize_optimized` — a whole request on a :class:`~adain.pipeline.core.Pipeline` (loading,
  the AdaIN initialisation, colour preservation), shared by ``adain-stylize --refine``,
  ``--method gatys``, :meth:`adain.methods.stylizer.Stylizer.refine` and ``adain-evaluate``.

The loss network always runs in float32 (gradients through bf16 are emulated on many CPUs and
lose the small differences the optimiser follows).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor
from tqdm.auto import tqdm

from adain.errors import UsageError
from adain.methods.gatys.loss_network import LossNetwork
from adain.methods.gatys.options import OptimizeOptions, check_optimize_size
from adain.ops.losses import content_loss, gram_loss, gram_matrix, mean_std_loss, total_variation
from adain.ops.masks import masked_mean_std, resize_masks
from adain.ops.mixing import mix_stats, normalize_weights
from adain.ops.stats import calc_mean_std

__all__ = ["Objective", "OptimizeResult", "optimize_image", "scale_sizes"]


_EPS = 1e-8


@dataclass
class OptimizeResult:
    """The optimised image ``(1, 3, H, W)`` in [0, 1], the objective after every iteration (all
    scales, coarse first) and the number of iterations run at each scale."""

    image: Tensor
    history: list[float] = field(default_factory=list)
    iterations: list[int] = field(default_factory=list)


class Objective:
    """The loss of one request at one scale.

    Args:
        net: the loss network.
        content: ``(1, 3, H, W)`` content.
        styles: K ``(1, 3, H_k, W_k)`` styles.
        options: weights, layers, loss kind.
        weights: K blend weights (targets are the weighted targets; default equal).
        masks: ``(1, K, H, W)`` soft masks at the content's size: region k gets style k, uncovered
            pixels only keep the content.
    """

    def __init__(
        self,
        net: LossNetwork,
        content: Tensor,
        styles: Sequence[Tensor],
        options: OptimizeOptions,
        weights: Sequence[float] | None = None,
        masks: Tensor | None = None,
    ) -> None:
        self.net = net
        self.options = options
        self.style_layers = tuple(options.style_layers)
        self.layers = tuple(dict.fromkeys((*self.style_layers, options.content_layer)))
        if masks is not None and masks.shape[1] != len(styles):
            raise UsageError(f"{masks.shape[1]} masks for {len(styles)} styles")
        with torch.no_grad():
            feats = net(content, self.layers)
            fc = feats[options.content_layer]
            self.content_target = fc.detach()
            self.content_scale = fc.pow(2).mean().clamp_min(_EPS)
            per_style = [self._statistics(net(s, self.style_layers)) for s in styles]
        # regions: ({layer: mask at that layer's resolution, or None}, {layer: target}); masks are
        # resized once here, and layers a region does not reach are left out
        if masks is None:
            w = normalize_weights(weights, len(styles)) if weights is not None else [1.0 / len(styles)] * len(styles)
            target = self._blend(per_style, w)
            self.regions: list[tuple[dict[str, Tensor | None], dict[str, Any]]] = [
                (dict.fromkeys(self.style_layers), target)
            ]
        else:
            self.regions = []
            for k in range(len(styles)):
                resized = {
                    layer: resize_masks(masks[:, k : k + 1], tuple(feats[layer].shape[-2:]))
                    for layer in self.style_layers
                }
                self.regions.append(({layer: m for layer, m in resized.items() if float(m.sum()) > 0}, per_style[k]))
            target = per_style[0]
        self.scales = {layer: self._scale(target[layer]) for layer in self.style_layers}

    def _statistics(self, feats: dict[str, Tensor]) -> dict[str, Any]:
        if self.options.loss == "gram":
            return {k: gram_matrix(v) for k, v in feats.items()}
        return {k: calc_mean_std(v) for k, v in feats.items()}

    def _blend(self, per_style: list[dict[str, Any]], w: Sequence[float]) -> dict[str, Any]:
        if self.options.loss == "gram":
            return {k: sum(wi * s[k] for wi, s in zip(w, per_style)) for k in self.style_layers}
        return {k: mix_stats([s[k] for s in per_style], list(w)) for k in self.style_layers}

    def _scale(self, target: Any) -> Tensor:
        if self.options.loss == "gram":
            return target.pow(2).mean().clamp_min(_EPS)
        m, s = target
        return (m.pow(2).mean() + s.pow(2).mean()).clamp_min(_EPS)

    def terms(self, x: Tensor) -> dict[str, Tensor]:
        """``{"content", "style", "tv", "total"}`` for the image ``x`` ``(1, 3, H, W)``."""
        o = self.options
        feats = self.net(x, self.layers)
        content = content_loss(feats[o.content_layer], self.content_target) / self.content_scale
        style = x.new_zeros((), dtype=torch.float32)
        for layer_masks, target in self.regions:
            for layer, m in layer_masks.items():
                f = feats[layer]
                if o.loss == "gram":
                    loss = gram_loss(f, target[layer], m)
                elif m is None:
                    loss = mean_std_loss(f, *target[layer])
                else:
                    mean, std = masked_mean_std(f, m)
                    loss = F.mse_loss(mean, target[layer][0]) + F.mse_loss(std, target[layer][1])
                area = 1.0 if m is None else m.mean()
                style = style + area * loss / self.scales[layer]
        tv = total_variation(x, power=2)
        total = o.content_weight * content + o.style_weight * style + o.tv_weight * tv
        return {"content": content, "style": style, "tv": tv, "total": total}

    def __call__(self, x: Tensor) -> Tensor:
        return self.terms(x)["total"]


def _logit(x: Tensor) -> Tensor:
    x = x.clamp(1e-3, 1 - 1e-3)
    return torch.log(x) - torch.log1p(-x)


def _resize(x: Tensor, size: tuple[int, int]) -> Tensor:
    if tuple(x.shape[-2:]) == size:
        return x
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=True).clamp(0, 1)


def scale_sizes(h: int, w: int, scales: int = 0) -> list[tuple[int, int]]:
    """Sizes of the coarse-to-fine levels of an ``h × w`` image, coarsest first."""
    if scales == 0:
        scales = 1
        while min(h, w) / 2**scales >= 320:
            scales += 1
    sizes = []
    for k in reversed(range(scales)):
        f = 2**k
        sizes.append((max(16, round(h / f)), max(16, round(w / f))))
    return sizes


class _Evaluator:
    """The objective and its gradient at ``z``, remembering the last few points.

    L-BFGS re-evaluates the point where its previous line search ended at the start of every step;
    that point was already evaluated (bit-identical parameters), so the answer comes from memory
    and an iteration costs one evaluation, not two.
    """

    def __init__(self, objective: Objective, z: Tensor, memory: int = 4) -> None:
        self.objective = objective
        self.z = z
        self.memory = memory
        self.seen: list[tuple[Tensor, float, Tensor]] = []
        self.evaluations = 0

    def lookup(self) -> tuple[float, Tensor] | None:
        for z, value, grad in reversed(self.seen):
            if torch.equal(z, self.z.detach()):
                return value, grad
        return None

    def closure(self) -> Tensor:
        hit = self.lookup()
        if hit is not None:
            self.z.grad = hit[1].clone()
            return torch.tensor(hit[0])
        self.z.grad = None
        loss = self.objective(torch.sigmoid(self.z))
        loss.backward()
        self.evaluations += 1
        value = float(loss.detach())
        self.seen.append((self.z.detach().clone(), value, self.z.grad.detach().clone()))  # type: ignore[union-attr]
        del self.seen[: -self.memory]
        return loss.detach()

    def value(self) -> float:
        hit = self.lookup()
        if hit is not None:
            return hit[0]
        with torch.no_grad():
            return float(self.objective(torch.sigmoid(self.z)))


def _run_scale(
    objective: Objective,
    init: Tensor,
    options: OptimizeOptions,
    bar: tqdm | None,
    history: list[float],
    on_step: Callable[[int, float], None] | None,
) -> tuple[Tensor, int]:
    z = _logit(init.detach()).requires_grad_(True)
    ev = _Evaluator(objective, z)
    if options.optimizer == "lbfgs":
        opt: torch.optim.Optimizer = torch.optim.LBFGS(
            [z], lr=options.step_size, max_iter=1, max_eval=20, history_size=50, line_search_fn="strong_wolfe"
        )
    else:
        opt = torch.optim.Adam([z], lr=options.step_size)
    start = len(history)
    run = 0
    best, best_z = float("inf"), z.detach().clone()
    lbfgs = options.optimizer == "lbfgs"
    for i in range(options.iterations):
        before_step = None if lbfgs else z.detach().clone()
        loss = opt.step(ev.closure)
        # L-BFGS: the objective where the step ended (known from its line search); Adam: the
        # objective of the point the step started from (evaluating the new point would cost a pass)
        value = ev.value() if lbfgs else float(loss)  # type: ignore[arg-type]
        if not math.isfinite(value):
            break
        run += 1
        history.append(value)
        if value < best:
            best, best_z = value, (z.detach().clone() if before_step is None else before_step)
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{value:.4g}")
        if on_step is not None:
            on_step(i, value)
        n = len(history) - start
        if n > options.patience:
            before = history[-1 - options.patience]
            if before - value <= options.tol * abs(before):
                break
    return torch.sigmoid(best_z), run


def _start_image(init: Tensor | str, content: Tensor, seed: int) -> Tensor:
    """The image the optimisation starts from: given, the content, or seeded noise."""
    if isinstance(init, str):
        if init == "content":
            return content.clone()
        if init == "noise":
            gen = torch.Generator().manual_seed(seed)
            return torch.rand(content.shape, generator=gen).to(content.device)
        raise UsageError(f"init must be a tensor, content or noise, got {init!r}")
    if init.shape != content.shape:
        raise UsageError(f"init has shape {tuple(init.shape)}, content {tuple(content.shape)}")
    return init.to(content.device, torch.float32)


def optimize_image(
    net: LossNetwork,
    content: Tensor,
    styles: Sequence[Tensor],
    init: Tensor | str = "content",
    options: OptimizeOptions | None = None,
    weights: Sequence[float] | None = None,
    masks: Tensor | None = None,
    progress: bool = False,
    on_step: Callable[[int, float], None] | None = None,
) -> OptimizeResult:
    """Optimise an image for content and style (Gatys et al.), coarse to fine.

    Args:
        net: the loss network.
        content: ``(1, 3, H, W)`` in [0, 1].
        styles: K ``(1, 3, H_k, W_k)`` styles in [0, 1].
        init: a ``(1, 3, H, W)`` starting image (e.g. the AdaIN output), or ``content`` / ``noise``.
        options: see :class:`OptimizeOptions`.
        weights: K blend weights (weighted targets).
        masks: ``(1, K, H, W)`` soft masks at the content's size (masked statistics).
        progress: show a bar with the loss.
        on_step: called with (iteration, objective) after every step.

    Returns:
        :class:`OptimizeResult`; with 0 iterations the initial image itself.
    """
    options = (options or OptimizeOptions()).validate(net.layers)
    if content.dim() != 4 or content.shape[:2] != (1, 3):
        raise UsageError(f"content must be (1, 3, H, W), got {tuple(content.shape)}")
    if not styles:
        raise UsageError("at least one style is needed")
    h, w = content.shape[-2:]
    check_optimize_size(h, w)
    device = next(net.encoder.parameters()).device
    content = content.to(device, torch.float32)
    styles = [s.to(device, torch.float32) for s in styles]
    start = _start_image(init, content, options.seed)
    result = OptimizeResult(start.clamp(0, 1))
    if options.iterations == 0:
        return result
    sizes = scale_sizes(h, w, options.scales)
    bar = tqdm(
        total=options.iterations * len(sizes), desc="optimising", unit="it", leave=False, disable=not progress or None
    )
    x = _resize(start, sizes[0])
    try:
        for size in sizes:
            # styles shrink with the coarse levels only: at the finest level they are as given, also
            # when a tiny content is optimised at the 16 px minimum (a 1x1 photo must not blow a
            # 512 px style up 16-fold)
            f = min(1.0, size[0] / sizes[-1][0])
            c = _resize(content, size)
            s = [_resize(st, (max(16, round(st.shape[-2] * f)), max(16, round(st.shape[-1] * f)))) for st in styles]
            m = (
                None
                if masks is None
                else F.interpolate(masks.to(device).float(), size=size, mode="bilinear", align_corners=False).clamp(
                    0, 1
                )
            )
            objective = Objective(net, c, s, options, weights, m)
            x = _resize(x, size)
            x, ran = _run_scale(objective, x, options, bar, result.history, on_step)
            result.iterations.append(ran)
        x = _resize(x, (h, w))  # below 16 px the finest level is larger than the content
    finally:
        bar.close()
    result.image = x.detach().clamp(0, 1)
    return result
