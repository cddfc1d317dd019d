"""Registry of named pretrained weights, with a verified download cache.

Resolution order for every weights file (:func:`resolve_weights`):

1. an explicit path given by the user (``--encoder-weights``, ``encoder_weights=``);
2. the cache, ``$ADAIN_HOME`` (default ``$XDG_CACHE_HOME/adain`` or ``~/.cache/adain``);
3. a download with a progress bar to a temporary file in the cache directory, checked against
   the expected size and sha256 (and, for files without a published checksum, by the caller's
   ``verify`` — a strict key/shape load), then renamed into place atomically. A failed,
   interrupted or mismatched download leaves nothing in the cache.

Offline, the error names the file, the URL, and the two ways to supply it by hand.
"""

from __future__ import annotations

import hashlib
import os
import urllib.error
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from .errors import WeightsError

__all__ = ["WEIGHTS", "WeightSpec", "cache_dir", "load_state_dict_file", "resolve_weights", "sha256_file"]


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
    """

    name: str
    url: str
    filename: str
    size: int | None = None
    sha256: str | None = None
    flag: str = "--encoder-weights"


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


def _download(spec: WeightSpec, target: Path, progress: bool) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        # torch.hub writes to a temporary file beside ``target``, shows a tqdm bar, checks the
        # sha256 and moves the file into place only when everything succeeded.
        torch.hub.download_url_to_file(spec.url, str(target), hash_prefix=spec.sha256, progress=progress)
    except urllib.error.HTTPError as e:
        raise WeightsError(
            f"{spec.filename}: download from {spec.url} failed (HTTP {e.code}); "
            + _how_to_supply(spec, target)
        ) from None
    except urllib.error.URLError as e:
        raise WeightsError(
            f"{spec.filename}: cannot download from {spec.url} ({e.reason}); "
            + _how_to_supply(spec, target)
        ) from None
    except RuntimeError as e:  # torch.hub's hash mismatch
        target.unlink(missing_ok=True)
        raise WeightsError(f"{spec.filename}: downloaded file from {spec.url} is corrupt ({e})") from None
    except OSError as e:  # dropped connection, disk full, …
        target.unlink(missing_ok=True)
        raise WeightsError(
            f"{spec.filename}: download from {spec.url} was interrupted ({e}); "
            + _how_to_supply(spec, target)
        ) from None
    if spec.size is not None and target.stat().st_size != spec.size:
        got = target.stat().st_size
        target.unlink(missing_ok=True)
        raise WeightsError(
            f"{spec.filename}: downloaded {got} bytes from {spec.url}, expected {spec.size}"
        )


def resolve_weights(
    spec: WeightSpec | str,
    path: str | os.PathLike[str] | None = None,
    *,
    download: bool = True,
    progress: bool = True,
    verify: Callable[[Path], None] | None = None,
) -> Path:
    """Find a weights file: explicit path → cache → verified download.

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
    """``torch.load(..., weights_only=True)`` onto the CPU, with a one-line error for bad files."""
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise WeightsError(f"{path}: weights file not found") from None
    except Exception as e:  # pickle/zip errors of all kinds
        first = (str(e).strip().splitlines() or [""])[0]  # torch's messages run to several lines
        raise WeightsError(f"{path}: not a readable PyTorch weights file ({type(e).__name__}: {first})") from None
    if not isinstance(obj, dict):
        raise WeightsError(f"{path}: expected a state dict, found {type(obj).__name__}")
    return obj
