"""One point of a sweep, run where a worker is: (scenario, seed) -> a result row and a run directory.

``run_point`` never raises for a point's own failure: a scenario the library refuses, or any error while
it runs, becomes an error row (``status = "error"``), so the sweep goes on. An exception that reaches the
coordinator therefore means the worker itself was lost, and the point is run again.
"""

from __future__ import annotations

import json
import time
import traceback
from pathlib import Path
from typing import Any

from pmtwin.sweep.plan import Point

_HOUR, _DAY = 1 / 3600.0, 1 / 86400.0
METRIC_FIGURES: dict[str, tuple[tuple[str, ...], float]] = {
    "jobs": (("jobs",), 1.0),
    "utilization": (("utilization",), 1.0),
    "wait_mean_h": (("wait_s", "mean"), _HOUR),
    "wait_median_h": (("wait_s", "median"), _HOUR),
    "wait_p95_h": (("wait_s", "p95"), _HOUR),
    "bsld_mean": (("bounded_slowdown", "mean"), 1.0),
    "bsld_p95": (("bounded_slowdown", "p95"), 1.0),
    "makespan_days": (("makespan_s",), _DAY),
    "energy_facility_mwh": (("power", "energy_facility_mwh"), 1.0),
    "energy_system_mwh": (("power", "energy_system_mwh"), 1.0),
    "mean_system_mw": (("power", "mean_system_w"), 1e-6),
    "peak_facility_mw": (("power", "peak_facility_w"), 1e-6),
}
"""Each metric column: where it lies in a run's summary.json, and the factor to its unit."""
METRICS = tuple(METRIC_FIGURES)
"""Metric columns of every row (per-pool ``utilization:<pool>`` columns come on top)."""
POINTS_DIR = "points"


def run_point(point: Point, sweep_dir: str) -> dict[str, Any]:
    """Run ``point`` into ``<sweep_dir>/points/<point_id>`` and return its row (see docs/sweeps.md)."""
    from pmtwin.sweep.executors import worker_name

    began = time.perf_counter()
    row = base_row(point)
    row["worker"] = worker_name()
    try:
        from pmtwin.sweep.scenario import run_scenario

        result = run_scenario(point.scenario, point.seed, Path(sweep_dir) / row["run_dir"])
        row.update(metrics(result.summary))
        row["simulate_s"] = float(result.wall_s.get("simulate_s", 0.0))
        row["status"] = "ok"
    except Exception as exc:  # the point failed, not the worker: record it and go on
        row["status"] = "error"
        row["error"] = f"{type(exc).__name__}: {exc}" if not isinstance(exc, ValueError) else str(exc)
        row["traceback"] = traceback.format_exc(limit=8)
    row["wall_s"] = time.perf_counter() - began
    return row


def base_row(point: Point) -> dict[str, Any]:
    """The columns a row has before its run: identity, axis values, seed, the run directory (relative to
    the sweep folder) and the resolved scenario."""
    row: dict[str, Any] = {
        "point_id": point.point_id,
        "index": point.index,
        "seed": point.seed,
        "status": "pending",
        "error": None,
        "run_dir": str(Path(POINTS_DIR) / point.point_id),
        "config": json.dumps(point.scenario.model_dump(mode="json"), sort_keys=True),
    }
    row.update(point.values)
    return row


def metrics(summary: dict[str, Any]) -> dict[str, float | None]:
    """The metric columns from a run's summary.json (None where the run has no such figure)."""
    from pmtwin.results.metrics import summary_figure

    found = {name: summary_figure(summary, path, factor) for name, (path, factor) in METRIC_FIGURES.items()}
    for pool in sorted(summary.get("pools") or {}):
        found[f"utilization:{pool}"] = summary_figure(summary, ("pools", pool, "utilization"))
    return {name: None if value is None else float(value) for name, value in found.items()}
