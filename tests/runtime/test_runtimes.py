"""One pipeline on every runtime: ONNX export, OpenVINO / ONNX Runtime fidelity against torch fp32,
every feature on every backend, the --devices path honouring the same options."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from adain import AdaINNet, Stylizer
from adain.cli.stylize import infer_main
from adain.errors import AdainError
from adain.pipeline.core import Pipeline
from adain.runtime.base import resolve_backend
from adain.runtime.graph_backend import GraphRuntime
from adain.runtime.onnx_export import GRAPHS, export_onnx
from adain.runtime.torch_backend import TorchRuntime
from adain.weights.source import ModelSource
from tests.helpers import canonical_net, genuine_relu3_net, make_image, psnr, small_net

REPO = Path(__file__).resolve().parents[2]
GRAPH_BACKENDS = ["openvino", "onnxruntime"]


@pytest.fixture(scope="module")
def net() -> AdaINNet:
    return small_net()


@pytest.fixture
def pair(tmp_path) -> tuple[Path, Path]:
    return make_image(tmp_path / "c.jpg", 70, 45, 1), make_image(tmp_path / "s.png", 40, 52, 2)


# ----------------------------------------------------------------------------- export
def test_onnx_graphs_match_torch(tmp_path, net):
    """Each exported graph, run by ONNX Runtime at a size it was not traced at, equals torch."""
    import onnxruntime as ort

    paths = export_onnx(net, tmp_path / "g")
    assert [p.name for p in paths] == [f"{g}.onnx" for g in GRAPHS]
    x = torch.rand(2, 3, 48, 72)
    mean, std = torch.rand(2, 128, 1, 1), torch.rand(2, 128, 1, 1) + 0.5
    sess = {p.stem: ort.InferenceSession(str(p), providers=["CPUExecutionProvider"]) for p in paths}
    with torch.no_grad():
        code = net.encode(x)
        from adain import functional as AF

        ref = {
            "stats": list(AF.calc_mean_std(code)),
            "stylize": [net.decode(0.7 * AF.adain_from_stats(code, mean, std) + 0.3 * code)],
            "encode": [code],
            "decode": [net.decode(code)],
        }
    feeds = {
        "stats": {"image": x.numpy()},
        "stylize": {"image": x.numpy(), "mean": mean.numpy(), "std": std.numpy(), "alpha": np.float32(0.7)},
        "encode": {"image": x.numpy()},
        "decode": {"code": code.numpy()},
    }
    for g in GRAPHS:
        outs = sess[g].run(None, {k: np.asarray(v, dtype=np.float32) for k, v in feeds[g].items()})
        for got, want in zip(outs, ref[g]):
            np.testing.assert_allclose(got, want.numpy(), atol=2e-4, rtol=1e-4)


def test_export_cli_writes_graphs_and_refuses_to_overwrite(tmp_path, canonical_files, capsys):
    from adain.cli.export import main as export_main

    enc, dec = canonical_files
    out = tmp_path / "onnx"
    assert (
        export_main(
            [
                "onnx",
                str(out),
                "--encoder-weights",
                str(enc),
                "--decoder-weights",
                str(dec),
                "--custom-weights",
                "--graphs",
                "stats",
                "stylize",
            ]
        )
        == 0
    )
    assert sorted(p.name for p in out.iterdir()) == ["stats.onnx", "stylize.onnx"]
    capsys.readouterr()
    assert (
        export_main(
            [
                "onnx",
                str(out),
                "--encoder-weights",
                str(enc),
                "--decoder-weights",
                str(dec),
                "--custom-weights",
                "--graphs",
                "stats",
            ]
        )
        == 2
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "stats.onnx: already exists" in err[0]


# ----------------------------------------------------------------------------- fidelity
@pytest.mark.parametrize("backend", GRAPH_BACKENDS)
def test_backend_matches_torch_random_canonical(pair, backend):
    c, s = pair
    ref = Stylizer(canonical_net(), "cpu", "fp32").stylize(c, s, alpha=0.8, content_size=0, style_size=0)
    got = Stylizer(canonical_net(), "cpu", "fp32", backend=backend).stylize(
        c, s, alpha=0.8, content_size=0, style_size=0
    )
    assert got.shape == ref.shape == (3, 45, 70)
    assert psnr(got, ref) >= 40


@pytest.mark.shared
@pytest.mark.parametrize("backend", GRAPH_BACKENDS)
def test_backend_matches_torch_real_weights(shared, backend):
    """Real weights, real images: the shipped small16x model and the genuine partial VGG + its invertor."""
    c, s = shared / "images/content/cornell.jpg", shared / "images/style/woman_with_hat_matisse.jpg"
    ref = Stylizer.from_pretrained("small16x", device="cpu", precision="fp32", backend="torch")
    got = Stylizer.from_pretrained("small16x", device="cpu", precision="fp32", backend=backend)
    assert psnr(got.stylize(c, s, content_size=256), ref.stylize(c, s, content_size=256)) >= 40
    relu3 = genuine_relu3_net(shared)
    ref3 = Stylizer(relu3, "cpu", "fp32").stylize(c, s, content_size=192, style_size=192)
    got3 = Stylizer(genuine_relu3_net(shared), "cpu", "fp32", backend=backend).stylize(
        c, s, content_size=192, style_size=192
    )
    assert psnr(got3, ref3) >= 40


def test_openvino_bf16_where_simulated_fast(monkeypatch, net):
    """auto precision of OpenVINO follows the (simulated) CPU: bf16 with AVX512-BF16/AMX, fp32 on AVX2."""
    monkeypatch.setenv("ADAIN_CPU_FLAGS", "avx2 avx512_bf16")
    assert GraphRuntime(ModelSource.from_net(net), "openvino", "auto").precision == "bf16"
    monkeypatch.setenv("ADAIN_CPU_FLAGS", "avx2")
    assert GraphRuntime(ModelSource.from_net(net), "openvino", "auto").precision == "fp32"
    with pytest.raises(AdainError, match="onnxruntime runs fp32 only"):
        GraphRuntime(ModelSource.from_net(net), "onnxruntime", "bf16")


def test_backend_resolution(monkeypatch):
    assert resolve_backend("auto", "cpu") == "openvino"
    assert resolve_backend("auto", "cuda") == "torch"
    assert resolve_backend("torch", "cpu") == "torch"
    with pytest.raises(AdainError, match="runs on the CPU"):
        resolve_backend("openvino", "cuda")
    with pytest.raises(AdainError, match="unknown backend"):
        resolve_backend("tensorrt")
    import adain.runtime.base as R

    monkeypatch.setattr(R, "available_backends", lambda: ["torch"])
    assert resolve_backend("auto", "cpu") == "torch"
    with pytest.raises(AdainError, match="openvino package is not installed"):
        resolve_backend("openvino")


# ----------------------------------------------------------------------------- features × backends
@pytest.mark.parametrize("backend", GRAPH_BACKENDS)
def test_every_feature_on_every_backend(tmp_path, net, pair, backend):
    """Blends, masks, colour preservation, tiles and grids give the torch result on each backend."""
    c, s = pair
    s2 = make_image(tmp_path / "s2.jpg", 44, 44, 3)
    mask = tmp_path / "m.png"
    Image.fromarray(np.tile((np.arange(70) < 35).astype(np.uint8)[None] * 255, (45, 1))).save(mask)
    ref = Pipeline(TorchRuntime(net, "cpu", "fp32"))
    got = Pipeline.from_source(ModelSource.from_net(net), backend=backend, precision="fp32")
    kw = {"content_size": 0, "style_size": 0}
    cases = [
        {"style": [s, s2], "weights": [0.3, 0.7], "alpha": 0.6},
        {"style": [s, s2], "masks": [mask, str(mask)]},
        {"style": s, "preserve_color": "coral"},
        {"style": s, "preserve_color": "luminance"},
        {"style": s, "tile": 64},
    ]
    for case in cases:
        a = ref.stylize(c, **case, **kw)
        b = got.stylize(c, **case, **kw)
        assert psnr(torch.from_numpy(a), torch.from_numpy(b)) >= 40, case
    from adain.methods.grids import alpha_sweep, blend_grid

    assert psnr(alpha_sweep(ref, c, s, **kw), alpha_sweep(got, c, s, **kw)) >= 40
    styles = [s, s2, s, s2]
    assert psnr(blend_grid(ref, c, styles, **kw), blend_grid(got, c, styles, **kw)) >= 40


def test_multi_level_model_on_openvino_matches_torch(tmp_path, pair):
    """A decoder with skips (a packed multi-level code): same features, same results, on a graph backend."""
    from tests.helpers import skip_net

    net = skip_net()
    c, s = pair
    s2 = make_image(tmp_path / "s2.jpg", 44, 44, 3)
    mask = tmp_path / "m.png"
    Image.fromarray(np.tile((np.arange(70) < 35).astype(np.uint8)[None] * 255, (45, 1))).save(mask)
    ref = Pipeline(TorchRuntime(net, "cpu", "fp32"))
    got = Pipeline.from_source(ModelSource.from_net(net), backend="openvino", precision="fp32")
    assert ref.runtime.encode(np.zeros((1, 3, 16, 16), np.float32)).shape == (1, 1920, 2, 2)
    kw = {"content_size": 0, "style_size": 0}
    gaps = []
    for case in (
        {"style": s, "alpha": 0.6},
        {"style": [s, s2], "weights": [0.3, 0.7]},
        {"style": [s, s2], "masks": [mask, str(mask)]},
        {"style": s, "preserve_color": "luminance"},
        {"style": s, "tile": 64},
    ):
        a, b = ref.stylize(c, **case, **kw), got.stylize(c, **case, **kw)
        assert psnr(torch.from_numpy(a), torch.from_numpy(b)) >= 40, case
        gaps.append(float(np.abs(a - b).max()))
    plain = Pipeline(TorchRuntime(small_net(), "cpu", "fp32")).stylize(c, s, alpha=0.6, **kw)
    assert np.abs(plain - ref.stylize(c, s, alpha=0.6, **kw)).max() > 10 * max(gaps)  # the skips matter


# ----------------------------------------------------------------------------- --devices
def test_devices_path_honours_crop_precision_and_batch_size(tmp_path, canonical_files, capsys):
    enc, dec = canonical_files
    make_image(tmp_path / "in" / "wide.jpg", 48, 32, 1)
    make_image(tmp_path / "in" / "wide2.jpg", 48, 32, 2)
    s = make_image(tmp_path / "s.jpg", 32, 32, 9)
    base = [
        "--content",
        str(tmp_path / "in"),
        "--style",
        str(s),
        "--encoder-weights",
        str(enc),
        "--decoder-weights",
        str(dec),
        "--content-size",
        "0",
        "--style-size",
        "0",
        "--crop",
        "--precision",
        "fp32",
        "--quiet",
    ]
    assert infer_main([*base, "--output", str(tmp_path / "single"), "--device", "cpu", "--backend", "torch"]) == 0
    assert (
        infer_main(
            [*base, "--output", str(tmp_path / "multi"), "--devices", "1", "--accelerator", "cpu", "--batch-size", "2"]
        )
        == 0
    )
    for name in ("wide_stylized_s.jpg", "wide2_stylized_s.jpg"):
        a, b = Image.open(tmp_path / "single" / name), Image.open(tmp_path / "multi" / name)
        assert a.size == b.size == (32, 32)
        diff = np.abs(np.asarray(a, np.float32) - np.asarray(b, np.float32)).mean()
        assert diff < 1.0  # same pipeline, same precision: equal up to JPEG rounding
    capsys.readouterr()
    code = infer_main([*base, "--output", str(tmp_path / "x"), "--devices", "1", "--backend", "openvino"])
    assert code == 2 and "--devices runs the torch backend" in capsys.readouterr().err
