"""Thin shim: ``python train.py fit --config configs/adain.yaml`` is ``adain-train …`` (see ``adain/cli/train.py``)."""

from adain.cli.train import main

if __name__ == "__main__":
    main()
