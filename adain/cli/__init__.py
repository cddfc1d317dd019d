"""The shells: one module per command (``adain-stylize``, ``adain-train``, ``adain-evaluate``,
``adain-export``, ``adain-studio``, ``python -m adain.weights``), thin over the library, sharing
:mod:`~adain.cli.common` (the entry wrapper for errors and signals, the model options)."""
