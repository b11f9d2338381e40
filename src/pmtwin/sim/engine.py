"""The event engine: jobs progress by remaining work / rate through a compiled event loop.

``Engine`` holds the state and advances it; ``run_schedule`` is the one-call form used by replay and
simulate. Trace replay is the special case rate = 1, work = recorded run time.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from pmtwin import _native
from pmtwin.sim._state import DONE, RUNNING, Buffers, JobState, PoolState, new_state
from pmtwin.workload.jobs import JobTable

POLICIES: dict[str, int] = {"fcfs": 0, "easy": 1, "conservative": 2}
"""Policy names and their codes in the compiled engine (``_cnative.c``)."""
FINISHED = 1
EXACT_TIME_LIMIT_S = 2.0**53
"""Every simulated time stays below this bound (checked up front), so whole seconds stay exact."""


class EngineInputError(ValueError):
    """The jobs cannot be simulated as given (the message says which job and why)."""


@dataclass(frozen=True)
class Schedule:
    """When and where each job ran; arrays are aligned with the rows of the JobTable given."""

    start_s: NDArray[np.float64]
    end_s: NDArray[np.float64]
    pool: NDArray[np.int32]
    node_offsets: NDArray[np.int64] | None = None
    node_ids: NDArray[np.int64] | None = None


@dataclass(frozen=True)
class PoolLevels:
    """Levels of each pool at one moment of a run in progress (arrays aligned with the pools)."""

    capacity: NDArray[np.int64]
    busy_units: NDArray[np.int64]
    queued_jobs: NDArray[np.int64]
    running_jobs: NDArray[np.int64]
    finished_jobs: int = 0
    """Jobs of all pools that have ended (with ``total_jobs``, the share of the run done)."""
    total_jobs: int = 0
    names: tuple[str, ...] = ()
    """The pools' names, where the caller knows them (``pmtwin.runs`` does)."""


LevelsFn = Callable[[], PoolLevels]
"""Reads the current pool levels (O(jobs): call it only when the levels are wanted)."""
ProgressFn = Callable[[float, LevelsFn], None]
"""Called as a run advances with the simulated time reached and a reader of the pool levels then."""


