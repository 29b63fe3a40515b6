"""clustra works without dask; clustra.dask without it says which extra to install."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SRC = str(Path(__file__).resolve().parents[2] / "src")


def _run(code: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False, env=env)


def test_import_clustra_does_not_import_dask():
    result = _run("import sys, clustra; clustra.KMeans; "
                  "print(any(m == 'dask' or m.startswith('dask.') for m in sys.modules))")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_clustra_dask_without_dask_names_the_extra():
    result = _run("import sys; sys.modules['dask'] = None; sys.modules['distributed'] = None\n"
                  "try:\n    import clustra.dask\nexcept ImportError as exc:\n    print(exc)")
    assert result.returncode == 0, result.stderr
    assert SRC in _run("import clustra; print(clustra.__file__)").stdout
    assert 'pip install "clustra[dask]"' in result.stdout
