"""pmtwin: a digital twin of NERSC's Perlmutter supercomputer.

The flat public API; each name is imported on first use, so ``import pmtwin`` stays cheap.

>>> import pmtwin
>>> machine = pmtwin.load_system("perlmutter")
>>> [pool.name for pool in machine.pools()]
['gpu', 'gpu:hbm80g', 'cpu']
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_HOMES = {
    "Engine": "pmtwin.sim.engine",
    "JobTable": "pmtwin.workload.jobs",
    "Machine": "pmtwin.machine",
    "PowerOptions": "pmtwin.runs_power",
    "RunResult": "pmtwin.runs",
    "Schedule": "pmtwin.sim.engine",
    "SchedulerConfig": "pmtwin.sched.config",
    "SlurmPools": "pmtwin.sched.slurm",
    "SlurmResult": "pmtwin.sched.slurm",
    "load_power_classes": "pmtwin.physics.power",
    "load_qos": "pmtwin.sched.qos",
    "load_scheduler": "pmtwin.sched.config",
    "machine_from_slurm_conf": "pmtwin.machine.slurm_conf",
    "power_overview": "pmtwin.physics.power",
    "Prediction": "pmtwin.perf.prediction",
    "predict": "pmtwin.perf.apps",
    "predict_hpl": "pmtwin.perf.hpl",
    "predict_train": "pmtwin.perf.training",
    "predict_desi": "pmtwin.perf.desi",
    "headline": "pmtwin.perf.headline",
    "read_app_jobs": "pmtwin.perf.app_jobs",
    "run_calibration": "pmtwin.perf.calibrate",
    "read_alibaba": "pmtwin.workload.alibaba",
    "run_slurm": "pmtwin.sched.slurm",
    "generate_workload": "pmtwin.workload.generate",
    "load_workload_model": "pmtwin.workload.model",
    "load_system": "pmtwin.machine",
    "read_jobs_parquet": "pmtwin.workload.parquet_io",
    "read_sacct": "pmtwin.workload.sacct",
    "read_swf": "pmtwin.workload.swf",
    "replay": "pmtwin.runs",
    "run_schedule": "pmtwin.sim.engine",
    "simulate": "pmtwin.runs",
    "validation_rows": "pmtwin.physics.validation",
}

__all__ = ["__version__", *sorted(_HOMES)]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'pmtwin' has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
