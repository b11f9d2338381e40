"""What do power caps cost Perlmutter's users, and what do they save? A what-if with the library API.

    .venv/bin/python examples/power_cap_what_if.py [--days N] [--out DIR]

Simulates the default workload four times: uncapped, under a system power budget, with every GPU
capped at 200 W, and with both (docs/power.md section 4). For each it prints the mean wait, the mean
and peak system power, and the energy, both the system's and that of the GPU jobs alone. A budget
trades waits for a lower peak. A GPU cap slows GPU jobs, so the same work then takes less power but
longer. Run directories are kept under DIR.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

import pmtwin

J_PER_MWH = 3.6e9


def what_if(days: float, out: Path) -> dict[str, dict[str, float]]:
    """Mean wait (h), mean and peak system power (MW), system and GPU-job energy (MWh) per scenario."""
    scenarios = {
        "uncapped": pmtwin.PowerOptions(),
        "budget-4.5MW": pmtwin.PowerOptions(power_cap_mw=4.5),
        "gpu-200W": pmtwin.PowerOptions(gpu_power_cap_w=200.0),
        "both": pmtwin.PowerOptions(power_cap_mw=4.5, gpu_power_cap_w=200.0),
    }
    figures = {}
    for name, options in scenarios.items():
        result = pmtwin.simulate(out_dir=out / name, days=days, power=options)
        power = result.summary["power"]
        jobs = pq.read_table(out / name / "jobs.parquet", columns=["partition", "energy_j"]).to_pydict()
        gpu_j = sum(e for p, e in zip(jobs["partition"], jobs["energy_j"], strict=True) if p == "gpu")
        figures[name] = {
            "mean_wait_h": result.summary["wait_s"]["mean"] / 3600,
            "mean_mw": power["mean_system_w"] / 1e6,
            "peak_mw": power["peak_system_w"] / 1e6,
            "energy_mwh": power["energy_system_mwh"],
            "gpu_jobs_mwh": float(np.float64(gpu_j)) / J_PER_MWH,
        }
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=float, default=30.0)
    parser.add_argument("--out", type=Path, default=Path("runs/power-caps"))
    args = parser.parse_args()
    for name, row in what_if(args.days, args.out).items():
        print(f"{name:13s} mean wait {row['mean_wait_h']:6.2f} h  power mean {row['mean_mw']:.3f} MW  "
              f"peak {row['peak_mw']:.3f} MW  energy {row['energy_mwh']:,.1f} MWh  "
              f"GPU jobs {row['gpu_jobs_mwh']:,.1f} MWh")  # fmt: skip


if __name__ == "__main__":
    main()
