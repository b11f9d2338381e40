"""Speed of pmtwin end to end, as a user runs it: `make bench` (or `python benchmarks/run.py`).

Each case runs the installed ``pmtwin`` command in a fresh process (start-up, reading, simulating and
writing the run directory all count), several times; the best and median wall times, the peak memory
(max RSS) and throughput are printed and compared with the targets. Traces come from ../shared/data
(``PMTWIN_SHARED``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("PMTWIN_SHARED", ROOT.parent / "shared"))
TRACES = SHARED / "data" / "traces"
PMTWIN = Path(sys.executable).with_name("pmtwin")


@dataclass(frozen=True)
class Case:
    name: str
    args: tuple[str, ...]
    target_s: float | None
    target_rss_mb: float | None = None
    at_most_times: tuple[str, float] | None = None  # (case name, factor): a target relative to a case


CASES = (
    Case("replay KTH-SP2, EASY", ("replay", str(TRACES / "KTH-SP2-1996-2.1-cln.swf.gz")), 0.6),
    Case("replay SDSC-SP2, EASY", ("replay", str(TRACES / "SDSC-SP2-1998-4.2-cln.swf.gz")), None),
    Case("replay CEA-Curie, EASY", ("replay", str(TRACES / "CEA-Curie-2011-2.1-cln.swf.gz")), 1.5, 500.0),
    Case("replay CEA-Curie, conservative",
         ("replay", str(TRACES / "CEA-Curie-2011-2.1-cln.swf.gz"), "--policy", "conservative"), None),
    Case("replay KTH-SP2 on Perlmutter CPU nodes",
         ("replay", str(TRACES / "KTH-SP2-1996-2.1-cln.swf.gz"), "--machine", "perlmutter"), None),
    Case("simulate Perlmutter, 365 days, EASY, no power model",
         ("simulate", "--days", "365", "--no-power"), None),
    Case("simulate Perlmutter, 365 days, EASY", ("simulate", "--days", "365"), 20.0,
         at_most_times=("simulate Perlmutter, 365 days, EASY, no power model", 1.25)),
    Case("simulate Perlmutter, 365 days, EASY, 4.5 MW budget and 200 W GPU caps",
         ("simulate", "--days", "365", "--power-cap-mw", "4.5", "--gpu-power-cap-w", "200"), None),
    Case("simulate Perlmutter, 365 days, Slurm mode, every feature on",
         ("simulate", "--days", "365", "--slurm-features", "--scheduler",
          str(ROOT / "benchmarks" / "all-features.toml")), None,
         at_most_times=("simulate Perlmutter, 365 days, EASY", 2.0)),
)  # fmt: skip


def run_once(case: Case, out: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one fresh ``pmtwin`` process."""
    start = time.perf_counter()
    child = subprocess.Popen([str(PMTWIN), *case.args, "--out", str(out), "-q"], stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"{case.name}: pmtwin exited with status {child.returncode}")
    return wall, usage.ru_maxrss / 1024.0


def measure(case: Case, repeats: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        run_once(case, out)  # warm the file cache
        walls, peaks = zip(*(run_once(case, out) for _ in range(repeats)), strict=True)
        summary = json.loads((out / "summary.json").read_text())
    jobs = int(summary["jobs"])
    span_s = float(summary["makespan_s"] or 0.0)
    best = min(walls)
    return {
        "case": case.name,
        "jobs": jobs,
        "best_s": round(best, 3),
        "median_s": round(statistics.median(walls), 3),
        "peak_rss_mb": round(max(peaks), 1),
        "jobs_per_s": round(jobs / best),
        "simulated_s_per_wall_s": round(span_s / best),
        "target_s": case.target_s,
        "meets_target": None if case.target_s is None else best < case.target_s
        and (case.target_rss_mb is None or max(peaks) < case.target_rss_mb),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print JSON lines instead of a table")
    args = parser.parse_args()
    if not TRACES.is_dir():
        raise SystemExit(f"traces not found in {TRACES} (set PMTWIN_SHARED)")
    print(f"pmtwin benchmarks: {os.cpu_count()} CPUs, best of {args.repeats} fresh processes", flush=True)
    best: dict[str, float] = {}
    for case in CASES:
        result = measure(case, args.repeats)
        best[case.name] = float(result["best_s"])  # type: ignore[arg-type]
        if case.at_most_times is not None:
            base, factor = case.at_most_times
            result["ratio_to_base"] = round(best[case.name] / best[base], 2)
            result["meets_target"] = result["meets_target"] is not False and result["ratio_to_base"] <= factor
        if args.json:
            print(json.dumps(result), flush=True)
            continue
        target = "" if case.target_s is None else f" (target < {case.target_s} s: "
        if case.at_most_times is not None:
            base, factor = case.at_most_times
            absolute = "" if case.target_s is None else f"target < {case.target_s} s and "
            target = f" ({result['ratio_to_base']}x {base!r}, {absolute}target <= {factor}x: "
        target += "" if result["meets_target"] is None else ("met)" if result["meets_target"] else "MISSED)")
        print(
            f"{case.name:40s} {result['jobs']:>9,} jobs  best {result['best_s']:6.2f} s  "
            f"median {result['median_s']:6.2f} s  {result['peak_rss_mb']:6.0f} MB  "
            f"{result['jobs_per_s']:>9,} jobs/s  {result['simulated_s_per_wall_s']:>12,} sim-s/s{target}",
            flush=True,
        )


if __name__ == "__main__":
    main()
