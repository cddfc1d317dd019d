"""Registry of named pretrained weights, with a verified download cache.

Resolution order for every weights file (:func:`resolve_weights`):

1. an explicit path given by the user (``--encoder-weights``, ``encoder_weights=``);
2. the cache, ``$ADAIN_HOME`` (default ``$XDG_CACHE_HOME/adain`` or ``~/.cache/adain``);
3. a download through pooch (the well-kept downloader of the scientific Python stack) with a
   progress bar to a temporary file in the cache directory, checked against the expected sha256
   and size (and, for files without a published checksum, by the caller's ``verify`` — a strict
   key/shape load), then moved into place. A failed, interrupted or mismatched download leaves
   nothing in the cache.

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
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from adain.errors import WeightsError
from adain.io.atomic import atomic_path, atomic_write
from adain.weights.registry import MODELS, WEIGHTS, WeightSpec, cache_dir, choose_model, packaged_file

__all__ = [
    "builtin_folder",
    "checked_once",
    "download_model",
    "file_digest",
    "model_files",
    "registered_digests",
    "registered_key",
    "resolve_weights",
    "sha256_file",
]

log = logging.getLogger(__name__)


def sha256_file(path: str | os.PathLike[str], chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def _how_to_supply(spec: WeightSpec, target: Path) -> str:
    return f"download {spec.url} by hand and pass it with {spec.flag} PATH, or save it as {target}"


def _reason(e: Exception) -> str:
    """The useful part of a requests/urllib3 error (they nest three reprs deep)."""
    import re

    text = str(e)
    if m := re.search(r"IncompleteRead\((\d+) bytes read, (\d+) more expected", text):
        return f"connection closed after {int(m[1]):,} bytes, {int(m[2]):,} more expected"
    if m := re.search(r"\[Errno -?\d+\] [^'\")]+", text):
        return m[0].strip()
    return (text.splitlines() or [type(e).__name__])[0][:160]


def _download(spec: WeightSpec, target: Path, progress: bool) -> None:
    """Fetch ``spec`` with pooch's HTTP downloader (streaming, progress bar) into a temporary file
    beside ``target``, check its sha256 (pooch's hashing) and size, and only then move it into
    place (:func:`~adain.io.atomic.atomic_path`): a failed, interrupted or mismatched download
    leaves nothing in the cache."""
    import pooch
    from tqdm.auto import tqdm

    if spec.url is None:
        raise WeightsError(f"{spec.filename}: ships only inside the package, which is missing it; reinstall adain")
    how = _how_to_supply(spec, target)
    # pooch sets the total from Content-Length; a bar must start truthy (tqdm's bool is its total)
    # a command run with -q sets the package's log above INFO: no bar then either
    quiet = logging.getLogger("adain").level > logging.INFO
    show = progress and not quiet
    bar = tqdm(desc=spec.filename, total=1, unit="B", unit_scale=True, unit_divisor=1024) if show else False
    fetch = pooch.HTTPDownloader(progressbar=bar, timeout=60, headers={"User-Agent": "adain"})
    try:
        _fetch_checked(spec, target, fetch, how)
    finally:
        if bar is not False:
            bar.close()  # ends the bar's line: an error that follows starts on its own line


def _fetch_checked(spec: WeightSpec, target: Path, fetch: Any, how: str) -> None:
    """The download of :func:`_download` into place, its checks, and its errors as one line each."""
    import pooch
    import requests

    try:
        with atomic_path(target, overwrite=True) as tmp:
            fetch(spec.url, str(tmp), None)
            if spec.sha256 and not pooch.hashes.hash_matches(str(tmp), f"sha256:{spec.sha256}"):
                raise WeightsError(f"{spec.filename}: downloaded file from {spec.url} is corrupt (sha256 differs)")
            if spec.size is not None and tmp.stat().st_size != spec.size:
                raise WeightsError(
                    f"{spec.filename}: downloaded {tmp.stat().st_size} bytes from {spec.url}, expected {spec.size}"
                )
    except requests.HTTPError as e:
        code = e.response.status_code if e.response is not None else "?"
        raise WeightsError(f"{spec.filename}: download from {spec.url} failed (HTTP {code}); {how}") from None
    except (requests.ConnectionError, requests.Timeout) as e:
        if "IncompleteRead" in str(e):
            raise WeightsError(
                f"{spec.filename}: download from {spec.url} was interrupted ({_reason(e)}); {how}"
            ) from None
        raise WeightsError(f"{spec.filename}: cannot download from {spec.url} ({_reason(e)}); {how}") from None
    except (requests.RequestException, OSError) as e:  # a broken stream, disk full, …
        raise WeightsError(f"{spec.filename}: download from {spec.url} was interrupted ({_reason(e)}); {how}") from None


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
        shipped = packaged_file(spec.packaged)
        if spec.packaged_sha256 and file_digest(shipped) != spec.packaged_sha256:
            raise WeightsError(f"{shipped}: damaged (sha256 differs from the one this adain ships); reinstall adain")
        return shipped
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
    expected: frozenset[str] = frozenset()
    if encoder_weights is not None and weights_check != "off":
        expected = registered_digests(enc_spec)
    if expected and file_digest(enc) not in expected:
        if verify_encoder is not None:  # a wrong architecture is the one error to report, not this warning
            checked_once(enc, f"encoder:{card.encoder}", verify_encoder)
        msg = (
            f"{enc}: not the registered {card.name} encoder ({card.encoder_weights}, sha256 "
            f"{(enc_spec.sha256 or min(expected))[:12]}…); results will differ from the published model"
        )
        if weights_check == "strict":
            raise WeightsError(msg)
        log.warning("warning: %s (pass --custom-weights if intended)", msg)
    dec_missing = (
        decoder_weights is None and dec_spec.packaged is None and not (cache_dir() / dec_spec.filename).is_file()
    )
    if dec_missing and verify_encoder is not None:
        verify_encoder(enc)
    return enc, one(dec_spec, decoder_weights, verify_decoder)


def builtin_folder(name: str) -> Path:
    """The model folder shipped in the package for built-in model ``name``, its weights checked
    against the registered sha256."""
    card = MODELS[name]
    if card.folder is None:
        raise WeightsError(f"{name}: not a built-in model")
    resolve_weights(card.decoder_weights)  # checks the shipped model.safetensors
    return packaged_file(card.folder)


def download_model(name: str, progress: bool = True) -> list[Path]:
    """Download every file of a named model into the cache (sha256-checked); returns the paths."""
    if name not in MODELS:
        raise WeightsError(f"unknown model {name!r}; choose from {', '.join(sorted(MODELS))}")
    return list(model_files(name, download=True, progress=progress))


# ----------------------------------------------------------------------------- digests
def registered_digests(spec: WeightSpec) -> frozenset[str]:
    """The sha256 digests a registered file may have: the published one (upstream's file) and the
    shipped copy's (the same tensors, converted to safetensors); empty when neither is known."""
    return frozenset(d for d in (spec.sha256, spec.packaged_sha256) if d)


def registered_key(digest: str, encoder: str | None = None) -> str | None:
    """The :data:`WEIGHTS` key of the registered file with this sha256 (an encoder's own key first,
    since one shipped file may hold several registered parts), or ``None``."""
    from adain.weights.registry import ENCODER_WEIGHTS

    first = ENCODER_WEIGHTS.get(encoder or "")
    for key in sorted(WEIGHTS, key=lambda k: k != first):
        if digest in registered_digests(WEIGHTS[key]):
            return key
    return None


def _index_path() -> Path:
    return cache_dir() / "digests.json"


def _read_index() -> dict[str, str]:
    """``$ADAIN_HOME/digests.json``: file digests by (path, size, mtime), and passed checks by
    (check, digest); a damaged index is rebuilt with one line."""
    path = _index_path()
    try:
        index = json.loads(path.read_text())
        if not isinstance(index, dict) or not all(isinstance(v, str) for v in index.values()):
            raise ValueError("not a mapping of digests")
        return index
    except OSError:
        return {}  # none yet (or unreadable): rebuilt as files are hashed
    except ValueError as e:
        log.warning("%s: damaged digest index (%s); rebuilding it", path, e)
        return {}


def _write_index(index: dict[str, str]) -> None:
    try:
        atomic_write(_index_path(), lambda f: f.write(json.dumps(index).encode()), overwrite=True)
    except OSError:
        pass  # a read-only cache only costs the work again next time


def checked_once(path: str | os.PathLike[str], check: str, fn: Callable[[Path], None]) -> None:
    """Run ``fn(path)`` (e.g. a strict architecture load, which imports torch) unless a file with the
    same sha256 already passed ``check``: remembered in the digest index, so a user's own weights
    file costs the check once, not on every run. A failing check is not remembered."""
    p = Path(path)
    key = f"check:{check}|{file_digest(p)}"
    if _read_index().get(key) == "passed":
        return
    fn(p)
    index = _read_index()
    index[key] = "passed"
    _write_index(index)


def file_digest(path: str | os.PathLike[str]) -> str:
    """sha256 of a file, remembered in ``$ADAIN_HOME/digests.json`` by (path, size, mtime).

    Hashing the 80 MB VGG on every run would cost a tenth of a second; the index makes the
    second run free while a changed file (new size or mtime) is hashed again.
    """
    p = Path(path).resolve()
    st = p.stat()
    key = f"{p}|{st.st_size}|{st.st_mtime_ns}"
    index = _read_index()
    if key in index:
        return index[key]
    digest = sha256_file(p)
    index = {k: v for k, v in index.items() if not k.startswith(f"{p}|")}
    index[key] = digest
    _write_index(index)
    return digest
