"""The benchmark harness: named workloads, clustra against its anchors, in one process.

A workload builds its data once, then times clustra and each anchor on it
(median of ``repeat`` runs, taken in interleaved rounds so that a slow spell of
the machine falls on every implementation alike, after one untimed warm-up;
anchors, which compile nothing, skip the warm-up when ``repeat`` is 1),
checks that every anchor agrees with clustra (the workload's ``agree``
function), and reports the ratio
anchor time / clustra time (above 1: clustra is faster). numba compile time is
measured apart, once per workload family, by the workload's ``compile`` hook
on tiny data before anything is timed.

Peak memory is measured in a fresh child process (:func:`peak_memory_mb`),
so that what one workload allocated does not hide in another's number.
"""

from __future__ import annotations

import gc
import multiprocessing
import platform
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Workload:
    """One benchmark case.

    Parameters
    ----------
    name : str
        Short unique name, shown in the table (e.g. ``"kmeans-a f64"``).
    family : str
        Group for compile-time reporting and ``--only`` filters (e.g. ``"kmeans"``).
    setup : callable () -> dict
        Builds the inputs once; its dict is passed to every runner.
    clustra : callable (dict) -> result
        Runs clustra.
    anchors : dict of name -> callable (dict) -> result
        Runs each reference implementation on the same inputs.
    agree : callable (clustra_result, anchor_result) -> str
        Returns a short verdict, e.g. ``"inertia rel 3e-12"``; raise or return a
        string starting with ``"DISAGREE"`` when results differ.
    compile : callable () -> None, optional
        Triggers numba compilation on tiny data (timed once per family).
    repeat : int
        Timed runs per implementation (median reported).
    description : str
        One line saying what the workload is, for the README.
    """

    name: str
    family: str
    setup: Callable[[], dict]
    clustra: Callable[[dict], Any]
    anchors: dict[str, Callable[[dict], Any]] = field(default_factory=dict)
    agree: Callable[[Any, Any], str] | None = None
    compile: Callable[[], None] | None = None
    repeat: int = 3
    description: str = ""


@dataclass
class Row:
    workload: str
    implementation: str
    seconds: float
    ratio: float | None  # anchor / clustra; None for clustra's own row
    verdict: str


def run_workload(workload: Workload, log: Callable[[str], None] = print) -> list[Row]:
    """Time clustra and every anchor on the same inputs, in interleaved rounds.

    Round r times every implementation once, in turn, so a slow spell of a
    shared machine falls on all of them rather than on one implementation's
    consecutive runs; each reports the median of its ``repeat`` runs. clustra
    is warmed up first (numba compiles or loads its cache); anchors only when
    several runs are timed.
    """
    log(f"# {workload.name}: setting up")
    inputs = workload.setup()
    runners = {"clustra": workload.clustra, **workload.anchors}
    warm = {name for name in runners if name == "clustra" or workload.repeat > 1}
    times: dict[str, list[float]] = {name: [] for name in runners}
    results: dict[str, Any] = {}
    for round_index in range(workload.repeat):
        for name, runner in list(runners.items()):
            try:
                if round_index == 0 and name in warm:
                    runner(inputs)
                gc.collect()
                start = time.perf_counter()
                results[name] = runner(inputs)
                times[name].append(time.perf_counter() - start)
            except ImportError as exc:
                log(f"  {name}: not installed ({exc})")
                del runners[name]
    clustra_seconds = statistics.median(times["clustra"])
    log(f"  clustra: {clustra_seconds:.4f} s")
    rows = [Row(workload.name, "clustra", clustra_seconds, None, "")]
    for anchor_name in runners:
        if anchor_name == "clustra":
            continue
        seconds = statistics.median(times[anchor_name])
        verdict = workload.agree(results["clustra"], results[anchor_name]) if workload.agree else ""
        log(f"  {anchor_name}: {seconds:.4f} s  ratio {seconds / clustra_seconds:.2f}  {verdict}")
        rows.append(Row(workload.name, anchor_name, seconds, seconds / clustra_seconds, verdict))
    return rows


def _status_kb(field: str) -> int:
    """A ``/proc/self/status`` field in kB (Linux)."""
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field} field")


def _child(queue, function, args):
    before_kb = _status_kb("VmRSS")
    function(*args)
    queue.put((_status_kb("VmHWM"), before_kb))


def peak_memory_mb(function: Callable, *args) -> tuple[float, float]:
    """Run ``function(*args)`` in a fresh process; return (peak RSS MB, growth MB).

    ``function`` must be importable at module level (it is pickled to the
    child). The child is a new interpreter (spawn: fork then exec), so its
    high-water mark ``VmHWM`` covers only its own life; ``ru_maxrss`` would
    not do, since Linux carries it over from the forking parent. The first
    number is the whole child process's peak resident set, the second its
    growth during the call (peak minus the resident size before it).
    """
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_child, args=(queue, function, args))
    process.start()
    peak_kb, before_kb = queue.get()
    process.join()
    if process.exitcode != 0:
        raise RuntimeError(f"memory probe exited with code {process.exitcode}")
    return peak_kb / 1024.0, (peak_kb - before_kb) / 1024.0


def machine_description() -> str:
    import os

    import numpy as np

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as handle:
            for line in handle:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0))
    return (
        f"{cpu}, {cores} cores, Python {platform.python_version()}, "
        f"NumPy {np.__version__}"
    )


def markdown_table(rows: list[Row]) -> str:
    lines = [
        "| workload | implementation | median s | anchor / clustra | agreement |",
        "|---|---|---:|---:|---|",
    ]
    for row in rows:
        ratio = "" if row.ratio is None else f"{row.ratio:.2f}x"
        lines.append(
            f"| {row.workload} | {row.implementation} | {row.seconds:.4f} | {ratio} | "
            f"{row.verdict} |"
        )
    return "\n".join(lines)


def relative_difference(a: float, b: float) -> float:
    return abs(a - b) / max(abs(a), abs(b), 1e-300)
