"""A partial style-loss network: a prefix of the normalised VGG-19 measures the layers it reaches,
the model's encoder (or its distillation heads) the deeper ones; bad files are refused in one line."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

from adain import functional as AF
from adain.errors import ArchitectureError, ImageError, WeightsError
from adain.nets.encoder import build_encoder, prefix_stage
from adain.training.module import AdaINLitModule
from adain.weights.loading import make_loss_network
from tests.helpers import canonical_vgg_state_dict
from tests.training.test_training import _decoder_after


@pytest.fixture(autouse=True)
def _argv(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["adain-train"])


@pytest.fixture
def data(tmp_path: Path) -> tuple[Path, Path]:
    from tests.helpers import make_image

    c, s = tmp_path / "c", tmp_path / "s"
    for i in range(4):
        make_image(c / f"c{i}.jpg", 56, 48, i)
        make_image(s / f"s{i}.png", 40, 52, 10 + i)
    return c, s


def _prefix_file(tmp_path: Path, stage: str, seed: int = 3) -> Path:
    """Random weights in the public layout, only the modules up to ``stage`` (as the WCT files)."""
    keys = build_encoder("vgg19_normalised", stage).state_dict().keys()
    full = canonical_vgg_state_dict(seed)
    path = tmp_path / f"vgg_{stage}.pth"
    torch.save({k: full[k] for k in keys}, path)
    return path


@pytest.mark.parametrize("stage", ["relu1_1", "relu2_1", "relu3_1", "relu4_1"])
def test_a_prefix_file_reaches_its_deepest_stage(tmp_path, stage):
    path = _prefix_file(tmp_path, stage)
    assert prefix_stage("vgg19_normalised", torch.load(path, weights_only=True)) == stage
    net, rec = make_loss_network("vgg19_normalised", str(path))
    assert net.last_stage == stage and rec["stages"][-1] == stage and len(rec["encoder_sha256"]) == 64
    # the full public file (to relu5_4) covers relu4_1
    assert prefix_stage("vgg19_normalised", canonical_vgg_state_dict()) == "relu4_1"


def test_files_that_are_not_a_prefix_are_refused_in_one_line(tmp_path):
    sd = torch.load(_prefix_file(tmp_path, "relu3_1"), weights_only=True)
    hole = {k: v for k, v in sd.items() if not k.startswith("5.")}  # conv1_2 missing, conv2_1 present
    shape = {**sd, "12.weight": torch.zeros(128, 64, 1, 1)}
    extra = {**{k: v for k, v in sd.items() if not k.startswith("16.")}, "foo.weight": torch.zeros(1)}
    cd = build_encoder("vgg19_small16x").state_dict()  # another network's layout
    for bad, words in (
        (hole, "has '9.weight' but not '5.weight'"),
        (shape, "'12.weight' has shape"),
        (extra, "unexpected key 'foo.weight'"),
        (cd, "does not reach relu1_1"),
    ):
        path = tmp_path / "bad.pth"
        torch.save(bad, path)
        with pytest.raises(ArchitectureError, match="not a prefix of vgg19_normalised") as e:
            make_loss_network("vgg19_normalised", str(path))
        assert words in str(e.value) and str(path) in str(e.value) and "\n" not in str(e.value)
    with pytest.raises(WeightsError, match="not found"):
        make_loss_network("vgg19_normalised", str(tmp_path / "missing.pth"))


def test_partial_loss_network_measures_its_layers_and_the_encoder_the_rest(tmp_path):
    path = _prefix_file(tmp_path, "relu2_1")
    module = AdaINLitModule(
        encoder="vgg19_small16x",
        encoder_weights="random",
        loss_network="vgg19_normalised",
        loss_network_weights=str(path),
        style_layer_weights=[1.0, 2.0, 0.5, 1.0],
    )
    assert module.loss_net_layers == ("relu1_1", "relu2_1")
    enc, loss_net = module.net.encoder, module.loss_net
    torch.manual_seed(0)
    c, s = torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        target, stats = module.compute_targets(c, s)
        out = module.net.decode(target)
        losses = module.output_losses(out, target, stats)
        ref_s = {**enc(s, ["relu3_1", "relu4_1"]), **loss_net(s)}
        ref_o = {**enc(out, ["relu3_1", "relu4_1"]), **loss_net(out)}
    weights = {"relu1_1": 1.0, "relu2_1": 2.0, "relu3_1": 0.5, "relu4_1": 1.0}
    for k, v in ref_s.items():
        torch.testing.assert_close(stats[k], AF.calc_mean_std(v))
    expected = sum(w * AF.mean_std_loss(ref_o[k], *AF.calc_mean_std(ref_s[k])) for k, w in weights.items())
    torch.testing.assert_close(losses["loss_style"], expected)
    # the VGG layers really differ from the encoder's (the comparison is not vacuous)
    assert ref_s["relu1_1"].shape[1] == 64 and enc(s, ["relu1_1"])["relu1_1"].shape[1] == 16


def test_a_loss_network_reaching_every_style_layer_leaves_nothing_for_the_heads(tmp_path):
    with pytest.raises(ValueError, match="style_features='aux' has none left"):
        AdaINLitModule(
            encoder="vgg19_small16x",
            encoder_weights="random",
            loss_network="vgg19_normalised",
            loss_network_weights=str(_prefix_file(tmp_path, "relu4_1")),
            style_features="aux",
        )


def test_resume_with_a_partial_loss_network_is_exact_and_the_file_is_recorded_not_stored(data, tmp_path):
    path = _prefix_file(tmp_path, "relu2_1")
    extra = ("--model.loss_network=vgg19_normalised", f"--model.loss_network_weights={path}")
    straight, step_a, _ = _decoder_after(data, tmp_path / "a", 6, None, *extra)
    _decoder_after(data, tmp_path / "b", 3, None, *extra)
    last = tmp_path / "b" / "checkpoints" / "last.ckpt"
    resumed, step_b, _ = _decoder_after(data, tmp_path / "b2", 6, last, *extra)
    assert step_a == step_b == 6
    for k in straight:
        torch.testing.assert_close(resumed[k], straight[k], atol=1e-6, rtol=1e-5)
    ckpt = torch.load(last, map_location="cpu", weights_only=False)
    assert not any(k.startswith("loss_net.") for k in ckpt["state_dict"])
    assert ckpt["adain"]["loss_network"]["stages"] == ["relu1_1", "relu2_1"]


@pytest.mark.shared
def test_the_genuine_relu3_file_is_a_prefix(shared):
    path = shared / "weights" / "wct_normalised_vgg" / "vgg_normalised_conv3_1.pth"
    net, rec = make_loss_network("vgg19_normalised", str(path))
    assert net.stages == ("relu1_1", "relu2_1", "relu3_1")
    assert rec["encoder_sha256"].startswith("4ffff49a")


def test_documented_recipes_run_on_a_machine_without_shared(data, tmp_path, monkeypatch):
    """``configs/small16x.yaml`` (+ the skip and genuine-VGG overlays) with the user's own data and
    weights, a temporary HOME and no ../shared: one step each (fast_dev_run), as the docs write it."""
    from adain.training.cli import train_main
    from tests.helpers import REPO

    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ADAIN_HOME", str(tmp_path / "home" / "adain"))
    monkeypatch.chdir(REPO)  # the configs name the built-in folders relative to a clone
    c, s = data
    cfg = REPO / "configs"
    common = [f"--data.content_dir={c}", f"--data.style_dir={s}", "--data.num_workers=0", "--data.image_size=64",
              "--data.crop_size=32", "--data.batch_size=2", "--data.val_holdout=1", "--trainer.fast_dev_run=true",
              f"--trainer.default_root_dir={tmp_path / 'run'}", "--trainer.logger=false"]  # fmt: skip
    stage1 = ["fit", "--config", str(cfg / "small16x.yaml")]
    vgg = [*stage1, "--config", str(cfg / "small16x_skip.yaml"), "--config", str(cfg / "small16x_vgg.yaml"),
           f"--model.loss_network_weights={_prefix_file(tmp_path, 'relu3_1')}"]  # fmt: skip
    before = sorted((REPO / "runs").rglob("*")) if (REPO / "runs").exists() else []
    for args in (stage1, vgg):
        cli = train_main([*args, *common])
        assert cli.trainer.global_step == 1
        assert all(str(cb.dirpath).startswith(str(tmp_path)) for cb in cli.trainer.checkpoint_callbacks)
    after = sorted((REPO / "runs").rglob("*")) if (REPO / "runs").exists() else []
    assert after == before  # --trainer.default_root_dir moves the whole run: nothing lands in the clone
    assert cli.model.loss_net_layers == ("relu1_1", "relu2_1", "relu3_1") and cli.model.aux is not None
    # without the data options the error names the option to set
    with pytest.raises(ImageError, match=r"content directory does not exist \(set --data.content_dir"):
        train_main([*stage1, *[a for a in common if not a.startswith(("--data.content_dir", "--data.style_dir"))]])
