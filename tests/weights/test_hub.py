"""Models shared the way the ecosystem shares them: the model folder (config.json + model.safetensors +
README.md) written by ``adain-export hub`` and read by ``--model DIR`` / ``from_pretrained(DIR)`` on
every backend; Hub ids downloaded through ``huggingface_hub`` from a local server that answers like
the Hub's resolve endpoint (never the internet); ``torch.hub.load``; one line for every bad folder."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from adain.errors import WeightsError
from tests.helpers import REPO, child_env, make_image, psnr

DEBUG = str(REPO / "configs" / "debug.yaml")


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A checkpoint of a few training steps (debug config: random small16x encoder, 32 px)."""
    import os

    from adain.training.cli import train_main

    d = tmp_path_factory.mktemp("train")
    c, s = d / "c", d / "s"
    for i in range(4):
        make_image(c / f"c{i}.jpg", 56, 48, i)
        make_image(s / f"s{i}.png", 40, 52, 10 + i)
    argv, sys.argv = sys.argv, ["adain-train"]
    home = os.environ.get("ADAIN_HOME")
    os.environ["ADAIN_HOME"] = str(d / "home")
    try:
        train_main(
            [
                "fit",
                "--config",
                DEBUG,
                f"--data.content_dir={c}",
                f"--data.style_dir={s}",
                f"--trainer.default_root_dir={d / 'run'}",
                "--trainer.max_steps=2",
            ]
        )
    finally:
        sys.argv = argv
        if home is None:
            os.environ.pop("ADAIN_HOME", None)
        else:
            os.environ["ADAIN_HOME"] = home
    return d / "run" / "checkpoints" / "last.ckpt"


@pytest.fixture
def pair(tmp_path) -> tuple[Path, Path]:
    return make_image(tmp_path / "c.jpg", 64, 48, 1), make_image(tmp_path / "s.png", 40, 52, 2)


def _export(args: list[str]) -> int:
    from adain.cli.export import main as export_main

    return export_main(["hub", *args])


def _run(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    code = "import sys; from adain.cli.stylize import main; sys.argv[0] = 'x'; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        env={**child_env(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=600,
    )


# ----------------------------------------------------------------------------- the folder format
def test_round_trip_checkpoint_folder_every_loader_and_backend(trained, tmp_path, pair, capsys):
    from adain import Pipeline, Stylizer

    c, s = pair
    folder = tmp_path / "my-model"
    report = tmp_path / "eval.md"
    report.write_text("| model | content loss | style loss |\n|---|---|---|\n| my-model | 1.0 | 2.0 |\n")
    assert _export([str(folder), "--checkpoint", str(trained), "--sample", str(c), str(s), "--eval", str(report)]) == 0
    assert sorted(p.name for p in folder.iterdir()) == ["README.md", "config.json", "model.safetensors", "sample.jpg"]
    config = json.loads((folder / "config.json").read_text())
    assert config["format"] == "adain-model" and config["encoder"] == "vgg19_small16x"
    assert config["encoder_weights"] == "folder"  # random encoder: stored in the folder
    assert config["training"]["checkpoint"] == "last.ckpt"
    blob = (folder / "model.safetensors").read_bytes()
    header = json.loads(blob[8 : 8 + int.from_bytes(blob[:8], "little")])  # safetensors: a JSON header, no pickle
    assert {k.split(".")[0] for k in header if k != "__metadata__"} == {"decoder", "encoder"}
    card = (folder / "README.md").read_text()
    assert card.startswith("---\nlibrary_name: adain") and "| my-model | 1.0 | 2.0 |" in card
    assert "![content | style | output](sample.jpg)" in card and '"checkpoint": "last.ckpt"' in card
    assert Image.open(folder / "sample.jpg").size[0] > 3 * 64

    ref = Stylizer.from_checkpoint(trained, device="cpu", precision="fp32", backend="torch")
    kw = {"content_size": 0, "style_size": 0}
    want = ref.stylize(c, s, **kw)
    got = Stylizer.from_pretrained(str(folder), device="cpu", precision="fp32", backend="torch").stylize(c, s, **kw)
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)
    for backend in ("openvino", "onnxruntime"):
        out = Pipeline.from_pretrained(str(folder), backend=backend, precision="fp32").stylize(c, s, **kw)
        assert psnr(torch.from_numpy(out), want) >= 40, backend
    # a fresh process through the CLI: the same picture as the checkpoint's
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    base = [
        "--content",
        str(c),
        "--style",
        str(s),
        "--content-size",
        "0",
        "--style-size",
        "0",
        "--quiet",
        "--backend",
        "torch",
        "--precision",
        "fp32",
    ]
    r1 = _run([*base, "--model", str(folder), "--output", str(a)], tmp_path)
    r2 = _run([*base, "--checkpoint", str(trained), "--output", str(b)], tmp_path)
    assert r1.returncode == 0 and r2.returncode == 0, (r1.stderr, r2.stderr)
    assert np.abs(np.asarray(Image.open(a), float) - np.asarray(Image.open(b), float)).max() <= 1
    # an existing folder is kept unless --overwrite
    before = (folder / "config.json").read_bytes()
    capsys.readouterr()
    assert _export([str(folder), "--checkpoint", str(trained)]) == 2
    assert "exists" in capsys.readouterr().err and (folder / "config.json").read_bytes() == before
    (folder / "sample.jpg").unlink()
    assert _export([str(folder), "--checkpoint", str(trained), "--sample", str(c), str(s)]) == 2
    assert not (folder / "sample.jpg").exists()  # nothing written when the folder's files exist


