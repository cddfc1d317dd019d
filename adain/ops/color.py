"""Colour preservation (paper Sec. 7.2): CORAL-style colour transfer of the style to the content, and
luminance-only transfer in YCbCr.
"""

from __future__ import annotations

import torch
from torch import Tensor

from adain.errors import UsageError

__all__ = ["coral", "luminance_transfer", "rgb_to_ycbcr", "ycbcr_to_rgb"]


# ----------------------------------------------------------------------------- colour
def _rgb_stats(img: Tensor) -> tuple[Tensor, Tensor]:
    x = img.float().reshape(3, -1)
    mean = x.mean(dim=1, keepdim=True)
    xc = x - mean
    return mean, xc @ xc.T / x.shape[1]


def _sym_pow(mat: Tensor, power: float, eps: float = 1e-5) -> Tensor:
    evals, evecs = torch.linalg.eigh(mat.double())
    return (evecs @ torch.diag(evals.clamp_min(eps) ** power) @ evecs.T).float()


def coral(source: Tensor, target: Tensor) -> Tensor:
    """CORAL colour transfer: ``source`` pixels re-coloured to ``target``'s mean and covariance.

    The paper's colour preservation (Sec. 7): the *style* image is matched to the *content*'s
    colour statistics before stylizing. Result is not clamped (clamping would change the stats).

    Shape:
        source: ``(3, H, W)``; target: ``(3, H', W')``; returns ``(3, H, W)``.
    """
    if source.dim() != 3 or source.shape[0] != 3 or target.dim() != 3 or target.shape[0] != 3:
        raise UsageError(f"coral expects (3, H, W) images, got {tuple(source.shape)} and {tuple(target.shape)}")
    ms, cs = _rgb_stats(source)
    mt, ct = _rgb_stats(target)
    transform = _sym_pow(ct, 0.5) @ _sym_pow(cs, -0.5)
    x = source.float().reshape(3, -1)
    return (transform @ (x - ms) + mt).reshape(source.shape)


_RGB2YCBCR = torch.tensor([[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]])


def rgb_to_ycbcr(img: Tensor) -> Tensor:
    """Full-range BT.601 YCbCr (Cb, Cr centred on 0.5). Shape ``(..., 3, H, W)``."""
    m = _RGB2YCBCR.to(img.device, torch.float32)
    out = torch.einsum("ij,...jhw->...ihw", m, img.float())
    offset = torch.tensor([0.0, 0.5, 0.5], device=img.device).view(3, 1, 1)
    return out + offset


def ycbcr_to_rgb(img: Tensor) -> Tensor:
    """Inverse of :func:`rgb_to_ycbcr`."""
    m = torch.linalg.inv(_RGB2YCBCR.double()).float().to(img.device)
    offset = torch.tensor([0.0, 0.5, 0.5], device=img.device).view(3, 1, 1)
    return torch.einsum("ij,...jhw->...ihw", m, img.float() - offset)


def luminance_transfer(stylized: Tensor, content: Tensor) -> Tensor:
    """Keep ``stylized``'s luminance (Y) and ``content``'s chroma (Cb, Cr). Same shapes."""
    if stylized.shape != content.shape:
        raise UsageError(f"shapes differ: {tuple(stylized.shape)} vs {tuple(content.shape)}")
    y = rgb_to_ycbcr(stylized)[..., :1, :, :]
    cbcr = rgb_to_ycbcr(content)[..., 1:, :, :]
    return ycbcr_to_rgb(torch.cat([y, cbcr], dim=-3))
