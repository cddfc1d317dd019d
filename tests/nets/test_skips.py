"""Multi-level codes: space-to-depth packing of relu1_1 … relu3_1 beside relu4_1, and the decoder
that reads them through zero-initialised skip convolutions (issue 27, lever 1)."""

from __future__ import annotations

import pytest
import torch

from adain import AdaINNet, build_decoder, build_encoder
from adain.errors import ArchitectureError
from adain.nets.decoder import add_skips, decoder_skips_of, load_decoder
from adain.ops.levels import pack_levels, packed_widths, unpack_levels
from adain.ops.stats import adain, calc_mean_std
from tests.helpers import small_net


def _levels(n: int = 2, h: int = 3, w: int = 5, seed: int = 0) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(n, c, h * 2 ** (3 - lv), w * 2 ** (3 - lv), generator=g) for lv, c in enumerate((4, 6, 8, 10))]


def test_pack_unpack_round_trip_and_shapes():
    feats = _levels()
    code = pack_levels(feats, (0, 1, 2, 3))
    assert code.shape == (2, 4 * 64 + 6 * 16 + 8 * 4 + 10, 3, 5)
    assert packed_widths((4, 6, 8, 10), (0, 1, 2, 3)) == (256, 96, 32, 10)
    for a, b in zip(unpack_levels(code, (4, 6, 8, 10), (0, 1, 2, 3)), feats):
        assert torch.equal(a, b)
    # the deepest level is the last channels, untouched
    assert torch.equal(code[:, -10:], feats[-1])
    # only some levels
    part = pack_levels([feats[1], feats[3]], (1, 3))
    assert part.shape[1] == 6 * 16 + 10


def test_pack_refuses_misaligned_levels_and_unpack_wrong_width():
    feats = _levels()
    feats[0] = feats[0][..., :-1]
    with pytest.raises(ValueError, match="does not pack"):
        pack_levels(feats, (0, 1, 2, 3))
    with pytest.raises(ValueError, match="packed code"):
        unpack_levels(torch.zeros(1, 11, 3, 5), (4, 6, 8, 10), (0, 1, 2, 3))


def test_packed_adain_is_per_level_adain_when_sub_grids_agree():
    """A packed channel is a level's channel on one sub-grid: where every sub-grid has the level's
    statistics (each cell constant), AdaIN of the packed code is exactly AdaIN of each level."""

    def cells(x: torch.Tensor, f: int) -> torch.Tensor:
        return x.repeat_interleave(f, -1).repeat_interleave(f, -2)

    g = torch.Generator().manual_seed(1)
    levels, widths = (0, 1, 2, 3), (4, 6, 8, 10)
    content = [cells(torch.rand(1, c, 4, 6, generator=g), 2 ** (3 - lv)) for lv, c in zip(levels, widths)]
    style = [cells(torch.rand(1, c, 3, 3, generator=g) * 3, 2 ** (3 - lv)) for lv, c in zip(levels, widths)]
    fused = unpack_levels(adain(pack_levels(content, levels), pack_levels(style, levels)), widths, levels)
    for f, c, s in zip(fused, content, style):
        torch.testing.assert_close(f, adain(c, s), rtol=1e-4, atol=1e-5)
    # and on natural-looking features the sub-grids' statistics are the level's up to sampling
    x = torch.nn.functional.avg_pool2d(torch.rand(1, 3, 260, 260, generator=g), 5, 1)
    sub = calc_mean_std(torch.nn.functional.pixel_unshuffle(x, 8))  # 64 sub-grids of each channel
    whole = calc_mean_std(x)
    torch.testing.assert_close(sub[0].view(3, 64).mean(1), whole[0].view(3), rtol=1e-3, atol=1e-3)


