"""Sweep speed: a 64-point sweep of one-month Perlmutter simulations, serial against 2 local workers
(`make bench`, or `python benchmarks/sweep.py`).

The points: policies fcfs and easy x load factors 0.8, 0.9, 1.0, 1.1 x 8 seeds, each 30 days of the
default workload with the power model (no report per point). Run serially in this process, on 2 local
processes, and on a Dask LocalCluster of 2 workers; each run starts from an empty folder, and the rows of
the parallel runs are checked against the serial ones (timing columns aside).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from pmtwin.sweep.executors import ExecutorSpec, open_executor
from pmtwin.sweep.plan import Point, expand, parse_sweep
from pmtwin.sweep.runner import TIMING_COLUMNS, InlineExecutor, SweepOutcome, run_sweep

SWEEP: dict[str, Any] = {
    "name": "bench",
    "seeds": 8,
    "base": {"days": 30.0},
    "axes": [
        {"field": "policy", "values": ["fcfs", "easy"]},
        {"field": "load_factor", "values": [0.8, 0.9, 1.0, 1.1]},
    ],
}


def timed(points: list[Point], folder: Path, kind: str, workers: int) -> tuple[float, SweepOutcome]:
    began = time.perf_counter()
    if kind == "serial":
        outcome = run_sweep(points, folder, InlineExecutor())
    else:
        with open_executor(ExecutorSpec(kind=kind, workers=workers)) as handle:  # type: ignore[arg-type]
            outcome = run_sweep(
                points, folder, handle.executor, rebuild=handle.rebuild, workers=handle.workers
            )
    return time.perf_counter() - began, outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    points = expand(parse_sweep(SWEEP))
    figures: dict[str, Any] = {"points": len(points), "workers": args.workers}
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        reference = None
        for kind in ("serial", "local", "dask-local"):
            wall_s, outcome = timed(points, tmp / kind, kind, args.workers)
            table = pq.read_table(tmp / kind / "results.parquet").drop_columns(list(TIMING_COLUMNS))
            reference = reference if reference is not None else table
            figures[kind] = {
                "wall_s": round(wall_s, 1),
                "points_per_s": round(len(points) / wall_s, 2),
                "failed": outcome.failed,
                "rows_equal_serial": table.equals(reference),
            }
        for kind in ("local", "dask-local"):
            figures[kind]["speedup"] = round(figures["serial"]["wall_s"] / figures[kind]["wall_s"], 2)
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
