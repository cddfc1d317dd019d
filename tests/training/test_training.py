"""Training layer: LightningCLI, learning, exact resume, wandb offline, DDP, bad input."""

from __future__ import annotations

import math
import subprocess
import sys
import time
from pathlib import Path

import lightning as L
import pytest
import torch
from lightning.pytorch.callbacks import TQDMProgressBar

from adain import Stylizer
from adain import functional as AF
from adain.cli.stylize import infer_main
from adain.errors import AdainError, ImageError, UsageError, WeightsError
from adain.nets.names import STAGES
from adain.training.cli import train_main
from adain.training.data import ContentStyleDataModule
from adain.training.module import AdaINLitModule
from tests.helpers import REPO, make_image
from tests.wandb_log import history

DEBUG = str(REPO / "configs" / "debug.yaml")


@pytest.fixture(autouse=True)
def _argv(monkeypatch: pytest.MonkeyPatch) -> None:
    """LightningCLI also looks at sys.argv: make it the program's, not pytest's."""
    monkeypatch.setattr(sys, "argv", ["adain-train"])


@pytest.fixture
def data(tmp_path: Path) -> tuple[Path, Path]:
    c, s = tmp_path / "c", tmp_path / "s"
    for i in range(4):
        make_image(c / f"c{i}.jpg", 56, 48, i)
        make_image(s / "nested" / f"s{i}.png", 40, 52, 10 + i)
    return c, s


def fit_args(data: tuple[Path, Path], root: Path, *extra: str) -> list[str]:
    c, s = data
    return [
        "fit",
        "--config",
        DEBUG,
        f"--data.content_dir={c}",
        f"--data.style_dir={s}",
        f"--trainer.default_root_dir={root}",
        *extra,
    ]


def test_debug_config_trains_writes_checkpoint_and_grid(data, tmp_path):
    cli = train_main(fit_args(data, tmp_path / "run", f"--data.val_content_dir={data[0]}"))
    metrics = cli.trainer.callback_metrics
    assert math.isfinite(float(metrics["train/loss"]))
    assert {"train/loss_content", "train/loss_style", "train/loss_tv", "val/loss"} <= set(metrics)
    ckpts = sorted(p.name for p in (tmp_path / "run" / "checkpoints").glob("*.ckpt"))
    assert "last.ckpt" in ckpts
    grids = sorted((tmp_path / "run" / "samples").glob("step_*.jpg"))
    assert grids
    from PIL import Image

    w, h = Image.open(grids[-1]).size
    assert (w, h) == (3 * 32 + 4 * 2, 3 * 32 + 4 * 2)  # (1 + 2 styles) x (1 + 2 contents) cells of 32 px
    assert (tmp_path / "run" / "config.yaml").is_file()


def test_checkpoint_stylizes_through_cli_and_api(data, tmp_path, capsys):
    train_main(fit_args(data, tmp_path / "run"))
    ckpt = tmp_path / "run" / "checkpoints" / "last.ckpt"
    st = Stylizer.from_checkpoint(ckpt, device="cpu")
    assert st.stylize(data[0] / "c0.jpg", data[0] / "c1.jpg", content_size=0).shape == (3, 48, 56)
    out = tmp_path / "o.png"
    code = infer_main(
        [
            "--content",
            str(data[0] / "c0.jpg"),
            "--style",
            str(data[0] / "c1.jpg"),
            "--checkpoint",
            str(ckpt),
            "--output",
            str(out),
            "--device",
            "cpu",
            "--quiet",
        ]
    )
    assert code == 0 and out.is_file(), capsys.readouterr().err


def test_checkpoint_without_encoder_checks_sha256(tmp_path, data):
    enc_file = tmp_path / "enc.pth"
    torch.manual_seed(3)
    from adain import build_encoder

    torch.save(build_encoder("vgg19_small16x").state_dict(), enc_file)
    module = AdaINLitModule(encoder="vgg19_small16x", encoder_weights=str(enc_file))
    dm = ContentStyleDataModule(str(data[0]), str(data[1]), image_size=32, crop_size=32, batch_size=2, num_workers=0)
    trainer = L.Trainer(
        max_steps=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        default_root_dir=tmp_path,
        accelerator="cpu",
    )
    trainer.fit(module, dm)
    ckpt = tmp_path / "m.ckpt"
    trainer.save_checkpoint(ckpt)
    saved = torch.load(ckpt, weights_only=True)
    assert not any(k.startswith("net.encoder.") for k in saved["state_dict"])  # not duplicated
    assert saved["adain"]["encoder_weights"] == str(enc_file)
    Stylizer.from_checkpoint(ckpt, device="cpu")  # loads fine
    torch.manual_seed(4)
    torch.save(build_encoder("vgg19_small16x").state_dict(), enc_file)  # weights changed underneath
    with pytest.raises(WeightsError, match="sha256 .* differs"):
        Stylizer.from_checkpoint(ckpt, device="cpu")
    enc_file.unlink()
    with pytest.raises(WeightsError, match="enc.pth: encoder weights recorded in .* not found"):
        Stylizer.from_checkpoint(ckpt, device="cpu")


