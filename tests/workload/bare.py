"""A generated Perlmutter workload stripped of its QOS and shared requests: the input the Slurm layer
(workload/slurm_mix.py) assigns them to, as it does for a model without QOS."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from pmtwin.machine import load_system
from pmtwin.workload.generate import generate_workload
from pmtwin.workload.jobs import JobTable
from pmtwin.workload.model import Desi, load_workload_model

GPUS_PER_GPU_NODE = 4


def bare_workload(days: float, seed: int = 0) -> JobTable:
    """``days`` of the Perlmutter model without DESI jobs, QOS, accounts or shared requests."""
    model = load_workload_model("perlmutter")
    model = model.model_copy(update={"desi": Desi()})
    jobs = generate_workload(model, days=days, seed=seed, machine=load_system("perlmutter"))
    n = len(jobs)
    gpu = np.asarray(jobs.partition_names)[jobs.partition] == "gpu"
    return replace(
        jobs,
        qos=np.zeros(n, np.int32),
        qos_names=("",),
        group=np.full(n, -1, np.int64),
        cores=np.zeros(n, np.int64),
        mem_mb=np.zeros(n, np.int64),
        gpus=np.where(gpu, jobs.size * GPUS_PER_GPU_NODE, 0),
    )