class Engine:
    """A simulation in progress over one job table and a set of independent pools.

    Jobs are kept in canonical order (submit time, job id; stable). ``run`` advances the event loop;
    ``set_rates`` changes running jobs' rates (progress is brought up to date and their end events
    rescheduled), which is how power caps or contention slow a job down.
    """

    def __init__(
        self,
        jobs: JobTable,
        pool_of_job: NDArray[np.int32],
        pool_capacity: NDArray[np.int64],
        policy: str,
        *,
        pool_first_node: NDArray[np.int64] | None = None,
        power_mw: NDArray[np.int64] | None = None,
        power_budget_mw: int | None = None,
    ) -> None:
        if policy not in POLICIES:
            raise EngineInputError(f"unknown policy {policy!r}; choose one of {', '.join(POLICIES)}")
        self.policy = policy
        self.n_jobs = len(jobs)
        capacity = np.ascontiguousarray(pool_capacity, np.int64)
        pools = np.ascontiguousarray(pool_of_job, np.int64)
        _validate(jobs, pools, capacity)
        power = _validate_power(jobs, policy, power_mw, power_budget_mw)
        self.order = jobs.canonical_order()
        first = None if pool_first_node is None else np.ascontiguousarray(pool_first_node, np.int64)
        self.jobs, self.pools, self.buffers = new_state(
            np.ascontiguousarray(jobs.submit_s[self.order]),
            np.ascontiguousarray(jobs.work_s[self.order]),
            np.ascontiguousarray(jobs.requested_s[self.order]),
            np.ascontiguousarray(jobs.size[self.order]),
            np.ascontiguousarray(pools[self.order]),
            capacity,
            first,
            None if power is None else np.ascontiguousarray(power[self.order]),
            power_budget_mw,
        )
        self.finished = self.n_jobs == 0
        self._c_state = _c_state(self.jobs, self.pools, self.buffers)

    def run(self, until_s: float = math.inf) -> bool:
        """Process every event at or before ``until_s``; True when all jobs have finished."""
        if not self.finished:
            status = _native.library().pm_advance(self._c_state, POLICIES[self.policy], until_s)
            self.finished = status == FINISHED
        return self.finished

    def levels(self) -> PoolLevels:
        """Busy units, queued and running jobs of each pool after the last timestamp processed."""
        capacity = self.pools.capacity.copy()
        running = self.jobs.status == RUNNING
        return PoolLevels(
            capacity=capacity,
            busy_units=capacity - self.pools.free,
            queued_jobs=self.pools.qlen.copy(),
            running_jobs=np.bincount(self.jobs.pool[running], minlength=len(capacity)).astype(np.int64),
            finished_jobs=int(np.count_nonzero(self.jobs.status == DONE)),
            total_jobs=self.n_jobs,
        )

    def next_event_s(self) -> float:
        """When the next event (an arrival or an end) happens; inf when none is left."""
        i = int(self.buffers.next_submit[0])
        arrival = self.jobs.submit_s[i] if i < self.n_jobs else math.inf
        end = self.buffers.heap_t[0] if self.buffers.heap_len[0] > 0 else math.inf
        return float(min(arrival, end))

    def set_rates(self, jobs: NDArray[np.int64], rates: NDArray[np.float64], now_s: float) -> None:
        """Give running jobs (canonical indices) new rates from ``now_s`` on; ``now_s`` lies between the
        last timestamp processed and the next event (both included). A job slowed down past its
        estimate keeps running: the policies then treat it as ending at any moment."""
        state = self.jobs
        jobs = np.asarray(jobs, np.int64)
        rates = np.asarray(rates, np.float64)
        if jobs.shape != rates.shape or jobs.ndim != 1:
            raise EngineInputError("set_rates: give one rate per job")
        if np.any((jobs < 0) | (jobs >= self.n_jobs)) or np.any(state.status[jobs] != RUNNING):
            raise EngineInputError("set_rates: every job must be running")
        if not np.all(np.isfinite(rates) & (rates > 0)):
            raise EngineInputError("set_rates: rates must be positive and finite")
        if not self.buffers.clock_s[0] <= now_s <= self.next_event_s():
            raise EngineInputError(
                f"set_rates: now_s={now_s} is outside [{self.buffers.clock_s[0]}, {self.next_event_s()}], "
                "the time between the last event processed and the next"
            )
        state.work_left[jobs] -= (now_s - state.last_s[jobs]) * state.rate[jobs]
        state.last_s[jobs] = now_s
        state.rate[jobs] = rates
        state.end_s[jobs] = now_s + state.work_left[jobs] / rates
        self._rebuild_end_heap()
        self.buffers.prof_meta[0] = -1  # the next conservative pass recomputes reservations

    def _rebuild_end_heap(self) -> None:
        running = np.flatnonzero(self.jobs.status == RUNNING)
        ends = self.jobs.end_s[running]
        order = np.lexsort((running, ends))  # a sorted array is a valid min-heap
        count = len(running)
        self.buffers.heap_t[:count] = ends[order]
        self.buffers.heap_j[:count] = running[order]
        self.buffers.heap_len[0] = count

    def schedule(self) -> Schedule:
        """The finished schedule, aligned with the rows of the job table given."""
        if not self.finished or np.any(self.jobs.status != DONE):
            raise RuntimeError("the simulation has not finished")
        rank = np.empty(self.n_jobs, np.int64)
        rank[self.order] = np.arange(self.n_jobs)
        start = self.jobs.start_s[rank]
        end = self.jobs.end_s[rank]
        pool = self.jobs.pool[rank].astype(np.int32)
        if not self.buffers.assign_nodes[0]:
            return Schedule(start, end, pool)
        size = self.jobs.size[rank]
        offsets = np.zeros(self.n_jobs + 1, np.int64)
        np.cumsum(size, out=offsets[1:])
        source_start = self.jobs.node_off[rank] - offsets[:-1]
        gather = np.repeat(source_start, size) + np.arange(offsets[-1])
        return Schedule(start, end, pool, offsets, self.buffers.node_ids[gather])


def _c_state(jobs: JobState, pools: PoolState, buffers: Buffers) -> _native.EngineState:
    """The C view of the state: a pointer per array (the arrays stay owned by the named tuples)."""
    arrays = {**jobs._asdict(), **pools._asdict(), **buffers._asdict()}
    pointers = {name: _native.pointer(arrays[name], dtype) for name, dtype in _native.ENGINE_FIELDS}
    return _native.EngineState(
        **pointers,
        n_jobs=len(jobs.submit_s),
        n_pools=len(pools.capacity),
        assign_nodes=int(buffers.assign_nodes[0]),
    )


