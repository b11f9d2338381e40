"""Running a job table in Slurm mode on Perlmutter's pools, shared by the workload tests."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from pmtwin.machine.system import Machine
from pmtwin.sched.slurm import SlurmPools
from pmtwin.workload.jobs import JobTable


def slurm_pools(system: Machine) -> SlurmPools:
    """The machine's pools with each node type's cores, GPUs and memory, as runs.py builds them."""
    pools = system.pools()
    shapes = np.array([system.slurm_shape(system.node_type(p.node_type)) for p in pools], np.int64)
    return SlurmPools(
        tuple(p.name for p in pools), np.array([p.node_count for p in pools], np.int64),
        np.array([p.first_node_id for p in pools], np.int64), shapes[:, 0], shapes[:, 1],
        np.maximum(shapes[:, 2], 1), np.zeros(len(pools)),
    )  # fmt: skip


def pool_of_jobs(system: Machine, jobs: JobTable) -> NDArray[np.int32]:
    """Each job's pool, from its partition and constraint."""
    return np.array(
        [system.pool_for(jobs.partition_names[p], jobs.constraint_names[c])
         for p, c in zip(jobs.partition.tolist(), jobs.constraint.tolist(), strict=True)],
        np.int32,
    ).reshape(-1)  # fmt: skip
