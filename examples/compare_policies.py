"""Compare FCFS, EASY and conservative backfilling on a real trace with the library API.

    .venv/bin/python examples/compare_policies.py [TRACE] [--out DIR]

Prints the mean wait, mean bounded slowdown and utilization of each policy; each run directory is kept
under DIR (default: runs/compare).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pmtwin

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_TRACE = Path(os.environ.get("PMTWIN_SHARED", ROOT.parent / "shared")) / "data" / "traces" / (
    "KTH-SP2-1996-2.1-cln.swf.gz"
)


def compare(trace: Path, out: Path) -> dict[str, dict[str, float]]:
    """Mean wait (s), mean bounded slowdown and utilization per policy."""
    figures = {}
    for policy in ("fcfs", "easy", "conservative"):
        result = pmtwin.replay(trace, policy=policy, out_dir=out / policy)
        summary = result.summary
        figures[policy] = {
            "mean_wait_s": summary["wait_s"]["mean"],
            "mean_bounded_slowdown": summary["bounded_slowdown"]["mean"],
            "utilization": summary["utilization"],
        }
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("trace", nargs="?", type=Path, default=DEFAULT_TRACE)
    parser.add_argument("--out", type=Path, default=Path("runs/compare"))
    args = parser.parse_args()
    for policy, row in compare(args.trace, args.out).items():
        print(
            f"{policy:13s} mean wait {row['mean_wait_s'] / 3600:7.2f} h  "
            f"mean bounded slowdown {row['mean_bounded_slowdown']:8.2f}  utilization {row['utilization']:.3f}"
        )


if __name__ == "__main__":
    main()
