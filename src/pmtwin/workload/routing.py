"""Jobs onto a machine's pools: the pool of each job, and processor sizes as whole nodes."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from pmtwin.workload.jobs import JobTable

if TYPE_CHECKING:
    from pmtwin.machine.system import Machine, Pool


def pool_of_jobs(jobs: JobTable, machine: Machine) -> NDArray[np.int32]:
    """Each job's index in ``machine.pools()``, from its partition and constraint (``Machine.pool_for``,
    resolved once per distinct pair)."""
    width = len(jobs.constraint_names)
    pairs = jobs.partition.astype(np.int64) * width + jobs.constraint
    distinct, inverse = np.unique(pairs, return_inverse=True)
    targets = np.array(
        [
            machine.pool_for(jobs.partition_names[int(c) // width], jobs.constraint_names[int(c) % width])
            for c in distinct
        ],
        np.int32,
    )
    routed: NDArray[np.int32] = targets[inverse.reshape(-1)]
    return routed


def processors_to_nodes(jobs: JobTable, machine: Machine, partition: str) -> tuple[JobTable, Pool, int]:
    """A processor trace in one partition of ``machine``: every job in ``partition``, its size
    ceil(processors / cores per node) of the partition's default node type, capped at that pool's nodes.
    Returns the jobs, the pool and how many sizes were capped."""
    pool = machine.pools()[machine.pool_for(partition)]
    cores = machine.slurm_shape(machine.node_type(pool.node_type))[0]
    nodes = -(-jobs.size // cores)
    capped = int(np.count_nonzero(nodes > pool.node_count))
    mapped = replace(
        jobs,
        size=np.minimum(nodes, pool.node_count),
        partition=np.zeros(len(jobs), np.int32),
        partition_names=(partition,),
    )
    return mapped, pool, capped