def test_a_registered_encoder_is_referenced_not_copied(tmp_path, pair):
    from adain import Stylizer
    from adain.weights.registry import WEIGHTS

    folder = tmp_path / "s16"
    assert _export([str(folder), "--model", "small16x"]) == 0
    config = json.loads((folder / "config.json").read_text())
    shipped = WEIGHTS["small16x_encoder"].packaged_sha256
    assert config["encoder_weights"] == {"registry": "small16x_encoder", "sha256": shipped}
    keys = json.loads(
        (folder / "model.safetensors").read_bytes()[8:][
            : int.from_bytes((folder / "model.safetensors").read_bytes()[:8], "little")
        ]
    )
    assert all(k.startswith("decoder.") for k in keys if k != "__metadata__")
    assert (folder / "model.safetensors").stat().st_size < 1_000_000  # the decoder only (fp32), not the 1.2 MB encoder
    c, s = pair
    kw = {"content_size": 0, "style_size": 0}
    want = Stylizer.from_pretrained("small16x", device="cpu", precision="fp32", backend="torch").stylize(c, s, **kw)
    got = Stylizer.from_pretrained(str(folder), device="cpu", precision="fp32", backend="torch").stylize(c, s, **kw)
    torch.testing.assert_close(got, want, atol=1e-4, rtol=1e-4)


def _broken(tmp_path: Path, kind: str) -> Path:
    d = tmp_path / kind
    assert _export([str(d), "--model", "small16x"]) == 0
    if kind == "no-config":
        (d / "config.json").unlink()
    elif kind == "unknown-arch":
        cfg = json.loads((d / "config.json").read_text())
        (d / "config.json").write_text(json.dumps({**cfg, "encoder": "resnet50"}))
    elif kind in ("widths-abc", "skips-5"):
        cfg = json.loads((d / "config.json").read_text())
        bad = {"decoder_widths": "abc"} if kind == "widths-abc" else {"decoder_skips": 5}
        (d / "config.json").write_text(json.dumps({**cfg, **bad}))
    elif kind == "wrong-keys":
        from safetensors.torch import save_file

        save_file({"decoder.nope": torch.zeros(1)}, str(d / "model.safetensors"))
    elif kind == "wrong-shapes":
        from safetensors.torch import load_file, save_file

        t = load_file(str(d / "model.safetensors"))
        k = next(iter(t))
        t[k] = torch.zeros(3, 3)
        save_file(t, str(d / "model.safetensors"))
    elif kind == "not-safetensors":
        (d / "model.safetensors").write_bytes(b"\x80\x04pickle? no.")
    return d


@pytest.mark.parametrize(
    "kind, words",
    [
        ("no-config", "not a model folder (no config.json"),
        ("unknown-arch", "unknown architecture: encoder 'resnet50'"),
        ("widths-abc", "decoder_widths must be a list of channel counts"),
        ("skips-5", "decoder_skips must be a list of stages"),
        ("wrong-keys", "wrong architecture"),
        ("wrong-shapes", "has shape (3, 3)"),
        ("not-safetensors", "not a readable safetensors file"),
    ],
)
def test_bad_model_folders_are_one_line(tmp_path, pair, kind, words):
    d = _broken(tmp_path, kind)
    r = _run(
        [
            "--content",
            str(pair[0]),
            "--style",
            str(pair[1]),
            "--model",
            str(d),
            "--output",
            str(tmp_path / "o"),
            "--backend",
            "torch",
        ],
        tmp_path,
    )
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1 and words in lines[0], r.stderr
    assert not (tmp_path / "o").exists()


