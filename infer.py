"""Thin shim: ``python infer.py …`` is ``adain-stylize …`` (see ``adain/cli/stylize.py``)."""

from adain.cli.stylize import main

if __name__ == "__main__":
    main()