def run_schedule(
    jobs: JobTable,
    pool_of_job: NDArray[np.int32],
    pool_capacity: NDArray[np.int64],
    policy: str,
    *,
    pool_first_node: NDArray[np.int64] | None = None,
    progress: ProgressFn | None = None,
    progress_steps: int = 100,
    power_mw: NDArray[np.int64] | None = None,
    power_budget_mw: int | None = None,
) -> Schedule:
    """Simulate ``jobs`` to completion. With ``pool_first_node``, pools are node ranges and each job gets
    node ids (the lowest free ids of its pool); without, pools are counts of processors.
    ``progress`` (optional) is called ``progress_steps`` times with the simulated time reached and a
    reader of the pool levels then.
    With ``power_budget_mw``, the jobs' ``power_mw`` (aligned with the rows of ``jobs``) running at once
    never add up to more (docs/power.md 4a; fcfs and easy only)."""
    engine = Engine(
        jobs, pool_of_job, pool_capacity, policy, pool_first_node=pool_first_node, power_mw=power_mw,
        power_budget_mw=power_budget_mw,
    )  # fmt: skip
    if progress is not None and engine.n_jobs > 0:
        first = float(jobs.submit_s.min())
        horizon = float(jobs.submit_s.max() + jobs.requested_s.max())
        for step in range(1, progress_steps):
            t = first + (horizon - first) * step / progress_steps
            if engine.run(t):
                break
            progress(t, engine.levels)
    engine.run()
    return engine.schedule()


def schedule_single_pool(jobs: JobTable, capacity: int, policy: str) -> Schedule:
    """All jobs in one pool of ``capacity`` identical units (processors or nodes)."""
    pools = np.zeros(len(jobs), np.int32)
    return run_schedule(jobs, pools, np.array([capacity], np.int64), policy)


def _validate(jobs: JobTable, pools: NDArray[np.int64], capacity: NDArray[np.int64]) -> None:
    if len(pools) != len(jobs):
        raise EngineInputError(f"pool_of_job has {len(pools)} entries for {len(jobs)} jobs")
    if len(capacity) == 0 or np.any(capacity <= 0):
        raise EngineInputError("every pool needs a positive capacity")
    checks = (
        (pools < 0, "its pool index is negative"),
        (pools >= len(capacity), "its pool index is out of range"),
        (jobs.size <= 0, "its size is not positive"),
        (~np.isfinite(jobs.submit_s), "its submit time is not finite"),
        (~(jobs.work_s > 0) | ~np.isfinite(jobs.work_s), "its work (run time) is not positive and finite"),
        (
            ~(jobs.requested_s >= jobs.work_s) | ~np.isfinite(jobs.requested_s),
            "its requested time is below its run time or not finite",
        ),
    )
    for bad, why in checks:
        if np.any(bad):
            row = int(np.argmax(bad))
            raise EngineInputError(f"job {int(jobs.job_id[row])} (row {row}) cannot be simulated: {why}")
    if len(jobs) and float(np.abs(jobs.submit_s).max() + jobs.requested_s.sum()) >= EXACT_TIME_LIMIT_S:
        raise EngineInputError(
            "submit times plus the sum of requested times reach 2**53 s, beyond which times in seconds "
            "are no longer exact"
        )
    too_big = jobs.size > capacity[np.clip(pools, 0, len(capacity) - 1)]
    if np.any(too_big):
        row = int(np.argmax(too_big))
        raise EngineInputError(
            f"job {int(jobs.job_id[row])} (row {row}) asks for {int(jobs.size[row])} units, more than its "
            f"pool's capacity {int(capacity[pools[row]])}"
        )


def _validate_power(
    jobs: JobTable, policy: str, power_mw: NDArray[np.int64] | None, budget_mw: int | None
) -> NDArray[np.int64] | None:
    """The jobs' power as int64 when a budget applies; None without one."""
    if budget_mw is None:
        if power_mw is not None:
            raise EngineInputError("power_mw is given without power_budget_mw")
        return None
    if policy == "conservative":
        raise EngineInputError(
            "a power budget works with the fcfs and easy policies (conservative reservations would need "
            "a power profile)"
        )
    if budget_mw < 0:
        raise EngineInputError(f"the power budget is negative ({budget_mw} mW)")
    power = np.zeros(len(jobs), np.int64) if power_mw is None else np.asarray(power_mw, np.int64)
    if power.shape != (len(jobs),):
        raise EngineInputError(f"power_mw has {power.size} entries for {len(jobs)} jobs")
    bad = (power < 0) | (power > budget_mw)
    if np.any(bad):
        row = int(np.argmax(bad))
        raise EngineInputError(
            f"job {int(jobs.job_id[row])} (row {row}) needs {int(power[row]) / 1e6:,.3f} kW, "
            + (
                "a negative power"
                if power[row] < 0
                else f"more than the whole budget ({budget_mw / 1e6:,.3f} kW)"
            )
        )
    return power