def test_skip_decoder_shapes_and_state_dict_layout():
    enc = build_encoder("vgg19_small16x")
    dec = build_decoder(enc, skips=(0, 1, 2))
    assert dec.levels == (0, 1, 2, 3) and dec.level_widths == (16, 32, 64, 128)
    assert dec.in_channels == 16 * 64 + 32 * 16 + 64 * 4 + 128
    out = dec(torch.rand(2, dec.in_channels, 4, 3))
    assert out.shape == (2, 3, 32, 24)
    keys = list(dec.state_dict())
    plain = list(build_decoder(enc).state_dict())
    assert keys[: len(plain)] == plain  # the public layout's keys, then the skips
    assert [k for k in keys if k.startswith("skips.")] == [
        f"skips.{b}.{p}" for b in (0, 1, 2) for p in ("weight", "bias")
    ]
    with pytest.raises(ValueError, match="1920"):
        dec(torch.rand(1, 128, 4, 4))
    with pytest.raises(ArchitectureError, match="skips"):
        build_decoder(enc, skips=(3,))
    # a wider decoder takes skips too: each 1x1 conv maps the encoder's width to the block's
    wide = build_decoder(enc, widths=(32, 48, 64, 128), skips=(0,))
    assert wide.skips["0"].weight.shape == (32, 16, 1, 1)


def test_zero_initialised_skips_reproduce_the_plain_model_exactly():
    """Warm start: adding skips changes nothing until training moves their weights."""
    net = small_net()
    content, style = torch.rand(1, 3, 64, 48), torch.rand(1, 3, 40, 40)
    before = net(content, style, alpha=0.7)
    skip = AdaINNet(net.encoder, add_skips(net.decoder, net.encoder, (0, 1, 2))).eval()
    assert skip.encode(content).shape == (1, 1920, 8, 6)
    assert torch.equal(skip.deepest(skip.encode(content)), net.encode(content))
    assert torch.equal(skip(content, style, alpha=0.7), before)
    # once the skips have weights, the shallow levels change the picture
    torch.nn.init.normal_(skip.decoder.skips["0"].weight, std=0.1)
    assert not torch.allclose(skip(content, style, alpha=0.7), before)


def test_skip_decoder_files_load_with_their_skips():
    net = small_net()
    dec = add_skips(net.decoder, net.encoder, (1, 2))
    torch.nn.init.normal_(dec.skips["2"].weight)
    sd = dec.state_dict()
    assert decoder_skips_of(sd) == (1, 2)
    assert decoder_skips_of(net.decoder.state_dict()) == ()
    loaded = load_decoder(net.encoder, sd, "skip.pt")
    assert loaded.levels == (1, 2, 3)
    code = torch.rand(1, dec.in_channels, 3, 4)
    assert torch.equal(loaded(code), dec(code))
    with pytest.raises(ValueError, match="levels"):
        AdaINNet(build_encoder("vgg19_small16x", "relu3_1"), dec)


def test_space_to_depth_is_onnx_order_and_its_own_inverse():
    from adain.ops.levels import depth_to_space, space_to_depth

    x = torch.randn(2, 3, 8, 12, requires_grad=True)
    y = space_to_depth(x, 4)
    assert y.shape == (2, 48, 2, 3)
    assert torch.equal(y[:, (1 * 4 + 2) * 3 + 1], x[:, 1, 1::4, 2::4])  # channel (i·f + j)·C + c
    assert torch.equal(depth_to_space(y, 4), x)
    y.square().sum().backward()
    torch.testing.assert_close(x.grad, 2 * x.detach())
    assert torch.autograd.gradcheck(
        lambda t: depth_to_space(t, 2), (torch.randn(1, 8, 2, 3, dtype=torch.double, requires_grad=True),)
    )


