"""First use on a fresh install: clustra's first calls against scikit-learn's.

Every case runs in a new Python process with an empty numba cache
(``NUMBA_CACHE_DIR`` set to a new temporary directory), so it pays what a fresh
install pays: importing, and compiling every kernel the call uses. The anchor
(scikit-learn's or SciPy's equivalent first call) runs in its own fresh process
right after, so that both see the same load of the machine; the ratio is
clustra's process time over the anchor's (below the issue's floors: K-Means
5x, DBSCAN, linkage and silhouette 3x, ``clustra demo`` 15x).

A further report runs ``clustra warmup`` (2 processes) from an empty cache
(the issue's floor: everything compiled in under 45 s). Others time the
compilation of each kernel (numba's compile events,
exclusive of the kernels compiled inside it) during the first K-Means fits, the
first DBSCAN fit and the first ward linkage.

Run it alone (it takes minutes)::

    python -m benchmarks.workloads.coldstart [--out benchmarks/results/coldstart.md]
    python -m benchmarks.run --only coldstart
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_DATA = ("import numpy as np; rng = np.random.default_rng(0); "
         "X = rng.normal(size=(1000, 5)) + rng.integers(0, 4, size=(1000, 1)) * 4.0; ")

# (name, clustra's first call, the anchor's first call or None)
CASES = [
    ("KMeans(4).fit 1000x5 float64",
     _DATA + "from clustra import KMeans; KMeans(4, random_state=0).fit(X)",
     _DATA + "from sklearn.cluster import KMeans; KMeans(4, random_state=0).fit(X)"),
    ("KMeans(4).fit 1000x5 float32",
     _DATA + "from clustra import KMeans; KMeans(4, random_state=0).fit(X.astype(np.float32))",
     _DATA + "from sklearn.cluster import KMeans; "
             "KMeans(4, random_state=0).fit(X.astype(np.float32))"),
    ("DBSCAN(eps=0.5).fit 1000x3",
     _DATA + "from clustra import DBSCAN; DBSCAN(eps=0.5).fit(X[:, :3])",
     _DATA + "from sklearn.cluster import DBSCAN; DBSCAN(eps=0.5).fit(X[:, :3])"),
    ("HDBSCAN().fit 1000x3",
     _DATA + "from clustra import HDBSCAN; HDBSCAN().fit(X[:, :3])",
     _DATA + "from sklearn.cluster import HDBSCAN; HDBSCAN().fit(X[:, :3])"),
    ("linkage ward 1000x5",
     _DATA + "from clustra.cluster import linkage; linkage(X, method='ward')",
     _DATA + "from scipy.cluster.hierarchy import linkage; linkage(X, method='ward')"),
    ("silhouette_score 1000x5",
     _DATA + "labels = (X[:, 0] > 2).astype(int); "
             "from clustra.metrics import silhouette_score; silhouette_score(X, labels)",
     _DATA + "labels = (X[:, 0] > 2).astype(int); "
             "from sklearn.metrics import silhouette_score; silhouette_score(X, labels)"),
    ("choose_k 1000x5 k=1..8",
     _DATA + "from clustra.selection.sweep import choose_k; "
             "choose_k(X, range(1, 9), random_state=0)",
     # scikit-learn has no sweep: its first K-Means fit process is the yardstick.
     _DATA + "from sklearn.cluster import KMeans; KMeans(4, random_state=0).fit(X)"),
    ("clustra demo",
     "import sys, tempfile; from clustra.cli import main; "
     "sys.exit(main(['demo', '--quiet', '--out-dir', tempfile.mkdtemp()]))",
     _DATA + "from sklearn.cluster import KMeans; KMeans(4, random_state=0).fit(X)"),
]


def run_cold(code: str, timeout: float = 900.0) -> tuple[float, float]:
    """(wall, CPU) seconds a fresh process with an empty numba cache takes to run ``code``.

    CPU time (user + system, the process and its children) moves much less
    than wall time when other work shares the machine.
    """
    with tempfile.TemporaryDirectory(prefix="clustra-cold-") as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache, PYTHONDONTWRITEBYTECODE="1")
        before = os.times()
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=timeout,
                       stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - start
        after = os.times()
        cpu = (after.children_user - before.children_user
               + after.children_system - before.children_system)
        return wall, cpu


# Run in the child: record each compilation's time, exclusive of nested ones.
_RECORDER = r"""
import json, sys, time
from numba.core import event

class Exclusive(event.Listener):
    def __init__(self):
        self.stack, self.times = [], {}
    def on_start(self, ev):
        now = time.perf_counter()
        if self.stack:
            self.stack[-1][1] += now - self.stack[-1][2]
        self.stack.append([ev.data["dispatcher"], 0.0, now, ev.data["args"]])
    def on_end(self, ev):
        now = time.perf_counter()
        disp, spent, since, args = self.stack.pop()
        spent += now - since
        if self.stack:
            self.stack[-1][2] = now
        py = disp.py_func
        key = py.__module__.replace("clustra._kernels.", "") + "." + py.__name__
        sig = "(" + ", ".join(str(a) for a in args) + ")"
        self.times.setdefault(key, []).append((spent, sig))

