"""Choosing the number of clusters (k) or the density threshold (eps).

Submodules: ``knee`` (the one knee finder), ``eps`` (``suggest_eps``),
``gap`` (gap statistic), ``stability``, ``sweep`` (``choose_k``). They are
imported on first use, so ``import clustra.selection`` stays cheap.
"""

from __future__ import annotations

from clustra._lazy import lazy_exports

_NAMES = {
    "find_knee": ".knee",
    "Knee": ".knee",
    "suggest_eps": ".eps",
    "gap_statistic": ".gap",
    "GapResult": ".gap",
    "stability": ".stability",
    "StabilityResult": ".stability",
    "choose_k": ".sweep",
    "KSelection": ".sweep",
}

__all__ = sorted(_NAMES)
__getattr__, __dir__ = lazy_exports(__name__, _NAMES)
