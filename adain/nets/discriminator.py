"""PatchGAN discriminator for the optional adversarial texture loss (Isola et al., CVPR 2017).

A small fully convolutional critic scoring overlapping patches (≈ 70 px receptive field with
three stride-2 layers) as "from a painting" or "decoded": the adversarial term asks the decoder
for the painterly texture that channel statistics alone do not capture. Trained with the hinge
loss (:func:`adain.functional.hinge_d_loss` / :func:`adain.functional.hinge_g_loss`).
"""

from __future__ import annotations

from torch import Tensor, nn

__all__ = ["PatchDiscriminator"]


class PatchDiscriminator(nn.Module):
    """``(N, 3, H, W)`` images in [0, 1] → ``(N, 1, H/8 - 2, W/8 - 2)`` patch logits (for H, W ≥ 32).

    Args:
        width: channels of the first layer (doubled at each of the next two).
        layers: stride-2 convolutions (each halves the resolution).
    """

    def __init__(self, width: int = 32, layers: int = 3) -> None:
        super().__init__()
        if width < 1 or layers < 1:
            raise ValueError(f"width and layers must be >= 1, got {width} and {layers}")
        mods: list[nn.Module] = []
        cin = 3
        for i in range(layers):
            cout = width * 2**i
            mods += [nn.Conv2d(cin, cout, 4, stride=2, padding=1), nn.LeakyReLU(0.2)]
            cin = cout
        mods += [nn.Conv2d(cin, cin, 3, padding=1), nn.LeakyReLU(0.2), nn.Conv2d(cin, 1, 3)]
        self.net = nn.Sequential(*mods)

    def forward(self, x: Tensor) -> Tensor:  # type: ignore[override]
        return self.net(x * 2.0 - 1.0)
