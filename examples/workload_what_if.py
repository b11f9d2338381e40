"""What if Perlmutter's load grows, or CPU work moves to GPUs? Workload what-ifs with the library API.

    .venv/bin/python examples/workload_what_if.py [--days N] [--out DIR]

Simulates the calibrated Perlmutter workload (docs/workloads.md) three times with the same seed: as it
is; with 20% more jobs (``scale_load``: copies moved by whole weeks, DESI's realtime jobs left alone);
and with 30% of the CPU partition's jobs moved to GPU nodes, four times faster (``shift_to_gpu``, sizes
capped at the 1,536 40 GB nodes). Prints jobs, mean wait per partition, utilization of the 40 GB GPU
nodes and of the CPU nodes, and the facility energy, for each. Run directories are kept under DIR.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pmtwin

SCENARIOS: dict[str, list[dict[str, Any]]] = {
    "today": [],
    "load+20%": [{"kind": "scale_load", "factor": 1.2, "exclude_qos": ["realtime"]}],
    "cpu->gpu 30%": [{"kind": "shift_to_gpu", "share": 0.3, "speedup": 4.0, "max_size": 1536}],
}


def what_if(days: float, out: Path) -> dict[str, dict[str, float]]:
    """Per scenario: jobs, mean wait (h) per partition, utilization of the gpu and cpu pools, facility
    energy (MWh)."""
    base = pmtwin.load_workload_model("perlmutter")
    figures = {}
    for name, transforms in SCENARIOS.items():
        model = base.model_copy(update={"transforms": transforms})
        result = pmtwin.simulate(out_dir=out / name.replace(" ", "_"), days=days, workload=model)
        summary = result.summary
        row = {"jobs": float(summary["jobs"]), "facility_mwh": summary["power"]["energy_facility_mwh"]}
        for partition in ("gpu", "cpu"):
            row[f"{partition}_wait_h"] = summary["partitions"][partition]["wait_s"]["mean"] / 3600
            row[f"{partition}_utilization"] = summary["pools"][partition]["utilization"]
        figures[name] = row
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=float, default=28.0)
    parser.add_argument("--out", type=Path, default=Path("runs/workload-what-if"))
    args = parser.parse_args()
    for name, row in what_if(args.days, args.out).items():
        print(f"{name:13s} jobs {row['jobs']:9,.0f}  "
              f"gpu wait {row['gpu_wait_h']:6.2f} h util {row['gpu_utilization']:.3f}  "
              f"cpu wait {row['cpu_wait_h']:6.2f} h util {row['cpu_utilization']:.3f}  "
              f"facility {row['facility_mwh']:,.0f} MWh")  # fmt: skip


if __name__ == "__main__":
    main()
