"""Encoders, decoders and AdaINNet (networks layer)."""

from pathlib import Path

import pytest
import torch

from adain import AdaINNet, build_decoder, build_encoder, load_decoder_state_dict, load_encoder_state_dict
from adain.io.images import load_image, resize_image
from adain.nets.encoder import ENCODERS, STAGES
from tests.helpers import canonical_decoder_state_dict, canonical_vgg_state_dict

WIDTHS = {
    "vgg19_normalised": (64, 128, 256, 512),
    "vgg19_imagenet": (64, 128, 256, 512),
    "vgg19_small16x": (16, 32, 64, 128),
}


@pytest.mark.parametrize("name", sorted(ENCODERS))
def test_encoder_named_features_and_widths(name):
    enc = build_encoder(name)
    assert enc.stages == STAGES
    assert tuple(enc.channels.values()) == WIDTHS[name]
    feats = enc(torch.rand(2, 3, 64, 48))
    for k, stage in enumerate(STAGES):
        assert feats[stage].shape == (2, WIDTHS[name][k], 64 // 2**k, 48 // 2**k)
    only = enc(torch.rand(1, 3, 32, 32), ["relu2_1"])
    assert list(only) == ["relu2_1"]


@pytest.mark.parametrize("name", sorted(ENCODERS))
def test_encoder_is_frozen_but_passes_gradients(name):
    enc = build_encoder(name)
    assert not any(p.requires_grad for p in enc.parameters())
    enc.train()
    assert not enc.training
    x = torch.rand(1, 3, 32, 32, requires_grad=True)
    enc.encode(x).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_encoder_rejects_unknown_stage_and_bad_input():
    enc = build_encoder("vgg19_small16x")
    with pytest.raises(ValueError, match="relu5_1"):
        enc(torch.rand(1, 3, 16, 16), ["relu5_1"])
    with pytest.raises(ValueError, match="RGB"):
        enc(torch.rand(1, 1, 16, 16))
    with pytest.raises(ValueError, match="unknown encoder"):
        build_encoder("resnet")


def test_canonical_full_state_dict_loads_truncated():
    sd = canonical_vgg_state_dict()
    assert len(sd) == 2 * 17  # the public file: 1x1 conv + 16 convs up to relu5_4
    enc = build_encoder("vgg19_normalised")
    load_encoder_state_dict(enc, sd)
    assert set(enc.state_dict()) == {k for k in sd if int(k.split(".")[0]) <= 29}
    torch.testing.assert_close(enc.state_dict()["29.weight"], sd["29.weight"])


def test_canonical_encoder_matches_reference_sequential():
    """Folded reflection padding is numerically identical to the public nn.Sequential."""
    from torch import nn

    sd = canonical_vgg_state_dict()
    layers: list[nn.Module] = [nn.Conv2d(3, 3, 1)]
    cin = 3
    for width, n, pool in ((64, 2, True), (128, 2, True), (256, 4, True), (512, 1, False)):
        for _ in range(n):
            layers += [nn.ReflectionPad2d(1), nn.Conv2d(cin, width, 3), nn.ReLU()]
            cin = width
        if pool:
            layers.append(nn.MaxPool2d(2, 2, ceil_mode=True))
    ref = nn.Sequential(*layers)
    ref.load_state_dict({k: v for k, v in sd.items() if int(k.split(".")[0]) < len(layers)})
    enc = build_encoder("vgg19_normalised")
    load_encoder_state_dict(enc, sd)
    x = torch.rand(1, 3, 40, 56)
    torch.testing.assert_close(enc.encode(x), ref(x), atol=1e-4, rtol=1e-4)


def test_wrong_architecture_names_first_mismatch():
    enc = build_encoder("vgg19_normalised")
    sd = canonical_vgg_state_dict()
    sd["9.weight"] = torch.zeros(64, 64, 3, 3)
    with pytest.raises(ValueError, match=r"'9.weight' has shape \(64, 64, 3, 3\), expected \(128, 64, 3, 3\)"):
        load_encoder_state_dict(enc, sd, "bad.pth")
    with pytest.raises(ValueError, match="bad.pth.*missing key 'conv0.weight'"):
        load_encoder_state_dict(build_encoder("vgg19_small16x"), canonical_vgg_state_dict(), "bad.pth")


def test_decoder_mirrors_encoder_and_public_layout():
    dec = build_decoder(build_encoder("vgg19_normalised"))
    assert set(dec.state_dict()) == set(canonical_decoder_state_dict())
    load_decoder_state_dict(dec, canonical_decoder_state_dict())
    assert dec(torch.rand(1, 512, 5, 7)).shape == (1, 3, 40, 56)
    small = build_decoder(build_encoder("vgg19_small16x"))
    assert small(torch.rand(2, 128, 4, 4)).shape == (2, 3, 32, 32)
    with pytest.raises(ValueError, match="decoder expects"):
        small(torch.rand(1, 512, 4, 4))


def test_decoder_wrong_architecture_message():
    dec = build_decoder(build_encoder("vgg19_small16x"))
    with pytest.raises(ValueError, match="decoder.pth: wrong architecture.*'1.weight' has shape"):
        load_decoder_state_dict(dec, canonical_decoder_state_dict(), "decoder.pth")


def test_adainnet_alpha_zero_decodes_content_code_exactly():
    torch.manual_seed(0)
    net = AdaINNet(build_encoder("vgg19_small16x")).eval()
    c, s = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 24, 40)
    code = net.encode(c)
    out = net.transfer(code, [net.style_stats(s)], alpha=0.0)
    torch.testing.assert_close(out, code)
    torch.testing.assert_close(net(c, s, alpha=0.0), net.decode(code))
    half = net.transfer(code, [net.style_stats(s)], alpha=0.5)
    full = net.transfer(code, [net.style_stats(s)], alpha=1.0)
    torch.testing.assert_close(half, 0.5 * full + 0.5 * code)


