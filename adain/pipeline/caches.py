"""What a pipeline remembers: style statistics (in memory, and on disk across runs when the
runtime has a cache directory) and the last few content codes (a live preview decodes again for
every slider move without encoding again). Entries of files are keyed by the sha256 of their
bytes and the options, so an edited or replaced file is never served stale (not even one with the
same size and modification time); an unreadable disk entry is recomputed and rewritten
(atomically, like every file this package writes)."""

from __future__ import annotations

import hashlib
import logging
import os
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

from adain.io.atomic import atomic_write
from adain.runtime.base import Stats
from adain.weights.download import sha256_file

__all__ = ["CodeCache", "FileKeys", "StyleStatsCache", "file_key"]

log = logging.getLogger(__name__)


Key = tuple[Any, ...]


#: files larger than this are not cached (hashing them would cost more than it saves)
MAX_HASHED_BYTES = 256 * 2**20


def file_key(image: Any, size: int, crop: bool) -> Key | None:
    """A cache key for an image file: the sha256 of its content and the options; ``None`` for
    other inputs and for files over :data:`MAX_HASHED_BYTES`."""
    if not (isinstance(image, (str, os.PathLike)) and Path(image).is_file()):
        return None
    p = Path(image)
    try:
        if p.stat().st_size > MAX_HASHED_BYTES:
            return None
        digest = sha256_file(p)
    except OSError:
        return None  # unreadable: loading it reports why
    return (digest, size, crop)


class FileKeys:
    """:func:`file_key` remembered per file state — path, inode, size, modification and change
    time (any rewrite changes the change time, which no tool can set back) — so a live preview
    does not hash the same file again on every slider move. The last ``size`` files are kept."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._keys: OrderedDict[Key, Key | None] = OrderedDict()

    def key(self, image: Any, size: int, crop: bool) -> Key | None:
        if not isinstance(image, (str, os.PathLike)):
            return None
        try:
            st = os.stat(image)
        except OSError:
            return None
        state = (os.fspath(image), st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns, size, crop)
        if state in self._keys:
            self._keys.move_to_end(state)
            return self._keys[state]
        found = self._keys[state] = file_key(image, size, crop)
        while len(self._keys) > self.size:
            self._keys.popitem(last=False)
        return found


class StyleStatsCache:
    """Style statistics by :func:`file_key`, in memory and (with ``directory``) as ``.npz`` files."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        self._memory: dict[Key, Stats] = {}

    def _path(self, key: Key) -> Path | None:
        if self.directory is None:
            return None
        return self.directory / "styles" / (hashlib.sha256(repr(key).encode()).hexdigest()[:32] + ".npz")

    def get(self, key: Key) -> Stats | None:
        if key in self._memory:
            return self._memory[key]
        path = self._path(key)
        if path is None or not path.is_file():
            return None
        try:
            with np.load(path) as f:
                stats = (np.asarray(f["mean"], dtype=np.float32), np.asarray(f["std"], dtype=np.float32))
            if stats[0].ndim != 4 or stats[0].shape != stats[1].shape or stats[0].shape[-2:] != (1, 1):
                raise ValueError(f"statistics of shape {stats[0].shape} and {stats[1].shape}")
        except Exception as e:  # noqa: BLE001 - truncated, emptied, reshaped: recomputed and rewritten by the caller
            log.warning("%s: unreadable cached style statistics (%s); computing them again", path, type(e).__name__)
            return None
        self._memory[key] = stats
        return stats

    def put(self, key: Key, stats: Stats) -> None:
        self._memory[key] = stats
        path = self._path(key)
        if path is None:
            return
        try:
            atomic_write(path, lambda f: np.savez(f, mean=stats[0], std=stats[1]), overwrite=True)
        except OSError:
            pass  # a read-only or full cache only costs recomputing next time


class CodeCache:
    """The last ``size`` entries, least recently used dropped first."""

    def __init__(self, size: int = 4) -> None:
        self.size = size
        self._entries: OrderedDict[Key, Any] = OrderedDict()

    def get(self, key: Key) -> Any | None:
        if key not in self._entries:
            return None
        self._entries.move_to_end(key)
        return self._entries[key]

    def put(self, key: Key, value: Any) -> None:
        self._entries[key] = value
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)
