"""ONNX graphs of an AdaIN model (see :mod:`adain.runtime.graph_backend` for the table of graphs),
exported from the torch network with dynamic batch, height and width.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from adain.errors import UsageError

if TYPE_CHECKING:
    from torch import nn

    from adain.nets.network import AdaINNet

__all__ = ["GRAPHS", "GRAPH_FORMAT", "export_graph", "export_onnx"]


#: the graphs of a model (see the module docstring)
GRAPHS = ("stats", "stylize", "encode", "decode")


#: bump when the graphs' definition changes (invalidates cached conversions)
GRAPH_FORMAT = 1


_OPSET = 17

#: torch.onnx.export keeps global state: one export at a time in a process (the studio converts
#: to int8 in a background thread while serving)
_EXPORT_LOCK = threading.Lock()


# ----------------------------------------------------------------------------- export (torch)
def _graph_module(net: AdaINNet, name: str) -> tuple[nn.Module, tuple[Any, ...], list[str], list[str], dict]:
    import torch

    class Stats(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = net

        def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            return self.net.style_stats(image)

    class Stylize(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = net

        def forward(
            self, image: torch.Tensor, mean: torch.Tensor, std: torch.Tensor, alpha: torch.Tensor
        ) -> torch.Tensor:
            # alpha is a graph input, so the mix is always written out (alpha=1 gives the target)
            return self.net.stylize(image, mean, std, alpha)

    class Encode(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = net

        def forward(self, image: torch.Tensor) -> torch.Tensor:
            return self.net.encode(image)

    class Decode(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = net

        def forward(self, code: torch.Tensor) -> torch.Tensor:
            return self.net.decoder(code)

    c = net.decoder.in_channels
    img = torch.rand(1, 3, 64, 64)
    image_axes = {0: "batch", 2: "height", 3: "width"}
    stat_axes = {0: "batch"}
    if name == "stats":
        return Stats(), (img,), ["image"], ["mean", "std"], {"image": image_axes, "mean": stat_axes, "std": stat_axes}
    if name == "stylize":
        args = (img, torch.rand(1, c, 1, 1), torch.rand(1, c, 1, 1) + 0.5, torch.tensor(0.5))
        return (
            Stylize(),
            args,
            ["image", "mean", "std", "alpha"],
            ["output"],
            {"image": image_axes, "mean": stat_axes, "std": stat_axes, "output": image_axes},
        )
    if name == "encode":
        return Encode(), (img,), ["image"], ["code"], {"image": image_axes, "code": image_axes}
    if name == "decode":
        return Decode(), (torch.rand(1, c, 8, 8),), ["code"], ["output"], {"code": image_axes, "output": image_axes}
    raise UsageError(f"unknown graph {name!r}; choose from {', '.join(GRAPHS)}")


def export_graph(net: AdaINNet, name: str, path: str | os.PathLike[str]) -> Path:
    """Export one graph of ``net`` (fp32, dynamic batch/height/width) to an ONNX file, atomically."""
    import warnings

    import torch

    from adain.io.atomic import atomic_path

    module, args, inputs, outputs, axes = _graph_module(net.float().eval(), name)
    with _EXPORT_LOCK, atomic_path(path, overwrite=True) as tmp, warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module,
            args,
            str(tmp),
            input_names=inputs,
            output_names=outputs,
            dynamic_axes=axes,
            opset_version=_OPSET,
            dynamo=False,
            do_constant_folding=True,
        )
    return Path(path)


def export_onnx(net: AdaINNet, directory: str | os.PathLike[str], graphs: tuple[str, ...] = GRAPHS) -> list[Path]:
    """Export ``graphs`` of ``net`` as ``<directory>/<graph>.onnx``; returns the paths."""
    d = Path(directory)
    created = not d.exists()
    try:
        return [export_graph(net, g, d / f"{g}.onnx") for g in graphs]
    except BaseException:
        if created:  # leave no empty folder behind (graphs already written stay, complete)
            try:
                d.rmdir()
            except OSError:
                pass
        raise
