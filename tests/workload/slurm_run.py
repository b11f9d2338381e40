"""Perlmutter's pools for Slurm mode, shared by the workload tests."""

from __future__ import annotations

import numpy as np

from pmtwin.machine.system import Machine
from pmtwin.sched.slurm import SlurmPools


def slurm_pools(system: Machine) -> SlurmPools:
    """The machine's pools with each node type's cores, GPUs and memory, as runs.py builds them."""
    pools = system.pools()
    shapes = np.array([system.slurm_shape(system.node_type(p.node_type)) for p in pools], np.int64)
    return SlurmPools(
        tuple(p.name for p in pools), np.array([p.node_count for p in pools], np.int64),
        np.array([p.first_node_id for p in pools], np.int64), shapes[:, 0], shapes[:, 1],
        np.maximum(shapes[:, 2], 1), np.zeros(len(pools)),
    )  # fmt: skip
