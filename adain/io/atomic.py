"""The one atomic writer: outputs are written to a hidden temporary name beside the target and
claimed (hard link, or exclusive create) or renamed into place, so an interrupted run never
leaves half a file and two runs never both believe they wrote the same file.
"""

from __future__ import annotations

import errno
import os
import secrets
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from adain.errors import AdainError, OutputExistsError, UsageError, os_reason

__all__ = [
    "atomic_path",
    "atomic_write",
    "check_writable",
    "ensure_new",
    "refuse_inputs",
    "remove_stale_parts",
    "temp_dir_prefix",
    "same_file",
]


def ensure_new(path: str | os.PathLike[str], overwrite: bool = False) -> Path:
    """``path`` as a Path, if it may be written: absent, or ``overwrite`` is True.

    Raises:
        FileExistsError: ``path`` exists and ``overwrite`` is False.
    """
    p = Path(path)
    if p.exists() and not overwrite:
        raise OutputExistsError(f"{p}: already exists (use --overwrite to replace it)")
    return p


_PART_TAG = "adain"


def _host_tag() -> str:
    import hashlib
    import socket

    return hashlib.sha256(socket.gethostname().encode()).hexdigest()[:6]


def _part_name(p: Path) -> Path:
    """``.<stem>.adain-<host>-<pid>-<random>.part`` beside ``p``: hidden, and telling a later run
    whether the process that made it is gone (see :func:`remove_stale_parts`)."""
    # the stem is shortened so that a long (but legal) output name still has a legal temporary name
    return p.parent / f".{p.stem[:64]}.{_PART_TAG}-{_host_tag()}-{os.getpid()}-{secrets.token_hex(4)}.part"


def temp_dir_prefix(p: Path) -> str:
    """The ``prefix`` for :func:`tempfile.mkdtemp` of a temporary folder that becomes ``p`` (or holds
    its old version): tagged like a part file, so :func:`remove_stale_parts` removes it after a kill."""
    return f".{p.name[:64]}.{_PART_TAG}-{_host_tag()}-{os.getpid()}-"


def remove_stale_parts(directory: str | os.PathLike[str], max_age_s: float = 86400.0) -> list[Path]:
    """Remove temporary files and folders (``.tmp``/``.old``, :func:`temp_dir_prefix`) left in
    ``directory`` by runs that were killed (``kill -9``, power loss): those of a process of this
    machine that no longer exists, and any older than ``max_age_s`` (another machine's). Returns
    what was removed."""
    import re
    import shutil
    import time

    pattern = re.compile(rf"^\..*\.{_PART_TAG}-([0-9a-f]{{6}})-(\d+)-[0-9a-z_]{{8}}\.(part|tmp|old)$")
    removed = []
    host = _host_tag()
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return removed
    for e in entries:
        m = pattern.match(e.name)
        folder = m is not None and m.group(3) != "part"
        if not m or not (e.is_dir(follow_symlinks=False) if folder else e.is_file(follow_symlinks=False)):
            continue
        stale = False
        if m.group(1) == host:
            try:
                os.kill(int(m.group(2)), 0)
            except ProcessLookupError:
                stale = True
            except (PermissionError, OverflowError):
                pass  # alive (someone else's) or not a pid
        try:
            stale = stale or time.time() - e.stat(follow_symlinks=False).st_mtime > max_age_s
            if stale:
                if folder:
                    shutil.rmtree(e.path)
                else:
                    os.unlink(e.path)
                removed.append(Path(e.path))
        except OSError:
            pass
    return removed


@contextmanager
def atomic_path(path: str | os.PathLike[str], overwrite: bool = False) -> Iterator[Path]:
    """Yield a new empty temporary file beside ``path`` (parent folders are created) for the block to
    fill; when the block succeeds it becomes ``path``, when it raises it is removed, so ``path`` is
    never partial. The temporary file has the mode a plain ``open()`` would give.

    Without ``overwrite`` the output is *claimed* atomically: the finished file is hard-linked to
    ``path``, which fails if anything else created ``path`` in the meantime — two runs can never
    both believe they wrote the same file (a file system without hard links falls back to an
    exclusive create of ``path``). With ``overwrite`` it is renamed over ``path``.

    Raises:
        OutputExistsError: ``path`` exists (or appears while writing) and ``overwrite`` is False.
    """
    p = ensure_new(path, overwrite)
    p.parent.mkdir(parents=True, exist_ok=True)
    for _attempt in range(_ATTEMPTS):  # like mkstemp, but 0o666 less the umask instead of 0o600
        tmp = _part_name(p)
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            break
        except FileExistsError:
            continue
        except FileNotFoundError:  # a concurrent run removed the (then empty) folder it had created
            p.parent.mkdir(parents=True, exist_ok=True)
    else:  # e.g. a folder under /proc, where every name "exists": a bounded retry, then one line
        raise OSError(errno.EEXIST, f"cannot create a temporary file there ({_ATTEMPTS} tries)", str(p.parent))
    try:
        yield tmp
        if overwrite:
            os.replace(tmp, p)
        else:
            _claim(tmp, p)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


#: how many fresh temporary names are tried before a folder is deemed unwritable
_ATTEMPTS = 100


def _claim(tmp: Path, p: Path) -> None:
    """Move the finished ``tmp`` to ``p`` only if ``p`` does not exist (atomically)."""
    try:
        os.link(tmp, p)
    except FileExistsError:
        raise OutputExistsError(f"{p}: already exists (another run wrote it; use --overwrite to replace it)") from None
    except OSError:  # no hard links here: claim the name exclusively, then move the file onto it
        try:
            os.close(os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            raise OutputExistsError(
                f"{p}: already exists (another run wrote it; use --overwrite to replace it)"
            ) from None
        os.replace(tmp, p)
        return
    tmp.unlink(missing_ok=True)


def atomic_write(path: str | os.PathLike[str], write: Callable[[BinaryIO], None], overwrite: bool = False) -> Path:
    """Create ``path`` through ``write(file)`` on a temporary file (see :func:`atomic_path`).

    Raises:
        FileExistsError: ``path`` exists and ``overwrite`` is False.
    """
    with atomic_path(path, overwrite) as tmp, open(tmp, "wb") as f:
        write(f)
    return Path(path)


def check_writable(directory: str | os.PathLike[str]) -> bool:
    """Create ``directory`` if needed and prove it is writable (a file is created and removed);
    returns whether it was created, so a run that writes nothing can remove it again.

    Raises:
        AdainError: the directory cannot be created or written.
    """
    import tempfile

    d = Path(directory)
    created = not d.exists()
    try:
        d.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=d, prefix=".adain-write-test"):
            pass
    except OSError as e:
        raise AdainError(f"{d}: output directory is not writable ({os_reason(e)})") from None
    return created


def same_file(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    """Whether two paths name one file (through any relative path, hard link or symlink)."""
    pa, pb = Path(a).expanduser(), Path(b).expanduser()
    try:
        return os.path.samefile(pa, pb)
    except OSError:  # one does not exist (yet): compare where they resolve to
        return pa.resolve() == pb.resolve()


def refuse_inputs(output: str | os.PathLike[str], inputs: Iterable[str | os.PathLike[str] | None]) -> None:
    """No command ever writes over one of its own inputs.

    Raises:
        UsageError: ``output`` is (a link to, or another path of) one of ``inputs``.
    """
    for i in inputs:
        if i is not None and same_file(output, i):
            raise UsageError(f"{output}: the output would replace an input file ({i}); choose another output")
