"""Saves to the kernels' on-disk cache from several writers at once keep every entry."""

import threading
import time

import pytest

from clustra._kernels import cache
from clustra._kernels.kmeans_sums import centres_from_sums


def _files(directory, kind):
    directory.mkdir(exist_ok=True)  # numba's save_overload makes it first
    return kind(cache_path=str(directory), filename_base="kernel-1.py311", source_stamp=(1.0, 2))


def _save_at_once(directory, kind, n_writers):
    writers = [threading.Thread(target=_files(directory, kind).save, args=((f"sig{i}",), [i]))
               for i in range(n_writers)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()


@pytest.mark.skipif(cache.fcntl is None, reason="the lock is fcntl's (POSIX only)")
def test_writers_at_once_keep_every_entry_with_its_own_data(tmp_path, monkeypatch):
    # Widen the window between reading the index and writing it back, where
    # numba's own save lets another writer's entry be lost.
    load_index = cache.IndexDataCacheFile._load_index

    def slow_load_index(self):
        overloads = load_index(self)
        time.sleep(0.02)
        return overloads

    monkeypatch.setattr(cache.IndexDataCacheFile, "_load_index", slow_load_index)
    _save_at_once(tmp_path / "locked", cache.LockedFiles, 6)
    files = _files(tmp_path / "locked", cache.LockedFiles)
    assert [files.load((f"sig{i}",)) for i in range(6)] == [[i] for i in range(6)]
    # numba's own files, the same writers: entries are lost (what the lock prevents).
    _save_at_once(tmp_path / "plain", cache.IndexDataCacheFile, 6)
    plain = _files(tmp_path / "plain", cache.IndexDataCacheFile)
    assert None in [plain.load((f"sig{i}",)) for i in range(6)]


def test_resaving_a_key_keeps_its_file(tmp_path):
    files = _files(tmp_path, cache.LockedFiles)
    files.save(("a",), [1])
    files.save(("b",), [2])
    files.save(("a",), [3])
    assert files.load(("a",)) == [3]
    assert files.load(("b",)) == [2]
    assert sorted(p.name for p in tmp_path.glob("*.nbc")) == ["kernel-1.py311.1.nbc",
                                                             "kernel-1.py311.2.nbc"]


def test_kernels_use_the_shared_cache():
    assert isinstance(centres_from_sums._cache, cache.SharedCache)
