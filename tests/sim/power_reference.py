"""Reference scheduler: several pools under one system power budget, written from the text alone.

Sources: ``scheduling-semantics.md`` (event rule, FCFS, EASY) and ``docs/power.md`` section 4a (the
power budget). It is the independent cross-check of ``pmtwin.sim.engine.run_schedule`` with
``power_mw`` / ``power_budget_mw``; it favours clarity over speed.

- Pools are independent for nodes; the budget is shared by all of them.
- Event rule: at each timestamp t, (1) jobs ending at t release their nodes and power, (2) jobs
  submitted at t join their pool's queue in (submit, id) order, (3) one pass in each pool where a job
  ended or arrived, in pool index order. With a budget (rule 5), when any job ended at t, every pool
  with queued jobs gets its pass as well.
- Every start a policy proposes is admitted or refused (rules 1-3); refused heads keep their place.

Reading of 4a where the text leaves a choice: when the headroom already covers the blocker's power
(it does not start yet because its pool has not had its pass, or because it is not proposed), its power
shadow time T is now and E = headroom - power(blocker), as EASY does for a head that fits (rule 4).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence

POLICIES = ("fcfs", "easy")


class PowerReference:
    """One replay; ``run()`` returns the start time of every input row."""

    def __init__(
        self,
        job_id: Sequence[int],
        submit: Sequence[float],
        run: Sequence[float],
        requested: Sequence[float],
        size: Sequence[int],
        pool: Sequence[int],
        power_mw: Sequence[int],
        pool_capacity: Sequence[int],
        policy: str,
        budget_mw: int | None,
    ) -> None:
        if policy not in POLICIES:
            raise ValueError(f"policy {policy!r} is not supported with a power budget reference")
        self.job_id = [int(x) for x in job_id]
        self.submit = [float(x) for x in submit]
        self.run_s = [float(x) for x in run]
        self.requested = [float(x) for x in requested]
        self.size = [int(x) for x in size]
        self.pool = [int(x) for x in pool]
        self.power = [int(x) for x in power_mw]
        self.capacity = [int(x) for x in pool_capacity]
        self.policy = policy
        self.budget: float = math.inf if budget_mw is None else int(budget_mw)
        n = len(self.job_id)
        columns = (self.submit, self.run_s, self.requested, self.size, self.pool, self.power)
        if not all(len(col) == n for col in columns):
            raise ValueError("input columns differ in length")
        for i in range(n):
            if not 0 <= self.pool[i] < len(self.capacity):
                raise ValueError(f"job {self.job_id[i]}: no pool {self.pool[i]}")
            if self.run_s[i] <= 0 or not 1 <= self.size[i] <= self.capacity[self.pool[i]]:
                raise ValueError(f"job {self.job_id[i]}: run must be > 0 and 1 <= size <= capacity")
            if self.requested[i] < self.run_s[i]:
                raise ValueError(f"job {self.job_id[i]}: requested < run")
            if not 0 <= self.power[i] <= self.budget:
                raise ValueError(f"job {self.job_id[i]}: power {self.power[i]} mW outside [0, budget]")
        self.start: list[float | None] = [None] * n
        self.free = list(self.capacity)
        self.queue: list[list[int]] = [[] for _ in self.capacity]  # rows per pool, in queue order
        self.running: list[int] = []  # rows of running jobs, all pools
        self.ends: list[tuple[float, int]] = []  # heap of (actual end, row)
        self.blocker: int | None = None  # docs/power.md 4a rule 2

    # -- event loop -----------------------------------------------------------------------------

    def run(self) -> list[float]:
        n = len(self.job_id)
        arrivals = sorted(range(n), key=self._order)
        nxt = 0
        while nxt < n or self.ends:
            t = min(
                self.submit[arrivals[nxt]] if nxt < n else math.inf,
                self.ends[0][0] if self.ends else math.inf,
            )
            touched: set[int] = set()
            ended = False
            while self.ends and self.ends[0][0] == t:  # 1. releases
                _, row = heapq.heappop(self.ends)
                self.running.remove(row)
                self.free[self.pool[row]] += self.size[row]
                touched.add(self.pool[row])
                ended = True
            while nxt < n and self.submit[arrivals[nxt]] == t:  # 2. submits, in (submit, id) order
                row = arrivals[nxt]
                self.queue[self.pool[row]].append(row)
                touched.add(self.pool[row])
                nxt += 1
            if ended and self.budget != math.inf:  # rule 5: freed power concerns every pool
                touched |= {p for p, q in enumerate(self.queue) if q}
            for p in sorted(touched):  # 3. one pass per pool, in index order
                self._pass(p, t)
        assert not any(self.queue), "jobs left in a queue with nothing running"
        return [s for s in self.start if s is not None]

    def _order(self, row: int) -> tuple[float, int]:
        return (self.submit[row], self.job_id[row])

    def _estimated_end(self, row: int) -> float:
        start = self.start[row]
        assert start is not None
        return start + self.requested[row]

    def _start_job(self, row: int, t: float) -> None:
        assert self.size[row] <= self.free[self.pool[row]]
        self.start[row] = t
        self.free[self.pool[row]] -= self.size[row]
        self.running.append(row)
        heapq.heappush(self.ends, (t + self.run_s[row], row))
        if self.blocker == row:
            self.blocker = None  # rule 2: the blocker stops being one when it starts

    # -- the power budget (docs/power.md 4a) ----------------------------------------------------

    def headroom(self) -> float:
        return self.budget - sum(self.power[row] for row in self.running)

    def power_shadow(self, t: float) -> tuple[float, float]:
        """(T, E) of the blocker, from the running jobs of every pool (rule 3), recomputed each time."""
        assert self.blocker is not None
        need = self.power[self.blocker]
        headroom = self.headroom()
        if headroom >= need:
            return t, headroom - need  # see the module docstring
        ends = sorted(self._estimated_end(row) for row in self.running)
        shadow = next(e for e in ends if headroom + self._power_ending_by(e) >= need)
        return shadow, headroom + self._power_ending_by(shadow) - need

    def _power_ending_by(self, e: float) -> int:
        return sum(self.power[row] for row in self.running if self._estimated_end(row) <= e)

    def admits(self, row: int, t: float) -> bool:
        """Rule 1: admit or refuse a proposed start; a refusal for headroom may name a blocker."""
        if self.power[row] > self.headroom():
            if self.blocker is None or self._order(row) < self._order(self.blocker):
                self.blocker = row
            return False
        if self.blocker is not None and self._order(row) > self._order(self.blocker):
            shadow, extra_power = self.power_shadow(t)
            # Recomputing T and E after each start equals carrying E forward (E := E - power(J)).
            return t + self.requested[row] <= shadow or self.power[row] <= extra_power
        return True

    # -- policies -------------------------------------------------------------------------------

    def _pass(self, p: int, t: float) -> None:
        queue = self.queue[p]
        # FCFS step: start from the head while it fits and is admitted (rule 4: a refused head stops it).
        while queue and self.size[queue[0]] <= self.free[p] and self.admits(queue[0], t):
            self._start_job(queue.pop(0), t)
        if self.policy == "easy" and queue:
            self._easy_backfill(p, t)

    def node_shadow(self, p: int, head: int, t: float) -> tuple[float, int]:
        """(S, extra) for the head of pool p; a head that fits (held by power) has S = now."""
        need, free = self.size[head], self.free[p]
        if need <= free:
            return t, free - need  # rule 4: its nodes are held for it
        in_pool = [row for row in self.running if self.pool[row] == p]
        ends = sorted(self._estimated_end(row) for row in in_pool)

        def ending_by(e: float) -> int:
            return sum(self.size[row] for row in in_pool if self._estimated_end(row) <= e)

        shadow = next(e for e in ends if free + ending_by(e) >= need)
        return shadow, free + ending_by(shadow) - need

    def _easy_backfill(self, p: int, t: float) -> None:
        queue = self.queue[p]
        shadow, extra = self.node_shadow(p, queue[0], t)  # not recomputed within the pass
        kept = [queue[0]]
        for row in queue[1:]:
            ends_before = t + self.requested[row] <= shadow
            proposed = self.size[row] <= self.free[p] and (ends_before or self.size[row] <= extra)
            if proposed and self.admits(row, t):  # refused candidates are skipped
                self._start_job(row, t)
                if not ends_before:
                    extra -= self.size[row]
            else:
                kept.append(row)
        self.queue[p] = kept


def power_reference_starts(
    job_id: Sequence[int],
    submit: Sequence[float],
    run: Sequence[float],
    requested: Sequence[float],
    size: Sequence[int],
    pool: Sequence[int],
    power_mw: Sequence[int],
    pool_capacity: Sequence[int],
    policy: str,
    budget_mw: int | None = None,
) -> list[float]:
    """Start time of every input row (rows in any order); ``budget_mw`` None means no budget."""
    return PowerReference(
        job_id, submit, run, requested, size, pool, power_mw, pool_capacity, policy, budget_mw
    ).run()
