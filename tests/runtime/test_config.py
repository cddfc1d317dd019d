"""How a model runs, as one value: checked when made, given as an object or as keyword arguments."""

from __future__ import annotations

import pytest

from adain.errors import UsageError
from adain.runtime.config import RunConfig


@pytest.mark.parametrize(
    ("fields", "words"), [({"backend": "tensorrt"}, "unknown backend"), ({"precision": "fp8"}, "unknown precision")]
)
def test_a_run_config_is_checked_when_made(fields, words):
    with pytest.raises(UsageError, match=words):
        RunConfig(**fields)


def test_make_changes_fields_and_refuses_unknown_names():
    run = RunConfig.make(RunConfig(backend="torch"), precision="fp32")
    assert (run.backend, run.precision, run.device) == ("torch", "fp32", "auto")
    with pytest.raises(UsageError, match="precison"):
        RunConfig.make(run, precison="fp32")


def test_a_torch_device_is_kept_as_its_name():
    import torch

    assert RunConfig(device=torch.device("cpu")).device == "cpu"  # type: ignore[arg-type]


def test_the_pipeline_takes_a_run_config_or_its_fields():
    from adain.pipeline.core import Pipeline

    by_object = Pipeline.from_pretrained("small16x", run=RunConfig(backend="torch", precision="fp32", verbose=False))
    by_fields = Pipeline.from_pretrained("small16x", backend="torch", precision="fp32", verbose=False)
    for pipe in (by_object, by_fields):
        assert (pipe.runtime.backend, pipe.runtime.precision) == ("torch", "fp32")
    with pytest.raises(UsageError, match="unknown backend"):
        Pipeline.from_pretrained("small16x", backend="tensorrt")
