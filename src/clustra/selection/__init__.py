"""Choosing the number of clusters (k) or the density threshold (eps).

Submodules: ``knee`` (the one knee finder), ``eps`` (``suggest_eps``),
``gap`` (gap statistic), ``stability``, ``sweep`` (``choose_k``). They are
imported on first use, so ``import clustra.selection`` stays cheap.
"""