# ----------------------------------------------------------------------------- the Hub
@pytest.mark.parametrize(
    "ref, words",
    [
        ("a/..", "not a Hub id"),
        ("owner/name--x", "not a Hub id"),
        ("a" * 200 + "/b", "not a Hub id"),
        ("owner/-name", "not a Hub id"),
        ("owner/name@../../x", "not a revision"),
        ("owner/name@a//b", "not a revision"),
    ],
)
def test_malformed_hub_ids_are_refused_before_any_network(tmp_path, ref, words, monkeypatch):
    from adain.weights.hub import resolve_model_ref

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(WeightsError, match=words):
        resolve_model_ref(ref)


class _Hub(BaseHTTPRequestHandler):
    """Answers like the Hub's resolve endpoint: ``/{owner}/{name}/resolve/{revision}/{file}``."""

    root: Path
    hits: list[str]

    def log_message(self, *args: object) -> None:
        pass

    def _answer(self, body: bool) -> None:
        parts = self.path.split("?")[0].strip("/").split("/")
        self.hits.append(self.path)
        if len(parts) < 5 or parts[2] != "resolve":
            return self._error(404, "EntryNotFound")
        repo, rev, name = "/".join(parts[:2]), parts[3], "/".join(parts[4:])
        if not (self.root / repo).is_dir():
            return self._error(401, "RepoNotFound")
        if rev != "main":
            return self._error(404, "RevisionNotFound")
        f = self.root / repo / name
        if not f.is_file():
            return self._error(404, "EntryNotFound")
        data = f.read_bytes()
        self.send_response(200)
        self.send_header("X-Repo-Commit", "a" * 40)
        self.send_header("ETag", f'"{hashlib.sha256(data).hexdigest()}"')
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if body:
            self.wfile.write(data)

    def _error(self, code: int, kind: str) -> None:
        self.send_response(code)
        self.send_header("X-Error-Code", kind)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_HEAD(self) -> None:  # noqa: N802
        self._answer(body=False)

    def do_GET(self) -> None:  # noqa: N802
        self._answer(body=True)


