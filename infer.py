"""Thin shim: ``python infer.py …`` is ``adain-stylize …`` (see ``adain/cli.py``)."""

from adain.cli import main

if __name__ == "__main__":
    main()
