"""LightningModule that trains the AdaIN decoder (Huang & Belongie, 2017, Sec. 6).

Loss = content + ``style_weight`` · style + ``tv_weight`` · TV, where

* content loss: MSE between the encoder's code of the decoded image and the AdaIN target
  ``t = AdaIN(f(c), f(s))`` (Eq. 12);
* style loss: Σ over relu1_1 … relu4_1 of MSE of channel means + MSE of channel stds between the
  decoded image's and the style's features (Eq. 13);
* optional total variation of the decoded image;
* optional colour-distribution loss: sliced Wasserstein distance between the decoded image's
  pixel colours and the style image's (``color_weight``).

Adam, lr 1e-4, decayed per step as ``lr / (1 + 5e-5 · step)`` (the reference implementation's
schedule) through a ``LambdaLR`` stepped every optimiser step.

Checkpoints hold the decoder only; the encoder is recorded by name, weights path and sha256 and
re-attached on load (``store_encoder=True`` keeps its weights too; a random-weight encoder,
used in tests and benchmarks, is always stored). A separate style-loss network
(``loss_network``) is recorded the same way and never stored.
"""

from __future__ import annotations

from typing import Any

import lightning as L
import torch
import torch.nn.functional as F
from torch import Tensor
from torch.optim.lr_scheduler import LambdaLR

from adain.errors import UsageError
from adain.nets.decoder import add_skips, build_decoder, load_decoder, widen_decoder
from adain.nets.discriminator import PatchDiscriminator
from adain.nets.encoder import STAGES, AuxHeads, Encoder
from adain.nets.network import AdaINNet
from adain.ops.losses import (
    color_directions,
    hinge_d_loss,
    hinge_g_loss,
    mean_std_loss,
    sliced_wasserstein,
    total_variation,
)
from adain.ops.stats import adain, calc_mean_std
from adain.weights.loading import (
    ENCODER_PREFIX,
    RANDOM,
    load_state_dict_file,
    make_encoder,
    make_loss_network,
)

__all__ = ["AdaINLitModule"]

LOSS_NET_PREFIX = "loss_net."


