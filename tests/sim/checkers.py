"""Workloads for the scheduler tests, and invariant checkers that read a schedule's output only.

Each checker takes the workload and the start / end times of its rows and returns a list of
violations (empty when the schedule is fine). The state at every pass is rebuilt from the output:
at event time t, a job is running if start < t < end and waiting if submit <= t <= start.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pmtwin.workload.jobs import JobTable
from tests.reference_sched import reference_starts

Times = Sequence[float]


@dataclass(frozen=True)
class Workload:
    """One pool of ``capacity`` units and its jobs (rows in any order)."""

    job_id: list[int]
    submit: list[float]
    run: list[float]
    requested: list[float]
    size: list[int]
    capacity: int

    def __len__(self) -> int:
        return len(self.job_id)

    def queue_order(self) -> list[int]:
        return sorted(range(len(self)), key=lambda i: (self.submit[i], self.job_id[i]))

    def table(self) -> JobTable:
        n = len(self)
        return JobTable(
            job_id=np.array(self.job_id, np.int64),
            submit_s=np.array(self.submit, np.float64),
            work_s=np.array(self.run, np.float64),
            requested_s=np.array(self.requested, np.float64),
            size=np.array(self.size, np.int64),
            partition=np.zeros(n, np.int32),
        )

    def reference(self, policy: str) -> tuple[list[float], list[float]]:
        """(start, end) of every row from the reference scheduler."""
        start = reference_starts(
            self.job_id, self.submit, self.run, self.requested, self.size, self.capacity, policy
        )
        return start, [s + r for s, r in zip(start, self.run, strict=True)]

    def describe(self, i: int) -> str:
        return (
            f"job {self.job_id[i]} (submit {self.submit[i]:g}, size {self.size[i]}, "
            f"run {self.run[i]:g}, requested {self.requested[i]:g})"
        )


def event_times(wl: Workload, end: Times) -> list[float]:
    """Timestamps at which a pass runs: every submit and every end."""
    return sorted(set(wl.submit) | set(end))


def check_times(wl: Workload, start: Times, end: Times) -> list[str]:
    """start >= submit and end = start + run for every job."""
    bad = []
    for i in range(len(wl)):
        if start[i] < wl.submit[i]:
            bad.append(f"{wl.describe(i)} starts at {start[i]:g}, before its submit")
        if end[i] != start[i] + wl.run[i]:
            bad.append(f"{wl.describe(i)} starts at {start[i]:g} but ends at {end[i]:g}")
    return bad


def check_capacity(wl: Workload, start: Times, end: Times) -> list[str]:
    """At every instant the running jobs use at most ``capacity`` units (a job holds [start, end))."""
    changes = sorted(
        [(end[i], 0, -wl.size[i]) for i in range(len(wl))]  # at equal times releases come first
        + [(start[i], 1, wl.size[i]) for i in range(len(wl))]
    )
    used = 0
    for k, (t, _, delta) in enumerate(changes):
        used += delta
        last_at_t = k + 1 == len(changes) or changes[k + 1][0] != t
        if last_at_t and used > wl.capacity:
            return [f"{used} units in use at t={t:g} (capacity {wl.capacity})"]
    return []


def check_fcfs_order(wl: Workload, start: Times) -> list[str]:
    """Jobs start in queue order (submit, id)."""
    order = wl.queue_order()
    return [
        f"{wl.describe(b)} starts at {start[b]:g}, before {wl.describe(a)} ahead of it ({start[a]:g})"
        for a, b in zip(order, order[1:], strict=False)
        if start[b] < start[a]
    ]


def _running(wl: Workload, start: Times, end: Times, t: float) -> list[int]:
    return [i for i in range(len(wl)) if start[i] < t < end[i]]


def _waiting(wl: Workload, start: Times, t: float) -> list[int]:
    return [i for i in wl.queue_order() if wl.submit[i] <= t <= start[i]]


def shadow_time(wl: Workload, start: Times, running: list[int], head: int, t: float) -> float | None:
    """The doc's S for ``head``: earliest estimated end at which enough units will be free."""
    free = wl.capacity - sum(wl.size[i] for i in running)
    if free >= wl.size[head]:
        return t  # the head fits now
    for e in sorted({start[i] + wl.requested[i] for i in running}):
        if free + sum(wl.size[i] for i in running if start[i] + wl.requested[i] <= e) >= wl.size[head]:
            return e
    return None


