"""What did the Slingshot-11 upgrade buy? Jobs driven by application models, with the library API.

    .venv/bin/python examples/network_upgrade_what_if.py [--out DIR]

One workload of model-driven jobs (docs/performance.md section 6): a full-machine HPL run, MLPerf HPC
CosmoFlow and DeepCAM trainings at their published sizes, and a 7-billion-parameter LLM on 64 nodes.
The same file replays on Perlmutter as of 2021 (two 100 Gb/s Slingshot-10 NICs per GPU node) and as
today (four 200 Gb/s Slingshot-11 NICs); each job's run time is predicted for the machine it runs on.
It prints every job's run time on both machines, then each run's makespan and the energy the jobs
add above idle (docs/power.md).
"""

from __future__ import annotations

import argparse
import tomllib
from pathlib import Path

import pyarrow.parquet as pq

import pmtwin

WORKLOAD = """
[[jobs]]
app = "hpl"
nodes = 1536

[[jobs]]
app = "train"
nodes = 256
params = { model = "cosmoflow" }

[[jobs]]
app = "train"
nodes = 512
params = { model = "deepcam" }

[[jobs]]
app = "train"
nodes = 64
params = { model = "llm", params_b = 7.0, tokens_b = 20.0, tp = 4, pp = 2 }
"""
MACHINES = ("perlmutter-2021", "perlmutter")


def what_if(out: Path) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, float]]]:
    """Run time (h) per job and machine; makespan (h) and the energy the jobs add (MWh) per machine."""
    out.mkdir(parents=True, exist_ok=True)
    workload = out / "jobs.toml"
    workload.write_text(WORKLOAD, encoding="utf-8")
    entries = tomllib.loads(WORKLOAD)["jobs"]
    names = [f"{job['app']}:{job.get('params', {}).get('model', job['app'])}" for job in entries]
    run_h: dict[str, dict[str, float]] = {}
    totals: dict[str, dict[str, float]] = {}
    for machine in MACHINES:
        result = pmtwin.replay(workload, out_dir=out / machine, machine=machine)
        jobs = pq.read_table(out / machine / "jobs.parquet").to_pydict()
        for name, start, end in zip(names, jobs["start_s"], jobs["end_s"], strict=True):
            run_h.setdefault(name, {})[machine] = (end - start) / 3600
        power = result.summary["power"]
        totals[machine] = {
            "makespan_h": result.summary["makespan_s"] / 3600,
            "jobs_energy_mwh": power["energy_jobs_mwh"],
        }
    return run_h, totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("runs/network-upgrade"))
    args = parser.parse_args()
    run_h, totals = what_if(args.out)
    for name, hours in run_h.items():
        print(f"{name:18s} " + "  ".join(f"{m} {hours[m]:8.3f} h" for m in MACHINES))
    for machine, row in totals.items():
        print(f"{machine:18s} makespan {row['makespan_h']:8.3f} h  "
              f"jobs' energy {row['jobs_energy_mwh']:8.3f} MWh")  # fmt: skip


if __name__ == "__main__":
    main()