listener = Exclusive()
event.register("numba:compile", listener)
try:
    exec(compile(sys.argv[1], "<first call>", "exec"))
except SystemExit:  # the command's main() ends with sys.exit
    pass
json.dump(listener.times, open(sys.argv[2], "w"))
"""


def kernel_compile_times(code: str) -> dict[str, list[tuple[float, str]]]:
    """``{module.kernel: [(seconds, signature), ...]}`` compiled by ``code`` from nothing."""
    with tempfile.TemporaryDirectory(prefix="clustra-cold-") as cache:
        out = Path(cache) / "times.json"
        env = dict(os.environ, NUMBA_CACHE_DIR=cache, PYTHONDONTWRITEBYTECODE="1")
        subprocess.run([sys.executable, "-c", _RECORDER, code, str(out)], env=env,
                       check=True, timeout=1800, stdout=subprocess.DEVNULL)
        return json.loads(out.read_text())


def first_calls_report(cases=CASES, progress=None) -> str:
    """The first-calls table; ``progress(text)``, if given, receives it after every row."""
    lines = ["### First calls, fresh process, empty numba cache", "",
             "| first call | clustra wall s | anchor wall s | wall ratio | clustra CPU s "
             "| anchor CPU s | CPU ratio |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for name, ours, theirs in cases:
        mine, mine_cpu = run_cold(ours)
        anchor, anchor_cpu = run_cold(theirs)
        lines.append(f"| {name} | {mine:.1f} | {anchor:.2f} | {mine / anchor:.1f}x "
                     f"| {mine_cpu:.1f} | {anchor_cpu:.2f} | {mine_cpu / anchor_cpu:.1f}x |")
        print(lines[-1], file=sys.stderr, flush=True)
        if progress is not None:
            progress("\n".join(lines) + "\n")
    return "\n".join(lines) + "\n"


def kernel_report(code: str = CASES[0][1] + "; " + CASES[1][1].split("; ", 2)[-1],
                  top: int = 30, title: str = "first K-Means fits, float64 then float32") -> str:
    times = kernel_compile_times(code)
    rows = sorted(((sum(t for t, _ in v), k, len(v)) for k, v in times.items()), reverse=True)
    total = sum(r[0] for r in rows)
    lines = [f"### Compile time per kernel ({title})", "",
             f"Total {total:.1f} s over {sum(r[2] for r in rows)} compilations.", "",
             "| kernel | seconds | specialisations |", "|---|---:|---:|"]
    lines += [f"| {k} | {t:.2f} | {n} |" for t, k, n in rows[:top]]
    return "\n".join(lines) + "\n"


def warmup_report(n_processes: int = 2) -> str:
    """``clustra warmup`` from an empty cache: wall and CPU seconds (every process), each task."""
    with tempfile.TemporaryDirectory(prefix="clustra-cold-") as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache, PYTHONDONTWRITEBYTECODE="1")
        load = os.getloadavg()[0]
        before = os.times()
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "clustra", "warmup", "--jobs",
                               str(n_processes)], env=env, check=True, timeout=1800,
                              capture_output=True, text=True)
        wall = time.perf_counter() - start
        after = os.times()
    cpu = (after.children_user - before.children_user
           + after.children_system - before.children_system)
    lines = [f"### clustra warmup, {n_processes} processes, empty cache", "",
             f"{wall:.1f} s wall, {cpu:.1f} CPU s (all processes; load before "
             f"{load:.1f}). Each task, in the order they finished:", ""]
    lines += [f"- {line}" for line in done.stderr.splitlines() if line.startswith("compiled")]
    return "\n".join(lines) + "\n"


def _case_kernel_report(name: str):
    """A kernel report for the first call of one case of :data:`CASES`."""
    code = next(ours for case, ours, _ in CASES if case == name)

    def report() -> str:
        return kernel_report(code, title=f"first {name}")

    report.__name__ = f"kernel_report_{name.split('(')[0].split()[0].lower()}"
    return report


WORKLOADS = []
EXTRA_REPORTS = [first_calls_report, warmup_report, kernel_report,
                 _case_kernel_report("DBSCAN(eps=0.5).fit 1000x3"),
                 _case_kernel_report("linkage ward 1000x5")]


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out")
    parser.add_argument("--kernels-only", action="store_true")
    args = parser.parse_args()
    def save(text):
        if args.out:
            Path(args.out).write_text(text)

    report = "" if args.kernels_only else (first_calls_report(progress=save) + "\n"
                                           + warmup_report() + "\n")
    report += "\n".join(make() for make in EXTRA_REPORTS[2:])
    print(report)
    save(report)
