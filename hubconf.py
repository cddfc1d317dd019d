"""torch.hub entry points: ``torch.hub.load("<owner>/<repo>", "stylizer")`` (or ``source="local"``
with a clone) returns a ready :class:`adain.Stylizer`.

    import torch
    stylizer = torch.hub.load("path/to/adain", "stylizer", source="local")           # auto model
    stylizer = torch.hub.load("path/to/adain", "stylizer", "owner/name", source="local")  # a Hub model
    stylizer = torch.hub.load("path/to/adain", "small16x", source="local", device="cpu")
    out = stylizer.stylize("photo.jpg", "painting.jpg", alpha=0.8)                    # (3, H, W) in [0, 1]
"""

from __future__ import annotations

from typing import Any

dependencies = ["torch", "torchvision", "numpy", "PIL", "safetensors"]


def stylizer(name: str = "auto", **kwargs: Any) -> Any:
    """A :class:`adain.Stylizer` for ``name``: ``auto``, ``small16x``, ``canonical``, a model folder
    or a Hugging Face Hub id (``owner/name[@revision]``); ``kwargs`` go to ``Stylizer.from_pretrained``
    (``device``, ``precision``, ``backend``, …)."""
    from adain import Stylizer

    return Stylizer.from_pretrained(name, **kwargs)


def small16x(**kwargs: Any) -> Any:
    """The built-in model (works offline)."""
    return stylizer("small16x", **kwargs)


def small16x_skip(**kwargs: Any) -> Any:
    """The built-in multi-level model (AdaIN at relu1_1…relu4_1; works offline)."""
    return stylizer("small16x-skip", **kwargs)


def canonical(**kwargs: Any) -> Any:
    """VGG-19 + the AdaIN authors' decoder (downloaded once, 94 MB, sha256-checked)."""
    return stylizer("canonical", **kwargs)
