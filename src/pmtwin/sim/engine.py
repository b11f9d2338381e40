"""Public engine API (implementation in progress)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from pmtwin.workload.jobs import JobTable

POLICIES = ("fcfs", "easy", "conservative")


@dataclass(frozen=True)
class Schedule:
    """When and where each job ran; arrays are aligned with the rows of the JobTable given."""

    start_s: NDArray[np.float64]
    end_s: NDArray[np.float64]
    pool: NDArray[np.int32]
    node_offsets: NDArray[np.int64] | None = None
    node_ids: NDArray[np.int64] | None = None


def run_schedule(
    jobs: JobTable,
    pool_of_job: NDArray[np.int32],
    pool_capacity: NDArray[np.int64],
    policy: str,
    *,
    pool_first_node: NDArray[np.int64] | None = None,
) -> Schedule:
    raise NotImplementedError


def schedule_single_pool(jobs: JobTable, capacity: int, policy: str) -> Schedule:
    """All jobs in one pool of ``capacity`` identical units (processors or nodes)."""
    pools = np.zeros(len(jobs), np.int32)
    return run_schedule(jobs, pools, np.array([capacity], np.int64), policy)
