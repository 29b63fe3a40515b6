"""The automatic choice among candidate partitions (algorithm, k and settings).

:func:`auto_cluster` builds candidates from shared work (one spanning tree for
Genie and the separation criterion, HDBSCAN, one K-Means sweep) on a sample,
calibrates two criteria against structureless reference data, and chooses
(see :mod:`clustra.auto._rule`); "no structure" is one of its answers.
"""

from __future__ import annotations

from clustra._lazy import lazy_exports

_NAMES = {
    "auto_cluster": "._api",
    "AutoResult": "._result",
}

__all__ = sorted(_NAMES)
__getattr__, __dir__ = lazy_exports(__name__, _NAMES)