def test_learning_happens(data):
    """Overfit a small16x-width decoder on 2 tiny pairs: total loss drops by at least 40 %."""
    torch.manual_seed(0)
    module = AdaINLitModule(encoder="vgg19_small16x", encoder_weights="random", lr=1e-3, lr_decay=0.0)
    from adain.io.images import load_image, resize_image

    c = torch.stack([resize_image(load_image(data[0] / f"c{i}.jpg"), 32, crop=True) for i in range(2)])
    s = torch.stack([resize_image(load_image(data[1] / "nested" / f"s{i}.png"), 32, crop=True) for i in range(2)])
    opt = module.configure_optimizers()["optimizer"]
    losses = []
    for _ in range(60):
        loss = module.compute_losses(c, s)["loss"]
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    first, last = sum(losses[:3]) / 3, sum(losses[-3:]) / 3
    assert last < 0.6 * first, (first, last)


def _decoder_after(data, root: Path, steps: int, resume: Path | None = None, *extra: str) -> tuple[dict, int, float]:
    args = fit_args(
        data,
        root,
        *extra,
        f"--trainer.max_steps={steps}",
        "--trainer.val_check_interval=null",
        "--trainer.callbacks=[]",
        "--trainer.enable_checkpointing=true",
        "--trainer.callbacks+=lightning.pytorch.callbacks.ModelCheckpoint",
        "--trainer.callbacks.save_last=true",
        "--model.lr=1e-3",
        "--model.lr_decay=0.1",
    )
    if resume is not None:
        args.append(f"--ckpt_path={resume}")
    cli = train_main(args)
    module = cli.model
    lr = cli.trainer.optimizers[0].param_groups[0]["lr"]
    weights = module.decoder_state_dict()
    if module.disc is not None:
        weights.update({f"disc.{k}": v.detach().clone() for k, v in module.disc.state_dict().items()})
    return weights, cli.trainer.global_step, lr


SKIPS = ("--model.decoder_skips=[relu1_1,relu2_1,relu3_1]", "--model.base_lr_scale=0.5")
LOSS_NET = ("--model.loss_network=vgg19_small16x", "--model.loss_network_weights=random")


@pytest.mark.parametrize(
    "extra",
    [(), ("--model.adv_weight=0.1",), SKIPS, LOSS_NET, ("--model.color_weight=5",)],
    ids=["plain", "adversarial", "skips", "loss-network", "colour"],
)
def test_resume_is_exact(data, tmp_path, extra):
    straight, step_a, lr_a = _decoder_after(data, tmp_path / "a", 6, None, *extra)
    _decoder_after(data, tmp_path / "b", 3, None, *extra)
    resumed, step_b, lr_b = _decoder_after(
        data, tmp_path / "b2", 6, tmp_path / "b" / "checkpoints" / "last.ckpt", *extra
    )
    if extra and extra[0].startswith("--model.adv"):
        assert any(k.startswith("disc.") for k in straight)  # the discriminator resumes exactly too
    assert step_a == step_b == 6
    scale = 0.5 if extra == SKIPS else 1.0  # the first group holds the decoder's base weights
    assert lr_a == pytest.approx(lr_b, rel=1e-12) and lr_a == pytest.approx(scale * 1e-3 / (1 + 0.1 * 6))
    if extra == SKIPS:
        assert any(k.startswith("skips.") for k in straight)
    for k in straight:
        torch.testing.assert_close(resumed[k], straight[k], atol=1e-6, rtol=1e-5)
    # and the run actually changed the weights (the comparison is not vacuous)
    fresh, _, _ = _decoder_after(data, tmp_path / "c", 1, None, *extra)
    assert any(not torch.allclose(fresh[k], straight[k]) for k in straight)


def test_wandb_offline_really_logs(data, tmp_path):
    train_main(
        fit_args(
            data,
            tmp_path / "run",
            "--trainer.logger=lightning.pytorch.loggers.WandbLogger",
            f"--trainer.logger.save_dir={tmp_path / 'run'}",
            "--trainer.logger.offline=true",
            "--trainer.logger.project=adain-test",
            "--trainer.log_every_n_steps=1",
        )
    )
    import wandb

    wandb.finish()
    runs = list((tmp_path / "run" / "wandb").glob("offline-run-*/run-*.wandb"))
    assert len(runs) == 1
    # wandb's service writes the transaction log asynchronously: on a loaded machine the history
    # records can land a moment after finish() returns (CI saw an empty history once)
    deadline = time.monotonic() + 30
    rows = history(runs[0])
    while not any("train/loss" in r for r in rows) and time.monotonic() < deadline:
        time.sleep(0.5)
        rows = history(runs[0])
    logged = {k for r in rows for k in r}
    assert {"train/loss", "train/loss_content", "train/loss_style", "lr"} <= logged
    assert all(math.isfinite(r["train/loss"]) for r in rows if "train/loss" in r)


