"""Models on the Hugging Face Hub: ``owner/name[@revision]`` is downloaded through
``huggingface_hub`` (its cache, resumable downloads, ``HF_HUB_OFFLINE=1``, ``HF_ENDPOINT``), and a
model folder is uploaded with :func:`push_model_folder`.

A model reference (``--model``, ``from_pretrained``) is one of: a registered name (``small16x``,
``canonical``, ``auto``), a model folder on disk, or a Hub id (:func:`resolve_model_ref`).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from adain.errors import WeightsError
from adain.weights.folder import CARD, CONFIG, WEIGHTS_FILE, is_model_folder
from adain.weights.registry import HUB_ID

__all__ = ["check_hub_id", "push_model_folder", "resolve_model_ref"]


def resolve_model_ref(ref: str, download: bool = True) -> tuple[Path, str]:
    """The local model folder of ``ref`` (a folder, or a Hub id fetched into the Hub's cache) and
    its label for messages.

    Raises:
        WeightsError: not a folder nor a Hub id; a repository, revision or file that does not
            exist; offline (``--no-download`` or ``HF_HUB_OFFLINE=1``) and not cached; network errors.
    """
    p = Path(ref).expanduser()
    if p.exists():
        if not is_model_folder(p):
            raise WeightsError(f"{p}: not a model folder (no {CONFIG}; write one with `adain-export hub`)")
        return p, p.name
    m = HUB_ID.match(ref)
    if m is None:
        raise WeightsError(f"unknown model {ref!r}: not a registered name, a model folder or a Hub id (owner/name)")
    check_hub_id(m.group("repo"), m.group("rev"))
    return _download(m.group("repo"), m.group("rev"), download), ref


_HUB_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9_])?$")


def check_hub_id(repo: str, revision: str | None = None) -> None:
    """Refuse a Hub id the Hub would not accept before anything touches the network or the cache:
    ``owner/name`` of letters, digits, ``-``, ``_``, ``.`` (at most 96 each, no ``--`` or ``..``,
    not ending in ``-`` or ``.``); a revision without ``..`` or empty path parts.

    Raises:
        WeightsError: names the part that is wrong.
    """
    for part in repo.split("/"):
        if not _HUB_NAME.match(part) or "--" in part or ".." in part:
            raise WeightsError(
                f"{repo!r}: not a Hub id (owner/name: letters, digits, '-', '_', '.', at most 96 each, "
                "no '--' or '..', not ending in '-' or '.')"
            )
    if revision is not None and (
        not revision or len(revision) > 200 or ".." in revision or "//" in revision or revision.startswith("/")
    ):
        raise WeightsError(f"{repo}@{revision}: not a revision (a branch, tag or commit, without '..')")


def _download(repo: str, revision: str | None, download: bool) -> Path:
    try:
        from huggingface_hub import errors, hf_hub_download
    except ImportError:  # pragma: no cover - a dependency of the package
        raise WeightsError("Hub models need huggingface_hub (pip install huggingface_hub)") from None
    HfHubHTTPError, LocalEntryNotFoundError = errors.HfHubHTTPError, errors.LocalEntryNotFoundError  # noqa: N806
    RepositoryNotFoundError, RevisionNotFoundError = errors.RepositoryNotFoundError, errors.RevisionNotFoundError  # noqa: N806
    HFValidationError = errors.HFValidationError  # noqa: N806
    # (huggingface_hub < 1.0 has no separate remote class; its EntryNotFoundError is the remote one)
    RemoteEntryNotFoundError = getattr(errors, "RemoteEntryNotFoundError", errors.EntryNotFoundError)  # noqa: N806
    where = f"{repo}@{revision}" if revision else repo
    paths: list[str] = []
    try:
        for name in (CONFIG, WEIGHTS_FILE, CARD):
            try:
                paths.append(hf_hub_download(repo, name, revision=revision, local_files_only=not download))
            except RemoteEntryNotFoundError:
                if name != CARD:  # the card is optional
                    raise
            except LocalEntryNotFoundError:
                if name != CARD or not paths:
                    raise
    except LocalEntryNotFoundError:
        how = "downloads are off (--no-download)" if not download else "the Hub cannot be reached (HF_HUB_OFFLINE?)"
        raise WeightsError(f"{where}: not in the Hub cache and {how}") from None
    except RevisionNotFoundError:
        raise WeightsError(f"{where}: no such revision on the Hub") from None
    except HFValidationError as e:
        raise WeightsError(f"{where}: not a Hub id ({str(e).splitlines()[0][:160]})") from None
    except RepositoryNotFoundError:
        raise WeightsError(
            f"{repo}: no such model on the Hub (or a private one: log in with `hf auth login`)"
        ) from None
    except RemoteEntryNotFoundError:
        raise WeightsError(f"{where}: not an adain model (no {CONFIG} or {WEIGHTS_FILE} in the repository)") from None
    except (HfHubHTTPError, OSError) as e:
        raise WeightsError(f"{where}: download failed ({str(e).splitlines()[0][:160]})") from None
    return Path(paths[0]).parent


def push_model_folder(
    folder: str | os.PathLike[str], repo: str, private: bool = False, message: str | None = None
) -> str:
    """Upload a model folder to the Hub repository ``repo`` (created if needed); returns its URL.

    Raises:
        WeightsError: not a model folder, a malformed repository id, or the Hub refused.
    """
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError

    from adain.weights.folder import read_config

    read_config(folder)
    m = HUB_ID.match(repo)
    if m is None or m.group("rev"):
        raise WeightsError(f"--push {repo!r}: give a repository as owner/name")
    check_hub_id(repo)
    api = HfApi()
    try:
        url = api.create_repo(repo, private=private, exist_ok=True)
        api.upload_folder(folder_path=str(folder), repo_id=repo, commit_message=message or "Upload adain model")
    except (HfHubHTTPError, OSError) as e:
        raise WeightsError(f"--push {repo}: the Hub refused ({str(e).splitlines()[0][:160]})") from None
    return str(url)
