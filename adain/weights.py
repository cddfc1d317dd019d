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

import argparse
import hashlib
import json
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import AdainError, WeightsError

if TYPE_CHECKING:
    import torch

__all__ = [
    "ENCODER_WEIGHTS",
    "MODELS",
    "WEIGHTS",
    "PretrainedModel",
    "WeightSpec",
    "cache_dir",
    "download_model",
    "file_digest",
    "is_cached",
    "load_state_dict_file",
    "packaged_file",
    "resolve_weights",
    "sha256_file",
]


@dataclass(frozen=True)
class WeightSpec:
    """One downloadable weights file.

    Attributes:
        name: registry key.
        url: where real users download it from.
        filename: name in the cache.
        size: expected size in bytes, when known.
        sha256: expected sha256 hex digest, when published.
        flag: the CLI flag that supplies the file by hand (for error messages).
        packaged: a copy shipped in ``adain/pretrained/`` (used before cache and download).
    """

    name: str
    url: str
    filename: str
    size: int | None = None
    sha256: str | None = None
    flag: str = "--encoder-weights"
    packaged: str | None = None


_ADAIN_RELEASE = "https://github.com/naoto0804/pytorch-AdaIN/releases/download/v0.0.0"

WEIGHTS: dict[str, WeightSpec] = {
    spec.name: spec
    for spec in (
        WeightSpec(
            "vgg_normalised",
            f"{_ADAIN_RELEASE}/vgg_normalised.pth",
            "vgg_normalised.pth",
            size=80_102_481,
            sha256="804ca2835ecf7539f0cd2a7ac3c18ce81e6f8468969ae7117ac0c148d286bb4a",
        ),
        WeightSpec(
            "adain_decoder",
            f"{_ADAIN_RELEASE}/decoder.pth",
            "decoder.pth",
            flag="--decoder-weights",
        ),
        WeightSpec(
            "vgg19_imagenet",
            "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth",
            "vgg19-dcbb9e9d.pth",
            size=574_673_361,
        ),
        WeightSpec(
            "small16x_encoder",
            "https://github.com/MingSun-Tse/Collaborative-Distillation/raw/master/"
            "trained_models/wct_se_16x_new/20191110-132643_E20.pth",
            "cd16x_4SE_20191110-132643_E20.pth",
            size=1_235_183,
            sha256="d2f059cbcd6669556a43aadef58d20c8b280462c18b60a9e7424a14dd271cd6b",
            packaged="small16x_encoder.pth",
        ),
    )
}