@pytest.fixture
def hub(tmp_path):
    root = tmp_path / "hub"
    handler = type("Hub", (_Hub,), {"root": root, "hits": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, handler.hits, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_hub_model_downloads_once_then_runs_offline(tmp_path, pair, hub):
    root, hits, endpoint = hub
    assert _export([str(root / "someone" / "tiny-style"), "--model", "small16x"]) == 0
    c, s = pair
    env = {"HF_ENDPOINT": endpoint, "HF_HOME": str(tmp_path / "hf"), "HF_HUB_DISABLE_TELEMETRY": "1"}
    base = ["--content", str(c), "--style", str(s), "--backend", "torch", "--quiet", "--overwrite", "--output"]
    r = _run([*base, str(tmp_path / "a.jpg"), "--model", "someone/tiny-style"], tmp_path, **env)
    assert r.returncode == 0, r.stderr
    assert any("model.safetensors" in h for h in hits)
    n = len(hits)
    r = _run([*base, str(tmp_path / "b.jpg"), "--model", "someone/tiny-style"], tmp_path, **env, HF_HUB_OFFLINE="1")
    assert r.returncode == 0, r.stderr
    assert len(hits) == n  # offline: from the cache only
    assert np.array_equal(np.asarray(Image.open(tmp_path / "a.jpg")), np.asarray(Image.open(tmp_path / "b.jpg")))
    for ref, words in (("someone/tiny-style@v9", "no such revision"), ("nobody/none", "no such model on the Hub")):
        r = _run([*base, str(tmp_path / "x.jpg"), "--model", ref], tmp_path, **env)
        lines = r.stderr.strip().splitlines()
        assert r.returncode == 2 and len(lines) == 1 and words in lines[0], r.stderr
    r = _run([*base, str(tmp_path / "x.jpg"), "--model", "other/never-fetched"], tmp_path, **env, HF_HUB_OFFLINE="1")
    assert r.returncode == 2 and "not in the Hub cache" in r.stderr, r.stderr


def test_push_uploads_the_folder_through_huggingface_hub(tmp_path, monkeypatch):
    import huggingface_hub

    calls = []
    monkeypatch.setattr(
        huggingface_hub.HfApi,
        "create_repo",
        lambda self, repo_id, private=False, exist_ok=False: (
            calls.append(("create", repo_id, private)) or f"https://huggingface.co/{repo_id}"
        ),
    )
    monkeypatch.setattr(
        huggingface_hub.HfApi,
        "upload_folder",
        lambda self, folder_path, repo_id, commit_message: calls.append(
            ("upload", sorted(p.name for p in Path(folder_path).iterdir()), repo_id)
        ),
    )
    folder = tmp_path / "m"
    assert _export([str(folder), "--model", "small16x", "--push", "me/my-style", "--private"]) == 0
    assert calls == [
        ("create", "me/my-style", True),
        ("upload", ["README.md", "config.json", "model.safetensors"], "me/my-style"),
    ]
    assert "--model me/my-style" in (folder / "README.md").read_text()
    calls.clear()
    assert _export([str(folder), "--push", "me/again"]) == 0  # a folder written before
    assert [c[0] for c in calls] == ["create", "upload"] and calls[1][2] == "me/again"
    assert _export([str(tmp_path / "nothing"), "--push", "me/x"]) == 2  # not a model folder: one line


def test_torch_hub_loads_a_stylizer_from_a_clone(pair):
    st = torch.hub.load(str(REPO), "small16x", source="local", device="cpu", backend="torch", trust_repo=True)
    out = st.stylize(*pair, content_size=32)
    assert out.shape == (3, 32, 43) and 0 <= float(out.min()) and float(out.max()) <= 1
    assert (
        torch.hub.load(str(REPO), "stylizer", "small16x", source="local", backend="torch").runtime.label == "small16x"
    )


def test_a_folders_safetensors_is_a_decoder_file_everywhere(tmp_path, pair):
    """``--decoder-weights`` and ``--model.decoder_init`` take a model folder's ``model.safetensors``."""
    from adain import Stylizer
    from adain.training.module import AdaINLitModule

    folder = tmp_path / "s16"
    assert _export([str(folder), "--model", "small16x"]) == 0
    weights = folder / "model.safetensors"
    c, s = pair
    kw = {"content_size": 0, "style_size": 0}
    want = Stylizer.from_pretrained(str(folder), device="cpu", precision="fp32", backend="torch").stylize(c, s, **kw)
    got = Stylizer.from_pretrained(
        "small16x", decoder_weights=weights, device="cpu", precision="fp32", backend="torch"
    ).stylize(c, s, **kw)
    torch.testing.assert_close(got, want)
    module = AdaINLitModule(encoder="vgg19_small16x", encoder_weights="random", decoder_init=str(weights))
    from safetensors.torch import load_file

    dec = {k.removeprefix("decoder."): v for k, v in load_file(str(weights)).items()}
    for k, v in module.net.decoder.state_dict().items():
        torch.testing.assert_close(v, dec[k])
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"nope")
    with pytest.raises(Exception, match="bad.safetensors: not a readable safetensors file"):
        Stylizer.from_pretrained("small16x", decoder_weights=bad, backend="torch")


def test_include_encoder_half_writes_a_self_contained_folder_like_the_builtin(tmp_path, pair):
    """``--include-encoder --half`` is how the built-in folder is made: encoder + heads + fp16
    decoder, provenance recorded; it equals the shipped folder tensor for tensor."""
    from importlib import resources

    from safetensors.torch import load_file

    from adain import Stylizer
    from adain.methods.gatys.loss_network import loss_network_for
    from adain.weights.folder import load_model_folder

    folder = tmp_path / "self"
    assert _export([str(folder), "--model", "small16x", "--include-encoder", "--half"]) == 0
    config = json.loads((folder / "config.json").read_text())
    assert config["encoder_weights"] == "folder"
    assert config["encoder_source"]["registry"] == "small16x_encoder"
    shipped = load_file(Path(str(resources.files("adain") / "pretrained" / "small16x" / "model.safetensors")))
    written = load_file(folder / "model.safetensors")
    assert written.keys() == shipped.keys()
    assert all(torch.equal(written[k], v) for k, v in shipped.items())
    assert written["decoder.1.weight"].dtype == torch.float16
    net = load_model_folder(folder)
    assert loss_network_for(net.encoder, "on").heads is not None
    c, s = pair
    kw = {"content_size": 0, "style_size": 0}
    want = Stylizer.from_pretrained("small16x", device="cpu", precision="fp32", backend="torch").stylize(c, s, **kw)
    got = Stylizer.from_pretrained(str(folder), device="cpu", precision="fp32", backend="torch").stylize(c, s, **kw)
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)
