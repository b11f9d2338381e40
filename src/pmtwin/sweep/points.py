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

METRICS: dict[str, str] = {
    "jobs": "",
    "utilization": "higher",
    "wait_mean_h": "lower",
    "wait_median_h": "lower",
    "wait_p95_h": "lower",
    "bsld_mean": "lower",
    "bsld_p95": "lower",
    "makespan_days": "",
    "energy_facility_mwh": "lower",
    "energy_system_mwh": "lower",
    "mean_system_mw": "lower",
    "peak_facility_mw": "lower",
}
"""Metric columns of every row (per-pool ``utilization:<pool>`` columns come on top), and which way is
better ("" where neither is)."""
POINTS_DIR = "points"


def run_point(point: Point, sweep_dir: str) -> dict[str, Any]:
    """Run ``point`` into ``<sweep_dir>/points/<point_id>`` and return its row (see docs/sweeps.md)."""
    from pmtwin.sweep.executors import worker_name

    began = time.perf_counter()
    run_dir = Path(POINTS_DIR) / point.point_id
    row = base_row(point, str(run_dir))
    row["worker"] = worker_name()
    try:
        from pmtwin.sweep.scenario import run_scenario

        result = run_scenario(point.scenario, point.seed, Path(sweep_dir) / run_dir)
        row.update(metrics(result.summary))
        row["simulate_s"] = float(result.wall_s.get("simulate_s", 0.0))
        row["status"] = "ok"
    except Exception as exc:  # the point failed, not the worker: record it and go on
        row["status"] = "error"
        row["error"] = f"{type(exc).__name__}: {exc}" if not isinstance(exc, ValueError) else str(exc)
        row["traceback"] = traceback.format_exc(limit=8)
    row["wall_s"] = time.perf_counter() - began
    return row


def base_row(point: Point, run_dir: str) -> dict[str, Any]:
    """The columns a row has before its run: identity, axis values, seed and the resolved scenario."""
    row: dict[str, Any] = {
        "point_id": point.point_id,
        "index": point.index,
        "seed": point.seed,
        "status": "pending",
        "error": None,
        "run_dir": run_dir,
        "config": json.dumps(point.scenario.model_dump(mode="json"), sort_keys=True),
    }
    row.update(point.values)
    return row


def metrics(summary: dict[str, Any]) -> dict[str, float | None]:
    """The metric columns from a run's summary.json (None where the run has no such figure)."""
    hours, days = 1 / 3600.0, 1 / 86400.0
    power = summary.get("power") or {}
    wait = summary.get("wait_s") or {}
    slowdown = summary.get("bounded_slowdown") or {}
    found: dict[str, Any] = {
        "jobs": summary.get("jobs"),
        "utilization": summary.get("utilization"),
        "wait_mean_h": _scaled(wait.get("mean"), hours),
        "wait_median_h": _scaled(wait.get("median"), hours),
        "wait_p95_h": _scaled(wait.get("p95"), hours),
        "bsld_mean": slowdown.get("mean"),
        "bsld_p95": slowdown.get("p95"),
        "makespan_days": _scaled(summary.get("makespan_s"), days),
        "energy_facility_mwh": power.get("energy_facility_mwh"),
        "energy_system_mwh": power.get("energy_system_mwh"),
        "mean_system_mw": _scaled(power.get("mean_system_w"), 1e-6),
        "peak_facility_mw": _scaled(power.get("peak_facility_w"), 1e-6),
    }
    for pool, block in sorted((summary.get("pools") or {}).items()):
        found[f"utilization:{pool}"] = block.get("utilization")
    return {name: None if value is None else float(value) for name, value in found.items()}


def _scaled(value: Any, factor: float) -> float | None:
    return None if value is None else float(value) * factor
