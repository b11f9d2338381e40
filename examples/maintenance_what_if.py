"""What does a monthly maintenance window cost Perlmutter's users? A Slurm-mode what-if with the
library API.

    .venv/bin/python examples/maintenance_what_if.py [--days N] [--out DIR]

Simulates the default workload with Slurm features (QOS, NERSC priority, shared nodes, arrays,
dependencies) twice, without and with a 12-hour whole-system maintenance every four weeks, and prints
mean wait, utilization and node-hours charged for each. Run directories are kept under DIR.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pmtwin

DAY_S = 86_400.0


def what_if(days: float, out: Path) -> dict[str, dict[str, float]]:
    """Mean wait (h), utilization and total charge (node-hours) with and without maintenance."""
    maintenance = {"first_start_s": 14 * DAY_S, "period_s": 28 * DAY_S, "duration_s": 0.5 * DAY_S,
                   "count": max(int(days // 28), 1)}  # fmt: skip
    scenarios = {
        "no-maintenance": pmtwin.SchedulerConfig(priority="nersc"),
        "maintenance": pmtwin.SchedulerConfig.model_validate(
            {"priority": "nersc", "maintenance": maintenance}
        ),
    }
    figures = {}
    for name, config in scenarios.items():
        result = pmtwin.simulate(out_dir=out / name, days=days, scheduler=config, slurm_features=True)
        summary = result.summary
        figures[name] = {
            "mean_wait_h": summary["wait_s"]["mean"] / 3600,
            "utilization": summary["utilization"],
            "charged_node_hours": summary["scheduler"]["charges"]["total"],
        }
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=float, default=60.0)
    parser.add_argument("--out", type=Path, default=Path("runs/maintenance"))
    args = parser.parse_args()
    for name, row in what_if(args.days, args.out).items():
        print(f"{name:15s} mean wait {row['mean_wait_h']:7.2f} h  utilization {row['utilization']:.3f}  "
              f"charged {row['charged_node_hours']:,.0f} node-hours")


if __name__ == "__main__":
    main()
