"""Pure maths of AdaIN, no state and no I/O, one module per concern: channel statistics and
adaptive instance normalisation (:mod:`~adain.ops.stats`), blends and the alpha mix on NumPy or
torch (:mod:`~adain.ops.mixing`), masked statistics (:mod:`~adain.ops.masks`), colour preservation
(:mod:`~adain.ops.color`), losses (:mod:`~adain.ops.losses`) and multi-level codes
(:mod:`~adain.ops.levels`).

The one namespace that gathers the tensor ops is :mod:`adain.functional` (``from adain import
functional as AF``); this package re-exports nothing, so each op has one public spelling.
"""