def test_level_by_level_paths_equal_the_packed_code():
    """The one-call stylize and the style statistics work level by level; they equal packing."""
    from adain.ops.levels import depth_to_space, level_adain_mix, level_stats, space_to_depth
    from adain.ops.stats import adain_from_stats

    x = torch.rand(2, 5, 16, 24)
    m, s = level_stats(x, 4)
    ref_m, ref_s = calc_mean_std(space_to_depth(x, 4))
    torch.testing.assert_close(m, ref_m)
    torch.testing.assert_close(s, ref_s)
    tm, ts = torch.rand(1, 80, 1, 1), torch.rand(1, 80, 1, 1) + 0.5
    ref = depth_to_space(0.3 * adain_from_stats(space_to_depth(x, 4), tm, ts) + 0.7 * space_to_depth(x, 4), 4)
    torch.testing.assert_close(level_adain_mix(x, tm, ts, 4, 0.3), ref, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(level_adain_mix(x, tm, ts, 4, torch.tensor(0.3)), ref, rtol=1e-4, atol=1e-5)
    # the network: stylize == decode(AdaIN-mix(encode)), style_stats == the code's statistics
    from tests.helpers import skip_net

    net = skip_net()
    c, st = torch.rand(1, 3, 48, 40), torch.rand(1, 3, 32, 32)
    mean, std = net.style_stats(st)
    code_m, code_s = calc_mean_std(net.encode(st))
    torch.testing.assert_close(mean, code_m, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(std, code_s, rtol=1e-5, atol=1e-6)
    with torch.no_grad():
        code = net.encode(c)
        want = net.decode(0.6 * adain_from_stats(code, mean, std) + 0.4 * code)
        torch.testing.assert_close(net.stylize(c, mean, std, 0.6), want, rtol=1e-4, atol=1e-5)


def test_graphs_pack_with_native_operators(tmp_path):
    """The exported graphs move levels with SpaceToDepth/DepthToSpace (one kernel each), and the
    one-call stylize graph never concatenates or splits the packed code."""
    import onnx

    from adain.runtime.onnx_export import export_graph
    from tests.helpers import skip_net

    net = skip_net()
    ops = {}
    for g in ("encode", "decode", "stylize"):
        export_graph(net, g, tmp_path / f"{g}.onnx")
        ops[g] = {n.op_type for n in onnx.load(str(tmp_path / f"{g}.onnx")).graph.node}
    assert "SpaceToDepth" in ops["encode"] and "DepthToSpace" in ops["decode"]
    assert {"SpaceToDepth", "DepthToSpace"} <= ops["stylize"]
    assert "Split" not in ops["stylize"]


def test_multi_level_network_pads_odd_sizes_itself_or_says_why():
    from tests.helpers import skip_net

    net = skip_net()
    odd, style = torch.rand(1, 3, 37, 50), torch.rand(1, 3, 29, 41)
    with torch.no_grad():
        assert net(odd, style).shape == odd.shape  # padded to 40×56 inside, cropped back
        mean, std = net.style_stats(style)
    assert mean.shape == (1, 1920, 1, 1) and bool((std > 0).all())
    with pytest.raises(ValueError, match="multiples of 8"):
        net.encode(odd)


def test_pad_to_multiple_and_the_adain_affine_agree_between_numpy_and_torch():
    import numpy as np

    from adain.ops.mixing import adain_affine, adain_mix, pad_to_multiple
    from adain.ops.stats import adain_from_stats

    x = np.random.default_rng(0).random((1, 3, 13, 21), dtype=np.float32)
    for multiple in (8, 16):
        want = pad_to_multiple(x, multiple)
        got = pad_to_multiple(torch.from_numpy(x), multiple)
        assert want.shape[-2:] == ((16, 24) if multiple == 8 else (32, 32))
        np.testing.assert_array_equal(got.numpy(), want)
    tiny = np.ones((1, 3, 2, 2), np.float32)
    np.testing.assert_array_equal(pad_to_multiple(torch.from_numpy(tiny), 8).numpy(), pad_to_multiple(tiny, 8))
    code = torch.rand(2, 6, 5, 7)
    mean, std = torch.rand(1, 6, 1, 1), torch.rand(1, 6, 1, 1) + 0.5
    gain, shift = adain_affine(mean, std, *calc_mean_std(code), 0.4)
    want = 0.4 * adain_from_stats(code, mean, std) + 0.6 * code
    torch.testing.assert_close(code * gain + shift, want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(adain_mix(code.numpy(), mean.numpy(), std.numpy(), 0.4), want.numpy(), atol=1e-5)
