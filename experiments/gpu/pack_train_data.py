"""Pack the training folders into one tar small enough for a lent GPU machine's transfer limit.

    python experiments/gpu/pack_train_data.py ../shared/datasets/train .gpu/data.tar --quality 76

Images are decoded and resized exactly as training reads them (shorter side ``--size``) and
re-encoded as JPEG; unreadable files are left out with a message; file names and folder layout
are kept, so ``data.val_holdout`` holds out the same files.
"""

from __future__ import annotations

import argparse
import io
import tarfile
from pathlib import Path

from PIL import Image

from adain.errors import ImageError
from adain.io.images import IMAGE_EXTENSIONS, read_image_u8


def reencode(path: Path, size: int, quality: int) -> bytes:
    """``path`` as training reads it (shorter side ``size``, see ``read_image_u8``), as JPEG bytes."""
    buf = io.BytesIO()
    Image.fromarray(read_image_u8(path, size)).save(buf, "JPEG", quality=quality, optimize=True)
    return buf.getvalue()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("root", type=Path, help="folder holding content/ and style/")
    p.add_argument("output", type=Path, help="tar file to write (members under data/)")
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--quality", type=int, default=76)
    a = p.parse_args(argv)
    files = sorted(f for f in a.root.rglob("*") if f.is_file() and f.suffix.lower() in IMAGE_EXTENSIONS)
    total = packed = 0
    with tarfile.open(a.output, "w") as tar:
        for f in files:
            try:
                data = reencode(f, a.size, a.quality)
            except ImageError as e:
                print(f"{e} — left out")
                continue
            info = tarfile.TarInfo("data/" + f.relative_to(a.root).as_posix())
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
            total += len(data)
            packed += 1
    print(f"{a.output}: {packed} of {len(files)} images, {total / 2**20:.1f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
