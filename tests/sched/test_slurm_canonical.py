"""Slurm mode with every option neutral is the canonical engine, job for job, on real traces; a full
Slurm-mode simulation is deterministic and keeps every job accounted for."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pmtwin import runs
from pmtwin.sched.config import SchedulerConfig, load_scheduler
from pmtwin.sched.qos import load_qos
from pmtwin.sched.slurm import SlurmPools, run_slurm
from pmtwin.sim.engine import schedule_single_pool
from pmtwin.workload.swf import read_swf

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("trace", ["KTH-SP2-1996-2.1-cln.swf.gz", "SDSC-SP2-1998-4.2-cln.swf.gz"])
@pytest.mark.parametrize("policy", ["fcfs", "easy", "conservative"])
def test_neutral_slurm_mode_is_the_canonical_schedule(traces_dir: Path, trace: str, policy: str) -> None:
    swf = read_swf(traces_dir / trace)
    canonical = schedule_single_pool(swf.jobs, swf.capacity, policy)
    pools = SlurmPools.uniform(("processors",), [swf.capacity], assign_nodes=False)
    config = SchedulerConfig.model_validate({"policy": policy, "qos_table": "single"})
    result = run_slurm(swf.jobs, np.zeros(len(swf.jobs), np.int32), pools, config, load_qos("single"))
    np.testing.assert_array_equal(result.start_s, canonical.start_s)
    np.testing.assert_array_equal(result.end_s, canonical.end_s)
    assert set(result.state.tolist()) == {0}


def test_every_feature_on_is_deterministic_and_accounts_for_every_job(tmp_path: Path) -> None:
    config = load_scheduler(ROOT / "benchmarks" / "all-features.toml")
    first = runs.simulate(out_dir=tmp_path / "a", days=20, seed=3, scheduler=config, slurm_features=True)
    runs.simulate(out_dir=tmp_path / "b", days=20, seed=3, scheduler=config, slurm_features=True)
    for name in ("jobs.parquet", "series.parquet", "summary.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    block = first.summary["scheduler"]
    states = block["states"]
    assert first.summary["jobs"] + block["not_run"]["total"] == sum(states.values())
    assert states["TIMEOUT"] > 0 and block["requeues"] > 0  # kills and preemption happened
    assert block["charges"]["total"] == pytest.approx(sum(block["charges"]["by_qos"].values()))
