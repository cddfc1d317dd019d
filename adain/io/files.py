"""Finding inputs: files and directories of images, video files."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import IO

from adain.errors import ImageError, UsageError
from adain.io.images import IMAGE_EXTENSIONS

__all__ = ["VIDEO_EXTENSIONS", "is_video", "list_images"]


VIDEO_EXTENSIONS = frozenset({".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v"})


def list_images(paths: Iterable[str | os.PathLike[str]], recursive: bool = False) -> list[Path]:
    """Expand files and directories into a list of image files (directories sorted by name).

    Raises:
        ImageError: a path does not exist or is not a regular file, or a directory holds no images.
    """
    found: list[Path] = []
    for raw in paths:
        p = Path(raw).expanduser()
        if p.is_dir():
            pattern = "**/*" if recursive else "*"
            imgs = sorted(q for q in p.glob(pattern) if q.is_file() and q.suffix.lower() in IMAGE_EXTENSIONS)
            if not imgs:
                raise ImageError(f"{p}: directory contains no images ({', '.join(sorted(IMAGE_EXTENSIONS))})")
            found.extend(imgs)
        elif p.is_file():
            found.append(p)
        elif p.exists():  # a FIFO, a device, a socket: reading it may never end
            raise ImageError(
                f"{p}: not a regular file (a pipe or device); save the image to a file, or pass - for stdin"
            )
        else:
            raise ImageError(f"{p}: no such file or directory")
    return found


def read_text_file(path: str | os.PathLike[str], what: str = "text file", limit: int = 1 << 20) -> str:
    """A small UTF-8 text file (a report, a card): a regular file of at most ``limit`` bytes.

    Raises:
        UsageError: missing, not a regular file (a pipe, ``/dev/zero``), too large, or not UTF-8.
    """
    from adain.errors import UsageError

    p = Path(path).expanduser()
    if not p.exists():
        raise UsageError(f"{p}: no such {what}")
    if not p.is_file():
        raise UsageError(f"{p}: not a regular file (a {what} is expected)")
    if p.stat().st_size > limit:
        raise UsageError(
            f"{p}: {p.stat().st_size / 1e6:.1f} MB is too large for a {what} (at most {limit / 1e6:.0f} MB)"
        )
    try:
        return p.read_bytes()[: limit + 1].decode("utf-8")
    except UnicodeDecodeError as e:
        raise UsageError(f"{p}: not UTF-8 text (byte {e.start}); a {what} is expected") from None


def is_video(path: str | os.PathLike[str]) -> bool:
    """A video file, by its extension."""
    return Path(path).suffix.lower() in VIDEO_EXTENSIONS


def read_stdin_image(stdin: IO[str] | None, folder: Path) -> Path:
    """The image piped into ``stdin``, saved as ``folder/stdin.<format>``.

    Raises:
        UsageError: stdin is a terminal, empty, or not an image.
    """
    from adain.io.images import image_format_of

    hint = "pipe an image into it (cat photo.jpg | adain-stylize - painting.jpg)"
    if stdin is None or stdin.isatty():
        raise UsageError(f"-: stdin is a terminal; {hint}")
    data = stdin.buffer.read()  # type: ignore[attr-defined]
    if not data:
        raise UsageError(f"-: stdin is empty; {hint}")
    ext = image_format_of(data)
    if ext is None:
        raise UsageError("-: what came on stdin is not an image (JPEG, PNG, WebP, BMP or TIFF)")
    path = folder / f"stdin.{ext}"
    path.write_bytes(data)
    return path
