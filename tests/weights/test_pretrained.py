"""The shipped small16x decoder: packaged, small, loads strictly, stylizes a shared pair offline."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

import pytest
import torch

from adain import Stylizer, build_decoder, build_encoder, load_decoder_state_dict
from adain.cli.stylize import infer_main
from adain.weights.download import sha256_file
from adain.weights.registry import WEIGHTS, cache_dir

PACKAGED = Path(str(resources.files("adain") / "pretrained" / "small16x_decoder.pt"))


def test_packaged_decoder_is_small_and_strict():
    assert PACKAGED.is_file()
    assert PACKAGED.stat().st_size <= 2 * 2**20
    dec = build_decoder(build_encoder("vgg19_small16x"))
    load_decoder_state_dict(dec, torch.load(PACKAGED, weights_only=True), str(PACKAGED))
    assert (PACKAGED.parent / "small16x_MODEL_CARD.md").is_file()


@pytest.mark.shared
def test_small16x_stylizes_a_shared_pair_offline(shared, tmp_path, capsys):
    enc = shared / "weights" / "cd16x_wct" / "4SE.pth"
    assert sha256_file(enc) == WEIGHTS["small16x_encoder"].sha256  # the registry's file
    st = Stylizer.from_pretrained("small16x", encoder_weights=enc, download=False, device="cpu")
    c, s = shared / "images/content/cornell.jpg", shared / "images/style/la_muse.jpg"
    out = st.stylize(c, s, content_size=256, style_size=256)
    assert out.shape[0] == 3 and min(out.shape[1:]) == 256
    assert float(out.std()) > 0.05  # a real picture, not a flat colour
    # the same through the CLI, with the encoder only in the (test) cache and downloads off
    target = cache_dir() / WEIGHTS["small16x_encoder"].filename
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(enc, target)
    code = infer_main(
        [
            "--content",
            str(c),
            "--style",
            str(s),
            "--model",
            "small16x",
            "--no-download",
            "--quiet",
            "--content-size",
            "128",
            "--output",
            str(tmp_path / "o.jpg"),
            "--device",
            "cpu",
        ]
    )
    assert code == 0, capsys.readouterr().err
    assert (tmp_path / "o.jpg").is_file()


@pytest.mark.shared
def test_trained_decoder_beats_reconstruction_decoder_on_style(shared):
    """Our AdaIN-trained decoder matches style statistics better than 4SD (independent VGG)."""
    from adain.io.images import load_image, resize_image
    from adain.methods.evaluation import EvalEncoder, style_distances

    ev = EvalEncoder(shared / "weights/wct_normalised_vgg/vgg_normalised_conv3_1.pth")
    enc = shared / "weights/cd16x_wct/4SE.pth"
    ours = Stylizer.from_pretrained("small16x", encoder_weights=enc, device="cpu")
    base = Stylizer.from_pretrained(
        "small16x", encoder_weights=enc, decoder_weights=shared / "weights/cd16x_wct/4SD.pth", device="cpu"
    )
    pairs = [("cornell.jpg", "mondrian.jpg"), ("lenna.jpg", "la_muse.jpg"), ("golden_gate.jpg", "brushstrokes.jpg")]
    totals = {"ours": 0.0, "base": 0.0}
    for cn, sn in pairs:
        c = resize_image(load_image(shared / "images/content" / cn), 256)
        s = resize_image(load_image(shared / "images/style" / sn), 256)
        fs = ev.features(s)
        for name, st in (("ours", ours), ("base", base)):
            fo = ev.features(st.stylize(c, s, content_size=0, style_size=0))
            totals[name] += style_distances(fo, fs, ev.layers)[0]
    # measured: ours 8.0 vs 4SD 12.2 summed over these pairs (34 % lower)
    assert totals["ours"] < 0.8 * totals["base"], totals
