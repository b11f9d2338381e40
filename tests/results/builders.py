"""Small hand-made runs and a hypothesis strategy for random ones."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st
from numpy.typing import NDArray

from pmtwin.sim.engine import Schedule
from pmtwin.workload.jobs import JobTable


@dataclass(frozen=True)
class Run:
    jobs: JobTable
    schedule: Schedule
    pool_names: tuple[str, ...]
    pool_capacity: NDArray[np.int64]


def make_run(
    submit_s: list[float],
    start_s: list[float],
    end_s: list[float],
    size: list[int],
    *,
    pool: list[int] | None = None,
    pool_names: tuple[str, ...] = ("all",),
    pool_capacity: tuple[int, ...] = (4,),
    partition: list[int] | None = None,
    partition_names: tuple[str, ...] = ("default",),
    nodes: list[list[int]] | None = None,
) -> Run:
    n = len(submit_s)
    run_s = np.asarray(end_s, np.float64) - np.asarray(start_s, np.float64)
    jobs = JobTable(
        job_id=np.arange(1, n + 1, dtype=np.int64),
        submit_s=np.asarray(submit_s, np.float64),
        work_s=run_s,
        requested_s=run_s + 60.0,
        size=np.asarray(size, np.int64),
        partition=np.asarray(partition if partition is not None else [0] * n, np.int32),
        partition_names=partition_names,
    )
    offsets = ids = None
    if nodes is not None:
        offsets = np.concatenate([[0], np.cumsum([len(x) for x in nodes])]).astype(np.int64)
        ids = np.asarray([i for x in nodes for i in x], np.int64)
    schedule = Schedule(
        start_s=np.asarray(start_s, np.float64),
        end_s=np.asarray(end_s, np.float64),
        pool=np.asarray(pool if pool is not None else [0] * n, np.int32),
        node_offsets=offsets,
        node_ids=ids,
    )
    return Run(jobs, schedule, pool_names, np.asarray(pool_capacity, np.int64))


def tiny_run() -> Run:
    """Four jobs on one pool of 4 units, worked by hand in the tests.

    | job | submit | start | end | size | wait | run | bounded slowdown |
    |  1  |    0   |    0  | 100 |   2  |   0  | 100 | 1                |
    |  2  |   10   |   10  |  60 |   2  |   0  |  50 | 1                |
    |  3  |   20   |   60  |  65 |   2  |  40  |   5 | 45 / 10 = 4.5    |
    |  4  |   30   |  100  | 200 |   4  |  70  | 100 | 170 / 100 = 1.7  |

    A second, empty pool "gpu" of 8 units; job 3 is in partition "debug", the others in "regular".
    """
    return make_run(
        submit_s=[0, 10, 20, 30],
        start_s=[0, 10, 60, 100],
        end_s=[100, 60, 65, 200],
        size=[2, 2, 2, 4],
        pool_names=("cpu", "gpu"),
        pool_capacity=(4, 8),
        partition=[0, 0, 1, 0],
        partition_names=("regular", "debug"),
        nodes=[[0, 1], [2, 3], [0, 1], [0, 1, 2, 3]],
    )


@st.composite
def random_runs(draw: st.DrawFn, max_jobs: int = 40) -> Run:
    """Runs with few distinct times (many ties), quarter-second resolution, 1 to 3 pools."""
    n_pools = draw(st.integers(1, 3))
    n = draw(st.integers(1, max_jobs))
    quarters = st.integers(0, 80)
    submit = [0.25 * draw(quarters) for _ in range(n)]
    start = [s + 0.25 * draw(st.integers(0, 40)) for s in submit]
    end = [s + 0.25 * draw(st.integers(0, 60)) for s in start]
    return make_run(
        submit,
        start,
        end,
        size=[draw(st.integers(1, 5)) for _ in range(n)],
        pool=[draw(st.integers(0, n_pools - 1)) for _ in range(n)],
        pool_names=tuple(f"p{k}" for k in range(n_pools)),
        pool_capacity=tuple(draw(st.integers(1, 12)) for _ in range(n_pools)),
    )
