import os
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from adain.errors import ImageError
from adain.io.files import list_images
from adain.io.images import load_image, resize_image, save_image
from tests.helpers import make_image


def test_exif_orientation_is_honoured(tmp_path):
    img = Image.new("RGB", (40, 20), (255, 0, 0))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° on display
    p = tmp_path / "rot.jpg"
    img.save(p, exif=exif)
    assert load_image(p).shape == (3, 40, 20)


@pytest.mark.parametrize("mode", ["L", "P", "RGBA", "CMYK", "1", "LA"])
def test_modes_are_converted_to_rgb(tmp_path, mode):
    ext = ".jpg" if mode == "CMYK" else ".png"
    p = make_image(tmp_path / f"m{ext}", 20, 10, mode=mode)
    x = load_image(p)
    assert x.shape == (3, 10, 20) and x.dtype == torch.float32
    assert 0.0 <= float(x.min()) and float(x.max()) <= 1.0


def test_16_bit_grayscale(tmp_path):
    arr = np.linspace(0, 65535, 20 * 10).reshape(10, 20).astype(np.uint16)
    p = tmp_path / "deep.png"
    Image.fromarray(arr).save(p)
    x = load_image(p)
    assert x.shape == (3, 10, 20)
    assert float(x.max()) == pytest.approx(1.0, abs=1 / 255) and float(x.min()) == 0.0


def test_transparent_pixels_become_white(tmp_path):
    p = tmp_path / "t.png"
    Image.new("RGBA", (4, 4), (0, 0, 0, 0)).save(p)
    assert torch.allclose(load_image(p), torch.ones(3, 4, 4))


def test_truncated_jpeg(tmp_path):
    p = make_image(tmp_path / "t.jpg", 64, 64)
    p.write_bytes(p.read_bytes()[:400])
    with pytest.raises(ImageError, match=r"t.jpg: corrupt or truncated"):
        load_image(p)


def test_not_an_image(tmp_path):
    p = tmp_path / "notes.jpg"
    p.write_text("hello")
    with pytest.raises(ImageError, match="notes.jpg: not an image"):
        load_image(p)


def test_decompression_bomb_cap(tmp_path):
    p = make_image(tmp_path / "big.png", 100, 100)
    with pytest.raises(ImageError, match=r"big.png: image is 100x100.*--max-pixels"):
        load_image(p, max_pixels=9999)
    assert load_image(p, max_pixels=10000).shape == (3, 100, 100)


def test_list_images(tmp_path, tiny_dirs):
    c, s = tiny_dirs
    assert [p.name for p in list_images([c])] == ["a.jpg", "b.png"]
    assert [p.name for p in list_images([c], recursive=True)] == ["a.jpg", "b.png", "c.jpg"]
    (tmp_path / "empty").mkdir()
    with pytest.raises(ImageError, match="empty: directory contains no images"):
        list_images([tmp_path / "empty"])
    with pytest.raises(ImageError, match="missing.jpg: no such file"):
        list_images([tmp_path / "missing.jpg"])
    os.mkfifo(tmp_path / "pipe.jpg")
    with pytest.raises(ImageError, match="pipe.jpg: not a regular file"):
        list_images([tmp_path / "pipe.jpg"])
    with pytest.raises(ImageError, match="/dev/zero: not a regular file"):
        list_images(["/dev/zero"])


def test_resize_keeps_aspect_and_crops():
    x = torch.rand(3, 40, 80)
    assert resize_image(x, 20).shape == (3, 20, 40)
    assert resize_image(x, 0).shape == (3, 40, 80)
    assert resize_image(x, 20, crop=True).shape == (3, 20, 20)


def test_save_is_atomic_and_never_overwrites(tmp_path):
    p = tmp_path / "out.png"
    save_image(torch.zeros(3, 4, 4), p)
    before = p.read_bytes()
    with pytest.raises(FileExistsError, match="--overwrite"):
        save_image(torch.ones(3, 4, 4), p)
    assert p.read_bytes() == before
    save_image(torch.ones(3, 4, 4), p, overwrite=True)
    assert p.read_bytes() != before
    assert [q.name for q in tmp_path.iterdir()] == ["out.png"]  # no temp files left


def test_save_interrupted_leaves_no_file(tmp_path, monkeypatch):
    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(Image.Image, "save", boom)
    with pytest.raises(KeyboardInterrupt):
        save_image(torch.zeros(3, 4, 4), tmp_path / "x.jpg")
    assert list(tmp_path.iterdir()) == []


def test_roundtrip_values(tmp_path: Path):
    x = torch.rand(3, 6, 5)
    p = save_image(x, tmp_path / "r.png")
    assert (load_image(p) - x).abs().max() <= 0.5 / 255 + 1e-6


