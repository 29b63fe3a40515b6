"""Say when clustra's kernels compile: once per family and dtype, on first use only.

numba compiles a kernel the first time it meets a new signature and no cached
copy is on disk (it fires its ``numba:compile`` event only then, never for a
cache hit). A listener on that event logs, on logger ``"clustra"`` at INFO
level, one line per kernel family and dtype, e.g. "compiling clustra's
K-Means kernels for float64: first use only", so that a first call that takes
seconds does not look hung. The ``clustra`` command shows these lines;
``clustra warmup`` compiles everything ahead of time.
"""

from __future__ import annotations

import logging
import threading

from numba.core import event, types

logger = logging.getLogger("clustra")

# Kernel module (without the package prefix) by its first letters -> family name.
_FAMILIES = (
    ("kmeans", "K-Means"),
    ("bisecting", "K-Means"),
    ("centroids", "K-Means"),
    ("dbscan", "DBSCAN"),
    ("grid", "neighbourhood"),
    ("kdtree", "neighbourhood"),
    ("silhouette", "silhouette"),
    ("distances", "distance"),
    ("linkage", "linkage"),
    ("condense", "hierarchy"),
    ("genie", "Genie"),
    ("mst", "spanning-tree"),
    ("prim", "spanning-tree"),
    ("spanning", "spanning-tree"),
    ("core_distances", "spanning-tree"),
    ("unionfind", "hierarchy"),
)
_PREFIX = "clustra._kernels."


def family_of(module: str) -> str | None:
    """The family name a kernel module belongs to, or None outside clustra's kernels."""
    if not module.startswith(_PREFIX):
        return None
    name = module[len(_PREFIX):]
    for start, family in _FAMILIES:
        if name.startswith(start):
            return family
    return "numeric"


def dtype_of(args) -> str:
    """The dtype of the first floating-point array among numba argument types ('' if none)."""
    for arg in args:
        if isinstance(arg, types.Array) and isinstance(arg.dtype, types.Float):
            return str(arg.dtype)
    return ""


class _FirstCompile(event.Listener):
    """Logs the first compilation of each (family, dtype); nested compilations say nothing."""

    def __init__(self):
        self.said: set[tuple[str, str]] = set()
        self.lock = threading.Lock()

    def on_start(self, ev):
        family = family_of(getattr(ev.data["dispatcher"].py_func, "__module__", "") or "")
        if family is None:
            return
        key = (family, dtype_of(ev.data["args"]))
        with self.lock:
            # A kernel without float arrays (labels only) adds nothing to a
            # note already given for its family.
            if key in self.said or (not key[1] and any(f == family for f, _ in self.said)):
                return
            self.said.add(key)
        for_dtype = f" for {key[1]}" if key[1] else ""
        logger.info("compiling clustra's %s kernels%s: first use only "
                    "('clustra warmup' compiles them ahead of time)", family, for_dtype)

    def on_end(self, ev):
        pass


_listener = None


def install() -> None:
    """Register the listener once per process (before any kernel compiles)."""
    global _listener
    if _listener is None:
        _listener = _FirstCompile()
        event.register("numba:compile", _listener)