@pytest.mark.shared
def test_genuine_partial_vgg_loads_to_relu3_1(shared: Path):
    wdir = shared / "weights" / "wct_normalised_vgg"
    enc = build_encoder("vgg19_normalised", "relu3_1")
    load_encoder_state_dict(enc, torch.load(wdir / "vgg_normalised_conv3_1.pth", weights_only=True))
    assert enc.stages == ("relu1_1", "relu2_1", "relu3_1")
    dec = build_decoder(enc)
    load_decoder_state_dict(dec, torch.load(wdir / "feature_invertor_conv3_1.pth", weights_only=True))
    x = resize_image(load_image(shared / "images" / "content" / "cornell.jpg"), 256, crop=True)[None]
    psnr = -10 * torch.log10(((dec(enc.encode(x)).clamp(0, 1) - x) ** 2).mean())
    assert psnr > 20  # genuine weights reconstruct (25 dB at 512 px per SOURCES.md)


@pytest.mark.shared
def test_small16x_encoder_loads_shared_file(shared: Path):
    cd = shared / "weights" / "cd16x_wct"
    enc = build_encoder("vgg19_small16x")
    load_encoder_state_dict(enc, torch.load(cd / "4SE.pth", map_location="cpu", weights_only=True))
    feats = enc(torch.rand(1, 3, 64, 64))
    assert [f.shape[1] for f in feats.values()] == [16, 32, 64, 128]
    dec = build_decoder(enc)
    load_decoder_state_dict(dec, torch.load(cd / "4SD.pth", map_location="cpu", weights_only=True))
    x = resize_image(load_image(shared / "images" / "content" / "cornell.jpg"), 256, crop=True)[None]
    psnr = -10 * torch.log10(((dec(enc.encode(x)).clamp(0, 1) - x) ** 2).mean())
    assert psnr > 18


def test_decoder_widths_are_checked():
    from adain.errors import ArchitectureError

    enc = build_encoder("vgg19_small16x")
    assert build_decoder(enc).widths == (16, 32, 64, 128)
    assert build_decoder(enc, widths=[32, 48, 64, 128]).widths == (32, 48, 64, 128)
    for bad in ([32, 48, 64, 96], [32, 64, 128], [0, 32, 64, 128]):  # code width, depth, positive
        with pytest.raises(ArchitectureError, match="128"):
            build_decoder(enc, widths=bad)


def test_widened_decoder_computes_the_same_function_and_loads_with_its_widths(tmp_path):
    """Function-preserving widening: exact same output; the saved wide file loads with its widths."""
    from adain.errors import ArchitectureError
    from adain.nets.decoder import decoder_widths_of, load_decoder, widen_decoder

    torch.manual_seed(0)
    enc = build_encoder("vgg19_small16x")
    small, wide = build_decoder(enc), build_decoder(enc, widths=(32, 48, 64, 128))
    code = torch.rand(2, 128, 6, 5)
    assert not torch.allclose(small(code), wide(code))
    widen_decoder(small, wide)
    torch.testing.assert_close(wide(code), small(code), rtol=1e-5, atol=1e-6)
    assert sum(p.numel() for p in wide.parameters()) > sum(p.numel() for p in small.parameters())
    torch.save(wide.state_dict(), tmp_path / "wide.pt")
    sd = torch.load(tmp_path / "wide.pt", weights_only=True)
    assert decoder_widths_of(enc, sd) == (32, 48, 64, 128)
    torch.testing.assert_close(load_decoder(enc, sd, "wide.pt")(code), wide(code))
    assert load_decoder(enc, small.state_dict()).widths == (16, 32, 64, 128)
    with pytest.raises(ArchitectureError, match="narrower"):
        widen_decoder(wide, small)
    with pytest.raises(ArchitectureError, match="wide.pt"):  # a corrupt layer names the file
        load_decoder(enc, {**sd, "1.weight": sd["1.weight"][:, :64]}, "wide.pt")


def test_torch_free_names_match_the_architectures():
    """``adain.nets.names`` (read on the fast path, no torch) lists exactly what build_encoder builds."""
    from adain.nets.encoder import _SPECS, ENCODERS
    from adain.nets.names import ENCODER_NAMES, STAGES

    assert sorted(ENCODER_NAMES) == sorted(_SPECS) == sorted(ENCODERS)
    assert build_encoder("vgg19_small16x").stages == STAGES
