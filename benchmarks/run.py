"""Run the benchmark workloads and print a Markdown table.

Usage (from the repository root)::

    python -m benchmarks.run                 # every workload
    python -m benchmarks.run --family dbscan # one family exactly (not hdbscan, dask dbscan)
    python -m benchmarks.run --only kmeans   # a family, or any workload name containing it
    python -m benchmarks.run --list
    python -m benchmarks.run --out benchmarks/results/latest.md

Each family lives in ``benchmarks/workloads/<family>.py`` and exposes
``WORKLOADS`` (a list of :class:`benchmarks.harness.Workload`) and optionally
``EXTRA_REPORTS`` (callables returning Markdown, e.g. peak-memory tables).
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import time

from benchmarks import workloads as workloads_package
from benchmarks.harness import machine_description, markdown_table, run_workload


def discover():
    families = {}
    for module_info in pkgutil.iter_modules(workloads_package.__path__):
        module = importlib.import_module(f"benchmarks.workloads.{module_info.name}")
        families[module_info.name] = module
    return families


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", default=[], help="family or name substring")
    parser.add_argument("--family", action="append", default=[],
                        help="exactly this family (benchmarks/workloads/<family>.py)")
    parser.add_argument("--list", action="store_true", help="list workloads and exit")
    parser.add_argument("--out", help="also write the Markdown report to this file")
    parser.add_argument("--repeat", type=int, help="override every workload's repeat count")
    args = parser.parse_args(argv)

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    selected = []
    extra_reports = []
    families = discover()
    unknown = sorted(set(args.family) - set(families))
    if unknown:
        parser.error(f"unknown family {', '.join(unknown)}; choose from {', '.join(families)}")
    everything = not args.only and not args.family
    for family, module in families.items():
        whole = everything or family in args.family or family in args.only
        for workload in getattr(module, "WORKLOADS", []):
            if whole or any(s in workload.name for s in args.only):
                selected.append(workload)
        if whole:
            extra_reports.extend(getattr(module, "EXTRA_REPORTS", []))
    if args.list:
        for workload in selected:
            print(f"{workload.family:12s} {workload.name:40s} {workload.description}")
        return 0

    compile_times = {}
    for workload in selected:
        if workload.compile is not None and workload.family not in compile_times:
            start = time.perf_counter()
            workload.compile()
            compile_times[workload.family] = time.perf_counter() - start
            log(f"# {workload.family}: numba compile/load {compile_times[workload.family]:.2f} s")

    rows = []
    for workload in selected:
        if args.repeat:
            workload.repeat = args.repeat
        rows.extend(run_workload(workload, log=log))

    parts = [f"Machine: {machine_description()}", "", markdown_table(rows)]
    if compile_times:
        parts += ["", "numba compile (or cache load) time, measured apart:", ""]
        parts += [f"- {family}: {seconds:.2f} s" for family, seconds in compile_times.items()]
    for report in extra_reports:
        parts += ["", report()]
    text = "\n".join(parts) + "\n"
    print(text)
    if args.out:
        with open(args.out, "w") as handle:
            handle.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
