"""Reference Slurm-mode scheduler, written literally from docs/slurm-scheduling.md.

This is the independent cross-check of ``pmtwin.sched.slurm.run_slurm`` (compiled). It favours clarity
over speed: plain lists and dicts, every quantity recomputed from the state when it is needed (O(n^2)
and worse; meant for tests with tens of jobs). It imports nothing from ``pmtwin.sched.slurm`` nor any
compiled code: only the job table, the configuration models and the QOS models.

Where the spec leaves a rule open, the reading taken here is marked ``READING n`` below (the same list
is in the report that came with this file). Points the spec has since settled are marked "(spec)".

READING 1 (QOS of a job): the job's QOS name is ``jobs.qos_names[jobs.qos[i]]``; "" is the table's
    default (section 1 says "regular when the trace says nothing"; the QOS table decides).
READING 2 (requested time): trace mode ``max(requested_s, work_s)`` (section 4 says "max(limit, run)";
    the canonical engine uses ``requested_s``); kill mode ``limit_s``. The QOS walltime check uses
    ``limit_s`` in both modes (spec: "the time limit as submitted").
READING 3 (shared requests): ``cores`` 0 means 1 core; ``mem_mb`` 0 means node memory x cores / node
    cores rounded down; ``gpus`` 0 means none. ``shared_too_big`` also when the job's share of the
    node, max(cores / node cores, GPUs / node GPUs, memory / node memory), exceeds the QOS
    ``max_node_fraction`` (a QOS field the spec text does not mention).
READING 4 (order at submission): qos_walltime, qos_max_nodes, shared_too_big, dependency_unknown; then a
    job whose afterok dependency already ended other than COMPLETED is cancelled (spec: "at its
    submission if later"; it never counts against the submit limit); then qos_submit_limit.
READING 5 (submit limit): "queued or running" counts every accepted job of the user and QOS that has
    not ended: queued (held or not), running, and waiting for a dependency (Slurm's MaxSubmitJobs
    counts all pending jobs). A user of -1 is not limited (spec).
READING 6 (fits): every start, main step or backfill, is checked on the profile: over
    [t, t + requested) the profile (running jobs by estimate, shared nodes by release estimate,
    reservations) keeps enough nodes, so a job "fits" only if it also passes the drain rule.
READING 7 (EASY shadow with reservations): S is the earliest time at which H fits in the profile for
    its whole requested time (without reservations this is the canonical S); J's check uses the
    profile with H's block [S, S + requested(H)) (none beyond the window).
READING 8 (holds, spec): the main step checks a job's limits when it reaches it; the EASY backfill step
    only once the job fits now (a placement exists now and, when the pool has no reservation ahead, the
    EASY condition holds), or first when backfill_max_jobs counts the jobs looked at (spec); the
    conservative step when it reaches the job (before its reservation). A held job neither starts nor
    gets a reservation nor counts for backfill_max_jobs until a job of the user and QOS, account and
    QOS, or array that held it ends (a requeued run too); then its pool gets a pass. Held jobs keep
    accruing age.
READING 9 (passes, spec): a pool gets a pass at t when one of its jobs ended or joined its queue, a
    reservation on it began or ended, or a held job of it was released; pools pass in index order.
    Something that happens to a pool during step 4 after its pass has begun (a victim ended by a
    preemption without grace time, a dependent job made eligible by it) gives it a pass at the next
    event (the spec's "exactly one pass" leaves this open).
READING 10 (ticks): ticks are the times k x interval; a timestamp that is a multiple of the interval is
    a tick. At a tick also every pool with queued jobs gets a pass if something happened in it since
    its last backfill step (a recalculation of priorities counts) or its priorities are due (spec).
    Ticks are generated only while some job is queued and something else (a running job, a later
    submission or reservation boundary) is still to come.
READING 11 (backfill_max_jobs, spec): the backfill step looks at no more than this many queued jobs
    after H that are not held, in both policies; while counting, each job's limits are checked first
    (EASY too); H does not count.
READING 12 (accrual): accrued age advances between events for the first ``accrue_limit`` queued jobs
    (held ones included) of each association (user, QOS, account) in (eligibility time, canonical
    order); the set is recomputed after everything at t is done, so of two jobs that become eligible
    at the same t the one first in job order accrues, whichever joined the queue first within t (a
    job submitted at t, one requeued by a preemption in a pass at t). A requeued job is eligible anew
    at the requeue time and its age starts again from 0 (spec). Its canonical order keeps its submit
    time.
READING 13 (priority calculation period, spec): per pool; at a pass, every queued job's priority is
    recomputed if the period is 0 or at least a period has passed since the pool's last calculation;
    otherwise only jobs that joined the queue since get one. With a period, held jobs are queued jobs
    too: they keep their place, get recomputed with the others, and a released job keeps the priority
    it had (the spec says "every queued job"; held jobs are "skipped as if not in the queue").
READING 14 (fairshare): "number of accounts" = distinct ``group`` values in the job table; usage counts
    a shared job as its share of the node (the share section 9 charges); "largest QOS priority" is over
    the QOS table (0 gives a QOS factor of 0). The partition term cannot change any order: each pool has
    its own queue and the term is the same for every job in it. Terms are summed in a fixed order (size,
    QOS, partition, then age, then fairshare): float sums depend on the order, and priorities equal in
    exact arithmetic must compare equal so that the canonical tie order applies.
READING 15 (kill mode): a job whose work ends at or before start + limit + over time ends COMPLETED
    (also inside the over time); only one still running strictly after is killed (TIMEOUT, run =
    limit + over time). Past its estimate (start + limit) a running job counts as ending at the next
    representable time after t, as in the canonical engine.
READING 16 (preemption): the check runs when the main step stops at H. Candidates: running exclusive
    jobs of the pool whose QOS is in H's ``can_preempt`` and flagged ``preemptible`` (section 8 does not
    say what the flag does; this is the compiled loop's reading), not yet signalled; most recently
    started first, ties by higher canonical index. If free whole nodes plus signalled nodes already
    cover H, nothing is chosen. H becomes the pool's preemptor:
    at every pass, before the main step, it starts if it is queued, not held and fits (spec). With
    grace 0 the victims end at once and the pass starts over, without preemption (spec). Its estimated
    end becomes min(t + grace, its estimated end) (spec: the scheduler never knows the actual end). A
    victim whose own end is at or before t + grace ends by itself (COMPLETED or TIMEOUT).
READING 17 (lost node-seconds): only requeued runs count, size x (end - start); a preempted and
    cancelled job keeps start and end of its run.
READING 18 (dependencies, spec): afterany is satisfied by any end, a rejection or a cancellation
    included; afterok fails on anything but COMPLETED, and the job is cancelled at once even if other
    dependencies are unsettled. A dependency on a job that is not in the table or comes after the job
    in canonical order rejects it (dependency_unknown). Jobs that never ran have NaN times.
READING 19 (reservations): a reservation with ``pool`` None and ``nodes`` k takes k nodes in every
    pool. Step 3: reservations ending at t give their nodes back, then those starting take the lowest
    free ids (spec). A node freed while an active reservation is short goes to it at once
    (reservations in the order of ``config.all_reservations()``).
READING 20 (shared placement, spec): the placement is the spec's unique choice (best fit, else the
    lowest free node); if that placement fails the drain or EASY check, the job does not start (no
    other node is tried). Conservative backfilling is refused if any job's QOS is shared (ValueError).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from pmtwin.sched.config import SchedulerConfig
from pmtwin.sched.qos import Qos, QosTable
from pmtwin.workload.jobs import AFTEROK, JobTable

STATES = ("COMPLETED", "TIMEOUT", "CANCELLED", "REJECTED")
REASONS = (
    "",
    "qos_walltime",
    "qos_max_nodes",
    "shared_too_big",
    "qos_submit_limit",
    "dependency_unknown",
    "dependency_never_satisfied",
    "preempted",
)
COMPLETED, TIMEOUT, CANCELLED, REJECTED = range(4)

# job status while the simulation runs
FUTURE, WAITING, QUEUED, RUNNING, DONE = range(5)
INF = math.inf


@dataclass(frozen=True)
class ReferenceResult:
    """The same fields as ``SlurmResult``, aligned with the rows of the job table."""

    start_s: NDArray[np.float64]
    end_s: NDArray[np.float64]
    state: NDArray[np.int8]
    reason: NDArray[np.int8]
    requeues: NDArray[np.int64]
    lost_node_s: NDArray[np.float64]
    node_offsets: NDArray[np.int64]
    node_ids: NDArray[np.int64]


@dataclass
class _Resv:
    name: str
    pools: list[int]
    count: dict[int, int]  # nodes per pool
    start: float
    end: float
    active: bool = False


Item = tuple[float, float, int]  # (begin, end, nodes) taken from the profile
HoldKey = tuple[Any, ...]  # ("user", user, qos) | ("account", account, qos) | ("array", array)


class _Reference:
    def __init__(
        self, jobs: JobTable, pool_of_job: Any, pools: Any, config: SchedulerConfig, qos: QosTable
    ) -> None:
        self.cfg = config
        self.qos = qos
        n = len(jobs)
        self.n = n
        self.kill = config.walltime == "kill"
        self.job_id = [int(x) for x in jobs.job_id]
        self.submit = [float(x) for x in jobs.submit_s]
        self.work = [float(x) for x in jobs.work_s]
        self.size = [int(x) for x in jobs.size]
        self.user = [int(x) for x in jobs.user]
        self.account = [int(x) for x in jobs.group]
        self.limit = [float(x) for x in jobs.limit_s]
        self.cores_req = [int(x) for x in jobs.cores]
        self.gpus_req = [int(x) for x in jobs.gpus]
        self.mem_req = [int(x) for x in jobs.mem_mb]
        self.array_id = [int(x) for x in jobs.array_id]
        self.throttle = [int(x) for x in jobs.array_throttle]
        self.pool = [int(x) for x in pool_of_job]
        self.qos_ix = [qos.index(jobs.qos_names[int(c)]) for c in jobs.qos]  # READING 1
        self.order = [int(i) for i in jobs.canonical_order()]
        self.rank = [0] * n
        for r, i in enumerate(self.order):
            self.rank[i] = r
        # pools
        self.pool_names = tuple(pools.names)
        self.capacity = [int(x) for x in pools.capacity]
        self.first_node = [int(x) for x in pools.first_node]
        self.node_cores = [int(x) for x in pools.cores_per_node]
        self.node_gpus = [int(x) for x in pools.gpus_per_node]
        self.node_mem = [int(x) for x in pools.mem_mb_per_node]
        self.partition_factor = [float(x) for x in pools.partition_factor]
        self.n_pools = len(self.capacity)
        self.node_pool: dict[int, int] = {}
        for p in range(self.n_pools):
            for node in range(self.first_node[p], self.first_node[p] + self.capacity[p]):
                self.node_pool[node] = p
        # requested time, length of one run, killed or not (READING 2, READING 15)
        over = config.over_time_limit_s
        self.req = [0.0] * n
        self.run_len = [0.0] * n
        self.times_out = [False] * n
        for i in range(n):
            if self.kill:
                self.req[i] = self.limit[i]
                self.times_out[i] = self.work[i] > self.limit[i] + over
                self.run_len[i] = self.limit[i] + over if self.times_out[i] else self.work[i]
            else:
                self.req[i] = max(float(jobs.requested_s[i]), self.work[i])
                self.run_len[i] = self.work[i]
        self._validate()
        # dependencies by row: (target row or None, kind)
        row_of_id: dict[int, int] = {}
        for i in self.order:
            row_of_id.setdefault(self.job_id[i], i)
        self.deps: list[list[tuple[int | None, int]]] = [[] for _ in range(n)]
        self.dependents: list[list[int]] = [[] for _ in range(n)]
        if jobs.depends is not None:
            d = jobs.depends
            for k in range(len(d.job_id)):
                for w in range(n):
                    if self.job_id[w] != int(d.job_id[k]):
                        continue
                    target = row_of_id.get(int(d.on_id[k]))
                    self.deps[w].append((target, int(d.kind[k])))
                    if target is not None:
                        self.dependents[target].append(w)
        for lst in self.dependents:
            lst.sort(key=lambda w: self.rank[w])
        # reservations (READING 19)
        self.resvs: list[_Resv] = []
        for r in config.all_reservations():
            if r.pool is None:
                pools_r = list(range(self.n_pools))
            else:
                if r.pool not in self.pool_names:
                    raise ValueError(f"reservation {r.name!r}: unknown pool {r.pool!r}")
                pools_r = [self.pool_names.index(r.pool)]
            count = {p: min(r.nodes or self.capacity[p], self.capacity[p]) for p in pools_r}
            self.resvs.append(_Resv(r.name, pools_r, count, float(r.start_s), float(r.end_s)))
        # fairshare (READING 14)
        self.accounts = sorted(set(self.account))
        self.usage = dict.fromkeys(self.accounts, 0.0)
        self.max_qos_priority = max(q.priority for q in qos.qos)
        # dynamic state: jobs
        self.status = [FUTURE] * n
        self.state = [-1] * n
        self.reason = [0] * n
        self.start: list[float] = [math.nan] * n
        self.end: list[float] = [math.nan] * n
        self.end_at = [INF] * n  # when the current run ends (completion, kill or signal)
        self.end_by_signal = [False] * n
        self.signalled = [False] * n
        self.est_override: list[float | None] = [None] * n
        self.requeues = [0] * n
        self.lost = [0.0] * n
        self.nodes: list[list[int]] = [[] for _ in range(n)]
        self.eligible = [math.nan] * n
        self.accrued = [0.0] * n
        self.accruing = [False] * n
        self.held: list[HoldKey | None] = [None] * n
        self.prio: list[float | None] = [None] * n
        # dynamic state: pools and nodes
        self.last_calc = [-INF] * self.n_pools
        self.bf_dirty = [False] * self.n_pools
        self.preemptor: list[int | None] = [None] * self.n_pools
        self.touched: set[int] = set()  # pools due a pass (READING 9)
        self.excl_owner: dict[int, int | None] = dict.fromkeys(self.node_pool)
        self.shared_jobs: dict[int, list[int]] = {node: [] for node in self.node_pool}
        self.shared_used: dict[int, list[int]] = {node: [0, 0, 0] for node in self.node_pool}
        self.resv_holder: dict[int, int | None] = dict.fromkeys(self.node_pool)

    # -- static helpers ------------------------------------------------------------------------

    def _validate(self) -> None:
        for i in range(self.n):
            p = self.pool[i]
            if not 0 <= p < self.n_pools:
                raise ValueError(f"job {self.job_id[i]}: pool index {p} out of range")
            if not 1 <= self.size[i] <= self.capacity[p]:
                raise ValueError(f"job {self.job_id[i]}: size must be in 1..pool capacity")
            if not self.work[i] > 0 or not self.req[i] > 0:
                raise ValueError(f"job {self.job_id[i]}: work and requested time must be positive")
        if self.cfg.policy == "conservative" and any(self.q(i).shared for i in range(self.n)):
            raise ValueError("conservative backfilling with shared jobs is refused (READING 20)")

    def q(self, i: int) -> Qos:
        return self.qos.qos[self.qos_ix[i]]

    def is_shared(self, i: int) -> bool:
        return self.q(i).shared

    def shared_request(self, i: int) -> tuple[int, int, int]:
        """(cores, gpus, mem) of a shared job (READING 3)."""
        p = self.pool[i]
        cores = self.cores_req[i] if self.cores_req[i] > 0 else 1
        mem = self.mem_req[i] if self.mem_req[i] > 0 else self.node_mem[p] * cores // self.node_cores[p]
        return cores, max(self.gpus_req[i], 0), mem

    def share(self, i: int) -> float:
        """A shared job's share of its node (section 9)."""
        p = self.pool[i]
        cores, gpus, mem = self.shared_request(i)
        gpu_share = gpus / self.node_gpus[p] if self.node_gpus[p] > 0 else (INF if gpus > 0 else 0.0)
        return max(cores / self.node_cores[p], gpu_share, mem / self.node_mem[p])

    def usage_nodes(self, i: int) -> float:
        """Nodes a running job counts for in fairshare usage (READING 14)."""
        return self.share(i) if self.is_shared(i) else float(self.size[i])

    def need(self, i: int) -> int:
        """Whole nodes a job is planned with (a shared job: one)."""
        return 1 if self.is_shared(i) else self.size[i]

    # -- event loop ----------------------------------------------------------------------------

    def run(self) -> ReferenceResult:
        t_prev: float | None = None
        while True:
            t = self._next_event(t_prev)
            if t is None:
                break
            if t_prev is not None:
                self._advance(t_prev, t)
            self._round(t, first_round=t_prev is None or t > t_prev)
            self._update_accrual()
            t_prev = t
        stuck = [self.job_id[i] for i in range(self.n) if self.status[i] != DONE]
        if stuck:
            raise RuntimeError(f"jobs never finished (a hold or dependency that cannot clear): {stuck}")
        return self._result()

    def _next_event(self, t_prev: float | None) -> float | None:
        after = -INF if t_prev is None else t_prev
        times = [self.submit[i] for i in range(self.n) if self.status[i] == FUTURE]
        times += [self.end_at[i] for i in range(self.n) if self.status[i] == RUNNING]
        if any(s != DONE for s in self.status):
            for r in self.resvs:
                times += [x for x in (r.start, r.end) if x > after]
        times = [x for x in times if x >= after]
        interval = self.cfg.backfill_interval_s
        if interval > 0 and t_prev is not None and times and any(s == QUEUED for s in self.status):
            k = math.floor(t_prev / interval) + 1  # READING 10
            while k * interval <= t_prev:
                k += 1
            times.append(k * interval)
        return min(times) if times else None

    def _is_tick(self, t: float) -> bool:
        interval = self.cfg.backfill_interval_s
        return interval > 0 and math.floor(t / interval) * interval == t

    def _advance(self, t0: float, t1: float) -> None:
        """Accrued age and decayed usage from t0 to t1 (nothing changes in between)."""
        dt = t1 - t0
        if dt <= 0:
            return
        for i in range(self.n):
            if self.accruing[i]:
                self.accrued[i] += dt
        half = self.cfg.decay_half_life_s
        decay = math.exp2(-dt / half)
        for a in self.accounts:
            running = sum(
                self.usage_nodes(i)
                for i in range(self.n)
                if self.status[i] == RUNNING and self.account[i] == a
            )
            self.usage[a] = self.usage[a] * decay + running * half / math.log(2) * (1 - decay)

    def _touch(self, p: int) -> None:
        self.touched.add(p)

    def _round(self, t: float, first_round: bool) -> None:
        """Steps 1-4 of the event rule at t (section 0). A further round at the same t happens only for
        a job ending at t that was set to end then by a pass at t (a zero-length run)."""
        # 1. releases, then the dependencies they settle
        ending = [i for i in self.order if self.status[i] == RUNNING and self.end_at[i] == t]
        for i in ending:
            self._end_run(i, t)
        if first_round:
            # 2. submissions, in job order
            for i in self.order:
                if self.status[i] == FUTURE and self.submit[i] == t:
                    self._submit(i, t)
            # 3. reservations ending at t give their nodes back, then those starting take theirs
            for k, r in enumerate(self.resvs):
                if r.end == t:
                    r.active = False
                    self.touched.update(r.pools)
                    for node, holder in self.resv_holder.items():
                        if holder == k:
                            self.resv_holder[node] = None
            for r in self.resvs:
                if r.start == t:
                    r.active = True
                    self.touched.update(r.pools)
            self._fill_reservations()
        # 4. passes (READING 9, READING 10)
        tick = self._is_tick(t)
        backfill = self.cfg.policy != "fcfs" and (self.cfg.backfill_interval_s == 0 or tick)
        for p in range(self.n_pools):
            if p in self.touched:
                self.bf_dirty[p] = True
            has_queue = any(self.status[i] == QUEUED and self.pool[i] == p for i in range(self.n))
            due = self.cfg.priority != "fifo" and t >= self.last_calc[p] + self.cfg.priority_calc_period_s
            if p not in self.touched and not (tick and has_queue and (self.bf_dirty[p] or due)):
                continue
            self.touched.discard(p)
            self._pass(p, t, backfill, may_preempt=True)
            if backfill:
                self.bf_dirty[p] = False
        # whatever touched a pool whose pass had begun waits for the next event (READING 9)

    # -- resources -----------------------------------------------------------------------------

    def _is_free(self, node: int) -> bool:
        return self.excl_owner[node] is None and not self.shared_jobs[node] and self.resv_holder[node] is None

    def _free_nodes(self, p: int) -> list[int]:
        first = self.first_node[p]
        return [node for node in range(first, first + self.capacity[p]) if self._is_free(node)]

    def _fill_reservations(self) -> None:
        """Active reservations short of nodes take the lowest free ones (READING 19)."""
        for k, r in enumerate(self.resvs):
            if not r.active:
                continue
            for p in r.pools:
                held = sum(1 for node, h in self.resv_holder.items() if h == k and self.node_pool[node] == p)
                for node in self._free_nodes(p)[: max(r.count[p] - held, 0)]:
                    self.resv_holder[node] = k

    def _estimated_end(self, i: int, t: float) -> float:
        est = self.est_override[i]
        if est is None:
            est = self.start[i] + self.req[i]
        return est if est > t else math.nextafter(t, INF)

    def _release_estimate(self, node: int, t: float) -> float:
        return max(self._estimated_end(i, t) for i in self.shared_jobs[node])

    def _profile(self, p: int, t: float) -> list[Item]:
        """What is taken from the pool's capacity over time (section 3, 'the profile')."""
        items: list[Item] = []
        for i in range(self.n):
            if self.status[i] == RUNNING and self.pool[i] == p and not self.is_shared(i):
                items.append((t, self._estimated_end(i, t), self.size[i]))
        first = self.first_node[p]
        for node in range(first, first + self.capacity[p]):
            if self.shared_jobs[node]:
                items.append((t, self._release_estimate(node, t), 1))
        for r in self.resvs:
            if p in r.pools and r.end > t:
                items.append((max(r.start, t), r.end, r.count[p]))
        return items

    def _reservations_ahead(self, p: int, t: float) -> bool:
        return any(p in r.pools and r.end > t for r in self.resvs)

    def _avail(self, p: int, items: Sequence[Item], when: float) -> int:
        return self.capacity[p] - sum(units for begin, end, units in items if begin <= when < end)

    def _min_avail(self, p: int, items: Sequence[Item], begin: float, end: float) -> int:
        points = [begin] + [b for b, _, _ in items if begin < b < end]
        return min(self._avail(p, items, x) for x in points)

    def _earliest_fit(self, p: int, items: Sequence[Item], t: float, units: int, duration: float) -> float:
        for c in sorted({t} | {e for _, e, _ in items if e > t}):
            if self._min_avail(p, items, c, c + duration) >= units:
                return c
        raise AssertionError("a job larger than its pool")

    # -- starting and ending jobs --------------------------------------------------------------

    def _shared_placement(self, i: int) -> int | None:
        """Best fit among shared nodes, else the lowest free node (section 6)."""
        p = self.pool[i]
        cores, gpus, mem = self.shared_request(i)
        best = None
        first = self.first_node[p]
        for node in range(first, first + self.capacity[p]):
            if not self.shared_jobs[node]:
                continue
            used = self.shared_used[node]
            room = (self.node_cores[p] - used[0], self.node_gpus[p] - used[1], self.node_mem[p] - used[2])
            fits = room[0] >= cores and room[1] >= gpus and room[2] >= mem
            if fits and (best is None or room[0] < best[0]):
                best = (room[0], node)
        if best is not None:
            return best[1]
        free = self._free_nodes(p)
        return free[0] if free else None

    def _placement_now(self, i: int) -> list[int] | None:
        """Where job i would go now, ignoring the profile; None if nowhere."""
        if self.is_shared(i):
            node = self._shared_placement(i)
            return None if node is None else [node]
        free = self._free_nodes(self.pool[i])
        return free[: self.size[i]] if len(free) >= self.size[i] else None

    def _fits(self, i: int, t: float, extra: Sequence[Item] = ()) -> list[int] | None:
        """Job i's nodes if it fits now and its added use fits in the profile (plus ``extra``)."""
        nodes = self._placement_now(i)
        if nodes is None:
            return None
        p = self.pool[i]
        items = self._profile(p, t) + list(extra)
        end_est = t + self.req[i]
        if self.is_shared(i) and self.shared_jobs[nodes[0]]:
            release = self._release_estimate(nodes[0], t)
            if end_est > release and self._min_avail(p, items, release, end_est) < 1:
                return None
        elif self._min_avail(p, items, t, end_est) < len(nodes):
            return None
        return nodes

    def _try_start(self, i: int, t: float, extra: Sequence[Item] = ()) -> bool:
        nodes = self._fits(i, t, extra)
        if nodes is None:
            return False
        self._start(i, t, nodes)
        return True

    def _start(self, i: int, t: float, nodes: list[int]) -> None:
        self.status[i] = RUNNING
        self.start[i] = t
        self.end[i] = math.nan
        self.end_at[i] = t + self.run_len[i]
        self.end_by_signal[i] = False
        self.signalled[i] = False
        self.est_override[i] = None
        self.accruing[i] = False
        self.nodes[i] = list(nodes)
        if self.is_shared(i):
            node = nodes[0]
            cores, gpus, mem = self.shared_request(i)
            self.shared_jobs[node].append(i)
            used = self.shared_used[node]
            used[0] += cores
            used[1] += gpus
            used[2] += mem
        else:
            for node in nodes:
                self.excl_owner[node] = i

    def _end_run(self, i: int, t: float) -> None:
        """Job i's run ends at t: release, holds loosened, then requeue or final state."""
        self._touch(self.pool[i])
        if self.is_shared(i):
            node = self.nodes[i][0]
            cores, gpus, mem = self.shared_request(i)
            self.shared_jobs[node].remove(i)
            used = self.shared_used[node]
            used[0] -= cores
            used[1] -= gpus
            used[2] -= mem
        else:
            for node in self.nodes[i]:
                self.excl_owner[node] = None
        self._fill_reservations()
        self._release_holds(i)
        self.end[i] = t
        self.end_at[i] = INF
        self.est_override[i] = None
        self.signalled[i] = False
        if self.end_by_signal[i] and self.cfg.preempt_mode == "requeue":
            self.requeues[i] += 1
            self.lost[i] += self.size[i] * (t - self.start[i])  # READING 17
            self._enqueue(i, t)
            self.accrued[i] = 0.0  # READING 12
        elif self.end_by_signal[i]:
            self._finish(i, CANCELLED, REASONS.index("preempted"), t)
        else:
            self._finish(i, TIMEOUT if self.times_out[i] else COMPLETED, 0, t)

    def _enqueue(self, i: int, t: float) -> None:
        self.status[i] = QUEUED
        self.eligible[i] = t
        self.prio[i] = None
        self.held[i] = None
        self._touch(self.pool[i])

    def _finish(self, i: int, state: int, reason: int, t: float) -> None:
        """Job i ends for good at t; its dependents are settled in turn (section 7)."""
        self.status[i] = DONE
        self.state[i] = state
        self.reason[i] = reason
        self.accruing[i] = False
        for w in self.dependents[i]:
            if self.status[w] == WAITING:
                self._check_deps(w, t)

    # -- submission and dependencies -----------------------------------------------------------

    def _submit(self, i: int, t: float) -> None:
        """Step 2 for job i (READING 4)."""
        reason = self._rejection(i)
        if reason:
            self._finish(i, REJECTED, REASONS.index(reason), t)
        elif self._dep_verdict(i) == "fail":
            self._finish(i, CANCELLED, REASONS.index("dependency_never_satisfied"), t)
        elif self._over_submit_limit(i):
            self._finish(i, REJECTED, REASONS.index("qos_submit_limit"), t)
        else:
            self.status[i] = WAITING
            self._check_deps(i, t)

    def _rejection(self, i: int) -> str:
        """Section 1 checks on the job alone, then section 7's dependency_unknown."""
        q = self.q(i)
        p = self.pool[i]
        if q.max_walltime_s > 0 and self.limit[i] > q.max_walltime_s:
            return "qos_walltime"
        if q.max_nodes_per_job > 0 and self.size[i] > q.max_nodes_per_job:
            return "qos_max_nodes"
        if q.shared:
            cores, gpus, mem = self.shared_request(i)
            too_big = cores > self.node_cores[p] or gpus > self.node_gpus[p] or mem > self.node_mem[p]
            if self.size[i] > 1 or too_big or self.share(i) > q.max_node_fraction:
                return "shared_too_big"
        for target, _ in self.deps[i]:
            if target is None or self.rank[target] > self.rank[i]:
                return "dependency_unknown"
        return ""

    def _over_submit_limit(self, i: int) -> bool:
        """READING 5."""
        limit = self.q(i).max_submitted_jobs_per_user
        if limit == 0 or self.user[i] < 0:
            return False
        pending = sum(
            1
            for k in range(self.n)
            if self.status[k] in (WAITING, QUEUED, RUNNING)
            and self.user[k] == self.user[i]
            and self.qos_ix[k] == self.qos_ix[i]
        )
        return pending >= limit

    def _dep_verdict(self, i: int) -> str:
        """'fail', 'wait' or 'ok' (READING 18)."""
        verdict = "ok"
        for target, kind in self.deps[i]:
            assert target is not None
            if self.status[target] != DONE:
                verdict = "wait" if verdict == "ok" else verdict
            elif kind == AFTEROK and self.state[target] != COMPLETED:
                verdict = "fail"
        return verdict

    def _check_deps(self, i: int, t: float) -> None:
        """Queue a waiting job whose dependencies are met, or cancel it."""
        verdict = self._dep_verdict(i)
        if verdict == "ok":
            self._enqueue(i, t)
        elif verdict == "fail":
            self._finish(i, CANCELLED, REASONS.index("dependency_never_satisfied"), t)

    # -- priorities and holds ------------------------------------------------------------------

    def _update_accrual(self) -> None:
        """READING 12: the first accrue_limit queued jobs of each association accrue."""
        limit = self.cfg.effective_accrue_limit
        groups: dict[tuple[int, int, int], list[int]] = {}
        for i in range(self.n):
            self.accruing[i] = False
            if self.status[i] == QUEUED:
                groups.setdefault((self.user[i], self.qos_ix[i], self.account[i]), []).append(i)
        for members in groups.values():
            members.sort(key=lambda i: (self.eligible[i], self.rank[i]))
            for i in members if limit == 0 else members[:limit]:
                self.accruing[i] = True

    def _priority(self, i: int) -> float:
        cfg = self.cfg
        if cfg.priority == "fifo":
            return 0.0
        q = self.q(i)
        if cfg.priority == "nersc":
            return float(q.priority + math.floor(self.accrued[i] / 60.0))
        p = self.pool[i]
        # READING 14: the terms that do not change while a job waits first, then age, then fairshare;
        # floating-point sums depend on their order, and priorities that are equal in exact arithmetic
        # must compare equal (their tie order is canonical), so the order is fixed here.
        top = max(self.max_qos_priority, 1)
        value = (
            cfg.size_weight * self.size[i] / self.capacity[p]
            + cfg.qos_weight * q.priority / top
            + cfg.partition_weight * self.partition_factor[p]
        )
        value += cfg.age_weight * min(self.accrued[i] / cfg.max_age_s, 1.0)
        total = sum(self.usage.values())
        if cfg.fairshare_weight > 0:
            share = 1.0 / len(self.accounts)  # S_a: equal shares
            fairshare = 1.0 if total == 0 else math.exp2(-(self.usage[self.account[i]] / total) / share)
            value += cfg.fairshare_weight * fairshare
        return value

    def _queue(self, p: int, t: float) -> list[int]:
        """The pool's queue in priority order (READING 13): held jobs are left out, except with a
        priority calculation period, where they keep their place (the passes skip them)."""
        period = self.cfg.priority_calc_period_s
        hide_held = self.cfg.priority == "fifo" or period == 0
        queue = [i for i in self.order if self.status[i] == QUEUED and self.pool[i] == p]
        queue = [i for i in queue if self.held[i] is None or not hide_held]
        if self.cfg.priority != "fifo" and (period == 0 or t >= self.last_calc[p] + period):
            for i in queue:
                self.prio[i] = self._priority(i)
            self.last_calc[p] = t
            self.bf_dirty[p] = True
        for i in queue:
            if self.prio[i] is None:
                self.prio[i] = self._priority(i)
        return sorted(queue, key=lambda i: (-(self.prio[i] or 0.0), self.rank[i]))

    def _limit_key(self, i: int) -> HoldKey | None:
        """The section 1 limit (or array throttle) that holds job i now, if any."""
        q = self.q(i)
        running = [k for k in range(self.n) if self.status[k] == RUNNING]
        same_q = [k for k in running if self.qos_ix[k] == self.qos_ix[i]]
        if self.user[i] >= 0:
            mine = [k for k in same_q if self.user[k] == self.user[i]]
            nodes = sum(self.size[k] for k in mine)
            if (q.max_running_jobs_per_user > 0 and len(mine) >= q.max_running_jobs_per_user) or (
                q.max_running_nodes_per_user > 0 and nodes + self.size[i] > q.max_running_nodes_per_user
            ):
                return ("user", self.user[i], self.qos_ix[i])
        if self.account[i] >= 0 and q.max_running_jobs_per_account > 0:
            theirs = [k for k in same_q if self.account[k] == self.account[i]]
            if len(theirs) >= q.max_running_jobs_per_account:
                return ("account", self.account[i], self.qos_ix[i])
        if self.array_id[i] >= 0 and self.throttle[i] > 0:
            tasks = sum(1 for k in running if self.array_id[k] == self.array_id[i])
            if tasks >= self.throttle[i]:
                return ("array", self.array_id[i])
        return None

    def _hold_if_limited(self, i: int) -> bool:
        self.held[i] = self._limit_key(i)
        return self.held[i] is not None

    def _release_holds(self, ended: int) -> None:
        """Jobs held by a limit that the end of job ``ended`` loosens rejoin their queues (READING 8)."""
        keys = set()
        if self.user[ended] >= 0:
            keys.add(("user", self.user[ended], self.qos_ix[ended]))
        if self.account[ended] >= 0:
            keys.add(("account", self.account[ended], self.qos_ix[ended]))
        if self.array_id[ended] >= 0:
            keys.add(("array", self.array_id[ended]))
        for j in range(self.n):
            if self.held[j] in keys:
                self.held[j] = None  # its priority stays as last computed (READING 13)
                self._touch(self.pool[j])

    # -- a pass --------------------------------------------------------------------------------

    def _pass(self, p: int, t: float, backfill: bool, may_preempt: bool) -> None:
        queue = self._queue(p, t)
        first = self.preemptor[p]  # a preemptor takes its victims' nodes first (section 8)
        if first is not None and (
            self.status[first] != QUEUED
            or (self.held[first] is None and not self._hold_if_limited(first) and self._try_start(first, t))
        ):
            self.preemptor[p] = None
        head_pos = None
        for pos, i in enumerate(queue):  # main step
            if self.status[i] != QUEUED or self.held[i] is not None or self._hold_if_limited(i):
                continue
            if not self._try_start(i, t):
                head_pos = pos
                break
        if head_pos is None:
            return
        head = queue[head_pos]
        if may_preempt and self._preempt(head, t):
            self._pass(p, t, backfill, may_preempt=False)  # starts over, preemption tried once
            return
        if not backfill:
            return
        if self.cfg.policy == "easy":
            self._easy(head, queue[head_pos + 1 :], t)
        elif self.cfg.policy == "conservative":
            self._conservative(head, queue[head_pos + 1 :], t)

    def _easy(self, head: int, rest: list[int], t: float) -> None:
        p = self.pool[head]
        items = self._profile(p, t)
        shadow = self._earliest_fit(p, items, t, self.need(head), self.req[head])  # READING 7
        window = self.cfg.backfill_window_s
        extra: list[Item] = []
        if not (window > 0 and shadow > t + window):
            extra = [(shadow, shadow + self.req[head], self.need(head))]
        ahead = self._reservations_ahead(p, t)
        looked = 0
        for i in rest:
            if self.status[i] != QUEUED or self.held[i] is not None:
                continue
            counting = self.cfg.backfill_max_jobs > 0
            if counting and looked >= self.cfg.backfill_max_jobs:
                break
            if counting:  # READING 11: limits first, held jobs are not counted
                if self._hold_if_limited(i):
                    continue
                looked += 1
            fits_now = self._placement_now(i) is not None if ahead else self._fits(i, t, extra) is not None
            if not fits_now or (not counting and self._hold_if_limited(i)):  # READING 8
                continue
            self._try_start(i, t, extra)

    def _conservative(self, head: int, rest: list[int], t: float) -> None:
        p = self.pool[head]
        window = self.cfg.backfill_window_s
        planned: list[Item] = []

        def reserve(i: int) -> None:
            begin = self._earliest_fit(p, self._profile(p, t) + planned, t, self.size[i], self.req[i])
            if window > 0 and begin > t + window:
                return
            if begin == t:
                assert self._try_start(i, t, planned), "a job reserved now must fit now"
            else:
                planned.append((begin, begin + self.req[i], self.size[i]))

        reserve(head)
        looked = 0
        for i in rest:
            if self.status[i] != QUEUED or self.held[i] is not None:
                continue
            if self.cfg.backfill_max_jobs > 0 and looked >= self.cfg.backfill_max_jobs:
                break
            if not self._hold_if_limited(i):  # READING 11: held jobs are not counted
                looked += 1
                reserve(i)

    def _preempt(self, head: int, t: float) -> bool:
        """Section 8 (READING 16); True when victims were chosen."""
        targets = set(self.q(head).can_preempt)
        if not targets:
            return False
        p = self.pool[head]
        running = [i for i in range(self.n) if self.status[i] == RUNNING and self.pool[i] == p]
        have = len(self._free_nodes(p)) + sum(self.size[i] for i in running if self.signalled[i])
        need = self.need(head)
        if have >= need:
            return False
        candidates = [
            i for i in running
            if not self.signalled[i] and not self.is_shared(i) and self.q(i).name in targets
            and self.q(i).preemptible
        ]
        candidates.sort(key=lambda i: (-self.start[i], -self.rank[i]))
        chosen = []
        for i in candidates:
            chosen.append(i)
            have += self.size[i]
            if have >= need:
                break
        if have < need:
            return False
        self.preemptor[p] = head
        signal_end = t + self.cfg.preempt_grace_s
        for i in chosen:
            self.signalled[i] = True
            if signal_end < self.end_at[i]:
                self.end_at[i] = signal_end
                self.end_by_signal[i] = True
            estimate = self.start[i] + self.req[i] if self.est_override[i] is None else self.est_override[i]
            self.est_override[i] = min(signal_end, estimate)
        if self.cfg.preempt_grace_s == 0:
            for i in chosen:  # they end at once
                self._end_run(i, t)
        return True

    # -- result --------------------------------------------------------------------------------

    def _result(self) -> ReferenceResult:
        offsets = np.zeros(self.n + 1, np.int64)
        ids: list[int] = []
        for i in range(self.n):
            if not math.isnan(self.start[i]):
                ids.extend(sorted(self.nodes[i]))
            offsets[i + 1] = len(ids)
        return ReferenceResult(
            start_s=np.array(self.start, np.float64),
            end_s=np.array(self.end, np.float64),
            state=np.array(self.state, np.int8),
            reason=np.array(self.reason, np.int8),
            requeues=np.array(self.requeues, np.int64),
            lost_node_s=np.array(self.lost, np.float64),
            node_offsets=offsets,
            node_ids=np.array(ids, np.int64),
        )


def reference_slurm(
    jobs: JobTable,
    pool_of_job: NDArray[np.int32],
    pools: Any,
    config: SchedulerConfig,
    qos: QosTable,
) -> ReferenceResult:
    """The Slurm-mode schedule of ``jobs`` (``pools`` is a ``SlurmPools`` or anything with its fields)."""
    return _Reference(jobs, pool_of_job, pools, config, qos).run()
