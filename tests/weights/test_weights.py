"""Weight resolution and downloads, against a real HTTP server on 127.0.0.1 (never the internet)."""

from __future__ import annotations

import hashlib
import http.server
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from adain.errors import WeightsError
from adain.weights.download import resolve_weights
from adain.weights.registry import WEIGHTS, WeightSpec, cache_dir

PAYLOAD = bytes(range(256)) * 4096  # 1 MiB


class _Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        self.server.hits += 1  # type: ignore[attr-defined]
        if self.path == "/good.pth":
            body = PAYLOAD
        elif self.path == "/corrupt.pth":
            body = PAYLOAD[:-1] + b"\x00"
        elif self.path == "/drop.pth":
            self.send_response(200)
            self.send_header("Content-Length", str(len(PAYLOAD)))
            self.end_headers()
            self.wfile.write(PAYLOAD[: len(PAYLOAD) // 3])
            self.wfile.flush()
            self.connection.shutdown(2)
            return
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def server() -> Iterator[tuple[str, http.server.ThreadingHTTPServer]]:
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    srv.hits = 0  # type: ignore[attr-defined]
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}", srv
    srv.shutdown()
    srv.server_close()


def spec(url: str, name: str = "good.pth", **kw: object) -> WeightSpec:
    return WeightSpec(
        "test", f"{url}/{name}", "test.pth", size=len(PAYLOAD), sha256=hashlib.sha256(PAYLOAD).hexdigest(), **kw
    )  # type: ignore[arg-type]


def _cache_is_clean() -> bool:
    d = cache_dir()
    return not d.exists() or not any(d.iterdir())


def test_good_download_is_cached_and_reused(server, capsys):
    url, srv = server
    p = resolve_weights(spec(url), progress=False)
    assert p == cache_dir() / "test.pth" and p.read_bytes() == PAYLOAD
    assert resolve_weights(spec(url), progress=False) == p
    assert srv.hits == 1  # second call served from the cache
    umask = os.umask(0)
    os.umask(umask)
    assert p.stat().st_mode & 0o777 == 0o666 & ~umask  # the mode open() gives, not a temp file's 0600
    p.unlink()
    capsys.readouterr()
    resolve_weights(spec(url), progress=True)
    err = capsys.readouterr().err
    assert "test.pth" in err and "100%" in err  # a progress bar named after the file
    # a command run with -q (its log above INFO) shows no bar, and an error after a bar starts on
    # its own line
    from adain.cli.common import command_logging

    p.unlink()
    with command_logging(-1):
        resolve_weights(spec(url), progress=True)
    assert capsys.readouterr().err == ""
    p.unlink()
    with pytest.raises(WeightsError):
        resolve_weights(spec(url, "corrupt.pth"), progress=True)
    assert capsys.readouterr().err.endswith("\n")  # the bar's line is ended


def test_corrupt_download_is_rejected_and_not_cached(server):
    url, _ = server
    with pytest.raises(WeightsError, match="corrupt .sha256 differs"):
        resolve_weights(spec(url, "corrupt.pth"), progress=False)
    assert _cache_is_clean()


def test_404_is_a_clear_error(server):
    url, _ = server
    with pytest.raises(
        WeightsError, match=r"test.pth: download from .*missing.pth failed \(HTTP 404\).*--encoder-weights"
    ):
        resolve_weights(spec(url, "missing.pth"), progress=False)
    assert _cache_is_clean()


def test_dropped_connection_leaves_nothing(server):
    url, _ = server
    with pytest.raises(WeightsError, match=r"test.pth: .* interrupted \(connection closed after [\d,]+ bytes"):
        resolve_weights(spec(url, "drop.pth"), progress=False)
    assert _cache_is_clean()


def test_size_mismatch_without_checksum_leaves_nothing(server):
    url, _ = server
    s = WeightSpec("test", f"{url}/good.pth", "test.pth", size=len(PAYLOAD) + 1)
    with pytest.raises(WeightsError, match="expected"):
        resolve_weights(s, progress=False)
    assert _cache_is_clean()


def test_failed_verification_removes_file(server):
    url, _ = server

    def verify(p: Path) -> None:
        raise WeightsError(f"{p}: wrong architecture")

    with pytest.raises(WeightsError, match="wrong architecture"):
        resolve_weights(WeightSpec("t", f"{url}/good.pth", "test.pth"), progress=False, verify=verify)
    assert _cache_is_clean()


def test_offline_error_says_where_from_and_how_to_supply():
    # Port 9 on loopback: nothing listens, the connection is refused at once.
    s = WeightSpec("enc", "http://127.0.0.1:9/vgg_normalised.pth", "vgg_normalised.pth", flag="--encoder-weights")
    with pytest.raises(WeightsError) as e:
        resolve_weights(s, progress=False)
    msg = str(e.value)
    assert "vgg_normalised.pth" in msg and "http://127.0.0.1:9/vgg_normalised.pth" in msg
    assert "--encoder-weights" in msg and str(cache_dir()) in msg
    assert "\n" not in msg


def test_explicit_path_wins_and_must_exist(tmp_path, server):
    url, srv = server
    f = tmp_path / "mine.pth"
    f.write_bytes(b"x")
    assert resolve_weights(spec(url), f) == f
    assert srv.hits == 0
    with pytest.raises(WeightsError, match="nope.pth: weights file not found"):
        resolve_weights(spec(url), tmp_path / "nope.pth")


def test_no_download_flag(server):
    url, srv = server
    with pytest.raises(WeightsError, match="downloads are off"):
        resolve_weights(spec(url), download=False)
    assert srv.hits == 0


def test_registry_has_the_canonical_entries():
    enc = WEIGHTS["vgg_normalised"]
    assert enc.url == "https://github.com/naoto0804/pytorch-AdaIN/releases/download/v0.0.0/vgg_normalised.pth"
    assert enc.size == 80_102_481
    assert enc.sha256 == "804ca2835ecf7539f0cd2a7ac3c18ce81e6f8468969ae7117ac0c148d286bb4a"
    assert WEIGHTS["adain_decoder"].url.endswith("/v0.0.0/decoder.pth")
    assert WEIGHTS["small16x_encoder"].sha256 == "d2f059cbcd6669556a43aadef58d20c8b280462c18b60a9e7424a14dd271cd6b"


def test_pretrained_canonical_decoder_download_verified_by_strict_load(server, tmp_path, monkeypatch, canonical_files):
    """A downloaded decoder of the wrong architecture is refused and removed from the cache."""
    import adain.weights as W
    from adain.weights.loading import load_pretrained
    from tests.helpers import canonical_vgg_state_dict

    url, _ = server
    bad = WeightSpec("adain_decoder", f"{url}/good.pth", "decoder.pth", flag="--decoder-weights")
    monkeypatch.setitem(W.WEIGHTS, "adain_decoder", bad)
    with pytest.raises(WeightsError, match="decoder.pth: not a readable PyTorch weights file"):
        load_pretrained("canonical", encoder_weights=canonical_files[0])
    assert not (cache_dir() / "decoder.pth").exists()
    assert torch.equal(
        canonical_vgg_state_dict()["0.weight"], torch.load(canonical_files[0], weights_only=True)["0.weight"]
    )


def test_a_damaged_digest_index_is_rebuilt_with_one_line(tmp_path, caplog):
    import hashlib
    import json

    from adain.weights.download import file_digest
    from adain.weights.registry import cache_dir

    f = tmp_path / "w.bin"
    f.write_bytes(b"weights")
    index = cache_dir() / "digests.json"
    index.parent.mkdir(parents=True, exist_ok=True)
    for damage in ("{not json", "[1, 2]"):
        index.write_text(damage)
        assert file_digest(f) == hashlib.sha256(b"weights").hexdigest()
        err = [r.getMessage() for r in caplog.records if r.name.startswith("adain")]  # the package's log
        caplog.clear()
        assert len(err) == 1 and "damaged digest index" in err[0], err
        assert list(json.loads(index.read_text()).values()) == [hashlib.sha256(b"weights").hexdigest()]
    file_digest(f)
    assert not [r for r in caplog.records if r.name.startswith("adain")]  # healed
