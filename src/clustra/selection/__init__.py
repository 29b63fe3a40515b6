"""Choosing the number of clusters (k) or the density threshold (eps).

Submodules: ``knee`` (the one knee finder), ``eps`` (``suggest_eps``),
``gap`` (gap statistic), ``stability``, ``sweep`` (``choose_k``). They are
imported on first use, so ``import clustra.selection`` stays cheap.
"""

from __future__ import annotations

from clustra._lazy import by_module, lazy_exports

_NAMES = by_module({
    ".knee": ("find_knee", "Knee"),
    ".eps": ("suggest_eps",),
    ".gap": ("gap_statistic", "GapResult"),
    ".stability": ("stability", "StabilityResult"),
    ".sweep": ("choose_k", "KSelection"),
})

__all__ = sorted(_NAMES)
__getattr__, __dir__ = lazy_exports(__name__, _NAMES)
