"""``adain-export web``: the deployable folder (files, manifest, gzipped runtime), all or nothing,
and never replacing a folder it did not write. A stand-in ``node_modules`` keeps these fast; the
real runtime is driven in a browser in ``test_webapp_browser.py``."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from adain.cli.export import main as export_main
from adain.errors import OutputExistsError, UsageError
from adain.webapp import MARKER, RUNTIME_FILES, WEBGPU_FILES, build_web_app, find_runtime
from tests.helpers import small_net


def fake_runtime(root: Path, version: str = "1.30.0") -> Path:
    nm = root / "node_modules"
    for i, src in enumerate({**RUNTIME_FILES, **WEBGPU_FILES}):
        p = nm / src
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(f"file {i} {src}".encode() * 50)
    (nm / "onnxruntime-web" / "package.json").write_text(json.dumps({"version": version}))
    (nm / "coi-serviceworker" / "LICENSE").write_text("MIT License\n\nCopyright (c) 2021 Guido Zuidhof\n")
    return nm


def test_the_folder_holds_page_graphs_runtime_and_manifest(tmp_path: Path) -> None:
    nm = fake_runtime(tmp_path)
    net = small_net()
    info = build_web_app(tmp_path / "site", net, "tiny", runtime=nm)
    site = tmp_path / "site"
    for f in ("index.html", "app.js", "engine.mjs", "style.css", "LICENSES.md", "examples/examples.json"):
        assert (site / f).is_file(), f
    for ex in json.loads((site / "examples/examples.json").read_text()):
        assert (site / "examples" / ex["file"]).stat().st_size > 10_000  # a real picture, listed with its licence
        assert ex["file"] in (site / "examples/LICENSE.md").read_text()
    manifest = json.loads((site / "models/model.json").read_text())
    assert manifest["stride"] == net.downsampling and manifest["channels"] == net.encoder.out_channels
    assert manifest["tile_margin"] % manifest["stride"] == 0
    for g in manifest["graphs"].values():
        assert (site / "models" / g).stat().st_size > 1000
    # the wasm runtime is stored gzipped and inflates to the npm file, byte for byte
    for src, dst in RUNTIME_FILES.items():
        data = (site / dst).read_bytes()
        assert (gzip.decompress(data) if dst.endswith(".gz") else data) == (nm / src).read_bytes()
    assert json.loads((site / MARKER).read_text())["files"] == info["files"]
    assert "Microsoft" in (site / "LICENSES.md").read_text()  # the MIT text where npm ships none
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".site")]  # no temporary left


def test_no_webgpu_leaves_the_webgpu_build_out(tmp_path: Path) -> None:
    build_web_app(tmp_path / "site", small_net(), "tiny", runtime=fake_runtime(tmp_path), webgpu=False)
    assert not (tmp_path / "site/ort/ort.webgpu.min.mjs").exists()
    assert (tmp_path / "site/ort/ort.wasm.min.mjs").is_file()


def test_a_folder_it_did_not_write_is_never_replaced(tmp_path: Path) -> None:
    nm = fake_runtime(tmp_path)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    for overwrite in (False, True):
        with pytest.raises(OutputExistsError, match="mine"):
            build_web_app(mine, small_net(), "tiny", runtime=nm, overwrite=overwrite)
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]


def test_overwrite_replaces_an_earlier_build_and_only_with_the_flag(tmp_path: Path) -> None:
    nm = fake_runtime(tmp_path)
    site = tmp_path / "site"
    build_web_app(site, small_net(0), "first", runtime=nm)
    with pytest.raises(OutputExistsError, match="--overwrite"):
        build_web_app(site, small_net(1), "second", runtime=nm)
    assert json.loads((site / MARKER).read_text())["model"] == "first"
    build_web_app(site, small_net(1), "second", runtime=nm, overwrite=True)
    assert json.loads((site / MARKER).read_text())["model"] == "second"


def test_a_failed_build_leaves_the_earlier_folder_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nm = fake_runtime(tmp_path)
    site = tmp_path / "site"
    build_web_app(site, small_net(0), "first", runtime=nm)
    before = sorted(p.relative_to(site) for p in site.rglob("*"))

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr("adain.runtime.onnx_export.export_graph", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        build_web_app(site, small_net(1), "second", runtime=nm, overwrite=True)
    assert sorted(p.relative_to(site) for p in site.rglob("*")) == before
    assert json.loads((site / MARKER).read_text())["model"] == "first"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["node_modules", "site"]


def test_missing_runtime_says_how_to_install_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UsageError, match="npm ci --prefix web"):
        find_runtime(tmp_path / "nowhere")
    nm = fake_runtime(tmp_path)
    (nm / next(iter(RUNTIME_FILES))).unlink()
    with pytest.raises(UsageError, match="ort.wasm.min.mjs is missing"):
        find_runtime(nm)


def test_cli_one_line_and_nothing_written_without_runtime(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = export_main(["web", str(tmp_path / "site"), "--model", "small16x", "--runtime", str(tmp_path / "none")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "onnxruntime-web not found" in err[0]
    assert not (tmp_path / "site").exists()


def test_cli_builds_the_shipped_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    nm = fake_runtime(tmp_path)
    code = export_main(["web", str(tmp_path / "site"), "--model", "small16x", "--runtime", str(nm)])
    out = capsys.readouterr().out
    assert code == 0 and "http.server" in out
    manifest = json.loads((tmp_path / "site/models/model.json").read_text())
    assert manifest["model"] == "small16x" and manifest["channels"] == 128