class AdaINLitModule(L.LightningModule):
    """Trains an AdaIN decoder against a frozen encoder.

    Args:
        encoder: encoder registry name (``vgg19_normalised``, ``vgg19_imagenet``, ``vgg19_small16x``).
        encoder_weights: weights file; ``None`` = the registry default (cache/download);
            ``"random"`` = seeded random weights (tests, benchmarks).
        decoder_init: optional decoder weights to start from: a decoder state dict (e.g. a
            reconstruction decoder) or an earlier ``adain-train`` checkpoint (fresh optimiser).
        decoder_widths: channels of the decoder's blocks, shallow to deep, ending with the code's
            width (``None``: the encoder's mirror, or ``decoder_init``'s widths). Wider than
            ``decoder_init`` starts from it exactly (function-preserving widening).
        decoder_skips: shallower stages the decoder also reads, AdaIN-normalised like the code
            (e.g. ``[relu1_1, relu2_1, relu3_1]``: multi-level statistics in one pass); each
            enters through a zero-initialised 1×1 conv, so a ``decoder_init`` without them starts
            exactly where it was. ``None``: those of ``decoder_init`` (none for a new decoder).
        base_lr_scale: learning rate of the decoder's other weights relative to ``lr`` (below 1
            lets new skips or channels learn fast while a trained decoder moves slowly).
        style_weight: λ of the style loss (paper: 10).
        content_weight: weight of the content loss (paper: 1).
        tv_weight: weight of the total-variation loss (0 = off).
        color_weight: weight of the colour-distribution loss (0 = off): the squared sliced
            Wasserstein distance between the decoded image's pixel colours and the style image's,
            over 32 fixed RGB directions — the palette as a whole, not only per-channel statistics.
        style_layers: stages of the style loss.
        style_layer_weights: a weight per stage of ``style_layers`` (``None``: 1 each). Where the
            style loss is measured through distillation heads (``style_features: aux``) that read
            a layer's mismatch weaker than VGG-19 does, a larger weight there restores VGG's
            balance between the layers.
        lr: Adam learning rate.
        lr_decay: per-step decay: ``lr / (1 + lr_decay · step)``.
        channels_last: use channels-last memory format (faster convolutions on CPU/GPU).
        compile: ``torch.compile`` the decoder.
        store_encoder: also store encoder weights in checkpoints.
        style_features: ``encoder`` (style loss on the encoder's own features, the paper) or
            ``aux`` (``vgg19_small16x`` only: on its distillation heads, ≈ VGG-19 feature space).
        loss_network: a second, frozen encoder (registry name, e.g. ``vgg19_normalised``) whose
            features the style loss is measured on instead of the encoder's: a small encoder's
            decoder trained against a full VGG-19's statistics (the content loss stays on the
            encoder's code, which is what the decoder inverts). ``None``: the encoder itself.
        loss_network_weights: its weights file (``None``: the registry's download, cached and
            verified; ``"random"``: seeded random weights, tests only). A *partial* file — any
            prefix of the encoder, e.g. the genuine normalised VGG-19 up to relu3_1 — gives the
            style layers it reaches; the deeper ones are measured as ``style_features`` says
            (on the encoder's features or its distillation heads).
        adv_weight: weight of an adversarial texture loss (0 = off, the paper): a PatchGAN
            discriminator learns to tell style crops from decoded images (hinge loss) and the
            decoder is asked to fool it.
        adv_lr: Adam learning rate of the discriminator.
        disc_width: channels of the discriminator's first layer.
    """

    def __init__(
        self,
        encoder: str = "vgg19_normalised",
        encoder_weights: str | None = None,
        decoder_init: str | None = None,
        decoder_widths: list[int] | None = None,
        decoder_skips: list[str] | None = None,
        base_lr_scale: float = 1.0,
        style_weight: float = 10.0,
        content_weight: float = 1.0,
        tv_weight: float = 0.0,
        color_weight: float = 0.0,
        style_layers: tuple[str, ...] = STAGES,
        style_layer_weights: list[float] | None = None,
        lr: float = 1e-4,
        lr_decay: float = 5e-5,
        channels_last: bool = False,
        compile: bool = False,
        store_encoder: bool = False,
        style_features: str = "encoder",
        loss_network: str | None = None,
        loss_network_weights: str | None = None,
        adv_weight: float = 0.0,
        adv_lr: float = 1e-4,
        disc_width: int = 32,
    ) -> None:
        super().__init__()
        unknown = set(style_layers) - set(STAGES)
        if unknown or not style_layers:
            raise UsageError(f"model.style_layers must be a non-empty subset of {STAGES}, got {style_layers}")
        if style_layer_weights is not None and (
            len(style_layer_weights) != len(style_layers) or any(w < 0 for w in style_layer_weights)
        ):
            raise UsageError(
                f"model.style_layer_weights must be {len(style_layers)} weights >= 0 (one per style layer "
                f"{list(style_layers)}), got {list(style_layer_weights)}"
            )
        for name, v in (
            ("style_weight", style_weight),
            ("content_weight", content_weight),
            ("tv_weight", tv_weight),
            ("color_weight", color_weight),
            ("lr_decay", lr_decay),
            ("adv_weight", adv_weight),
        ):
            if v < 0:
                raise UsageError(f"model.{name} must be >= 0, got {v}")
        if base_lr_scale <= 0:
            raise UsageError(f"model.base_lr_scale must be > 0, got {base_lr_scale}")
        if lr <= 0 or adv_lr <= 0:
            raise UsageError(f"model.lr and model.adv_lr must be > 0, got {lr} and {adv_lr}")
        if disc_width < 1:
            raise UsageError(f"model.disc_width must be >= 1, got {disc_width}")
        self.save_hyperparameters()
        enc, self.encoder_info = make_encoder(encoder, encoder_weights)
        if decoder_init:
            decoder = load_decoder(enc, load_state_dict_file(decoder_init), decoder_init)
            if decoder_widths is not None and tuple(decoder_widths) != decoder.widths:
                if decoder.skip_widths:
                    raise UsageError(f"{decoder_init}: a decoder with skips cannot be widened (widen it first)")
                wide = build_decoder(enc, widths=decoder_widths)
                widen_decoder(decoder, wide)
                decoder = wide
        else:
            decoder = build_decoder(enc, widths=decoder_widths)
        if decoder_skips is not None:
            unknown = [s for s in decoder_skips if s not in enc.stages[:-1]]
            if unknown:
                raise UsageError(f"model.decoder_skips must be stages before {enc.last_stage}, got {unknown}")
            levels = [enc.stages.index(s) for s in decoder_skips]
            if set(levels) != set(decoder.skip_widths):
                decoder = add_skips(decoder, enc, levels)
        self.net = AdaINNet(enc, decoder)
        if style_features not in ("encoder", "aux"):
            raise UsageError(f"model.style_features must be 'encoder' or 'aux', got {style_features!r}")
        self.loss_net: Encoder | None = None
        self.loss_network_info: dict[str, Any] | None = None
        if loss_network is not None:
            self.loss_net, self.loss_network_info = make_loss_network(loss_network, loss_network_weights)
        elif loss_network_weights is not None:
            raise UsageError("model.loss_network_weights needs model.loss_network (the network's name)")
        self.style_layers = tuple(s for s in enc.stages if s in style_layers)
        #: style layers the loss network measures; the rest are measured on the encoder (or its heads)
        self.loss_net_layers = tuple(s for s in self.style_layers if self.loss_net and s in self.loss_net.stages)
        rest = [s for s in self.style_layers if s not in self.loss_net_layers]
        if style_features == "aux" and not rest:
            raise UsageError("model.loss_network measures every style layer: model.style_features='aux' has none left")
        self.aux: AuxHeads | None = None
        if style_features == "aux":
            wpath = self.encoder_info["encoder_weights"]
            if wpath == RANDOM:
                raise UsageError("model.style_features='aux' needs real encoder weights with distillation heads")
            self.aux = AuxHeads(load_state_dict_file(wpath), rest, wpath)
        given = dict(zip(style_layers, style_layer_weights or [1.0] * len(style_layers)))
        self.style_layer_weights = {k: float(given[k]) for k in self.style_layers}
        if channels_last:
            self.net.to(memory_format=torch.channels_last)
            if self.loss_net is not None:
                self.loss_net.to(memory_format=torch.channels_last)
        self._decode = torch.compile(self.net.decoder) if compile else self.net.decoder
        self.register_buffer("color_dirs", color_directions(32), persistent=False)
        self.disc: PatchDiscriminator | None = PatchDiscriminator(disc_width) if adv_weight > 0 else None
        if self.disc is not None and channels_last:
            self.disc.to(memory_format=torch.channels_last)

    # ---------------------------------------------------------------- losses
    def _mf(self, x: Tensor) -> Tensor:
        return x.contiguous(memory_format=torch.channels_last) if self.hparams.channels_last else x

    def compute_targets(self, content: Tensor, style: Tensor) -> tuple[Tensor, dict[str, tuple[Tensor, Tensor]]]:
        """The AdaIN target ``t`` (the decoder's input and the content loss's target) and the style
        statistics per layer; no autograd graph (they are constants of the step)."""
        enc, net = self.net.encoder, self.net
        code = set(net.code_stages)
        content, style = self._mf(content), self._mf(style)
        with torch.no_grad():
            # content and style in one encoder call: one pass over a batch of 2N is faster than two
            wanted = self._encoder_style_stages | code
            if content.shape == style.shape:
                feats = enc(torch.cat([content, style]), wanted)
                n = content.shape[0]
                c_code = net.code_of({k: v[:n] for k, v in feats.items()})
                s_feats = {k: v[n:] for k, v in feats.items()}
            else:
                c_code = net.code_of(enc(content, code))
                s_feats = enc(style, wanted)
            target = adain(c_code, net.code_of(s_feats))
            s_style = self._style_features(style, s_feats)
            s_stats = {k: calc_mean_std(s_style[k]) for k in self.style_layers}
        return target, s_stats

    @property
    def _encoder_style_stages(self) -> set[str]:
        """Stages the encoder must give for the style loss (those the loss network does not measure)."""
        return set(self.style_layers) - set(self.loss_net_layers)

    def _style_features(self, images: Tensor, feats: dict[str, Tensor]) -> dict[str, Tensor]:
        """The features the style loss compares: the loss network's of ``images`` for the layers it
        reaches, the encoder's ``feats`` for the others (through the distillation heads with
        ``style_features='aux'``)."""
        rest = {k: v for k, v in feats.items() if k in self._encoder_style_stages}
        out = self.aux(rest) if self.aux is not None else rest
        if self.loss_net is not None and self.loss_net_layers:
            out.update(self.loss_net(images, self.loss_net_layers))
        return out

    def output_losses(
        self, out: Tensor, target: Tensor, s_stats: dict[str, tuple[Tensor, Tensor]], style: Tensor | None = None
    ) -> dict[str, Tensor]:
        """Loss terms of a decoded batch (gradients flow through the frozen encoder to ``out``).

        ``style`` (the batch's style images) is needed by the colour loss and the adversarial
        option. With the adversarial option, ``style`` (the batch's style crops) are the discriminator's
        real samples. Generator and discriminator are trained by one backward pass of ``loss``:
        the generator's term sees the discriminator through detached weights (no gradient reaches
        the discriminator from it) and the discriminator's term sees detached outputs (none
        reaches the decoder), so one optimiser with two parameter groups updates both, every
        parameter gets a gradient in every step (plain DDP), and resume stays exact.
        """
        last = self.net.encoder.last_stage
        o_feats = self.net.encoder(out, self._encoder_style_stages | {last})
        o_style = self._style_features(out, o_feats)
        loss_c = F.mse_loss(o_feats[last].float(), self.net.deepest(target))
        loss_s = sum(self.style_layer_weights[k] * mean_std_loss(o_style[k], *s_stats[k]) for k in self.style_layers)
        loss_tv = total_variation(out.float()) if self.hparams.tv_weight > 0 else out.new_zeros(())
        hp = self.hparams
        generator = hp.content_weight * loss_c + hp.style_weight * loss_s + hp.tv_weight * loss_tv
        losses = {"loss_content": loss_c, "loss_style": loss_s, "loss_tv": loss_tv}
        if hp.color_weight > 0:
            if style is None:
                raise UsageError("the colour loss needs the batch's style images")
            losses["loss_color"] = sliced_wasserstein(out, style, self.color_dirs)
            generator = generator + hp.color_weight * losses["loss_color"]
        if self.disc is None:
            return {"loss": generator, **losses}
        if style is None:
            raise UsageError("the adversarial loss needs the batch's style images")
        frozen = {k: v.detach() for k, v in self.disc.named_parameters()}
        loss_adv = hinge_g_loss(torch.func.functional_call(self.disc, frozen, (out,)))
        loss_disc = hinge_d_loss(self.disc(self._mf(style)), self.disc(out.detach()))
        generator = generator + hp.adv_weight * loss_adv
        return {
            "loss": generator + loss_disc,
            "loss_generator": generator,
            **losses,
            "loss_adv": loss_adv,
            "loss_disc": loss_disc,
        }

    def compute_losses(self, content: Tensor, style: Tensor) -> dict[str, Tensor]:
        """All loss terms for one batch; ``loss`` is the weighted total."""
        target, s_stats = self.compute_targets(content, style)
        out = self._decode(self._mf(target))
        return self.output_losses(out, target, s_stats, style)

    def _shared_step(self, batch: tuple[Tensor, Tensor, Tensor], stage: str) -> Tensor:
        content, style, skipped = batch
        losses = self.compute_losses(content, style)
        if not torch.isfinite(losses["loss"]):
            raise FloatingPointError(f"{stage} loss is not finite at step {self.global_step}: {losses}")
        on_step = stage == "train"
        for k, v in losses.items():
            self.log(
                f"{stage}/{k}",
                v.detach(),
                on_step=on_step,
                on_epoch=not on_step,
                prog_bar=k == "loss",
                batch_size=content.shape[0],
            )
        if on_step:
            self._skipped = getattr(self, "_skipped", 0) + int(skipped.sum())
            self.log("train/skipped_images", float(self._skipped), on_step=True)
        return losses["loss"]

    def training_step(self, batch: tuple[Tensor, Tensor, Tensor], batch_idx: int) -> Tensor:
        loss = self._shared_step(batch, "train")
        self.log("lr", self.optimizers().param_groups[0]["lr"], on_step=True, prog_bar=False)
        return loss

    def validation_step(self, batch: tuple[Tensor, Tensor, Tensor], batch_idx: int) -> Tensor:
        return self._shared_step(batch, "val")

    # ---------------------------------------------------------------- optimisation
    def configure_optimizers(self) -> dict[str, Any]:
        dec, lr = self.net.decoder, self.hparams.lr
        skips = [p for n, p in dec.named_parameters() if n.startswith("skips.")]
        base = [p for n, p in dec.named_parameters() if not n.startswith("skips.")]
        groups = [{"params": base, "lr": lr * self.hparams.base_lr_scale}]
        if skips:
            groups.append({"params": skips, "lr": lr})
        if self.disc is not None:  # the discriminator: its own group, constant learning rate
            groups.append({"params": list(self.disc.parameters()), "lr": self.hparams.adv_lr})
        opt = torch.optim.Adam(groups)
        decay = self.hparams.lr_decay
        n_dec = 2 if skips else 1
        lambdas = [lambda step: 1.0 / (1.0 + decay * step)] * n_dec + [lambda step: 1.0] * (len(groups) - n_dec)
        sched = LambdaLR(opt, lambdas)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step", "frequency": 1}}

    # ---------------------------------------------------------------- checkpoints
    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["adain"] = {
            **self.encoder_info,
            "stages": list(self.net.encoder.stages),
            "decoder_widths": list(self.net.decoder.widths),
            "decoder_skips": [self.net.encoder.stages[b] for b in self.net.decoder.skip_widths],
        }
        if self.loss_network_info is not None:
            checkpoint["adain"]["loss_network"] = self.loss_network_info
        sd = checkpoint["state_dict"]
        for k in [k for k in sd if k.startswith(LOSS_NET_PREFIX)]:  # rebuilt from its file on load
            del sd[k]
        keep_encoder = self.hparams.store_encoder or self.encoder_info["encoder_weights"] == RANDOM
        if not keep_encoder:
            for k in [k for k in sd if k.startswith(ENCODER_PREFIX)]:
                del sd[k]

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        sd = checkpoint["state_dict"]
        if self.loss_net is not None:
            for k, v in self.loss_net.state_dict().items():
                sd[LOSS_NET_PREFIX + k] = v
        if not any(k.startswith(ENCODER_PREFIX) for k in sd):
            for k, v in self.net.encoder.state_dict().items():
                sd[ENCODER_PREFIX + k] = v

    def decoder_state_dict(self) -> dict[str, Tensor]:
        return {k: v.detach().clone() for k, v in self.net.decoder.state_dict().items()}
