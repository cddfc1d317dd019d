"""Optimisation-based stylization (Gatys et al. 2016) and AdaIN-initialised refinement."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from adain import functional as AF
from adain.cli.stylize import infer_main
from adain.errors import UsageError
from adain.io.images import read_image
from adain.methods.gatys.loss_network import LossNetwork, loss_network_for
from adain.methods.gatys.optim import Objective, optimize_image, scale_sizes
from adain.methods.gatys.options import OptimizeOptions
from adain.methods.stylizer import Stylizer
from adain.nets.encoder import build_encoder
from tests.helpers import make_image


# ----------------------------------------------------------------------------- losses by hand
def test_gram_matrix_by_hand():
    f = torch.tensor([[1.0, 2.0], [3.0, 4.0]]).view(1, 1, 2, 2).repeat(1, 2, 1, 1)
    f[:, 1] *= -1.0
    g = AF.gram_matrix(f)
    # Σ x² / 4 = (1 + 4 + 9 + 16) / 4 = 7.5; the channels are opposite: off-diagonal −7.5
    assert torch.allclose(g, torch.tensor([[[7.5, -7.5], [-7.5, 7.5]]]))


def test_masked_gram_matrix_selects_pixels():
    torch.manual_seed(0)
    f = torch.randn(2, 3, 4, 6)
    assert torch.allclose(AF.masked_gram_matrix(f, torch.ones(1, 1, 4, 6)), AF.gram_matrix(f), atol=1e-6)
    mask = torch.zeros(1, 1, 4, 6)
    mask[..., :3] = 1.0
    assert torch.allclose(AF.masked_gram_matrix(f, mask), AF.gram_matrix(f[..., :3]), atol=1e-6)
    # soft weights: a weighted average of the per-pixel outer products
    soft = torch.rand(1, 1, 4, 6)
    x = f.reshape(2, 3, -1)
    w = soft.reshape(1, 1, -1)
    expected = torch.einsum("ncp,ndp->ncd", x * w, x) / w.sum()
    assert torch.allclose(AF.masked_gram_matrix(f, soft), expected, atol=1e-5)


def test_gram_and_content_loss_by_hand():
    f = torch.ones(1, 2, 2, 2)
    target = torch.zeros(1, 2, 2)
    # gram of ones is all ones: MSE against zeros = 1
    assert float(AF.gram_loss(f, target)) == pytest.approx(1.0)
    assert float(AF.content_loss(f, torch.zeros_like(f))) == pytest.approx(1.0)
    assert float(AF.content_loss(2 * f, f)) == pytest.approx(1.0)
    with pytest.raises(UsageError):
        AF.gram_loss(f, torch.zeros(1, 3, 3))
    with pytest.raises(UsageError):
        AF.content_loss(f, torch.zeros(1, 3, 2, 2))


def test_mean_std_loss_by_hand():
    f = torch.tensor([0.0, 2.0, 0.0, 2.0]).view(1, 1, 2, 2)  # mean 1, std 1
    loss = AF.mean_std_loss(f, torch.zeros(1, 1, 1, 1), torch.zeros(1, 1, 1, 1), eps=0.0)
    assert float(loss) == pytest.approx(2.0)


def test_total_variation_by_hand():
    img = torch.tensor([[0.0, 1.0], [0.0, 3.0]]).view(1, 1, 2, 2)
    # vertical diffs 0, 2; horizontal diffs 1, 3
    assert float(AF.total_variation(img)) == pytest.approx(1.0 + 2.0)
    assert float(AF.total_variation(img, power=2)) == pytest.approx(2.0 + 5.0)
    with pytest.raises(UsageError):
        AF.total_variation(img, power=3)


# ----------------------------------------------------------------------------- the loop
@pytest.fixture
def tiny_net() -> LossNetwork:
    torch.manual_seed(0)
    return loss_network_for(build_encoder("vgg19_small16x"))


def _img(seed: int, h: int = 32, w: int = 32) -> torch.Tensor:
    return torch.rand(1, 3, h, w, generator=torch.Generator().manual_seed(seed))


def test_lbfgs_lowers_its_objective_monotonically(tiny_net):
    content, style = _img(0), _img(1, 40, 36)
    opts = OptimizeOptions(iterations=15, tol=0.0)
    result = optimize_image(tiny_net, content, [style], "content", opts)
    h = result.history
    assert len(h) == 15
    assert all(b <= a + 1e-6 * abs(a) for a, b in zip(h, h[1:])), h
    objective = Objective(tiny_net, content, [style], opts)
    start, end = float(objective(content)), float(objective(result.image))
    assert end < 0.5 * start
    assert end == pytest.approx(min(h), rel=1e-4)
    assert result.image.shape == content.shape and 0.0 <= float(result.image.min()) <= float(result.image.max()) <= 1.0


def test_adam_and_meanstd_lower_the_objective(tiny_net):
    content, style = _img(2), _img(3)
    opts = OptimizeOptions(iterations=30, optimizer="adam", loss="meanstd", tol=0.0)
    result = optimize_image(tiny_net, content, [style], "content", opts)
    objective = Objective(tiny_net, content, [style], opts)
    assert float(objective(result.image)) < 0.8 * float(objective(content))


def test_seed_makes_noise_runs_deterministic(tiny_net):
    content, style = _img(4), _img(5)
    opts = OptimizeOptions(iterations=4, seed=3)
    a = optimize_image(tiny_net, content, [style], "noise", opts).image
    b = optimize_image(tiny_net, content, [style], "noise", opts).image
    c = optimize_image(tiny_net, content, [style], "noise", OptimizeOptions(iterations=4, seed=4)).image
    assert torch.equal(a, b)
    assert not torch.allclose(a, c)


def test_zero_iterations_return_the_start(tiny_net):
    content, style, start = _img(6), _img(7), _img(8)
    result = optimize_image(tiny_net, content, [style], start, OptimizeOptions(iterations=0))
    assert torch.equal(result.image, start) and result.history == []


def test_early_stop_on_plateau(tiny_net):
    content, style = _img(9), _img(10)
    result = optimize_image(tiny_net, content, [style], "content", OptimizeOptions(iterations=200, tol=0.5, patience=3))
    assert len(result.history) < 200


def test_blend_targets_are_weighted_and_masks_are_regional(tiny_net):
    content, s1, s2 = _img(11), _img(12), _img(13)
    opts = OptimizeOptions()
    one = Objective(tiny_net, content, [s1], opts)
    blend = Objective(tiny_net, content, [s1, s2], opts, weights=[1.0, 0.0])
    x = _img(14)
    assert float(blend(x)) == pytest.approx(float(one(x)), rel=1e-5)
    half = Objective(tiny_net, content, [s1, s2], opts, weights=[0.5, 0.5])
    g1, g2 = one.regions[0][1]["relu2_1"], Objective(tiny_net, content, [s2], opts).regions[0][1]["relu2_1"]
    assert torch.allclose(half.regions[0][1]["relu2_1"], 0.5 * g1 + 0.5 * g2, atol=1e-5)
    # a mask that gives everything to style 1 is the single-style objective
    masks = torch.zeros(1, 2, 32, 32)
    masks[:, 0] = 1.0
    masked = Objective(tiny_net, content, [s1, s2], opts, masks=masks)
    assert float(masked(x)) == pytest.approx(float(one(x)), rel=1e-4)


def test_multiscale_sizes_and_run(tiny_net):
    assert scale_sizes(512, 768) == [(512, 768)]
    assert scale_sizes(1400, 2000) == [(350, 500), (700, 1000), (1400, 2000)]
    assert scale_sizes(64, 64, 2) == [(32, 32), (64, 64)]
    result = optimize_image(tiny_net, _img(15, 48, 40), [_img(16)], "content", OptimizeOptions(iterations=3, scales=2))
    assert result.image.shape == (1, 3, 48, 40)
    assert len(result.iterations) == 2


@pytest.mark.parametrize(
    "bad",
    [
        {"iterations": -1},
        {"style_weight": -1.0},
        {"tv_weight": float("nan")},
        {"optimizer": "sgd"},
        {"loss": "l1"},
        {"style_layers": ("relu5_1",)},
        {"content_weight": 0.0, "style_weight": 0.0},
        {"lr": 0.0},
    ],
)
def test_bad_options_are_one_line_errors(tiny_net, bad):
    with pytest.raises(UsageError) as e:
        OptimizeOptions(**bad).validate(tiny_net.layers)
    assert "\n" not in str(e.value)


def test_small16x_measures_through_its_distillation_heads():
    st = Stylizer.from_pretrained("small16x", backend="torch", device="cpu", precision="fp32")
    net = st.loss_network()
    assert net.heads is not None and net.label == "vgg19_small16x+heads"
    feats = net(_img(17), ["relu1_1", "relu4_1"])
    assert feats["relu1_1"].shape[1] == 64 and feats["relu4_1"].shape[1] == 512  # VGG-19 widths
    assert st.loss_network("off").heads is None
    with pytest.raises(UsageError):
        torch.manual_seed(0)
        loss_network_for(build_encoder("vgg19_small16x"), "on")  # weights in memory: no heads


# ----------------------------------------------------------------------------- API and CLI
@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    return {
        "content": make_image(tmp_path / "c.png", 40, 32, seed=1),
        "style": make_image(tmp_path / "s.png", 36, 36, seed=2),
        "style2": make_image(tmp_path / "s2.png", 36, 36, seed=3),
    }


@pytest.fixture(scope="module")
def stylizer() -> Stylizer:
    return Stylizer.from_pretrained("small16x", backend="torch", device="cpu", precision="fp32")


def test_refine_zero_equals_adain_and_refine_changes_it(stylizer, files):
    kw = {"content_size": 32, "style_size": 32}
    plain = stylizer.stylize(files["content"], files["style"], **kw)
    assert torch.equal(stylizer.refine(files["content"], files["style"], iterations=0, **kw), plain)
    refined = stylizer.refine(files["content"], files["style"], iterations=5, **kw)
    assert refined.shape == plain.shape and not torch.allclose(refined, plain, atol=1e-3)


def test_refine_options_reach_the_result(stylizer, files):
    kw = {"content_size": 32, "style_size": 32, "iterations": 3}
    masks = [np.tile((np.arange(40) < 20).astype(np.float32), (32, 1))]
    both = [files["style"], files["style2"]]
    out_mask = stylizer.refine(files["content"], both, masks=masks, **kw)
    out_blend = stylizer.refine(files["content"], both, weights=[0.8, 0.2], **kw)
    out_lum = stylizer.refine(files["content"], files["style"], preserve_color="luminance", **kw)
    out_coral = stylizer.refine(files["content"], files["style"], preserve_color="coral", **kw)
    for out in (out_mask, out_blend, out_lum, out_coral):
        assert out.shape == (3, 32, 40)
    # luminance keeps the content's chroma
    content = torch.from_numpy(stylizer.pipeline.load(files["content"], 32)[0])
    cbcr = lambda t: AF.rgb_to_ycbcr(t)[1:]  # noqa: E731
    # (up to pixels clipped to [0, 1] after the transfer)
    err_lum = (cbcr(out_lum) - cbcr(content)).abs().mean()
    err_plain = (cbcr(out_coral) - cbcr(content)).abs().mean()
    assert err_lum < 0.02 and err_lum < 0.5 * err_plain
    with pytest.raises(UsageError):
        stylizer.refine(files["content"], files["style"], iterations=-2)
    with pytest.raises(UsageError):
        stylizer.refine(files["content"], files["style"], init="zeros")


def _run(args: list[str], capsys) -> tuple[int, str]:
    code = infer_main(args)
    return code, capsys.readouterr().err


def test_cli_refine_and_gatys(files, tmp_path, capsys):
    base = [
        "--content",
        str(files["content"]),
        "--style",
        str(files["style"]),
        "--model",
        "small16x",
        "--quiet",
        "--content-size",
        "32",
        "--style-size",
        "32",
        "--backend",
        "torch",
        "--precision",
        "fp32",
        "--ext",
        "png",
    ]
    code, err = _run([*base, "--output", str(tmp_path / "plain.png")], capsys)
    assert code == 0, err
    code, err = _run([*base, "--output", str(tmp_path / "r0.png"), "--refine", "0"], capsys)
    assert code == 0, err
    assert np.array_equal(np.asarray(Image.open(tmp_path / "r0.png")), np.asarray(Image.open(tmp_path / "plain.png")))
    code, err = _run([*base, "--output", str(tmp_path / "r3.png"), "--refine", "3"], capsys)
    assert code == 0, err
    assert not np.array_equal(read_image(tmp_path / "r3.png"), read_image(tmp_path / "plain.png"))
    code, err = _run(
        [
            *base,
            "--output",
            str(tmp_path / "g.png"),
            "--method",
            "gatys",
            "--init",
            "noise",
            "--iterations",
            "3",
            "--seed",
            "1",
            "--loss",
            "meanstd",
            "--optimizer",
            "adam",
        ],
        capsys,
    )
    assert code == 0, err
    assert read_image(tmp_path / "g.png").shape == (3, 32, 40)


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--refine", "-1"], "--refine must be >= 0"),
        (["--method", "gatys", "--iterations", "-5"], "--iterations must be >= 0"),
        (["--refine", "2", "--style-weight", "-1"], "style-weight must be"),
        (["--refine", "2", "--tv-weight", "nan"], "tv-weight must be"),
        (["--method", "gatys", "--refine", "2"], "with --method gatys use --iterations"),
        (["--refine", "2", "--style-layers", "relu5_1"], "no layer 'relu5_1'"),
        (["--refine", "2", "--grid", "alpha"], "cannot be combined"),
    ],
)
def test_cli_bad_values(files, tmp_path, capsys, extra, message):
    out = tmp_path / "out"
    code, err = _run(
        [
            "--content",
            str(files["content"]),
            "--style",
            str(files["style"]),
            "--model",
            "small16x",
            "--quiet",
            "--output",
            str(out),
            *extra,
        ],
        capsys,
    )
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert not out.exists()


@pytest.mark.shared
def test_video_stays_adain_only(shared, tmp_path, capsys):
    video = next((shared / "images" / "video").iterdir())
    code, err = _run(
        [
            "--content",
            str(video),
            "--style",
            str(shared / "images" / "style" / "la_muse.jpg"),
            "--model",
            "small16x",
            "--output",
            str(tmp_path / "v"),
            "--refine",
            "5",
        ],
        capsys,
    )
    assert code == 2 and "video stays AdaIN-only" in err
