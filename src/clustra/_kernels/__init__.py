"""numba-compiled kernels on plain arrays: the hot loops.

Nothing here knows about scikit-learn, pandas or estimators. Every function
takes validated, contiguous arrays of a documented dtype and returns arrays.
Modules are imported explicitly (``from clustra._kernels import kmeans``), so
importing this package compiles nothing.
"""

from clustra._config import _prefer_sleeping_waits

# Before numba starts its threads (see _prefer_sleeping_waits): every kernel
# module is imported through this package.
_prefer_sleeping_waits()

from clustra._kernels.first_use import install as _install_first_use_log  # noqa: E402

# Log the first compilation of each kernel family (see first_use).
_install_first_use_log()
