"""One pipeline on every runtime: ONNX export, OpenVINO / ONNX Runtime fidelity against torch fp32,
every feature on every backend, the --devices path honouring the same options, fast start."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from adain import AdaINNet, Stylizer, build_encoder
from adain.cli import infer_main
from adain.errors import AdainError
from adain.graphs import GRAPHS, GraphRuntime, ModelSource, export_onnx
from adain.pipeline import Pipeline, pad_to_multiple
from adain.runtime import resolve_backend
from adain.runtime_torch import TorchRuntime
from tests.conftest import make_image
from tests.test_fastpath import canonical_net, genuine_relu3_net, psnr

REPO = Path(__file__).resolve().parents[1]
GRAPH_BACKENDS = ["openvino", "onnxruntime"]


def small_net(seed: int = 0) -> AdaINNet:
    torch.manual_seed(seed)
    net = AdaINNet(build_encoder("vgg19_small16x"))
    last = [m for m in net.decoder if isinstance(m, torch.nn.Conv2d)][-1]
    last.bias.data.fill_(0.5)
    last.weight.data.mul_(0.1)
    return net.eval()


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
    from adain.export import main as export_main

    enc, dec = canonical_files
    out = tmp_path / "onnx"
    assert export_main(["onnx", str(out), "--encoder-weights", str(enc), "--decoder-weights", str(dec), "--custom-weights",
                        "--graphs", "stats", "stylize"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["stats.onnx", "stylize.onnx"]
    capsys.readouterr()
    assert export_main(["onnx", str(out), "--encoder-weights", str(enc), "--decoder-weights", str(dec), "--custom-weights",
                        "--graphs", "stats"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "stats.onnx: already exists" in err[0]


# ----------------------------------------------------------------------------- fidelity
@pytest.mark.parametrize("backend", GRAPH_BACKENDS)
def test_backend_matches_torch_random_canonical(pair, backend):
    c, s = pair
    ref = Stylizer(canonical_net(), "cpu", "fp32").stylize(c, s, alpha=0.8, content_size=0, style_size=0)
    got = Stylizer(canonical_net(), "cpu", "fp32", backend=backend).stylize(c, s, alpha=0.8, content_size=0, style_size=0)
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
    got3 = Stylizer(genuine_relu3_net(shared), "cpu", "fp32", backend=backend).stylize(c, s, content_size=192, style_size=192)
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
    import adain.runtime as R

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
    from adain.grids import alpha_sweep, blend_grid

    assert psnr(alpha_sweep(ref, c, s, **kw), alpha_sweep(got, c, s, **kw)) >= 40
    styles = [s, s2, s, s2]
    assert psnr(blend_grid(ref, c, styles, **kw), blend_grid(got, c, styles, **kw)) >= 40


def test_tiles_equal_the_untiled_result(net):
    pipe = Pipeline(TorchRuntime(net, "cpu", "fp32"))
    x = np.random.default_rng(0).random((3, 200, 260), dtype=np.float32)
    whole = pipe.stylize(x, x, content_size=0, style_size=0, tile=0)
    tiled = pipe.stylize(x, x, content_size=0, style_size=0, tile=64)
    assert psnr(torch.from_numpy(whole), torch.from_numpy(tiled)) > 60


def test_alpha_sweep_encodes_the_content_once(net, pair, monkeypatch):
    c, s = pair
    pipe = Pipeline(TorchRuntime(net, "cpu", "fp32"))
    calls = {"encode": 0, "decode": 0}
    for name in calls:
        orig = getattr(pipe.runtime, name)
        monkeypatch.setattr(pipe.runtime, name, lambda x, _o=orig, _n=name: calls.__setitem__(_n, calls[_n] + 1) or _o(x))
    from adain.grids import alpha_sweep

    alpha_sweep(pipe, c, s, content_size=0, style_size=0)
    assert calls == {"encode": 1, "decode": 5}
    # each cell is what a single stylization at that alpha gives
    one = pipe.stylize(c, s, alpha=0.25, content_size=0, style_size=0)
    many = pipe.run(pipe.load(c), [pipe.style_stats(s, 0)], variants=[(None, 0.0), (None, 0.25)])
    np.testing.assert_allclose(many[1], one, atol=1e-5)


def test_pad_to_multiple_round_trips():
    x = np.random.default_rng(0).random((1, 3, 37, 45), dtype=np.float32)
    p = pad_to_multiple(x, 8)
    assert p.shape[-2:] == (40, 48)
    np.testing.assert_array_equal(p[..., :37, :45], x)
    tiny = np.random.default_rng(1).random((1, 3, 3, 5), dtype=np.float32)
    # at least 2x the stride (a 2x2 code), replicated where too small to reflect
    assert pad_to_multiple(tiny, 8).shape[-2:] == (16, 16)
    np.testing.assert_array_equal(pad_to_multiple(tiny, 8)[..., 3:, :5], np.repeat(tiny[..., -1:, :], 13, axis=2))
    assert pad_to_multiple(np.zeros((1, 3, 16, 24), np.float32), 8).shape[-2:] == (16, 24)
    assert pad_to_multiple(np.zeros((1, 3, 8, 24), np.float32), 8).shape[-2:] == (16, 24)


def test_masks_read_the_same_from_every_input_kind(tmp_path):
    """A red mask is the same grey level as a path, a PIL image, an array and a tensor."""
    from adain.io import to_mask

    img = Image.new("RGB", (6, 4), (255, 0, 0))
    img.save(tmp_path / "red.png")
    arr = np.asarray(img, dtype=np.float32).transpose(2, 0, 1) / 255
    values = [float(to_mask(m).mean()) for m in (tmp_path / "red.png", img, arr, torch.from_numpy(arr))]
    assert values == pytest.approx([0.299] * 4, abs=1e-6)


def test_pil_and_array_inputs_obey_max_pixels(net):
    pipe = Pipeline(TorchRuntime(net, "cpu", "fp32"), max_pixels=100)
    with pytest.raises(AdainError, match="above the limit"):
        pipe.load(Image.new("RGB", (20, 20)))
    with pytest.raises(AdainError, match="above the limit"):
        pipe.load(np.zeros((3, 20, 20), np.float32))


# ----------------------------------------------------------------------------- --devices
def test_devices_path_honours_crop_precision_and_batch_size(tmp_path, canonical_files, capsys):
    enc, dec = canonical_files
    make_image(tmp_path / "in" / "wide.jpg", 48, 32, 1)
    make_image(tmp_path / "in" / "wide2.jpg", 48, 32, 2)
    s = make_image(tmp_path / "s.jpg", 32, 32, 9)
    base = ["--content", str(tmp_path / "in"), "--style", str(s), "--encoder-weights", str(enc), "--decoder-weights",
            str(dec), "--content-size", "0", "--style-size", "0", "--crop", "--precision", "fp32", "--quiet"]
    assert infer_main([*base, "--output", str(tmp_path / "single"), "--device", "cpu", "--backend", "torch"]) == 0
    assert infer_main([*base, "--output", str(tmp_path / "multi"), "--devices", "1", "--accelerator", "cpu",
                       "--batch-size", "2"]) == 0
    for name in ("wide_stylized_s.jpg", "wide2_stylized_s.jpg"):
        a, b = Image.open(tmp_path / "single" / name), Image.open(tmp_path / "multi" / name)
        assert a.size == b.size == (32, 32)
        diff = np.abs(np.asarray(a, np.float32) - np.asarray(b, np.float32)).mean()
        assert diff < 1.0  # same pipeline, same precision: equal up to JPEG rounding
    capsys.readouterr()
    code = infer_main([*base, "--output", str(tmp_path / "x"), "--devices", "1", "--backend", "openvino"])
    assert code == 2 and "--devices runs the torch backend" in capsys.readouterr().err


# ----------------------------------------------------------------------------- fast start
def _python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO, timeout=300)


def test_common_request_imports_no_torch(tmp_path, pair):
    """--help, and a warm-cache OpenVINO run of the built-in model, never import torch or Lightning."""
    c, s = pair
    env = {**os.environ, "ADAIN_HOME": str(tmp_path / "home"), "ADAIN_COMPILED_DIR": str(tmp_path / "compiled")}
    probe = ("import sys, json\nfrom adain.cli import infer_main\ntry:\n    code = infer_main({args})\n"
             "except SystemExit as e:\n    code = e.code\n"
             "print(json.dumps([code, 'torch' in sys.modules, 'lightning' in sys.modules]))")
    r = _python(probe.format(args=["--help"]), env)
    assert json.loads(r.stdout.strip().splitlines()[-1]) == [0, False, False]
    args = ["--content", str(c), "--style", str(s), "--output", str(tmp_path / "o1.jpg"), "--backend", "openvino",
            "--quiet"]
    first = _python(probe.format(args=args), env)  # converts (imports torch once)
    assert json.loads(first.stdout.strip().splitlines()[-1])[0] == 0, first.stderr
    args[5] = str(tmp_path / "o2.jpg")
    second = _python(probe.format(args=args), env)
    assert json.loads(second.stdout.strip().splitlines()[-1]) == [0, False, False], second.stderr
    a = np.asarray(Image.open(tmp_path / "o1.jpg"), np.float32)
    b = np.asarray(Image.open(tmp_path / "o2.jpg"), np.float32)
    assert a.shape == b.shape and np.abs(a - b).max() <= 1.0


def test_offline_fresh_cache_default_command(tmp_path, pair):
    """A fresh machine: empty $ADAIN_HOME, no network; the README quick start works and says which model ran."""
    c, s = pair
    env = {**os.environ, "ADAIN_HOME": str(tmp_path / "empty_home"), "http_proxy": "http://127.0.0.1:9",
           "https_proxy": "http://127.0.0.1:9", "no_proxy": ""}
    env.pop("ADAIN_COMPILED_DIR", None)
    r = subprocess.run([sys.executable, "-m", "adain.cli", "--content", str(c), "--style", str(s), "--output",
                        str(tmp_path / "out/")], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert r.returncode == 0, r.stderr
    out = tmp_path / "out" / "c_stylized_s.jpg"
    assert Image.open(out).size == (round(70 * 512 / 45), 512)
    assert "model: small16x (built in, works offline)" in r.stderr
    assert "python -m adain.weights download canonical" in r.stderr


def test_style_statistics_persist_across_runs_on_graph_backends(tmp_path, net, pair, monkeypatch):
    """The second process-like pipeline of the same model reuses the style's statistics from disk;
    a changed style file is encoded again."""
    _, s = pair
    first = Pipeline.from_source(ModelSource.from_net(net), backend="onnxruntime", verbose=False)
    a = first.style_stats(s, size=0)
    second = Pipeline.from_source(ModelSource.from_net(net), backend="onnxruntime", verbose=False)
    monkeypatch.setattr(second.runtime, "style_stats", lambda x: pytest.fail("style encoded again"))
    b = second.style_stats(s, size=0)
    np.testing.assert_array_equal(a[0], b[0])
    make_image(s, 40, 52, 5)  # the file changes: its statistics must be recomputed
    os.utime(s, ns=(1, 1))
    monkeypatch.undo()
    c = second.style_stats(s, size=0)
    assert not np.allclose(a[0], c[0])
    torch_pipe = Pipeline(TorchRuntime(net, "cpu", "fp32"))
    assert torch_pipe.runtime.cache_dir is None  # a network in memory may change: never cached on disk
