"""Thin shim: ``python train.py fit --config configs/adain.yaml`` is ``adain-train …`` (see ``adain/train_cli.py``)."""

from adain.train_cli import main

if __name__ == "__main__":
    main()
