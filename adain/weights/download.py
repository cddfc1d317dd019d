"""Registry of named pretrained weights, with a verified download cache.

Resolution order for every weights file (:func:`resolve_weights`):

1. an explicit path given by the user (``--encoder-weights``, ``encoder_weights=``);
2. the cache, ``$ADAIN_HOME`` (default ``$XDG_CACHE_HOME/adain`` or ``~/.cache/adain``);
3. a download with a progress bar to a temporary file in the cache directory, checked against
   the expected size and sha256 (and, for files without a published checksum, by the caller's
   ``verify`` — a strict key/shape load), then renamed into place atomically. A failed,
   interrupted or mismatched download leaves nothing in the cache.

Offline, the error names the file, the URL, and the two ways to supply it by hand.

This module is also the one registry of names: :data:`WEIGHTS` (downloadable files),
:data:`ENCODER_WEIGHTS` (each encoder's default weights) and :data:`MODELS` (named pretrained
models, some shipped inside the package so they work offline). It imports no torch (only
:func:`load_state_dict_file` does, when called), so the command-line fast path can resolve
files without it. ``python -m adain.weights download canonical`` fetches a model ahead of time.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from adain.errors import WeightsError
from adain.io.atomic import atomic_path, atomic_write
from adain.weights.registry import MODELS, WEIGHTS, WeightSpec, cache_dir, choose_model, packaged_file

__all__ = ["download_model", "file_digest", "registered_digest", "model_files", "resolve_weights", "sha256_file"]


def sha256_file(path: str | os.PathLike[str], chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def _how_to_supply(spec: WeightSpec, target: Path) -> str:
    return f"download {spec.url} by hand and pass it with {spec.flag} PATH, or save it as {target}"


def _fetch(url: str, tmp: Path, progress: bool, desc: str, expected_sha256: str | None) -> None:
    """Stream ``url`` into ``tmp`` with a tqdm bar, checking the sha256 on the fly."""
    from tqdm.auto import tqdm

    h = hashlib.sha256()
    req = urllib.request.Request(url, headers={"User-Agent": "adain"})
    with urllib.request.urlopen(req, timeout=60) as resp, open(tmp, "wb") as f:
        total = int(resp.headers.get("Content-Length") or 0) or None
        with tqdm(
            total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=desc, disable=not progress or None
        ) as bar:
            while block := resp.read(1 << 16):
                f.write(block)
                h.update(block)
                bar.update(len(block))
        if total is not None and f.tell() != total:
            raise OSError(f"connection closed after {f.tell()} of {total} bytes")
    if expected_sha256 is not None and h.hexdigest() != expected_sha256:
        raise ValueError(f"sha256 {h.hexdigest()[:12]}… differs from the expected {expected_sha256[:12]}…")


def _download(spec: WeightSpec, target: Path, progress: bool) -> None:
    """Download to a temporary file beside ``target``; rename into place only when it verified."""
    if spec.url is None:
        raise WeightsError(f"{spec.filename}: ships only inside the package, which is missing it; reinstall adain")
    try:
        with atomic_path(target, overwrite=True) as tmp:
            _fetch(spec.url, tmp, progress, spec.filename, spec.sha256)
            if spec.size is not None and tmp.stat().st_size != spec.size:
                raise WeightsError(
                    f"{spec.filename}: downloaded {tmp.stat().st_size} bytes from {spec.url}, expected {spec.size}"
                )
    except urllib.error.HTTPError as e:
        raise WeightsError(
            f"{spec.filename}: download from {spec.url} failed (HTTP {e.code}); " + _how_to_supply(spec, target)
        ) from None
    except urllib.error.URLError as e:
        raise WeightsError(
            f"{spec.filename}: cannot download from {spec.url} ({e.reason}); " + _how_to_supply(spec, target)
        ) from None
    except ValueError as e:  # checksum
        raise WeightsError(f"{spec.filename}: downloaded file from {spec.url} is corrupt ({e})") from None
    except OSError as e:  # dropped connection, disk full, …
        raise WeightsError(
            f"{spec.filename}: download from {spec.url} was interrupted ({e}); " + _how_to_supply(spec, target)
        ) from None


def resolve_weights(
    spec: WeightSpec | str,
    path: str | os.PathLike[str] | None = None,
    *,
    download: bool = True,
    progress: bool = True,
    verify: Callable[[Path], None] | None = None,
) -> Path:
    """Find a weights file: explicit path → packaged copy → cache → verified download.

    Args:
        spec: a :class:`WeightSpec` or a key of :data:`WEIGHTS`.
        path: an explicit file; it must exist (it is never looked up elsewhere).
        download: allow downloading when the file is not cached.
        progress: show a progress bar while downloading.
        verify: extra check of a freshly downloaded file (e.g. a strict state-dict load); if it
            raises, the file is removed from the cache and the error re-raised.

    Raises:
        WeightsError: with the file, the URL and how to supply the file by hand.
    """
    if isinstance(spec, str):
        if spec not in WEIGHTS:
            raise WeightsError(f"unknown weights {spec!r}; known: {sorted(WEIGHTS)}")
        spec = WEIGHTS[spec]
    if path is not None:
        p = Path(path).expanduser()
        if not p.is_file():
            raise WeightsError(f"{p}: weights file not found")
        return p
    if spec.packaged is not None:
        return packaged_file(spec.packaged)
    target = cache_dir() / spec.filename
    if target.is_file():
        if spec.size is not None and target.stat().st_size != spec.size:
            raise WeightsError(
                f"{target}: cached file has {target.stat().st_size} bytes, expected {spec.size}; "
                "delete it to download again"
            )
        return target
    if not download:
        raise WeightsError(f"{spec.filename}: not in the cache and downloads are off; " + _how_to_supply(spec, target))
    _download(spec, target, progress)
    if verify is not None:
        try:
            verify(target)
        except Exception:
            target.unlink(missing_ok=True)
            raise
    return target


def model_files(
    name: str,
    encoder_weights: str | os.PathLike[str] | None = None,
    decoder_weights: str | os.PathLike[str] | None = None,
    download: bool = True,
    progress: bool = True,
    verify_encoder: Callable[[Path], None] | None = None,
    verify_decoder: Callable[[Path], None] | None = None,
    weights_check: str = "warn",
) -> tuple[Path, Path]:
    """The encoder and decoder files of a named model: explicit path → packaged → cache → download.

    An explicit encoder file is compared with the registered encoder's sha256 (a different VGG
    with the same shapes would otherwise run silently): ``weights_check="warn"`` prints one line on
    stderr, ``"strict"`` refuses, ``"off"`` (an intentionally different encoder) says nothing.
    Decoders are not checked: your own trained decoder is the point of ``--decoder-weights``.

    Files are found here but checked for architecture by the ``verify_*`` callbacks only when
    something is downloaded: the encoder before the decoder's download (a wrong encoder file
    fails before 14 MB are fetched), a downloaded decoder before it stays in the cache. The
    network's strict load (:func:`adain.weights.loading.load_pretrained`) checks everything else.
    """
    explicit = encoder_weights is not None or decoder_weights is not None
    card = MODELS[choose_model(name, explicit)[0]]
    enc_spec, dec_spec = card.files

    def one(spec: WeightSpec, given: str | os.PathLike[str] | None, verify: Callable[[Path], None] | None) -> Path:
        if given is not None:
            p = Path(given).expanduser()
            if not p.is_file():
                raise WeightsError(f"{p}: weights file not found ({spec.flag})")
            return p
        return resolve_weights(spec, download=download, progress=progress, verify=verify)

    if weights_check not in ("warn", "strict", "off"):
        raise WeightsError(f"weights_check must be warn, strict or off, got {weights_check!r}")
    enc = one(enc_spec, encoder_weights, None)
    expected = None
    if encoder_weights is not None and weights_check != "off":
        expected = registered_digest(enc_spec)
    if expected and file_digest(enc) != expected:
        if verify_encoder is not None:
            verify_encoder(enc)  # a wrong architecture is the one error to report, not this warning
        msg = (
            f"{enc}: not the registered {card.name} encoder ({card.encoder_weights}, sha256 {expected[:12]}…); "
            "results will differ from the published model"
        )
        if weights_check == "strict":
            raise WeightsError(msg)
        print(f"adain: warning: {msg} (pass --custom-weights if intended)", file=sys.stderr)
    dec_missing = (
        decoder_weights is None and dec_spec.packaged is None and not (cache_dir() / dec_spec.filename).is_file()
    )
    if dec_missing and verify_encoder is not None:
        verify_encoder(enc)
    return enc, one(dec_spec, decoder_weights, verify_decoder)


def download_model(name: str, progress: bool = True) -> list[Path]:
    """Download every file of a named model into the cache (sha256-checked); returns the paths."""
    if name not in MODELS:
        raise WeightsError(f"unknown model {name!r}; choose from {', '.join(sorted(MODELS))}")
    return list(model_files(name, download=True, progress=progress))


# ----------------------------------------------------------------------------- digests
def registered_digest(spec: WeightSpec) -> str | None:
    """The sha256 a registered file must have: the published one, else the shipped copy's."""
    return spec.sha256 or (file_digest(packaged_file(spec.packaged)) if spec.packaged else None)