def check_easy_head(wl: Workload, start: Times, end: Times) -> list[str]:
    """Every job, at each pass where it is the head (first waiting job not started by the FCFS
    step), starts no later than the shadow time S computed for it at that pass."""
    bad = []
    for t in event_times(wl, end):
        waiting = _waiting(wl, start, t)
        blocked = [i for i in waiting if start[i] > t]
        if not blocked:
            continue
        head = blocked[0]
        fcfs_started = waiting[: waiting.index(head)]  # all of them start at t
        s = shadow_time(wl, start, _running(wl, start, end, t) + fcfs_started, head, t)
        if s is None or start[head] > s:
            bad.append(f"{wl.describe(head)} is head at t={t:g} with S={s} but starts at {start[head]:g}")
    return bad


def earliest_slot(
    busy: list[tuple[float, float, int]], t: float, duration: float, size: int, cap: int
) -> float:
    """Earliest time >= t at which ``size`` units are free for ``duration``, given busy intervals
    (begin, end, size) each holding its units on [begin, end)."""

    def used(p: float) -> int:
        return sum(sz for b, e, sz in busy if b <= p < e)

    for c in sorted({t} | {e for _, e, _ in busy if e > t}):
        points = [c] + [b for b, _, _ in busy if c < b < c + duration]
        if all(used(p) + size <= cap for p in points):
            return c
    raise AssertionError("no slot: job larger than the pool")


def check_conservative(wl: Workload, start: Times, end: Times) -> list[str]:
    """At every pass t, rebuild every waiting job's reservation in queue order (profile from
    running jobs' estimated ends, then the reservations of the jobs ahead). Check that
    - the jobs started at t are exactly those reserved at t: a job started at t with a later
      reservation would delay a job ahead of it, and a job reserved at t must start;
    - the first waiting job never starts later than a reservation it was given.
    """
    bad = []
    for t in event_times(wl, end):
        busy = [(start[i], start[i] + wl.requested[i], wl.size[i]) for i in _running(wl, start, end, t)]
        for pos, i in enumerate(_waiting(wl, start, t)):
            r = earliest_slot(busy, t, wl.requested[i], wl.size[i], wl.capacity)
            busy.append((r, r + wl.requested[i], wl.size[i]))
            if start[i] == t and r > t:
                bad.append(f"{wl.describe(i)} starts at t={t:g} though reserved at {r:g}")
            if start[i] > t and r == t:
                bad.append(f"{wl.describe(i)} is reserved at t={t:g} but starts at {start[i]:g}")
            if pos == 0 and start[i] > r:
                bad.append(
                    f"{wl.describe(i)} heads the queue at t={t:g}, reserved {r:g}, starts {start[i]:g}"
                )
    return bad


def check_all(wl: Workload, policy: str, start: Times, end: Times) -> list[str]:
    """Every invariant that applies to ``policy``."""
    bad = check_times(wl, start, end) + check_capacity(wl, start, end)
    if policy == "fcfs":
        bad += check_fcfs_order(wl, start)
    if policy == "easy":
        bad += check_easy_head(wl, start, end)
    if policy == "conservative":
        bad += check_conservative(wl, start, end)
    return bad


def first_difference(wl: Workload, policy: str, got: Times, want: Times) -> str | None:
    """The first job in queue order whose start differs from the reference, described."""
    diffs = [i for i in wl.queue_order() if got[i] != want[i]]
    if not diffs:
        return None
    i = diffs[0]
    return (
        f"{policy}: {len(diffs)} of {len(wl)} starts differ; first is {wl.describe(i)}: "
        f"engine {got[i]:g}, reference {want[i]:g} (capacity {wl.capacity})"
    )