def test_saved_files_get_ordinary_permissions(tmp_path):
    """Atomic writes go through a 0600 temp file; the result must have the mode a plain open() gives."""
    import os

    old = os.umask(0o022)
    try:
        p = save_image(torch.zeros(3, 4, 4), tmp_path / "out.png")
        plain = tmp_path / "plain.txt"
        plain.write_text("x")
    finally:
        os.umask(old)
    assert p.stat().st_mode & 0o777 == plain.stat().st_mode & 0o777 == 0o644


def test_masks_read_the_same_from_every_input_kind(tmp_path):
    """A red mask is the same grey level as a path, a PIL image, an array and a tensor."""
    from adain.io.images import to_mask

    img = Image.new("RGB", (6, 4), (255, 0, 0))
    img.save(tmp_path / "red.png")
    arr = np.asarray(img, dtype=np.float32).transpose(2, 0, 1) / 255
    values = [float(to_mask(m).mean()) for m in (tmp_path / "red.png", img, arr, torch.from_numpy(arr))]
    assert values == pytest.approx([0.299] * 4, abs=1e-6)


# ----------------------------------------------------------------------------- memory-lean decoding
def test_read_image_resized_matches_float_resize_within_one_8bit_step(tmp_path):
    from adain.io.images import read_image, read_image_resized, resize_array

    p = make_image(tmp_path / "a.png", 300, 200, 3)
    for size, crop in ((64, False), (64, True), (0, False), (250, False)):
        got = read_image_resized(p, size, crop)
        want = resize_array(read_image(p), size, crop)
        assert got.shape == want.shape and got.dtype == np.float32
        err = np.abs(got - want)
        assert err.max() <= 1 / 255 + 1e-6 and err.mean() <= 0.5 / 255, (size, crop, err.max(), err.mean())
    with pytest.raises(ImageError, match="missing.png: no such file"):
        read_image_resized(tmp_path / "missing.png", 64)


def test_array_conversions_in_strips_equal_the_whole_image_formula(tmp_path):
    """pil_to_array and to_pil work in strips (bounded temporaries): the same numbers as converting
    the whole image at once, across strip boundaries."""
    from adain.io.images import pil_to_array, to_pil

    rng = np.random.default_rng(0)
    u8 = (rng.random((2100, 1000, 3)) * 255).astype(np.uint8)  # more rows than one strip holds
    arr = pil_to_array(Image.fromarray(u8))
    np.testing.assert_array_equal(arr, u8.transpose(2, 0, 1).astype(np.float32) / np.float32(255.0))
    x = rng.random((3, 2100, 1000), dtype=np.float32) * 1.2 - 0.1
    want = (np.clip(x, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8).transpose(1, 2, 0)
    np.testing.assert_array_equal(np.asarray(to_pil(x)), want)


def test_to_array_shares_in_range_float_arrays_read_only_and_never_changes_the_input():
    from adain.io.images import to_array

    x = np.random.default_rng(1).random((3, 8, 8), dtype=np.float32)
    y = to_array(x)
    assert np.shares_memory(x, y) and not y.flags.writeable and x.flags.writeable
    z = x * 2
    before = z.copy()
    w = to_array(z)
    assert not np.shares_memory(w, z) and w.max() <= 1.0 and np.array_equal(z, before)


def test_an_rgb_file_is_not_copied_to_convert_it(tmp_path, monkeypatch):
    """Pillow's convert("RGB") copies an RGB image (400 MB for 100 MP); the reader skips it."""
    from adain.io import images

    p = make_image(tmp_path / "rgb.png", 40, 30, 1)
    calls = []
    real = Image.Image.convert
    monkeypatch.setattr(Image.Image, "convert", lambda self, *a, **k: calls.append(a) or real(self, *a, **k))
    images.read_image(p)
    images.read_image_resized(p, 16)
    assert not calls


def test_float_images_nan_refused_and_unit_range_kept(tmp_path):
    from adain.io.images import read_image

    ramp = np.tile(np.linspace(0, 1, 16, dtype=np.float32), (8, 1))
    Image.fromarray(ramp, mode="F").save(tmp_path / "unit.tif")
    x = read_image(tmp_path / "unit.tif")
    assert x.min() == 0.0 and x.max() == 1.0  # a [0, 1] float image is not read as nearly black
    bad = ramp.copy()
    bad[2, 3] = np.nan
    Image.fromarray(bad, mode="F").save(tmp_path / "nan.tif")
    with pytest.raises(ImageError, match=r"nan.tif: holds pixel values that are not numbers"):
        read_image(tmp_path / "nan.tif")
