"""One model folder format, the way the ecosystem shares models (Hugging Face Hub layout):

* ``config.json`` — everything needed to rebuild the network: the encoder's name and last stage,
  the decoder's widths, and where the encoder's weights come from (a registered file, by name and
  sha256, or the folder itself);
* ``model.safetensors`` — the decoder (``decoder.*``) and, when it is not a registered one, the
  encoder (``encoder.*``): no pickle, memory-mapped;
* ``README.md`` — the model card (training configuration, evaluation, a sample picture).

:func:`write_model_folder` writes one from a network; :func:`load_model_folder` rebuilds the
network (every key and shape checked, one line for each kind of mistake);
:func:`adain.weights.source.folder_source` is the folder as a model source, so the graph runtimes
convert it once and cache the conversion by the files' sha256.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from adain.errors import ArchitectureError, WeightsError
from adain.io.atomic import atomic_write
from adain.weights.registry import MODEL_CONFIG

if TYPE_CHECKING:
    import torch

    from adain.nets.network import AdaINNet

__all__ = [
    "CONFIG",
    "FORMAT",
    "WEIGHTS_FILE",
    "is_model_folder",
    "load_model_folder",
    "weight_files",
    "model_card",
    "read_config",
    "write_model_folder",
]

FORMAT = "adain-model"
FORMAT_VERSION = 1
CONFIG = MODEL_CONFIG
WEIGHTS_FILE = "model.safetensors"
CARD = "README.md"


def is_model_folder(path: str | os.PathLike[str]) -> bool:
    """A folder that holds a ``config.json`` (whether it is a valid model is :func:`read_config`'s to say)."""
    p = Path(path).expanduser()
    return p.is_dir() and (p / CONFIG).is_file()


def read_config(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """The checked ``config.json`` of a model folder.

    Raises:
        WeightsError: no folder, no ``config.json``, unreadable JSON, another format, or an
            encoder this package does not build.
    """
    from adain.nets.names import ENCODER_NAMES, STAGES

    d = Path(folder).expanduser()
    if not d.is_dir():
        raise WeightsError(f"{d}: no such model folder")
    path = d / CONFIG
    if not path.is_file():
        raise WeightsError(f"{d}: not a model folder (no {CONFIG}; write one with `adain-export hub`)")
    try:
        config = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise WeightsError(f"{path}: not readable JSON ({e})") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise WeightsError(f'{path}: not an adain model config (expected "format": "{FORMAT}")')
    if not isinstance(config.get("version"), int) or config["version"] > FORMAT_VERSION:
        raise WeightsError(f"{path}: format version {config.get('version')!r}; this adain reads up to {FORMAT_VERSION}")
    if config.get("encoder") not in ENCODER_NAMES:
        raise WeightsError(
            f"{path}: unknown architecture: encoder {config.get('encoder')!r} (known: {', '.join(ENCODER_NAMES)})"
        )
    if config.get("last_stage", "relu4_1") not in STAGES:
        raise WeightsError(f"{path}: unknown last_stage {config.get('last_stage')!r} (known: {', '.join(STAGES)})")
    widths = config.get("decoder_widths")
    if widths is not None and not (
        isinstance(widths, list) and widths and all(type(w) is int and 0 < w <= 4096 for w in widths)
    ):
        raise WeightsError(f"{path}: decoder_widths must be a list of channel counts (1-4096) or null, got {widths!r}")
    skips = config.get("decoder_skips", [])
    if not (isinstance(skips, list) and all(isinstance(k, str) and k in STAGES for k in skips)):
        raise WeightsError(f"{path}: decoder_skips must be a list of stages ({', '.join(STAGES)}), got {skips!r}")
    enc = config.get("encoder_weights")
    if not (enc == "folder" or (isinstance(enc, dict) and isinstance(enc.get("registry"), str))):
        raise WeightsError(f'{path}: encoder_weights must be "folder" or {{"registry": NAME, "sha256": …}}')
    return config


def _tensors(folder: Path) -> dict[str, torch.Tensor]:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    path = folder / WEIGHTS_FILE
    if not path.is_file():
        raise WeightsError(f"{folder}: model folder without {WEIGHTS_FILE}")
    try:
        return load_file(path)
    except (SafetensorError, OSError, ValueError) as e:
        raise WeightsError(f"{path}: not a readable safetensors file ({str(e).splitlines()[0][:160]})") from None


def registry_encoder_file(config: Mapping[str, Any], folder: Path, download: bool) -> Path:
    from adain.weights.download import file_digest, registered_digests, resolve_weights
    from adain.weights.registry import WEIGHTS

    ref = config["encoder_weights"]
    key = ref["registry"]
    if key not in WEIGHTS:
        raise WeightsError(f"{folder / CONFIG}: encoder weights {key!r} are not registered (known: {sorted(WEIGHTS)})")
    path = resolve_weights(key, download=download)
    digest, known = file_digest(path), registered_digests(WEIGHTS[key])
    if ref.get("sha256") and digest != ref["sha256"] and not {digest, ref["sha256"]} <= known:
        raise WeightsError(f"{path}: sha256 differs from the one {folder / CONFIG} records for {key!r}")
    return path


def weight_files(
    folder: str | os.PathLike[str], download: bool = True, config: Mapping[str, Any] | None = None
) -> dict[str, Path]:
    """The weight files of a model folder by role: ``model`` (its ``model.safetensors``) and, when
    its config names a registered encoder, ``encoder`` (that file, resolved and checked).
    ``config``: the folder's :func:`read_config`, when the caller has read it already."""
    d = Path(folder).expanduser()
    config = read_config(d) if config is None else config
    files = {"model": d / WEIGHTS_FILE}
    if config["encoder_weights"] != "folder":
        files["encoder"] = registry_encoder_file(config, d, download)
    return files


def load_model_folder(folder: str | os.PathLike[str], download: bool = True) -> AdaINNet:
    """Rebuild the network of a model folder (CPU, eval mode).

    Raises:
        WeightsError: see :func:`read_config`; a missing or unreadable ``model.safetensors``; keys
            or shapes that do not fit the architecture (:class:`~adain.errors.ArchitectureError`).
    """
    from adain.nets.decoder import load_decoder
    from adain.nets.encoder import build_encoder, load_encoder_state_dict
    from adain.nets.network import AdaINNet
    from adain.weights.files import load_encoder

    d = Path(folder).expanduser()
    config = read_config(d)
    tensors = _tensors(d)
    source = str(d / WEIGHTS_FILE)
    unknown = sorted(k for k in tensors if not k.startswith(("decoder.", "encoder.")))
    if unknown:
        raise ArchitectureError(f"{source}: wrong architecture: unexpected key {unknown[0]!r}")
    dec = {k.removeprefix("decoder."): v for k, v in tensors.items() if k.startswith("decoder.")}
    enc = {k.removeprefix("encoder."): v for k, v in tensors.items() if k.startswith("encoder.")}
    last = config.get("last_stage", "relu4_1")
    if config["encoder_weights"] == "folder":
        encoder = build_encoder(config["encoder"], last)
        load_encoder_state_dict(encoder, enc, source)
        encoder.weights_path = source  # where its distillation heads (if any) are found
    else:
        if enc:
            raise ArchitectureError(f"{source}: holds encoder weights but {CONFIG} names a registered encoder")
        encoder, _ = load_encoder(config["encoder"], registry_encoder_file(config, d, download), last_stage=last)
    if not dec:
        raise ArchitectureError(f"{source}: wrong architecture: no decoder.* tensors")
    decoder = load_decoder(encoder, dec, source)
    widths = config.get("decoder_widths")
    if widths is not None and list(decoder.widths) != list(widths):
        raise ArchitectureError(f"{source}: decoder widths {list(decoder.widths)} differ from {CONFIG}'s {widths}")
    skips = [encoder.stages[b] for b in decoder.skip_widths]
    if skips != list(config.get("decoder_skips", [])):
        raise ArchitectureError(
            f"{source}: decoder skips {skips} differ from {CONFIG}'s {config.get('decoder_skips', [])}"
        )
    return AdaINNet(encoder, decoder.float()).eval()


def write_model_folder(
    net: AdaINNet,
    folder: str | os.PathLike[str],
    name: str,
    card: str,
    encoder_ref: dict[str, str] | None,
    extra: Mapping[str, Any] | None = None,
    overwrite: bool = False,
    half: bool = False,
    encoder_extra: Mapping[str, torch.Tensor] | None = None,
) -> list[Path]:
    """Write ``net`` as a model folder (each file atomically); returns the files.

    Args:
        encoder_ref: ``{"registry": key, "sha256": digest}`` when the encoder is a registered file
            (then only the decoder is stored), ``None`` to store the encoder in the folder too.
        card: the model card (``README.md``).
        extra: more fields for ``config.json`` (``training``: the run's configuration, …).
        half: store the decoder in fp16 (half the size; it runs in fp32 after loading).
        encoder_extra: more tensors of the encoder's file to store beside it (its distillation
            heads, which ``--refine`` and Gatys measure with), when the encoder is stored.
    """
    import torch
    from safetensors.torch import save

    from adain.io.atomic import ensure_new

    d = Path(folder).expanduser()
    for f in (WEIGHTS_FILE, CONFIG, CARD):  # all or nothing
        ensure_new(d / f, overwrite)
    dtype = torch.float16 if half else torch.float32
    tensors = {f"decoder.{k}": v.detach().to(dtype).cpu().contiguous() for k, v in net.decoder.state_dict().items()}
    if encoder_ref is None:
        enc = {**net.encoder.state_dict(), **dict(encoder_extra or {})}
        tensors |= {f"encoder.{k}": v.detach().float().cpu().contiguous() for k, v in enc.items()}
    config = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "name": name,
        "encoder": net.encoder.name,
        "last_stage": net.encoder.last_stage,
        "decoder_widths": list(net.decoder.widths),
        **({"decoder_skips": list(net.code_stages[:-1])} if net.decoder.skip_widths else {}),
        "encoder_weights": "folder" if encoder_ref is None else dict(encoder_ref),
        **dict(extra or {}),
    }
    blob = save(tensors, metadata={"format": "pt", "adain": FORMAT})
    files = [
        atomic_write(d / WEIGHTS_FILE, lambda f: f.write(blob), overwrite),
        atomic_write(d / CONFIG, lambda f: f.write((json.dumps(config, indent=2) + "\n").encode()), overwrite),
        atomic_write(d / CARD, lambda f: f.write(card.encode()), overwrite),
    ]
    return files


def model_card(
    name: str,
    config: Mapping[str, Any],
    training: Mapping[str, Any] | None = None,
    evaluation: str | None = None,
    sample: str | None = None,
    hub_id: str | None = None,
) -> str:
    """The ``README.md`` of a model folder: Hub metadata, what the model is, how to use it, the
    training configuration, an ``adain-evaluate`` report and a sample picture (when given)."""
    ref = hub_id or f"path/to/{name}"
    enc = config["encoder_weights"]
    enc_line = "stored in `model.safetensors`" if enc == "folder" else f"the registered `{enc['registry']}` file"
    lines = [
        "---",
        "library_name: adain",
        "license: mit",
        "pipeline_tag: image-to-image",
        "tags:",
        "- style-transfer",
        "- adain",
        "- arbitrary-style-transfer",
        "---",
        "",
        f"# {name}",
        "",
        "An arbitrary style transfer model (AdaIN: Huang & Belongie, *Arbitrary Style Transfer in Real-time "
        "with Adaptive Instance Normalization*, ICCV 2017) for the "
        "`adain` package: any content, any style, one forward pass.",
        "",
        "| | |",
        "|---|---|",
        f"| encoder | `{config['encoder']}` up to `{config.get('last_stage', 'relu4_1')}`, {enc_line} |",
        f"| decoder widths | {', '.join(str(w) for w in config.get('decoder_widths', []))} |",
        *(
            [f"| multi-level code | AdaIN also at {', '.join(config['decoder_skips'])} (skip connections) |"]
            if config.get("decoder_skips")
            else []
        ),
        "| files | `config.json` (architecture), `model.safetensors` (weights, no pickle) |",
        "",
        "## Use",
        "",
        "```bash",
        f"adain-stylize --content photo.jpg --style painting.jpg --model {ref}",
        "```",
        "",
        "```python",
        "from adain import Stylizer",
        "",
        f'stylizer = Stylizer.from_pretrained("{ref}")',
        'out = stylizer.stylize("photo.jpg", "painting.jpg", alpha=0.8)',
        "```",
        "",
    ]
    if sample:
        lines += ["## Sample", "", f"![content | style | output]({sample})", ""]
    if evaluation:
        lines += ["## Evaluation", "", evaluation.strip(), ""]
    if training:
        lines += ["## Training", "", "```json", json.dumps(training, indent=2, sort_keys=True, default=str), "```", ""]
    return "\n".join(lines)
