"""adain-evaluate: metrics that must be zero are zero, reports have the right shapes."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import torch
from PIL import Image

from adain import functional as AF
from adain.cli.evaluate import evaluate_main
from adain.methods.evaluation import EvalEncoder, pair_metrics
from tests.helpers import canonical_vgg_state_dict, make_image


@pytest.fixture(scope="module")
def eval_weights(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("eval") / "vgg_normalised.pth"
    torch.save(canonical_vgg_state_dict(seed=7), p)
    return p


@pytest.fixture
def pairs(tmp_path) -> tuple[Path, Path]:
    for i in range(2):
        make_image(tmp_path / "c" / f"c{i}.jpg", 40, 32, i)
        make_image(tmp_path / "s" / f"s{i}.png", 36, 36, 10 + i)
    return tmp_path / "c", tmp_path / "s"


def test_metrics_zero_where_they_must_be(eval_weights):
    ev = EvalEncoder(eval_weights)
    x, y = torch.rand(3, 32, 32), torch.rand(3, 32, 32)
    fx, fy = ev.features(x), ev.features(y)
    c, s, g = pair_metrics(fx, fx, fx, ev.layers)
    assert c == pytest.approx(0, abs=1e-8) and s == pytest.approx(0, abs=1e-8) and g == pytest.approx(0, abs=1e-8)
    # output = style image: style losses vanish, content loss does not
    c, s, g = pair_metrics(fy, fx, fy, ev.layers)
    assert s == pytest.approx(0, abs=1e-8) and g == pytest.approx(0, abs=1e-8) and c > 0.1
    # output = content image: content loss vanishes, style losses do not
    c, s, g = pair_metrics(fx, fx, fy, ev.layers)
    assert c == pytest.approx(0, abs=1e-8) and s > 0 and g > 0


def test_content_loss_is_invariant_to_channel_affine_changes():
    """Channel-normalised content loss ignores per-channel gain/offset (that is the style's job)."""
    gen = torch.Generator().manual_seed(0)
    f = torch.randn(1, 8, 16, 16, generator=gen)
    g = {"relu1_1": f * (torch.rand(1, 8, 1, 1, generator=gen) * 3 + 0.5) + 1.0}
    c, _, _ = pair_metrics(g, {"relu1_1": f}, {"relu1_1": f}, ("relu1_1",))
    assert c < 5e-3  # only the eps in sqrt(var + eps) separates them


def test_gram_matrix():
    f = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    assert AF.gram_matrix(f).item() == pytest.approx((1 + 4 + 9 + 16) / 4)


def test_evaluate_cli_reports_and_grid(pairs, tmp_path, eval_weights, capsys):
    c, s = pairs
    out = tmp_path / "rep"
    code = evaluate_main(
        [
            "--content",
            str(c),
            "--style",
            str(s),
            "--reference",
            "style",
            "--eval-weights",
            str(eval_weights),
            "--size",
            "32",
            "--output",
            str(out),
            "--quiet",
            "--device",
            "cpu",
        ]
    )
    assert code == 0, capsys.readouterr().err
    rows = list(csv.DictReader(open(out / "reference_style.csv")))
    assert len(rows) == 2 * 2 + 1 and rows[-1]["content"] == "MEAN"
    assert all(float(r["style_loss"]) < 1e-6 for r in rows)
    md = (out / "reference_style.md").read_text()
    assert md.count("\n| c0.jpg") + md.count("\n| c1.jpg") == 4
    w, h = Image.open(out / "reference_style_grid.jpg").size
    cell = 128 + 2
    assert (w, h) == (3 * cell + 2, 3 * cell + 2)  # (1 + 2 styles) x (1 + 2 contents)


def test_evaluate_json_summary_names_the_reports(pairs, tmp_path, eval_weights, capsys):
    c, s = pairs
    out = tmp_path / "rep"
    argv = ["--content", str(c), "--style", str(s), "--reference", "style", "--eval-weights", str(eval_weights)]
    code = evaluate_main([*argv, "--size", "32", "--output", str(out), "--quiet", "--device", "cpu", "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    summary = json.loads(captured.out)
    assert summary["label"] == "reference_style" and summary["pairs"] == 4
    assert summary["style_loss"] < 1e-6 and set(summary["reports"]) == {"csv", "md", "grid"}
    assert all(Path(p).is_file() and Path(p).parent == out for p in summary["reports"].values())


def test_evaluate_with_a_checkpoint_model(pairs, tmp_path, eval_weights, canonical_files, capsys):
    """--checkpoint evaluates the checkpoint's decoder (not the pretrained one): two checkpoints
    with different decoders score differently, and the same one scores like --decoder-weights."""
    from adain import build_decoder, build_encoder, load_decoder_state_dict, load_encoder_state_dict
    from tests.helpers import canonical_decoder_state_dict

    c, s = pairs
    enc, dec = canonical_files
    encoder = build_encoder("vgg19_normalised")
    load_encoder_state_dict(encoder, canonical_vgg_state_dict())

    def checkpoint(path: Path, decoder_seed: int) -> Path:
        decoder = build_decoder(encoder)
        load_decoder_state_dict(decoder, canonical_decoder_state_dict(seed=decoder_seed))
        sd = {f"net.encoder.{k}": v for k, v in encoder.state_dict().items()}
        sd.update({f"net.decoder.{k}": v for k, v in decoder.state_dict().items()})
        torch.save(
            {
                "state_dict": sd,
                "adain": {
                    "encoder": "vgg19_normalised",
                    "encoder_weights": "random",
                    "encoder_sha256": None,
                    "stages": list(encoder.stages),
                },
            },
            path,
        )
        return path

    common = [
        "--content",
        str(c),
        "--style",
        str(s),
        "--eval-weights",
        str(eval_weights),
        "--eval-layers",
        "relu1_1,relu2_1",
        "--size",
        "32",
        "--quiet",
        "--device",
        "cpu",
    ]

    def score(extra: list[str], label: str) -> dict[str, float]:
        code = evaluate_main([*common, *extra, "--output", str(tmp_path / "r"), "--label", label])
        assert code == 0, capsys.readouterr().err
        rows = list(csv.DictReader(open(tmp_path / "r" / f"{label}.csv")))
        assert all(float(r["seconds"]) > 0 for r in rows[:-1])
        return {k: float(rows[-1][k]) for k in ("content_loss", "style_loss")}

    a = score(["--checkpoint", str(checkpoint(tmp_path / "a.ckpt", 1))], "a")
    b = score(["--checkpoint", str(checkpoint(tmp_path / "b.ckpt", 5))], "b")
    ref = score(["--model", "canonical", "--encoder-weights", str(enc), "--decoder-weights", str(dec)], "ref")
    assert a != b
    assert a == pytest.approx(ref, rel=1e-4)  # seed 1 is the decoder in canonical_files


def test_evaluate_bad_input(pairs, tmp_path, capsys):
    c, s = pairs
    code = evaluate_main(
        ["--content", str(c), "--style", str(s), "--reference", "content", "--output", str(tmp_path / "x")]
    )
    assert code == 2 and "--eval-weights" in capsys.readouterr().err
    bad = tmp_path / "bad.pth"
    torch.save({"0.weight": torch.zeros(1)}, bad)
    code = evaluate_main(
        [
            "--content",
            str(c),
            "--style",
            str(s),
            "--reference",
            "content",
            "--eval-weights",
            str(bad),
            "--output",
            str(tmp_path / "x"),
        ]
    )
    assert code == 2 and "bad.pth: wrong architecture" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


@pytest.mark.shared
def test_aux_heads_lift_small_features_towards_vgg(shared):
    from adain.io.images import load_image, resize_image
    from adain.nets.encoder import AuxHeads, build_encoder, load_encoder_state_dict

    sd = torch.load(shared / "weights/cd16x_wct/4SE.pth", map_location="cpu", weights_only=True)
    small = build_encoder("vgg19_small16x")
    load_encoder_state_dict(small, sd)
    heads = AuxHeads(sd)
    vgg = build_encoder("vgg19_normalised", "relu3_1")
    load_encoder_state_dict(
        vgg, torch.load(shared / "weights/wct_normalised_vgg/vgg_normalised_conv3_1.pth", weights_only=True)
    )
    x = resize_image(load_image(shared / "images/style/la_muse.jpg"), 128, crop=True)[None]
    lifted, ref = heads(small(x)), vgg(x)
    for stage in ("relu1_1", "relu2_1", "relu3_1"):
        assert lifted[stage].shape == ref[stage].shape
        rel = float(((lifted[stage] - ref[stage]) ** 2).mean() / (ref[stage] ** 2).mean())
        assert rel < 0.4, (stage, rel)


def test_color_distance_sees_colour_and_ignores_layout():
    from adain.methods.evaluation import color_distance, color_histogram

    g = torch.Generator().manual_seed(0)
    img = torch.rand(3, 32, 32, generator=g)
    shuffled = img.flatten(1)[:, torch.randperm(32 * 32, generator=g)].reshape(3, 32, 32)
    red = torch.zeros(3, 32, 32)
    red[0] = 0.9
    blue = torch.zeros(3, 32, 32)
    blue[2] = 0.9
    h = color_histogram(img)
    assert abs(float(h.sum()) - 1) < 1e-6
    assert color_distance(h, color_histogram(shuffled)) < 1e-6  # the same colours, anywhere
    assert color_distance(color_histogram(red), color_histogram(blue)) > 0.99  # disjoint colours
    grey = torch.full((3, 32, 32), 0.5)
    assert color_distance(color_histogram(red), color_histogram(grey)) > 0.99
    assert 0 < color_distance(h, color_histogram(red)) <= 1


def test_aux_heads_stages_in_lists_the_heads_a_file_has():
    from adain.nets.encoder import AuxHeads

    def head(cin: int, cout: int) -> dict[str, torch.Tensor]:
        return {"weight": torch.zeros(cout, cin, 1, 1), "bias": torch.zeros(cout)}

    sd = {f"conv{k}1_aux.{n}": v for k, (ci, co) in ((1, (16, 64)), (3, (64, 256))) for n, v in head(ci, co).items()}
    assert AuxHeads.stages_in({"model": sd, "epoch": 3}) == ("relu1_1", "relu3_1")  # the public files' wrapper
    assert AuxHeads.stages_in({"conv11.weight": torch.zeros(1)}) == ()


def test_the_commands_default_layers_are_the_evaluators():
    """``adain-evaluate`` names the default layers without importing torch (for --help): the same."""
    from adain.cli.evaluate import EVAL_LAYERS as FLAG_DEFAULT
    from adain.methods.evaluation import EVAL_LAYERS

    assert FLAG_DEFAULT == ",".join(EVAL_LAYERS)


def test_summary_record_is_the_mean_and_its_line_names_the_table(tmp_path):
    from adain.methods.evaluation import PairMetrics, evaluation_summary, format_summary

    rows = [PairMetrics("c", "s", 1.0, 0.2, 3.0, 0.1, 0.5), PairMetrics("c", "t", 3.0, 0.4, 5.0, 0.3, 1.5)]
    paths = {"csv": tmp_path / "m.csv", "md": tmp_path / "m.md", "grid": tmp_path / "m_grid.jpg"}
    record = evaluation_summary("m", rows, paths)
    assert record["pairs"] == 2 and record["content_loss"] == 2.0 and record["seconds"] == 1.0
    assert abs(record["style_loss"] - 0.3) < 1e-12 and record["reports"]["md"] == str(tmp_path / "m.md")
    json.dumps(record)  # plain values only
    line = format_summary(record)
    assert line.startswith("m: 2 pairs  content 2.000  style 0.300  gram 4.000  colour 0.200  1.000 s/image")
    assert line.endswith(f"-> {tmp_path / 'm.md'}")


def test_video_table_gives_each_clip_against_the_source_floor():
    from adain.methods.evaluation import video_table

    rows = [
        {"clip": "src.mp4", "warping_error": 0.002},
        {"clip": "a.mp4", "warping_error": 0.006, "style_loss": 1.25},
        {"clip": "b.mp4", "warping_error": 0.004, "style_loss": 0.5},
    ]
    lines = video_table(rows).splitlines()
    assert lines[0] == "| clip | warping error (×10⁻³) | × source | style loss |" and lines[1] == "|---|---|---|---|"
    assert lines[2] == "| src.mp4 (source: the floor) | 2.000 | 1.0 | – |"
    assert lines[3] == "| a.mp4 | 6.000 | 3.0 | 1.250 |" and lines[4] == "| b.mp4 | 4.000 | 2.0 | 0.500 |"
    plain = video_table([{k: v for k, v in r.items() if k != "style_loss"} for r in rows]).splitlines()
    assert plain[0] == "| clip | warping error (×10⁻³) | × source |" and plain[3] == "| a.mp4 | 6.000 | 3.0 |"


def test_write_reports_to_an_unwritable_place_is_one_error(tmp_path):
    from adain.errors import AdainError, OutputExistsError
    from adain.methods.evaluation import PairMetrics, write_reports

    rows, grid = [PairMetrics("c", "s", 1.0, 0.2, 3.0, 0.1, 0.5)], torch.rand(3, 8, 8)
    (tmp_path / "file").write_text("x")
    with pytest.raises(AdainError, match="cannot write the reports"):
        write_reports(rows, grid, tmp_path / "file" / "reports", "m")
    paths = write_reports(rows, grid, tmp_path / "ok", "m")
    assert all(p.is_file() for p in paths.values())
    with pytest.raises(OutputExistsError, match="m.csv: exists"):
        write_reports(rows, grid, tmp_path / "ok", "m")


def test_evaluate_video_refuses_missing_clips_before_reading(tmp_path):
    from adain.errors import ImageError, UsageError
    from adain.methods.evaluation import evaluate_video

    with pytest.raises(UsageError, match="at least one stylized clip"):
        evaluate_video(tmp_path / "src.mp4", [])
    with pytest.raises(ImageError, match="src.mp4: no such video"):
        evaluate_video(tmp_path / "src.mp4", [tmp_path / "out.mp4"])


def test_eval_weights_are_given_or_the_cached_default(tmp_path, monkeypatch):
    from adain.errors import WeightsError
    from adain.methods.evaluation import find_eval_weights

    monkeypatch.setenv("ADAIN_HOME", str(tmp_path))
    assert find_eval_weights("mine.pth") == "mine.pth"
    with pytest.raises(WeightsError, match=r"no evaluation VGG for the style loss \(or drop --style\): pass --eval"):
        find_eval_weights(None, "for the style loss (or drop --style)")
    with pytest.raises(WeightsError, match="^no evaluation VGG: pass --eval-weights PATH"):
        find_eval_weights()
    (tmp_path / "vgg_normalised.pth").write_bytes(b"")
    assert find_eval_weights() == tmp_path / "vgg_normalised.pth"
