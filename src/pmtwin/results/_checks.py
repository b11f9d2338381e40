"""Consistency checks between a job table, its schedule and the pools it ran in."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from pmtwin.sim.engine import Schedule
from pmtwin.workload.jobs import JobTable


def check_schedule(
    jobs: JobTable,
    schedule: Schedule,
    pool_names: Sequence[str],
    pool_capacity: NDArray[np.int64],
) -> None:
    """Raise ``ValueError`` unless every job ran in a known pool, with submit <= start <= end."""
    n = len(jobs)
    for name in ("start_s", "end_s", "pool"):
        got = len(getattr(schedule, name))
        if got != n:
            raise ValueError(f"schedule.{name} has {got} rows, the job table {n}")
    if len(pool_names) != len(pool_capacity):
        raise ValueError(f"{len(pool_names)} pool names but {len(pool_capacity)} pool capacities")
    if len(pool_capacity) == 0 or np.any(np.asarray(pool_capacity) <= 0):
        raise ValueError("every pool needs a capacity of at least one unit")
    if n == 0:
        return
    if not (np.all(np.isfinite(schedule.start_s)) and np.all(np.isfinite(schedule.end_s))):
        raise ValueError("schedule has a job without a finite start or end time")
    if np.any(schedule.start_s < jobs.submit_s) or np.any(schedule.end_s < schedule.start_s):
        raise ValueError("schedule has a job that starts before its submit time or ends before its start")
    if schedule.pool.min() < 0 or schedule.pool.max() >= len(pool_capacity):
        raise ValueError("schedule.pool holds an index outside the pools given")
    if jobs.partition.min() < 0 or jobs.partition.max() >= len(jobs.partition_names):
        raise ValueError("job table has a partition code outside its partition names")
