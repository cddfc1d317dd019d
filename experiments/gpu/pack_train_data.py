"""Pack the training folders into one tar small enough for a lent GPU machine's transfer limit.

    python experiments/gpu/pack_train_data.py ../shared/datasets/train .gpu/data.tar --quality 76

Images are re-encoded as JPEG with the shorter side at most ``--size`` (what training resizes to
anyway); file names and folder layout are kept, so ``data.val_holdout`` holds out the same files.
"""

from __future__ import annotations

import argparse
import io
import tarfile
from pathlib import Path

from PIL import Image, ImageOps

from adain.io import IMAGE_EXTENSIONS


def reencode(path: Path, size: int, quality: int) -> bytes:
    im = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
    w, h = im.size
    if min(w, h) > size:
        s = size / min(w, h)
        im = im.resize((round(w * s), round(h * s)), Image.LANCZOS)
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=quality, optimize=True)
    return buf.getvalue()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("root", type=Path, help="folder holding content/ and style/")
    p.add_argument("output", type=Path, help="tar file to write (members under data/)")
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--quality", type=int, default=76)
    a = p.parse_args(argv)
    files = sorted(f for f in a.root.rglob("*") if f.is_file() and f.suffix.lower() in IMAGE_EXTENSIONS)
    total = 0
    with tarfile.open(a.output, "w") as tar:
        for f in files:
            data = reencode(f, a.size, a.quality)
            info = tarfile.TarInfo("data/" + f.relative_to(a.root).as_posix())
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
            total += len(data)
    print(f"{a.output}: {len(files)} images, {total / 2**20:.1f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