def cache_dir() -> Path:
    """``$ADAIN_HOME``, else ``$XDG_CACHE_HOME/adain``, else ``~/.cache/adain``."""
    if os.environ.get("ADAIN_HOME"):
        return Path(os.environ["ADAIN_HOME"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "adain"


def sha256_file(path: str | os.PathLike[str], chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def _how_to_supply(spec: WeightSpec, target: Path) -> str:
    return (
        f"download {spec.url} by hand and pass it with {spec.flag} PATH, "
        f"or save it as {target}"
    )


def _fetch(url: str, tmp: Path, progress: bool, desc: str, expected_sha256: str | None) -> None:
    """Stream ``url`` into ``tmp`` with a tqdm bar, checking the sha256 on the fly."""
    from tqdm.auto import tqdm

    h = hashlib.sha256()
    req = urllib.request.Request(url, headers={"User-Agent": "adain"})
    with urllib.request.urlopen(req, timeout=60) as resp, open(tmp, "wb") as f:
        total = int(resp.headers.get("Content-Length") or 0) or None
        with tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=desc, disable=not progress or None) as bar:
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
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.part")
    try:
        _fetch(spec.url, tmp, progress, spec.filename, spec.sha256)
        if spec.size is not None and tmp.stat().st_size != spec.size:
            raise WeightsError(f"{spec.filename}: downloaded {tmp.stat().st_size} bytes from {spec.url}, expected {spec.size}")
        os.replace(tmp, target)
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
    finally:
        tmp.unlink(missing_ok=True)


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


def load_state_dict_file(path: str | os.PathLike[str]) -> dict[str, torch.Tensor]:
    """``torch.load(..., weights_only=True)`` onto the CPU, with a one-line error for bad files.

    Files that ``weights_only`` refuses (pickles with arbitrary objects) are refused here too: a
    weights file never runs code.
    """
    import pickle

    import torch

    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise WeightsError(f"{path}: weights file not found") from None
    except pickle.UnpicklingError as e:
        # torch's refusal runs to many lines and advises weights_only=False; say it in one line, no advice
        if "GLOBAL" in str(e):
            raise WeightsError(
                f"{path}: refused: the file holds Python objects other than tensors (not loaded, for safety)") from None
        detail = next((ln.strip() for ln in str(e).splitlines() if ln.strip().startswith(("Unsupported", "invalid"))),
                      "not a weights pickle")
        raise WeightsError(f"{path}: not a readable PyTorch weights file ({detail})") from None
    except Exception as e:  # zip errors, truncation, …
        first = (str(e).strip().splitlines() or [""])[0]  # torch's messages run to several lines
        raise WeightsError(f"{path}: not a readable PyTorch weights file ({type(e).__name__}: {first})") from None
    if not isinstance(obj, dict):
        raise WeightsError(f"{path}: expected a state dict, found {type(obj).__name__}")
    return obj


# ----------------------------------------------------------------------------- named models
#: registry key of each encoder's default weights
ENCODER_WEIGHTS: dict[str, str] = {
    "vgg19_normalised": "vgg_normalised",
    "vgg19_imagenet": "vgg19_imagenet",
    "vgg19_small16x": "small16x_encoder",
}


@dataclass(frozen=True)
class PretrainedModel:
    """A named pretrained model: which encoder, and where its weights come from.

    ``encoder_weights``/``decoder_weights`` are keys of :data:`WEIGHTS` or, when ``packaged`` is
    True, files shipped inside the package (``adain/pretrained/``): such a model needs no
    download.
    """

    name: str
    encoder: str
    encoder_weights: str
    decoder_weights: str
    packaged: bool = False
    description: str = ""


MODELS: dict[str, PretrainedModel] = {
    m.name: m
    for m in (
        PretrainedModel(
            "canonical",
            "vgg19_normalised",
            "vgg_normalised",
            "adain_decoder",
            description="VGG-19 encoder + the decoder of the AdaIN authors (downloaded once, 94 MB)",
        ),
        PretrainedModel(
            "small16x",
            "vgg19_small16x",
            "small16x_encoder.pth",
            "small16x_decoder.pt",
            packaged=True,
            description="distilled VGG-19 (Collaborative Distillation) + our decoder (built in, 1.7 MB)",
        ),
    )
}

#: what ``--model auto`` picks between: the best model when cached, else the built-in one
BEST_MODEL, BUILTIN_MODEL = "canonical", "small16x"


def packaged_file(filename: str) -> Path:
    """A weights file shipped in ``adain/pretrained/``."""
    path = Path(str(resources.files("adain") / "pretrained" / filename))
    if not path.is_file():
        raise WeightsError(f"{path}: packaged weights missing from the installation")
    return path


def is_cached(model: str) -> bool:
    """Whether every file of ``model`` is available without a download."""
    card = MODELS[model]
    if card.packaged:
        return True
    return all((cache_dir() / WEIGHTS[k].filename).is_file() for k in (card.encoder_weights, card.decoder_weights))


def choose_model(name: str, explicit_weights: bool = False) -> tuple[str, str | None]:
    """Resolve ``auto``: the canonical model when its files are cached (or weights files are given
    explicitly, which name the canonical architecture), else the built-in model.

    Returns:
        The model name and, for ``auto``, one line saying which model runs and how to get the other.
    """
    if name != "auto":
        if name not in MODELS:
            raise WeightsError(f"unknown model {name!r}; choose from auto, {', '.join(sorted(MODELS))}")
        return name, None
    if explicit_weights:
        return BEST_MODEL, None
    if is_cached(BEST_MODEL):
        return BEST_MODEL, f"model: {BEST_MODEL} (cached); --model {BUILTIN_MODEL} runs the small built-in model"
    return BUILTIN_MODEL, (
        f"model: {BUILTIN_MODEL} (built in, works offline); for the full VGG-19 model run "
        f"`python -m adain.weights download {BEST_MODEL}` once (94 MB) or pass --model {BEST_MODEL}"
    )


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
    network's strict load (:func:`adain.model.load_pretrained`) checks everything else.
    """
    explicit = encoder_weights is not None or decoder_weights is not None
    card = MODELS[choose_model(name, explicit)[0]]

    def one(key: str, given: str | os.PathLike[str] | None, flag: str,
            verify: Callable[[Path], None] | None) -> Path:
        if given is not None:
            p = Path(given).expanduser()
            if not p.is_file():
                raise WeightsError(f"{p}: weights file not found ({flag})")
            return p
        if card.packaged:
            return packaged_file(key)
        return resolve_weights(key, download=download, progress=progress, verify=verify)

    if weights_check not in ("warn", "strict", "off"):
        raise WeightsError(f"weights_check must be warn, strict or off, got {weights_check!r}")
    enc = one(card.encoder_weights, encoder_weights, "--encoder-weights", None)
    expected = None
    if encoder_weights is not None and weights_check != "off":
        spec = WEIGHTS.get(card.encoder_weights)
        expected = spec.sha256 if spec else file_digest(packaged_file(card.encoder_weights)) if card.packaged else None
    if expected and file_digest(enc) != expected:
        if verify_encoder is not None:
            verify_encoder(enc)  # a wrong architecture is the one error to report, not this warning
        msg = (f"{enc}: not the registered {card.name} encoder ({card.encoder_weights}, sha256 {expected[:12]}…); "
               "results will differ from the published model")
        if weights_check == "strict":
            raise WeightsError(msg)
        print(f"adain: warning: {msg} (pass --custom-weights if intended)", file=sys.stderr)
    dec_missing = decoder_weights is None and not card.packaged and \
        not (cache_dir() / WEIGHTS[card.decoder_weights].filename).is_file()
    if dec_missing and verify_encoder is not None:
        verify_encoder(enc)
    return enc, one(card.decoder_weights, decoder_weights, "--decoder-weights", verify_decoder)


def download_model(name: str, progress: bool = True) -> list[Path]:
    """Download every file of a named model into the cache (sha256-checked); returns the paths."""
    if name not in MODELS:
        raise WeightsError(f"unknown model {name!r}; choose from {', '.join(sorted(MODELS))}")
    return list(model_files(name, download=True, progress=progress))


# ----------------------------------------------------------------------------- digests
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
    except (OSError, ValueError):
        index = {}
    if key in index:
        return index[key]
    digest = sha256_file(p)
    index = {k: v for k, v in index.items() if not k.startswith(f"{p}|")}
    index[key] = digest
    try:
        index_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = index_path.with_name(f".digests.{os.getpid()}.part")
        tmp.write_text(json.dumps(index))
        os.replace(tmp, index_path)
    except OSError:
        pass  # a read-only cache only costs the hashing next time
    return digest


# ----------------------------------------------------------------------------- CLI
def main(args: Sequence[str] | None = None) -> int:
    """``python -m adain.weights download canonical`` / ``python -m adain.weights list``."""
    p = argparse.ArgumentParser(prog="python -m adain.weights", description="Download and list pretrained models.")
    sub = p.add_subparsers(dest="command", required=True)
    d = sub.add_parser("download", help="download a model's weights into the cache (sha256-checked)")
    d.add_argument("model", choices=sorted(MODELS))
    d.add_argument("--quiet", action="store_true", help="no progress bar")
    sub.add_parser("list", help="list the models and whether they are available offline")
    ns = p.parse_args(args)
    try:
        if ns.command == "download":
            for path in download_model(ns.model, progress=not ns.quiet):
                print(path)
        else:
            for name, card in MODELS.items():
                state = "available offline" if is_cached(name) else "downloads on first use"
                print(f"{name:10s} {state:24s} {card.description}")
    except AdainError as e:
        print(f"python -m adain.weights: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
