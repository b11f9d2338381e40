"""Workload generation: speed, determinism, fits to the shared traces, and the validation figures of
docs/workloads.md section 6 (`make bench`, or `python benchmarks/workload.py`).

1. Speed: `pmtwin workload generate --days 365` in fresh processes (best of N), and the same seed twice
   giving identical bytes.
2. Fits: `fit_model` on each shared SWF trace, then the trace's span generated from the fitted model:
   KS distances of size, run time, inter-arrival and accuracy; generated / trace mean run time and
   node-seconds.
3. Validation: eight weeks of the default Perlmutter workload simulated (EASY, and Slurm mode with NERSC
   priority and walltime kill); the fourth week's and weeks 2-8's utilization and waits per pool, size
   mix, and generated marginals next to the NERSC Edison 2015 histograms (../shared/data).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from pmtwin.machine import load_system
from pmtwin.runs import simulate
from pmtwin.sched.config import SchedulerConfig
from pmtwin.workload.compare import ks_distances
from pmtwin.workload.fit import trace_span_s
from pmtwin.workload.fit_trace import fit_trace_file
from pmtwin.workload.generate import generate_workload

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("PMTWIN_SHARED", ROOT.parent / "shared"))
TRACES = SHARED / "data" / "traces"
EDISON = SHARED / "data" / "nersc-edison-2015"
PMTWIN = Path(sys.executable).with_name("pmtwin")
DAY_S = 86400.0
WEEKS = 8
WINDOWS_DAYS = {"week_4": (21.0, 28.0), "weeks_2_to_8": (7.0, 56.0)}
"""The week the validation note reports, and a longer window (one week of heavy-tailed jobs is noisy);
the first week is left out: the machine starts empty."""


def generation_speed(repeats: int) -> dict[str, Any]:
    walls = []
    with tempfile.TemporaryDirectory() as tmp:
        outs = [Path(tmp) / f"{k}.parquet" for k in range(repeats)]
        for out in outs:
            start = time.perf_counter()
            subprocess.run([str(PMTWIN), "workload", "generate", "--days", "365", "--out", str(out)],
                           check=True, stdout=subprocess.DEVNULL)  # fmt: skip
            walls.append(time.perf_counter() - start)
        identical = len({out.read_bytes() for out in outs}) == 1
    start = time.perf_counter()
    jobs = generate_workload(_model(), days=365, seed=0, machine=load_system("perlmutter"))
    in_process = time.perf_counter() - start
    return {
        "case": "workload generate, Perlmutter, 365 days",
        "jobs": len(jobs),
        "best_s": round(min(walls), 3),
        "in_process_s": round(in_process, 3),
        "jobs_per_s": round(len(jobs) / in_process),
        "identical_bytes": identical,
        "target_s": 10.0,
        "meets_target": min(walls) < 10.0 and identical,
    }


def fits() -> list[dict[str, Any]]:
    rows = []
    for trace in sorted(TRACES.glob("*.swf.gz")):
        start = time.perf_counter()
        fitted = fit_trace_file(trace)
        fit_s = time.perf_counter() - start
        generated = generate_workload(fitted.model, days=trace_span_s(fitted.jobs) / DAY_S, seed=1)
        ks = ks_distances(fitted.jobs, generated)
        trace_jobs = fitted.jobs
        ratios = {
            "mean_runtime_ratio": float(np.mean(generated.work_s) / np.mean(trace_jobs.work_s)),
            "node_seconds_ratio": float(
                np.sum(generated.size * generated.work_s) / np.sum(trace_jobs.size * trace_jobs.work_s)
            ),
        }
        rows.append({"trace": trace.name.removesuffix(".swf.gz"), "jobs": len(trace_jobs),
                     "generated": len(generated), "fit_s": round(fit_s, 2),
                     **{key: round(value, 4) for key, value in ks.items()},
                     **{key: round(value, 3) for key, value in ratios.items()}})  # fmt: skip
    return rows


def validation(out_root: Path) -> dict[str, Any]:
    machine = load_system("perlmutter")
    days = 7.0 * WEEKS
    runs = {
        "easy": simulate(out_dir=out_root / "easy", days=days, seed=0, power=None),
        "slurm_nersc_kill": simulate(
            out_dir=out_root / "slurm", days=days, seed=0, power=None,
            scheduler=SchedulerConfig(priority="nersc", walltime="kill"),
        ),
    }  # fmt: skip
    result: dict[str, Any] = {}
    for label, (first, last) in WINDOWS_DAYS.items():
        window = (first * DAY_S, last * DAY_S)
        for name, run in runs.items():
            figures = _week_figures(run.jobs, run.schedule, run.pools.names, run.pools.capacity, window)
            result[f"{label}/{name}"] = figures
        jobs = runs["easy"].jobs
        inside = (jobs.submit_s >= window[0]) & (jobs.submit_s < window[1])
        result[f"{label}/marginals"] = _marginals(jobs, inside, machine.partition_node_counts(), last - first)
    return result


def _week_figures(
    jobs: Any, schedule: Any, pools: tuple[str, ...], capacity: Any, window: tuple[float, float]
) -> dict[str, Any]:
    lo, hi = window
    ran = np.isfinite(schedule.start_s)
    overlap = np.clip(np.minimum(schedule.end_s, hi) - np.maximum(schedule.start_s, lo), 0.0, None)
    overlap = np.where(ran, overlap, 0.0)
    figures: dict[str, Any] = {}
    for k, pool in enumerate(pools):
        rows = schedule.pool == k
        busy = float(np.sum(overlap[rows] * jobs.size[rows]))
        started = rows & ran & (jobs.submit_s >= lo) & (jobs.submit_s < hi)
        wait_h = (schedule.start_s[started] - jobs.submit_s[started]) / 3600.0
        figures[pool] = {
            "utilization": round(busy / (int(capacity[k]) * (hi - lo)), 3),
            "jobs": int(started.sum()),
            "wait_mean_h": round(float(wait_h.mean()), 2) if len(wait_h) else None,
            "wait_median_h": round(float(np.median(wait_h)), 3) if len(wait_h) else None,
            "wait_p95_h": round(float(np.percentile(wait_h, 95)), 2) if len(wait_h) else None,
        }
    return figures


def _marginals(jobs: Any, week: Any, nodes: dict[str, int], days: float) -> dict[str, Any]:
    edison = {
        name: json.loads((EDISON / f"2015-edison-{name}.json").read_text())
        for name in ("accuracy", "inter", "wc_limit")
    }
    plain = week & (np.asarray(jobs.qos_names)[jobs.qos] != "realtime")
    limits_min = jobs.limit_s[plain] / 60.0
    gaps = np.diff(np.sort(jobs.submit_s[plain]))
    out: dict[str, Any] = {
        "jobs_per_day": round(float(plain.sum()) / days),
        "share_jobs_le_4_nodes": round(float(np.mean(jobs.size[plain] <= 4)), 3),
        "share_limits_le_30_min": round(float(np.mean(limits_min <= 30.0)), 3),
        "edison_share_limits_le_30_min": round(_cdf_at(edison["wc_limit"], 30.0), 3),
        "accuracy_mean": round(float(np.mean(jobs.work_s[plain] / jobs.limit_s[plain])), 3),
        "edison_accuracy_mean": 0.174,
        "interarrival_mean_s": round(float(gaps.mean()), 1),
        "interarrival_cv": round(float(gaps.std() / gaps.mean()), 2),
        "edison_interarrival_cv": 1.37,
    }
    for name, count in nodes.items():
        rows = plain & (np.asarray(jobs.partition_names)[jobs.partition] == name)
        node_h = jobs.size[rows] * jobs.work_s[rows] / 3600.0
        big = jobs.size[rows] >= count // 8
        out[f"{name}_node_hours_share_jobs_ge_eighth_of_partition"] = round(
            float(node_h[big].sum() / node_h.sum()), 3
        )
    return out


def _cdf_at(histogram: dict[str, Any], value: float) -> float:
    probs = [0.0, *histogram["probabilities"]]
    share = 0.0
    for k, (low, _high) in enumerate(histogram["value_ranges"]):
        if low <= value:
            share = probs[k + 1]
    return share


def _model() -> Any:
    from pmtwin.workload.model import load_workload_model

    return load_workload_model("perlmutter")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-validation", action="store_true", help="speed and fits only")
    args = parser.parse_args()
    if not TRACES.is_dir():
        raise SystemExit(f"traces not found in {TRACES} (set PMTWIN_SHARED)")
    speed = generation_speed(args.repeats)
    print(json.dumps(speed), flush=True)
    for row in fits():
        print(json.dumps(row), flush=True)
    if not args.skip_validation:
        with tempfile.TemporaryDirectory() as tmp:
            print(json.dumps(validation(Path(tmp)), indent=1), flush=True)


if __name__ == "__main__":
    main()
