"""numba's on-disk cache for clustra's kernels, safe when several processes compile at once.

numba keeps, for each cached function, an index file (signature -> data file
name) and one data file per signature. Its save reads the index, picks a file
name, writes the index and then the data, and nothing stops another process
from doing the same in between. Two processes compiling two signatures of one
kernel at once (``clustra warmup``'s processes, pytest-xdist workers, a local
Dask cluster) can lose one entry, or leave an entry pointing at a file that
holds the other signature's machine code, which the next process would load
and run (numba issue #10128 reports such crashes).

Here a save holds an exclusive lock on a file in the cache directory while it
reads the index, writes the data and only then the index, so that entries
are never lost and never point at a file not yet written. Loading takes no
lock: each file is replaced in one step. Without ``fcntl`` (Windows) the
writes keep this order, unlocked.
"""

from __future__ import annotations

import contextlib
import itertools
import os

from numba.core.caching import FunctionCache, IndexDataCacheFile

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

LOCK_NAME = "clustra-cache.lock"


@contextlib.contextmanager
def exclusive(path: str):
    """Hold an exclusive lock on the file ``path`` (created if missing) across processes."""
    if fcntl is None:
        yield
        return
    with open(path, "ab") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


class LockedFiles(IndexDataCacheFile):
    """numba's index and data files, each save made whole under the directory's lock."""

    def save(self, key, data):
        with exclusive(os.path.join(self._cache_path, LOCK_NAME)):
            overloads = self._load_index()
            name = overloads.get(key)
            if name is None:
                taken = set(overloads.values())
                name = next(candidate for candidate in map(self._data_name, itertools.count(1))
                            if candidate not in taken)
                overloads[key] = name
            self._save_data(name, data)
            self._save_index(overloads)


class SharedCache(FunctionCache):
    """numba's per-function cache (what ``cache=True`` gives) with :class:`LockedFiles`."""

    def __init__(self, py_func):
        super().__init__(py_func)
        self._cache_file = LockedFiles(cache_path=self._cache_path,
                                       filename_base=self._impl.filename_base,
                                       source_stamp=self._impl.locator.get_source_stamp())
