"""The engine's mutable state: plain arrays grouped in named tuples (the layout the compiled kernel reads).

Jobs are indexed in canonical order (submit time, job id). Pools are independent sets of identical units
(processors of an SWF trace, or the nodes of one partition/node type of a machine model).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

QUEUED_NOT_YET = 0
QUEUED = 1
RUNNING = 2
DONE = 3
NO_JOB = -1


class JobState(NamedTuple):
    """Per-job columns (canonical order)."""

    submit_s: NDArray[np.float64]
    requested_s: NDArray[np.float64]
    size: NDArray[np.int64]
    pool: NDArray[np.int64]
    work_left: NDArray[np.float64]  # work still to do at last_s (work units = seconds at rate 1)
    rate: NDArray[np.float64]  # work units per second while running
    last_s: NDArray[np.float64]  # when work_left was last brought up to date
    start_s: NDArray[np.float64]
    end_s: NDArray[np.float64]  # when the job finishes at its current rate
    status: NDArray[np.int8]
    qnext: NDArray[np.int64]  # queue links (per pool, doubly linked, queue order)
    qprev: NDArray[np.int64]
    node_off: NDArray[np.int64]  # nodes of job i are node_ids[node_off[i]:node_off[i + 1]]
    power_mw: NDArray[np.int64]  # power the job adds while it runs (docs/power.md 4a; 0 without a budget)


class PoolState(NamedTuple):
    """Per-pool columns, plus the offsets of each pool's slices in the shared buffers."""

    capacity: NDArray[np.int64]
    free: NDArray[np.int64]
    qhead: NDArray[np.int64]
    qtail: NDArray[np.int64]
    qlen: NDArray[np.int64]
    dirty: NDArray[np.int8]  # something happened in the pool at this timestamp: it gets a pass
    run_base: NDArray[np.int64]  # running jobs by estimated end live in run_*[run_lo:run_hi]
    run_end: NDArray[np.int64]  # end of the pool's buffer slice
    run_lo: NDArray[np.int64]
    run_hi: NDArray[np.int64]
    node_base: NDArray[np.int64]  # min-heap of free node ids in free_nodes[node_base:node_base+node_len]
    node_len: NDArray[np.int64]
    first_node: NDArray[np.int64]
    released: NDArray[np.int8]  # a job ended in the pool since its last pass


class Buffers(NamedTuple):
    """Shared buffers: running sets, the end-event heap, free nodes, assigned nodes, profile scratch."""

    run_key: NDArray[np.float64]  # estimated end (start + requested) of a running job
    run_job: NDArray[np.int64]
    heap_t: NDArray[np.float64]  # min-heap of (end time, job) over running jobs
    heap_j: NDArray[np.int64]
    heap_len: NDArray[np.int64]  # one element
    free_nodes: NDArray[np.int64]
    node_ids: NDArray[np.int64]
    prof_t: NDArray[np.float64]  # availability profile scratch (conservative backfilling)
    prof_free: NDArray[np.int64]
    next_submit: NDArray[np.int64]  # one element: the next job (canonical index) to arrive
    assign_nodes: NDArray[np.int8]  # one element: 1 to record node ids
    prof_meta: NDArray[np.int64]  # cached conservative profile: [pool or -1, steps, queued jobs reserved]
    clock_s: NDArray[np.float64]  # one element: the last timestamp processed (-inf before the first)
    power: NDArray[np.int64]  # [budget on, headroom mW, blocker, blocker's extra mW, stale] (_cnative.c)
    power_shadow_s: NDArray[np.float64]  # one element: the blocker's power shadow time
    grun_key: NDArray[np.float64]  # running jobs of all pools by estimated end (only with a budget)
    grun_job: NDArray[np.int64]
    grun_meta: NDArray[np.int64]  # [lo, hi, room] of the global running set


def new_state(
    submit_s: NDArray[np.float64],
    work_s: NDArray[np.float64],
    requested_s: NDArray[np.float64],
    size: NDArray[np.int64],
    pool: NDArray[np.int64],
    capacity: NDArray[np.int64],
    first_node: NDArray[np.int64] | None,
    power_mw: NDArray[np.int64] | None = None,
    power_budget_mw: int | None = None,
) -> tuple[JobState, PoolState, Buffers]:
    """Fresh state with every job not yet submitted; inputs must be in canonical order and valid.
    With ``first_node``, pool p's nodes are ids first_node[p] .. first_node[p] + capacity[p] - 1.
    With ``power_budget_mw``, running jobs' ``power_mw`` never add up to more (docs/power.md 4a)."""
    jobs = _job_state(submit_s, work_s, requested_s, size, pool, power_mw)
    jobs_per_pool = np.bincount(pool, minlength=len(capacity)).astype(np.int64)
    # A pool never runs more jobs than its capacity or than it has jobs; keep room on both sides.
    run_room = 2 * np.minimum(capacity, jobs_per_pool) + 2
    node_room = capacity if first_node is not None else np.zeros(len(capacity), np.int64)
    pools = _pool_state(capacity, run_room, node_room, first_node)
    return jobs, pools, _buffers(jobs, pools, run_room, first_node is not None, power_budget_mw)


