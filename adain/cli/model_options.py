"""The model options every command shares (one definition, one set of defaults), the value they
become (:class:`~adain.pipeline.spec.ModelSpec`) and the pipeline it builds."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from adain.cli.parser import fields_from, model_ref
from adain.pipeline.spec import ModelSpec
from adain.runtime.base import BACKENDS
from adain.runtime.config import RunConfig
from adain.runtime.precision import PRECISIONS

if TYPE_CHECKING:
    from adain.pipeline.core import Pipeline

__all__ = ["add_model_options", "make_pipeline", "model_spec"]


def add_model_options(p: argparse.ArgumentParser, run: bool = True) -> argparse._ArgumentGroup:
    """The model options every command shares (read by :func:`model_spec`); ``run=False``:
    only the model and its files (``adain-export``, which runs nothing)."""
    md = p.add_argument_group("model")
    md.add_argument(
        "--model",
        default="auto",
        type=model_ref,
        metavar="MODEL",
        help="auto (canonical when its files are cached, else the built-in small16x), canonical, small16x, "
        "a model folder (adain-export hub) or a Hugging Face Hub id owner/name[@revision]",
    )
    md.add_argument("--checkpoint", metavar="CKPT", help="an adain-train checkpoint instead of --model")
    md.add_argument("--encoder-weights", metavar="PATH", help="encoder weights file (default: cache, then download)")
    md.add_argument("--decoder-weights", metavar="PATH", help="decoder weights file (default: cache, then download)")
    md.add_argument(
        "--custom-weights",
        action="store_true",
        help="an --encoder-weights file that intentionally differs from the registered one (no warning)",
    )
    if not run:
        return md
    md.add_argument("--no-download", action="store_true", help="never download weights; fail if not cached")
    md.add_argument(
        "--backend",
        default="auto",
        choices=list(BACKENDS),
        help="where the networks run; auto = OpenVINO on CPU when installed, torch on GPUs",
    )
    md.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    md.add_argument(
        "--precision",
        default="auto",
        choices=list(PRECISIONS),
        help="precision of the convolutions (statistics and AdaIN stay fp32); auto = bf16 on "
        "CUDA GPUs with bf16 and on CPUs with AMX/AVX512-BF16, else fp32; int8 (OpenVINO): quantized "
        "with NNCF behind a quality gate, fp32 if it fails; auto then picks int8 where it passed",
    )
    md.add_argument(
        "--calibration",
        metavar="DIR",
        help="images to calibrate --precision int8 on (default: the package's synthetic set)",
    )
    md.add_argument("--compile", action="store_true", help="torch.compile the networks (pays off on long runs)")
    md.add_argument("--no-channels-last", action="store_true", help="keep NCHW memory format")
    return md


def model_spec(ns: argparse.Namespace) -> ModelSpec:
    """The parsed model options (:func:`add_model_options`) as one value."""
    run = fields_from(RunConfig, ns, channels_last=not ns.no_channels_last, verbose=not ns.quiet)
    return fields_from(ModelSpec, ns, download=not ns.no_download, run=run)


def make_pipeline(spec: ModelSpec, prog: str) -> Pipeline:
    """The pipeline of ``spec``, saying on stderr which model ``--model auto`` chose (unless quiet)."""
    note = spec.chosen()[1]
    if note and spec.run.verbose:
        print(f"{prog}: {note}", file=sys.stderr)
    return spec.build()
