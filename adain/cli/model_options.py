"""The model options every command shares (one definition, one set of defaults), the plain
values they become (:class:`ModelOptions`) and the pipeline they build."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from adain.cli.parser import model_ref
from adain.io.images import DEFAULT_MAX_PIXELS
from adain.runtime.base import BACKENDS
from adain.runtime.precision import PRECISIONS
from adain.weights.registry import choose_model

if TYPE_CHECKING:
    from adain.pipeline.core import Pipeline
    from adain.runtime.config import RunConfig

__all__ = ["ModelOptions", "add_model_options", "make_pipeline"]


def add_model_options(p: argparse.ArgumentParser) -> argparse._ArgumentGroup:
    """The model options shared by ``adain-stylize`` and ``adain-studio`` (read by :meth:`ModelOptions.from_args`)."""
    md = p.add_argument_group("model")
    md.add_argument(
        "--model",
        default="auto",
        type=model_ref,
        metavar="MODEL",
        help="auto (canonical when its files are cached, else the built-in small16x), canonical, small16x, "
        "a model folder (adain-export hub) or a Hugging Face Hub id owner/name[@revision]",
    )
    md.add_argument(
        "--backend",
        default="auto",
        choices=list(BACKENDS),
        help="where the networks run; auto = OpenVINO on CPU when installed, torch on GPUs",
    )
    md.add_argument("--checkpoint", metavar="CKPT", help="an adain-train checkpoint instead of --model")
    md.add_argument("--encoder-weights", metavar="PATH", help="encoder weights file (default: cache, then download)")
    md.add_argument("--decoder-weights", metavar="PATH", help="decoder weights file (default: cache, then download)")
    md.add_argument("--no-download", action="store_true", help="never download weights; fail if not cached")
    md.add_argument(
        "--custom-weights",
        action="store_true",
        help="an --encoder-weights file that intentionally differs from the registered one (no warning)",
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


@dataclass(frozen=True)
class ModelOptions:
    """The model and where it runs, as plain values (see :func:`add_model_options`)."""

    model: str = "auto"
    checkpoint: str | None = None
    encoder_weights: str | None = None
    decoder_weights: str | None = None
    download: bool = True
    custom_weights: bool = False
    backend: str = "auto"
    device: str = "auto"
    precision: str = "auto"
    compile: bool = False
    channels_last: bool = True
    max_pixels: int = DEFAULT_MAX_PIXELS
    quiet: bool = False
    calibration: str | None = None

    @classmethod
    def from_args(cls, ns: argparse.Namespace) -> ModelOptions:
        return cls(
            ns.model,
            ns.checkpoint,
            ns.encoder_weights,
            ns.decoder_weights,
            not ns.no_download,
            ns.custom_weights,
            ns.backend,
            ns.device,
            ns.precision,
            ns.compile,
            not ns.no_channels_last,
            getattr(ns, "max_pixels", DEFAULT_MAX_PIXELS),
            bool(ns.quiet),
            getattr(ns, "calibration", None),
        )

    def replace(self, **changes: Any) -> ModelOptions:
        return dataclasses.replace(self, **changes)

    @property
    def run(self) -> RunConfig:
        """How the model runs (:class:`~adain.runtime.config.RunConfig`)."""
        from adain.runtime.config import RunConfig

        return RunConfig(
            self.backend,
            self.device,
            self.precision,
            self.channels_last,
            self.compile,
            self.calibration,
            not self.quiet,
        )


def make_pipeline(opts: ModelOptions, prog: str) -> Pipeline:
    """The pipeline for the model options (prints which model ``--model auto`` chose)."""
    from adain.pipeline.core import Pipeline  # not for --help

    kw = {"run": opts.run, "max_pixels": opts.max_pixels}
    if opts.checkpoint:
        return Pipeline.from_checkpoint(opts.checkpoint, opts.encoder_weights, **kw)
    model, note = choose_model(opts.model, bool(opts.encoder_weights or opts.decoder_weights))
    if note and not opts.quiet:
        print(f"{prog}: {note}", file=sys.stderr)
    return Pipeline.from_pretrained(
        model,
        opts.encoder_weights,
        opts.decoder_weights,
        download=opts.download,
        weights_check="off" if opts.custom_weights else "warn",
        **kw,
    )