def file_digest(path: str | os.PathLike[str]) -> str:
    """sha256 of a file, remembered in ``$ADAIN_HOME/digests.json`` by (path, size, mtime).

    Hashing the 80 MB VGG on every run would cost a tenth of a second; the index makes the
    second run free while a changed file (new size or mtime) is hashed again.
    """
    p = Path(path).resolve()
    st = p.stat()
    key = f"{p}|{st.st_size}|{st.st_mtime_ns}"
    index_path = cache_dir() / "digests.json"
    try:
        index: dict[str, str] = json.loads(index_path.read_text())
        if not isinstance(index, dict) or not all(isinstance(v, str) for v in index.values()):
            raise ValueError("not a mapping of digests")
    except OSError:
        index = {}  # none yet (or unreadable): hashed now, written below
    except ValueError as e:
        print(f"adain: {index_path}: damaged digest index ({e}); rebuilding it", file=sys.stderr)
        index = {}
    if key in index:
        return index[key]
    digest = sha256_file(p)
    index = {k: v for k, v in index.items() if not k.startswith(f"{p}|")}
    index[key] = digest
    try:
        atomic_write(index_path, lambda f: f.write(json.dumps(index).encode()), overwrite=True)
    except OSError:
        pass  # a read-only cache only costs the hashing next time
    return digest