def _job_state(
    submit_s: NDArray[np.float64],
    work_s: NDArray[np.float64],
    requested_s: NDArray[np.float64],
    size: NDArray[np.int64],
    pool: NDArray[np.int64],
    power_mw: NDArray[np.int64] | None,
) -> JobState:
    n = len(submit_s)
    node_off = np.zeros(n + 1, np.int64)
    np.cumsum(size, out=node_off[1:])
    return JobState(
        submit_s=submit_s,
        requested_s=requested_s,
        size=size,
        pool=pool,
        work_left=work_s.copy(),
        rate=np.ones(n, np.float64),
        last_s=np.full(n, np.nan),
        start_s=np.full(n, np.nan),
        end_s=np.full(n, np.nan),
        status=np.zeros(n, np.int8),
        qnext=np.full(n, NO_JOB, np.int64),
        qprev=np.full(n, NO_JOB, np.int64),
        node_off=node_off,
        power_mw=np.zeros(n, np.int64) if power_mw is None else power_mw,
    )


def _offsets(room: NDArray[np.int64]) -> NDArray[np.int64]:
    """Start of each slice when slices of ``room`` entries are laid end to end."""
    base = np.zeros(len(room), np.int64)
    np.cumsum(room[:-1], out=base[1:])
    return base


def _pool_state(
    capacity: NDArray[np.int64],
    run_room: NDArray[np.int64],
    node_room: NDArray[np.int64],
    first_node: NDArray[np.int64] | None,
) -> PoolState:
    n_pools = len(capacity)
    run_base = _offsets(run_room)
    middle = run_base + run_room // 2
    return PoolState(
        capacity=capacity.copy(),
        free=capacity.copy(),
        qhead=np.full(n_pools, NO_JOB, np.int64),
        qtail=np.full(n_pools, NO_JOB, np.int64),
        qlen=np.zeros(n_pools, np.int64),
        dirty=np.zeros(n_pools, np.int8),
        run_base=run_base,
        run_end=run_base + run_room,
        run_lo=middle.copy(),
        run_hi=middle.copy(),
        node_base=_offsets(node_room),
        node_len=node_room.copy(),
        first_node=first_node.copy() if first_node is not None else np.zeros(n_pools, np.int64),
        released=np.zeros(n_pools, np.int8),
    )


def _buffers(
    jobs: JobState, pools: PoolState, run_room: NDArray[np.int64], assign: bool, power_budget_mw: int | None
) -> Buffers:
    n = len(jobs.submit_s)
    # The global running set holds at most every pool's room; none is needed without a budget.
    global_room = 0 if power_budget_mw is None else int(run_room.sum())
    free_nodes = np.empty(int(pools.node_len.sum()), np.int64)
    for p in range(len(pools.capacity) if assign else 0):
        base = int(pools.node_base[p])
        # ascending ids already satisfy the min-heap property
        free_nodes[base : base + int(pools.capacity[p])] = np.arange(pools.capacity[p]) + pools.first_node[p]
    # A profile has a step per distinct estimated end of a running job and per queued job's reservation.
    profile_room = 2 * n + int(run_room.max(initial=0)) + 4
    return Buffers(
        run_key=np.zeros(int(run_room.sum()), np.float64),
        run_job=np.zeros(int(run_room.sum()), np.int64),
        heap_t=np.zeros(n + 1, np.float64),
        heap_j=np.zeros(n + 1, np.int64),
        heap_len=np.zeros(1, np.int64),
        free_nodes=free_nodes,
        node_ids=np.full(int(jobs.node_off[-1]) if assign else 0, -1, np.int64),
        prof_t=np.zeros(profile_room, np.float64),
        prof_free=np.zeros(profile_room, np.int64),
        next_submit=np.zeros(1, np.int64),
        assign_nodes=np.array([1 if assign else 0], np.int8),
        prof_meta=np.array([-1, 0, 0], np.int64),
        clock_s=np.array([-np.inf]),
        power=np.array([power_budget_mw is not None, power_budget_mw or 0, NO_JOB, 0, 1], np.int64),
        power_shadow_s=np.zeros(1, np.float64),
        grun_key=np.zeros(global_room, np.float64),
        grun_job=np.zeros(global_room, np.int64),
        grun_meta=np.array([global_room // 2, global_room // 2, global_room], np.int64),
    )