def test_corrupt_files_are_skipped_and_counted(data, tmp_path, recwarn):
    c, s = data
    (c / "broken.jpg").write_text("not an image")
    trunc = make_image(s / "trunc.jpg", 64, 64)
    raw = trunc.read_bytes()
    trunc.write_bytes(raw[: len(raw) // 2])  # header intact: only a full decode finds the damage
    dm = ContentStyleDataModule(str(c), str(s), image_size=32, crop_size=32, batch_size=4, num_workers=0)
    dm.setup()
    assert dm.skipped_at_scan == 1 and len(dm.contents) == 4
    assert any("broken.jpg" in str(w.message) for w in recwarn)
    cli = train_main(fit_args(data, tmp_path / "run", "--trainer.max_steps=6", "--data.batch_size=4"))
    assert cli.trainer.global_step == 6
    assert float(cli.trainer.callback_metrics["train/skipped_images"]) >= 1  # the truncated one was drawn


def test_missing_and_empty_dirs_fail_before_training(tmp_path, data):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ImageError, match="nope: content directory does not exist"):
        train_main(fit_args((tmp_path / "nope", data[1]), tmp_path / "r"))
    with pytest.raises(ImageError, match="empty: style directory contains no images"):
        train_main(fit_args((data[0], tmp_path / "empty"), tmp_path / "r"))


def test_cli_errors_are_one_line(tmp_path, data):
    r = subprocess.run(
        [sys.executable, str(REPO / "train.py"), *fit_args((tmp_path / "nope", data[1]), tmp_path / "r")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert r.returncode == 2
    assert r.stderr.strip().splitlines()[-1].startswith("adain-train: error: ")
    assert "Traceback" not in r.stderr
    r = subprocess.run(
        [
            sys.executable,
            str(REPO / "train.py"),
            *fit_args(data, tmp_path / "r"),
            "--model.encoder_weights=/no/such/vgg.pth",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert r.returncode == 2 and "/no/such/vgg.pth: weights file not found" in r.stderr


def test_config_typo_is_reported(data, tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        train_main(fit_args(data, tmp_path / "r", "--model.style_wieght=3"))
    assert e.value.code == 2
    assert "style_wieght" in capsys.readouterr().err


def test_print_config_and_paper_config_parse(capsys):
    with pytest.raises(SystemExit) as e:
        train_main(["fit", "--config", str(REPO / "configs" / "adain.yaml"), "--print_config"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert "max_steps: 160000" in out and "style_weight: 10.0" in out and "offline: true" in out


@pytest.mark.slow
@pytest.mark.parametrize("extra", [(), ("--model.adv_weight=0.1",)], ids=["plain", "adversarial"])
def test_ddp_two_cpu_processes(data, tmp_path, extra):
    r = subprocess.run(
        [
            sys.executable,
            str(REPO / "train.py"),
            *fit_args(data, tmp_path / "run"),
            "--trainer.strategy=ddp",
            "--trainer.devices=2",
            "--trainer.accelerator=cpu",
            "--trainer.max_steps=2",
            *extra,
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    assert (tmp_path / "run" / "checkpoints" / "last.ckpt").is_file()


def test_module_rejects_bad_hparams():
    with pytest.raises(ValueError, match="style_layers"):
        AdaINLitModule(encoder="vgg19_small16x", encoder_weights="random", style_layers=("relu5_1",))
    with pytest.raises(AdainError):
        AdaINLitModule(encoder="vgg19_small16x", encoder_weights="/missing.pth")
    for bad in ([1.0, 2.0], [1.0, 1.0, -1.0, 1.0]):
        with pytest.raises(ValueError, match="style_layer_weights"):
            AdaINLitModule(encoder="vgg19_small16x", encoder_weights="random", style_layer_weights=bad)


def test_loss_network_measures_the_style_loss_and_stays_out_of_checkpoints(data, tmp_path):
    """With ``loss_network`` the style statistics (targets and outputs) come from that network;
    the content loss stays on the encoder's code; checkpoints record it but do not store it."""
    module = AdaINLitModule(
        encoder="vgg19_small16x", encoder_weights="random", loss_network="vgg19_small16x", loss_network_weights="random"
    )
    loss_net, enc = module.loss_net, module.net.encoder
    assert loss_net is not None and not torch.equal(loss_net.conv11.weight, enc.conv11.weight)
    torch.manual_seed(2)
    c, s = torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        target, stats = module.compute_targets(c, s)
        ref = {k: AF.calc_mean_std(v) for k, v in loss_net(s).items()}
        out = module.net.decode(target)
        losses = module.output_losses(out, target, stats)
        feats = loss_net(out)
        style = sum(AF.mean_std_loss(feats[k], *ref[k]) for k in STAGES)
        content = torch.nn.functional.mse_loss(enc(out, ["relu4_1"])["relu4_1"], target)
    for k in STAGES:
        torch.testing.assert_close(stats[k], ref[k])
    torch.testing.assert_close(losses["loss_style"], style)
    torch.testing.assert_close(losses["loss_content"], content)
    with pytest.raises(ValueError, match="none left"):  # the loss network measures every layer
        AdaINLitModule(encoder="vgg19_small16x", encoder_weights="random", loss_network="vgg19_small16x",
                       style_features="aux")  # fmt: skip
    with pytest.raises(ValueError, match="needs model.loss_network"):
        AdaINLitModule(encoder="vgg19_small16x", encoder_weights="random", loss_network_weights="x.pth")

    train_main(fit_args(data, tmp_path / "run", *LOSS_NET))
    ckpt = torch.load(next((tmp_path / "run").rglob("*.ckpt")), map_location="cpu", weights_only=False)
    assert not any(k.startswith("loss_net.") for k in ckpt["state_dict"])
    assert ckpt["adain"]["loss_network"]["encoder"] == "vgg19_small16x"


def test_style_layer_weights_weigh_each_layer_term():
    """The style loss is the weighted sum of the per-layer mean/std losses (weights in the order
    of ``style_layers``, whatever order that is)."""
    layers = ("relu3_1", "relu1_1")
    plain = AdaINLitModule(encoder="vgg19_small16x", encoder_weights="random", style_layers=layers)
    weighted = AdaINLitModule(
        encoder="vgg19_small16x", encoder_weights="random", style_layers=layers, style_layer_weights=[3.0, 0.5]
    )
    weighted.net.load_state_dict(plain.net.state_dict())
    torch.manual_seed(1)
    c, s = torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        target, stats = plain.compute_targets(c, s)
        out = plain.net.decode(target)
        feats = plain.net.encoder(out, ["relu1_1", "relu3_1"])
        terms = {k: AF.mean_std_loss(feats[k], *stats[k]) for k in ("relu1_1", "relu3_1")}
        got = weighted.output_losses(out, target, stats)["loss_style"]
        base = plain.output_losses(out, target, stats)["loss_style"]
    torch.testing.assert_close(base, terms["relu1_1"] + terms["relu3_1"])
    torch.testing.assert_close(got, 0.5 * terms["relu1_1"] + 3.0 * terms["relu3_1"])


def test_color_weight_adds_the_sliced_wasserstein_term():
    plain = AdaINLitModule(encoder="vgg19_small16x", encoder_weights="random")
    colour = AdaINLitModule(encoder="vgg19_small16x", encoder_weights="random", color_weight=4.0)
    colour.net.load_state_dict(plain.net.state_dict())
    torch.manual_seed(2)
    c, s = torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        target, stats = plain.compute_targets(c, s)
        out = plain.net.decode(target)
        base = plain.output_losses(out, target, stats, s)
        got = colour.output_losses(out, target, stats, s)
    assert "loss_color" not in base
    expect = AF.sliced_wasserstein(out, s, AF.color_directions(32))
    torch.testing.assert_close(got["loss_color"], expect)
    assert float(expect) > 0
    torch.testing.assert_close(got["loss"], base["loss"] + 4.0 * expect)
    with pytest.raises(UsageError, match="colour loss needs"):
        colour.output_losses(out, target, stats)
    with pytest.raises(UsageError, match="color_weight"):
        AdaINLitModule(encoder="vgg19_small16x", encoder_weights="random", color_weight=-1)


def test_decoder_init_accepts_a_training_checkpoint(data, tmp_path):
    """Fine-tuning stage: start a new run (fresh optimiser, other crops/lr) from an earlier run's decoder."""
    stage1, _, _ = _decoder_after(data, tmp_path / "s1", 3)
    ckpt = tmp_path / "s1" / "checkpoints" / "last.ckpt"
    module = AdaINLitModule(encoder="vgg19_small16x", encoder_weights="random", decoder_init=str(ckpt))
    warm = module.decoder_state_dict()
    for k in stage1:
        torch.testing.assert_close(warm[k], stage1[k])
    fresh = AdaINLitModule(encoder="vgg19_small16x", encoder_weights="random").decoder_state_dict()
    assert any(not torch.allclose(fresh[k], stage1[k]) for k in stage1)


def test_decoder_init_rejects_a_checkpoint_without_decoder(tmp_path):
    bad = tmp_path / "other.ckpt"
    torch.save({"state_dict": {"model.layer.weight": torch.zeros(2)}}, bad)
    with pytest.raises(ValueError, match="other.ckpt"):
        AdaINLitModule(encoder="vgg19_normalised", encoder_weights="random", decoder_init=str(bad))


def test_export_writes_a_small_decoder_file_that_stylizes(data, tmp_path, capsys):
    from adain.cli.export import main as export_main

    stage1, _, _ = _decoder_after(data, tmp_path / "run", 2)
    ckpt = tmp_path / "run" / "checkpoints" / "last.ckpt"
    dst = tmp_path / "out" / "decoder.pt"
    assert export_main(["decoder", str(ckpt), str(dst), "--half"]) == 0
    sd = torch.load(dst, weights_only=True)
    assert set(sd) == set(stage1) and all(v.dtype == torch.float16 for v in sd.values())
    for k in stage1:
        torch.testing.assert_close(sd[k].float(), stage1[k], atol=2e-3, rtol=1e-2)
    assert list(dst.parent.iterdir()) == [dst]  # no temporary file left behind
    # an existing output is kept unless --overwrite; a bad checkpoint is one line, exit 2
    before = dst.read_bytes()
    assert export_main(["decoder", str(ckpt), str(dst)]) == 2
    assert dst.read_bytes() == before and "exists" in capsys.readouterr().err
    assert export_main(["decoder", str(ckpt), str(dst), "--overwrite"]) == 0
    assert torch.load(dst, weights_only=True)[next(iter(stage1))].dtype == torch.float32
    junk = tmp_path / "junk.ckpt"
    junk.write_bytes(b"not a checkpoint")
    assert export_main(["decoder", str(junk), str(tmp_path / "x.pt")]) == 2
    err = capsys.readouterr().err.strip()
    assert "junk.ckpt" in err and len(err.splitlines()) == 1 and not (tmp_path / "x.pt").exists()


def test_ema_checkpoint_holds_the_averaged_decoder(data, tmp_path):
    """With EMAWeightAveraging (configs/small16x_ema.yaml), checkpoints, export and warm starts see the EMA weights."""
    from adain.weights.loading import load_checkpoint_net

    train_main(
        fit_args(
            data,
            tmp_path / "run",
            "--trainer.max_steps=4",
            "--trainer.val_check_interval=null",
            "--model.lr=1e-2",
            "--model.lr_decay=0",
            "--trainer.callbacks+=lightning.pytorch.callbacks.EMAWeightAveraging",
            "--trainer.callbacks.decay=0.5",
        )
    )
    ckpt = torch.load(tmp_path / "run" / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    prefix = "net.decoder."
    ema = {k[len(prefix) :]: v for k, v in ckpt["state_dict"].items() if k.startswith(prefix)}
    raw = {k[len(prefix) :]: v for k, v in ckpt["current_model_state"].items() if k.startswith(prefix)}
    assert ema and ema.keys() == raw.keys()
    assert any(not torch.allclose(ema[k], raw[k]) for k in ema)  # the average lags the raw weights
    loaded = load_checkpoint_net(tmp_path / "run" / "checkpoints" / "last.ckpt").decoder.state_dict()
    warm = AdaINLitModule(
        encoder="vgg19_small16x",
        encoder_weights="random",
        decoder_init=str(tmp_path / "run" / "checkpoints" / "last.ckpt"),
    ).decoder_state_dict()
    for k in ema:
        torch.testing.assert_close(loaded[k], ema[k])
        torch.testing.assert_close(warm[k], ema[k])
    # a run resumed from such a checkpoint carries the average on (and the raw weights, not the EMA ones)
    assert int(ckpt["averaging_state"]["n_averaged"]) == 4
    cli = train_main(
        fit_args(
            data,
            tmp_path / "run2",
            "--trainer.max_steps=6",
            "--trainer.val_check_interval=null",
            "--model.lr=1e-2",
            "--model.lr_decay=0",
            "--trainer.callbacks+=lightning.pytorch.callbacks.EMAWeightAveraging",
            "--trainer.callbacks.decay=0.5",
            f"--ckpt_path={tmp_path / 'run' / 'checkpoints' / 'last.ckpt'}",
        )
    )
    assert cli.trainer.global_step == 6
    resumed = torch.load(tmp_path / "run2" / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    assert int(resumed["averaging_state"]["n_averaged"]) == 6


def test_small16x_configs_parse(capsys):
    stage1 = ["--config", str(REPO / "configs" / "small16x.yaml")]
    stage2 = [*stage1, "--config", str(REPO / "configs" / "small16x_ema.yaml")]  # an overlay on stage 1
    gpu = [*stage1, "--config", str(REPO / "configs" / "small16x_gpu.yaml")]  # stage 3, batch 16 on a GPU
    wide = [*stage1, "--config", str(REPO / "configs" / "small16x_wide.yaml")]
    skip = [*stage1, "--config", str(REPO / "configs" / "small16x_skip.yaml")]  # multi-level (small16x-skip)
    adv = [*skip, "--config", str(REPO / "configs" / "small16x_skip_adv.yaml")]  # + the texture critic
    vgg = [*skip, "--config", str(REPO / "configs" / "small16x_skip_vgg.yaml")]  # style loss on ImageNet VGG-19
    outs = {}
    for name, args, expect in (
        ("stage 1", stage1, "max_steps: 2500"),
        ("stage 2", stage2, "decay: 0.995"),
        ("gpu", gpu, "max_steps: 40000"),
        ("wide", wide, "- 128"),
        ("skip", skip, "- relu3_1"),
        ("adv", adv, "adv_weight: 0.1"),
        ("vgg", vgg, "loss_network: vgg19_imagenet"),
    ):
        with pytest.raises(SystemExit) as e:
            train_main(["fit", *args, "--print_config"])
        assert e.value.code == 0, name
        outs[name] = out = capsys.readouterr().out
        assert expect in out and "encoder: vgg19_small16x" in out, name
    assert "decoder_init: runs/small16x/checkpoints/step002500.ckpt" in outs["stage 2"]
    assert "style_weight: 10.0" in outs["stage 2"]
    # stage 3 continues from the shipped decoder with the packaged encoder (no ../shared weights needed)
    g = outs["gpu"]
    assert "batch_size: 16" in g and "decay: 0.999" in g and "benchmark: true" in g
    assert "encoder_weights: adain/pretrained/small16x/model.safetensors" in g
    assert "decoder_init: adain/pretrained/small16x/model.safetensors" in g
    assert (REPO / "adain/pretrained/small16x/model.safetensors").is_file()
    assert "decoder_skips:" in outs["skip"] and "base_lr_scale: 0.25" in outs["skip"]
    a = outs["adv"]
    assert "decoder_skips:" in a and "decoder_init: adain/pretrained/small16x_skip/model.safetensors" in a
    assert "style_layer_weights: null" in a and "default_root_dir: runs/small16x_skip_adv" in a
    assert "style_features: encoder" in outs["vgg"] and "decoder_skips:" in outs["vgg"]


def test_progress_bar_counts_to_max_steps_also_after_resume(data, tmp_path):
    """Lightning skips on_train_epoch_start when a run resumes mid-epoch, so its bar showed `N/?` (no ETA)."""

    def run(root: Path, steps: int, *extra: str) -> tuple[object, object]:
        cli = train_main(
            fit_args(data, root, f"--trainer.max_steps={steps}", "--trainer.val_check_interval=null", *extra)
        )
        bar = cli.trainer.progress_bar_callback.train_progress_bar
        return bar.total, bar.n

    assert run(tmp_path / "a", 2) == (2, 2)
    assert run(tmp_path / "b", 5, f"--ckpt_path={tmp_path / 'a' / 'checkpoints' / 'last.ckpt'}") == (5, 5)
    # a bar the user configures is left alone
    cli = train_main(
        fit_args(
            data,
            tmp_path / "c",
            "--trainer.max_steps=1",
            "--trainer.val_check_interval=null",
            "--trainer.callbacks+=lightning.pytorch.callbacks.TQDMProgressBar",
            "--trainer.callbacks.refresh_rate=3",
        )
    )
    bar = cli.trainer.progress_bar_callback
    assert type(bar) is TQDMProgressBar and bar.refresh_rate == 3


@pytest.mark.parametrize(
    "flags, expected",
    [
        ("fpu sse avx avx2 fma", "32-true"),  # AVX2-only: bf16 would be emulated
        ("avx2 avx512f avx512_bf16", "bf16-mixed"),  # AVX512-BF16
        ("avx2 avx512f amx_tile amx_bf16", "bf16-mixed"),  # AMX
    ],
)
def test_training_precision_is_picked_per_cpu(monkeypatch, flags, expected, tmp_path, data):
    from adain.runtime import precision
    from adain.runtime.precision import default_precision

    monkeypatch.setenv("ADAIN_CPU_FLAGS", flags)
    monkeypatch.setattr(precision, "nvidia_gpu_present", lambda: False)
    assert default_precision() == expected
    c, s = data
    cli = train_main(
        [
            f"--data.content_dir={c}",
            f"--data.style_dir={s}",
            "--model.encoder=vgg19_small16x",
            "--model.encoder_weights=random",
        ],
        run=False,
    )
    assert cli.config["trainer"]["precision"] == expected


def test_fast_training_reader_matches_the_full_decode(tmp_path):
    """JPEGs are decoded at reduced size (DCT scaling) and resized on 8 bits: the same picture as
    the float path within a few grey levels."""
    import numpy as np
    from PIL import Image

    from adain.io.images import read_image, read_image_u8, resize_array

    yy, xx = np.mgrid[0:300, 0:400].astype(np.float32)
    rgb = np.stack([xx / 400, yy / 300, 0.5 + 0.4 * np.sin(xx / 30) * np.cos(yy / 40)], -1)
    path = tmp_path / "big.jpg"
    Image.fromarray((rgb * 255).astype(np.uint8)).save(path, quality=95)
    fast = read_image_u8(path, 100)
    ref = resize_array(read_image(path), 100)
    assert fast.shape == (100, 133, 3) and fast.dtype == np.uint8
    assert np.abs(fast.transpose(2, 0, 1) / 255.0 - ref).mean() < 0.01
    assert read_image_u8(path, 0).shape == (300, 400, 3)
    with pytest.raises(ImageError):
        read_image_u8(tmp_path / "missing.jpg", 100)


def test_targets_of_one_encoder_pass_equal_two_passes():
    torch.manual_seed(0)
    module = AdaINLitModule(encoder="vgg19_small16x", encoder_weights="random")
    c, s = torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32)
    target, stats = module.compute_targets(c, s)
    enc = module.net.encoder
    with torch.no_grad():
        ref_target = AF.adain(enc(c, ["relu4_1"])["relu4_1"], enc(s, ["relu4_1"])["relu4_1"])
        ref_stats = {k: AF.calc_mean_std(v) for k, v in enc(s).items()}
    torch.testing.assert_close(target, ref_target, atol=1e-5, rtol=1e-4)
    for k, (m, sd) in stats.items():
        torch.testing.assert_close(m, ref_stats[k][0], atol=1e-5, rtol=1e-4)
        torch.testing.assert_close(sd, ref_stats[k][1], atol=1e-5, rtol=1e-4)


def test_hinge_losses_by_hand():
    real, fake = torch.tensor([2.0, 0.5, -1.0]), torch.tensor([-2.0, 0.0, 1.0])
    # relu(1 - real) = 0, .5, 2 -> mean 5/6; relu(1 + fake) = 0, 1, 2 -> mean 1
    assert float(AF.hinge_d_loss(real, fake)) == pytest.approx(5 / 6 + 1.0)
    assert float(AF.hinge_g_loss(fake)) == pytest.approx(1 / 3)


def _adv_module(weight: float) -> AdaINLitModule:
    torch.manual_seed(0)
    return AdaINLitModule(encoder="vgg19_small16x", encoder_weights="random", adv_weight=weight, adv_lr=1e-3)


def test_adversarial_discriminator_trains_and_generator_receives_its_gradient():
    c, s = torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32)
    # the generator's gradient: with the adversarial term the decoder's gradient changes ...
    grads = {}
    for w in (0.0, 0.5):
        m = _adv_module(w)
        if w == 0.0:
            assert m.disc is None and "loss_adv" not in m.compute_losses(c, s)
            m = _adv_module(1e-12)  # same weights, a discriminator with a negligible weight
        m.compute_losses(c, s)["loss"].backward()
        grads[w] = (
            {k: p.grad.clone() for k, p in m.net.decoder.named_parameters()},
            {k: p.grad.clone() for k, p in m.disc.named_parameters()},
        )
    assert any(not torch.allclose(grads[0.0][0][k], grads[0.5][0][k]) for k in grads[0.0][0])
    # ... while the discriminator's gradient comes from its own loss only, whatever the weight
    for k in grads[0.0][1]:
        torch.testing.assert_close(grads[0.0][1][k], grads[0.5][1][k])
    # the discriminator learns: its hinge loss falls while it trains (decoder frozen here)
    m = _adv_module(0.1)
    opt = torch.optim.Adam(m.disc.parameters(), lr=1e-3)
    d_losses = []
    for _ in range(30):
        loss = m.compute_losses(c, s)["loss_disc"]
        opt.zero_grad()
        loss.backward()
        opt.step()
        d_losses.append(float(loss))
    assert d_losses[-1] < 0.5 * d_losses[0], d_losses
    # its patch logits: one per overlapping patch
    assert m.disc(torch.rand(1, 3, 64, 64)).shape == (1, 1, 6, 6)


def test_adversarial_option_is_off_by_default_and_checked():
    assert AdaINLitModule(encoder="vgg19_small16x", encoder_weights="random").disc is None
    with pytest.raises(AdainError, match="adv_weight"):
        AdaINLitModule(encoder="vgg19_small16x", encoder_weights="random", adv_weight=-1.0)
    with pytest.raises(AdainError, match="adv_lr"):
        AdaINLitModule(encoder="vgg19_small16x", encoder_weights="random", adv_weight=0.1, adv_lr=0.0)


def test_val_holdout_keeps_validation_out_of_training(data):
    dm = ContentStyleDataModule(str(data[0]), str(data[1]), val_holdout=1, batch_size=2, num_workers=0)
    dm.setup()
    assert len(dm.contents) == 3 and len(dm.val_contents) == 1 and not set(dm.contents) & set(dm.val_contents)
    assert len(dm.styles) == 3 and not set(dm.styles) & set(dm.val_styles)
    assert len(dm.val_dataloader()) == 4  # 8 validation pairs in batches of 2
    with pytest.raises(AdainError, match="val_holdout"):
        ContentStyleDataModule(str(data[0]), str(data[1]), val_holdout=4).setup()


def _warm_started(tmp_path: Path, **kw: object) -> tuple[AdaINLitModule, AdaINLitModule]:
    """A random small16x module, and a second one warm-started from its decoder with ``kw``."""
    base = AdaINLitModule(encoder="vgg19_small16x", encoder_weights="random")
    torch.save(base.decoder_state_dict(), tmp_path / "base.pt")
    return base, AdaINLitModule(
        encoder="vgg19_small16x", encoder_weights="random", decoder_init=str(tmp_path / "base.pt"), **kw
    )


def test_decoder_widths_warm_start_from_a_narrower_decoder(data, tmp_path):
    """``--model.decoder_widths`` wider than ``decoder_init``: same outputs at step 0, the new
    channels train, and checkpoint/export/loading keep the widths."""
    from adain.cli.export import main as export_main
    from adain.weights.loading import load_checkpoint_net

    small, wide = _warm_started(tmp_path, decoder_widths=[24, 48, 64, 128])
    assert wide.net.decoder.widths == (24, 48, 64, 128)
    g = torch.Generator().manual_seed(0)
    content, style = torch.rand(2, 3, 32, 32, generator=g), torch.rand(2, 3, 32, 32, generator=g)
    a, b = small.compute_losses(content, style), wide.compute_losses(content, style)
    torch.testing.assert_close(a["loss"], b["loss"], rtol=1e-4, atol=1e-6)
    b["loss"].backward()
    last = dict(wide.net.decoder.named_children())[wide.net.decoder.conv_blocks()[-1][0]]
    assert last.weight.grad[:, 16:].abs().sum() > 0  # the new channels get a say
    with pytest.raises(ValueError, match="narrower"):
        AdaINLitModule(
            encoder="vgg19_small16x",
            encoder_weights="random",
            decoder_init=str(tmp_path / "base.pt"),
            decoder_widths=[8, 32, 64, 128],
        )
    # a short run with the wide decoder: checkpoint → export → the file loads for inference
    weights, _, _ = _decoder_after(data, tmp_path / "run", 2, None, "--model.decoder_widths=[24,48,64,128]")
    ckpt = tmp_path / "run" / "checkpoints" / "last.ckpt"
    assert load_checkpoint_net(ckpt).decoder.widths == (24, 48, 64, 128)
    assert export_main(["decoder", str(ckpt), str(tmp_path / "wide.pt")]) == 0
    sd = torch.load(tmp_path / "wide.pt", weights_only=True)
    assert sd.keys() == weights.keys()
    from adain.weights.loading import load_pretrained

    net = load_pretrained("small16x", decoder_weights=str(tmp_path / "wide.pt"), download=False)
    assert net.decoder.widths == (24, 48, 64, 128)
    assert net(content, style).shape == content.shape


def test_decoder_skips_warm_start_exactly_train_and_export(data, tmp_path, capsys):
    """``--model.decoder_skips`` on a plain ``decoder_init``: the same losses at step 0 (zero
    skips), the skips learn at ``lr`` and the rest at ``lr × base_lr_scale``, and checkpoint →
    model folder → inference keeps them."""
    from adain.cli.export import main as export_main
    from adain.weights.folder import load_model_folder, read_config
    from adain.weights.loading import load_checkpoint_net

    plain, skip = _warm_started(tmp_path, decoder_skips=["relu1_1", "relu2_1", "relu3_1"], base_lr_scale=0.1, lr=1e-3)
    assert skip.net.decoder.levels == (0, 1, 2, 3)
    g = torch.Generator().manual_seed(0)
    content, style = torch.rand(2, 3, 32, 32, generator=g), torch.rand(2, 3, 32, 32, generator=g)
    a, b = plain.compute_losses(content, style), skip.compute_losses(content, style)
    for k in ("loss", "loss_content", "loss_style"):
        torch.testing.assert_close(a[k], b[k], rtol=1e-5, atol=1e-6)
    b["loss"].backward()
    assert all(conv.weight.grad.abs().sum() > 0 for conv in skip.net.decoder.skips.values())
    groups = skip.configure_optimizers()["optimizer"].param_groups
    assert [g["lr"] for g in groups] == [pytest.approx(1e-4), pytest.approx(1e-3)]
    assert sum(p.numel() for p in groups[1]["params"]) == 16 * 16 + 32 * 32 + 64 * 64 + 16 + 32 + 64
    with pytest.raises(ValueError, match="decoder_skips"):
        AdaINLitModule(encoder="vgg19_small16x", encoder_weights="random", decoder_skips=["relu4_1"])
    # a short run → checkpoint → hub folder → the same network for inference
    _decoder_after(data, tmp_path / "run", 2, None, *SKIPS)
    ckpt = tmp_path / "run" / "checkpoints" / "last.ckpt"
    net = load_checkpoint_net(ckpt)
    assert net.decoder.levels == (0, 1, 2, 3)
    assert torch.load(ckpt, weights_only=False)["adain"]["decoder_skips"] == ["relu1_1", "relu2_1", "relu3_1"]
    assert export_main(["hub", str(tmp_path / "folder"), "--checkpoint", str(ckpt)]) == 0
    assert read_config(tmp_path / "folder")["decoder_skips"] == ["relu1_1", "relu2_1", "relu3_1"]
    again = load_model_folder(tmp_path / "folder")
    with torch.no_grad():
        torch.testing.assert_close(again(content, style), net(content, style), rtol=1e-3, atol=1e-3)


def test_a_signal_to_the_data_loaders_workers_ends_in_one_line(monkeypatch, capsys):
    """``pkill -f adain-train`` reaches the workers too: one line and 143, not a traceback; any
    other RuntimeError is not swallowed."""
    from adain.cli import train as train_cli

    def killed(*a, **k):
        raise RuntimeError("DataLoader worker (pid 123) is killed by signal: Terminated. ")

    monkeypatch.setattr(train_cli, "train_main", killed)
    monkeypatch.setattr("adain.runtime.hardware.keep_freed_memory", lambda: None)
    with pytest.raises(SystemExit) as e:
        train_cli.main()
    assert e.value.code == 143
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "killed by signal: Terminated" in err[0] and "--ckpt_path" in err[0]

    def bug(*a, **k):
        raise RuntimeError("something else")

    monkeypatch.setattr(train_cli, "train_main", bug)
    with pytest.raises(RuntimeError, match="something else"):
        train_cli.main()
