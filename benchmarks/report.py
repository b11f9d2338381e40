"""Reports and exports: speed and size (`make bench`, or `python benchmarks/report.py`).

1. One year of the default Perlmutter workload simulated without a report, then `pmtwin report` on it in
   a fresh process (page and PNGs; target: under 10 s, page under 15 MB), best of N.
2. What the page costs a replay: CEA-Curie (the shared trace of the replay speed check) replayed with
   `report="none"` and `report="html"`: wall time of the whole call, and of drawing the page (done while
   another thread writes the Parquet files).
3. `pmtwin export-metrics` of a 30-day run at the default 60 s step: time, samples, file size.
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

from pmtwin.runs import replay, simulate

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("PMTWIN_SHARED", ROOT.parent / "shared"))
CEA = SHARED / "data" / "traces" / "CEA-Curie-2011-2.1-cln.swf.gz"
PMTWIN = Path(sys.executable).with_name("pmtwin")


def _timed(args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run([str(PMTWIN), *args], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def year_report(tmp: Path, repeats: int) -> dict[str, Any]:
    run = tmp / "year"
    start = time.perf_counter()
    result = simulate(out_dir=run, days=365, seed=0, report="none")
    simulate_s = time.perf_counter() - start
    walls = [_timed(["report", str(run)]) for _ in range(repeats)]
    pngs = sorted(run.glob("*.png"))
    return {
        "jobs": len(result.jobs),
        "simulate_s": round(simulate_s, 2),
        "report_best_s": round(min(walls), 2),
        "report_all_s": [round(w, 2) for w in walls],
        "page_mb": round((run / "report.html").stat().st_size / 2**20, 2),
        "pngs": len(pngs),
        "pngs_mb": round(sum(p.stat().st_size for p in pngs) / 2**20, 2),
        "targets": {"report_s": 10.0, "page_mb": 15.0},
    }


def replay_cost(tmp: Path, repeats: int) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for kind in ("none", "html"):
        totals, reports = [], []
        for _ in range(repeats):
            began = time.perf_counter()
            result = replay(CEA, out_dir=tmp / f"cea-{kind}", report=kind)  # type: ignore[arg-type]
            totals.append(time.perf_counter() - began)
            reports.append(result.report_s)
        figures[kind] = {"best_total_s": round(min(totals), 3), "best_report_s": round(min(reports), 3)}
    return figures


def metrics_export(tmp: Path) -> dict[str, Any]:
    run = tmp / "month"
    simulate(out_dir=run, days=30, seed=0, report="none")
    wall = _timed(["export-metrics", str(run)])
    out = run / "metrics.om"
    samples = sum(1 for line in out.open() if not line.startswith("#"))
    return {"wall_s": round(wall, 2), "samples": samples, "file_mb": round(out.stat().st_size / 2**20, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if not CEA.is_file():
        raise SystemExit(f"{CEA} not found (set PMTWIN_SHARED)")
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        figures = {
            "year_report": year_report(tmp, args.repeats),
            "replay_cost_cea_curie": replay_cost(tmp, args.repeats),
            "metrics_export_30_days": metrics_export(tmp),
        }
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
