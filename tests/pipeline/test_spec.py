"""The model options as one value: what ``auto`` stands for, and the pipeline a spec builds."""

from __future__ import annotations

import pytest

from adain.errors import WeightsError
from adain.pipeline.spec import ModelSpec
from adain.runtime.config import RunConfig

TORCH_FP32 = RunConfig(backend="torch", device="cpu", precision="fp32", verbose=False)


def test_auto_says_what_it_chose(tmp_path, monkeypatch):
    monkeypatch.setenv("ADAIN_HOME", str(tmp_path))  # nothing cached
    model, note = ModelSpec().chosen()
    assert model == "small16x-vgg" and "python -m adain.weights download canonical" in note
    assert ModelSpec(encoder_weights="vgg.pth").chosen() == ("canonical", None)  # files name the canonical model
    assert ModelSpec(model="small16x").chosen() == ("small16x", None)
    assert ModelSpec(checkpoint="last.ckpt").chosen() == ("last.ckpt", None)
    with pytest.raises(WeightsError, match="unknown model 'picasso'"):
        ModelSpec(model="picasso").chosen()


def test_a_spec_builds_the_pipeline_it_describes(tmp_path, monkeypatch):
    monkeypatch.setenv("ADAIN_HOME", str(tmp_path))
    pipe = ModelSpec(model="small16x", run=TORCH_FP32, max_pixels=12_345).build()
    rt = pipe.runtime
    assert (rt.backend, rt.precision, pipe.max_pixels) == ("torch", "fp32", 12_345) and "small16x" in rt.label
    with pytest.raises(WeightsError):
        ModelSpec(model="canonical", download=False, run=TORCH_FP32).build()  # not cached, no download


def test_the_commands_model_options_become_one_spec():
    from adain.cli.model_options import model_spec
    from adain.cli.stylize_options import build_parser

    argv = ["a.jpg", "b.jpg", "--model", "small16x", "--backend", "torch", "--no-download", "--no-channels-last", "-q"]
    spec = model_spec(build_parser().parse_args([*argv, "--max-pixels", "1000", "--custom-weights"]))
    assert (spec.model, spec.download, spec.custom_weights, spec.max_pixels) == ("small16x", False, True, 1000)
    assert spec.run == RunConfig(backend="torch", channels_last=False, verbose=False)
    assert model_spec(build_parser().parse_args(["a.jpg", "b.jpg"])) == ModelSpec()
