"""Reference scheduler: one pool of C identical units, written literally from the scheduling semantics.

This is the independent cross-check of ``pmtwin.sim.engine``. It favours clarity over speed: plain
lists, a heap of actual end times, one scheduling pass per event timestamp.

Event rule: at each timestamp t, (1) jobs whose end time is t release their units, (2) jobs whose
submit time is t join the queue in (submit, id) order, (3) exactly one pass of the policy runs.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left, insort
from collections.abc import Sequence

POLICIES = ("fcfs", "easy", "conservative")


class ReferenceScheduler:
    """One replay of one policy; ``run()`` returns the start time of every input row."""

    def __init__(
        self,
        job_id: Sequence[int],
        submit: Sequence[float],
        run: Sequence[float],
        requested: Sequence[float],
        size: Sequence[int],
        capacity: int,
        policy: str,
    ) -> None:
        if policy not in POLICIES:
            raise ValueError(f"unknown policy {policy!r}")
        self.job_id = [int(x) for x in job_id]
        self.submit = [float(x) for x in submit]
        self.run_s = [float(x) for x in run]
        self.requested = [float(x) for x in requested]
        self.size = [int(x) for x in size]
        self.capacity = int(capacity)
        self.policy = policy
        n = len(self.job_id)
        if not all(len(col) == n for col in (self.submit, self.run_s, self.requested, self.size)):
            raise ValueError("input columns differ in length")
        for i in range(n):
            if self.run_s[i] <= 0 or not 1 <= self.size[i] <= self.capacity:
                raise ValueError(f"job {self.job_id[i]}: run must be > 0 and 1 <= size <= capacity")
            if self.requested[i] < self.run_s[i]:
                raise ValueError(f"job {self.job_id[i]}: requested < run")
        self.start: list[float | None] = [None] * n
        self.free = self.capacity
        self.queue: list[int] = []  # rows, in queue order (submit, id)
        self.ends: list[tuple[float, int]] = []  # heap of (actual end, row) of running jobs
        self.by_estimate: list[tuple[float, int]] = []  # sorted (estimated end, row) of running jobs

    # -- event loop -----------------------------------------------------------------------------

    def run(self) -> list[float]:
        n = len(self.job_id)
        arrivals = sorted(range(n), key=lambda i: (self.submit[i], self.job_id[i]))
        nxt = 0
        while nxt < n or self.ends:
            t = min(
                self.submit[arrivals[nxt]] if nxt < n else float("inf"),
                self.ends[0][0] if self.ends else float("inf"),
            )
            while self.ends and self.ends[0][0] == t:  # 1. releases
                _, row = heapq.heappop(self.ends)
                self.free += self.size[row]
                self.by_estimate.remove((self._estimated_end(row), row))
            while nxt < n and self.submit[arrivals[nxt]] == t:  # 2. submits, in (submit, id) order
                self.queue.append(arrivals[nxt])
                nxt += 1
            self._pass(t)  # 3. exactly one pass
        assert not self.queue, "jobs left in the queue with nothing running"
        return [s for s in self.start if s is not None]

    def _estimated_end(self, row: int) -> float:
        start = self.start[row]
        assert start is not None
        return start + self.requested[row]

    def _start_job(self, row: int, t: float) -> None:
        assert self.size[row] <= self.free
        self.start[row] = t
        self.free -= self.size[row]
        heapq.heappush(self.ends, (t + self.run_s[row], row))
        insort(self.by_estimate, (t + self.requested[row], row))

    def _pass(self, t: float) -> None:
        if self.policy == "conservative":
            self._conservative_pass(t)
            return
        self._fcfs_step(t)
        if self.policy == "easy" and self.queue:
            self._easy_backfill(t)

    # -- FCFS and EASY --------------------------------------------------------------------------

    def _fcfs_step(self, t: float) -> None:
        """Start jobs from the head while the head fits; stop at the first that does not."""
        started = 0
        while started < len(self.queue) and self.size[self.queue[started]] <= self.free:
            self._start_job(self.queue[started], t)
            started += 1
        del self.queue[:started]

    def shadow(self, head: int) -> tuple[float, int]:
        """(S, extra) for the head, from free_now and the running jobs' estimated ends."""
        need = self.size[head]
        available = self.free
        shadow_time = None
        for est_end, row in self.by_estimate:
            available += self.size[row]
            if available >= need:
                shadow_time = est_end
                break
        assert shadow_time is not None, "head larger than the pool"
        ending_by_s = sum(self.size[row] for est_end, row in self.by_estimate if est_end <= shadow_time)
        return shadow_time, self.free + ending_by_s - need

    def _easy_backfill(self, t: float) -> None:
        head = self.queue[0]
        shadow_time, extra = self.shadow(head)  # not recomputed within the pass
        kept = [head]
        for pos in range(1, len(self.queue)):
            if self.free == 0:  # nothing more can start in this pass
                kept.extend(self.queue[pos:])
                break
            row = self.queue[pos]
            if self.size[row] <= self.free and t + self.requested[row] <= shadow_time:
                self._start_job(row, t)  # ends before the reservation: extra unchanged
            elif self.size[row] <= self.free and self.size[row] <= extra:
                self._start_job(row, t)
                extra -= self.size[row]
            else:
                kept.append(row)
        self.queue = kept

    # -- conservative ---------------------------------------------------------------------------

    def _conservative_pass(self, t: float) -> None:
        """Reservations from scratch, in queue order; a job whose reservation is t starts now.

        The availability profile is a step function: ``free[k]`` units are free on
        [times[k], times[k+1]) and ``free[-1]`` after ``times[-1]``.
        """
        times = [t]
        free = [self.free]
        for est_end, row in self.by_estimate:
            assert est_end > t, "a running job outlived its estimate"
            if est_end != times[-1]:
                times.append(est_end)
                free.append(free[-1])
            free[-1] += self.size[row]
        kept = []
        for row in self.queue:
            begin = _earliest_fit(times, free, self.size[row], self.requested[row])
            _reserve(times, free, begin, begin + self.requested[row], self.size[row])
            if begin == t:
                self._start_job(row, t)
            else:
                kept.append(row)
        self.queue = kept


def _earliest_fit(times: list[float], free: list[int], size: int, duration: float) -> float:
    """Earliest breakpoint b with at least ``size`` units free on [b, b + duration)."""
    k = 0
    while True:
        begin = times[k]
        j = k
        while j < len(times) and times[j] < begin + duration and free[j] >= size:
            j += 1
        if j == len(times) or times[j] >= begin + duration:
            return begin
        k = j + 1  # free[j] < size: no start at or before times[j] can fit


def _breakpoint(times: list[float], free: list[int], x: float) -> int:
    """Index of breakpoint x, inserting it (with the free count already in force there) if new."""
    k = bisect_left(times, x)
    if k == len(times) or times[k] != x:
        times.insert(k, x)
        free.insert(k, free[k - 1])
    return k


def _reserve(times: list[float], free: list[int], begin: float, end: float, size: int) -> None:
    first = _breakpoint(times, free, begin)
    last = _breakpoint(times, free, end)
    for k in range(first, last):
        free[k] -= size
        assert free[k] >= 0


def reference_starts(
    job_id: Sequence[int],
    submit: Sequence[float],
    run: Sequence[float],
    requested: Sequence[float],
    size: Sequence[int],
    capacity: int,
    policy: str,
) -> list[float]:
    """Start time of every input row under ``policy`` (rows may be in any order)."""
    return ReferenceScheduler(job_id, submit, run, requested, size, capacity, policy).run()
