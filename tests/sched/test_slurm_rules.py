"""Slurm mode, rule by rule: small schedules computed by hand (docs/slurm-scheduling.md).

Every test runs both the compiled ``run_slurm`` and the pure-Python ``reference_slurm``
(tests/sched/slurm_reference.py) and checks each against the numbers written here. Each expected
schedule carries a short derivation. Where the spec is open, the reference's reading (READING n in
slurm_reference.py) is named next to the number it decides.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest

from pmtwin.sched.config import Maintenance, Reservation, SchedulerConfig
from pmtwin.sched.qos import Qos, QosTable
from pmtwin.sched.slurm import REASON_NAMES, STATE_NAMES, SlurmPools, run_slurm
from pmtwin.sim.engine import run_schedule
from pmtwin.workload.jobs import AFTERANY, AFTEROK, Dependencies, JobTable
from tests.sched.slurm_reference import REASONS, STATES, reference_slurm

NAN = math.nan
Impl = Callable[..., Any]


@pytest.fixture(params=[reference_slurm, run_slurm], ids=["reference", "run_slurm"])
def impl(request: pytest.FixtureRequest) -> Impl:
    return request.param  # type: ignore[no-any-return]


# -- builders ----------------------------------------------------------------------------------


def qos(name: str, **fields: Any) -> Qos:
    return Qos(name=name, source="test", **fields)


def table(*entries: Qos, default: str | None = None) -> QosTable:
    return QosTable(name="test", default=default or entries[0].name, qos=entries, source="test")


PLAIN = table(qos("normal"))


def pools(*capacity: int, cores: int = 8, gpus: int = 4, mem_mb: int = 1000,
          factor: Sequence[float] | None = None) -> SlurmPools:
    """Pools named a, b, ... of identical nodes, numbered consecutively from 0."""
    cap = np.array(capacity, np.int64)
    first = np.concatenate([[0], np.cumsum(cap)[:-1]]).astype(np.int64)
    k = len(cap)
    return SlurmPools(
        names=tuple("abcdefgh"[:k]),
        capacity=cap,
        first_node=first,
        cores_per_node=np.full(k, cores, np.int64),
        gpus_per_node=np.full(k, gpus, np.int64),
        mem_mb_per_node=np.full(k, mem_mb, np.int64),
        partition_factor=np.array(factor if factor is not None else [1.0] * k, np.float64),
    )


def jobs(rows: Sequence[dict[str, Any]], deps: Sequence[tuple[int, int, int]] = ()
         ) -> tuple[JobTable, np.ndarray]:
    """A job table from one dict per job (ids 1, 2, ... unless given) and (job, on, kind) dependencies.

    Keys: submit, run (work), req (trace estimate, default run), limit (default req), size (1), user,
    account, qos (name, "" = default), cores, gpus, mem, array, throttle, pool (0), id.
    """
    n = len(rows)
    names = [""] + sorted({r["qos"] for r in rows if r.get("qos")})

    def col(key: str, default: Any, dtype: Any) -> np.ndarray:
        return np.array([r.get(key, default) for r in rows], dtype)

    run = col("run", 1.0, np.float64)
    req = np.array([r.get("req", r.get("run", 1.0)) for r in rows], np.float64)
    limit = np.array([r.get("limit", req[i]) for i, r in enumerate(rows)], np.float64)
    table_ = JobTable(
        job_id=np.array([r.get("id", i + 1) for i, r in enumerate(rows)], np.int64),
        submit_s=col("submit", 0.0, np.float64),
        work_s=run,
        requested_s=req,
        size=col("size", 1, np.int64),
        partition=np.zeros(n, np.int32),
        user=col("user", 0, np.int64),
        group=col("account", 0, np.int64),
        qos=np.array([names.index(r.get("qos", "")) for r in rows], np.int32),
        qos_names=tuple(names),
        limit_s=limit,
        cores=col("cores", 0, np.int64),
        gpus=col("gpus", 0, np.int64),
        mem_mb=col("mem", 0, np.int64),
        array_id=col("array", -1, np.int64),
        array_throttle=col("throttle", 0, np.int64),
        depends=Dependencies(
            job_id=np.array([d[0] for d in deps], np.int64),
            on_id=np.array([d[1] for d in deps], np.int64),
            kind=np.array([d[2] for d in deps], np.int8),
        ) if deps else None,
    )
    return table_, col("pool", 0, np.int32)


def run(impl: Impl, rows: Sequence[dict[str, Any]], capacity: Sequence[int] = (4,),
        qos_table: QosTable = PLAIN, deps: Sequence[tuple[int, int, int]] = (),
        pool_set: SlurmPools | None = None, **config: Any) -> Any:
    table_, pool_of_job = jobs(rows, deps)
    config.setdefault("policy", "fcfs")
    return impl(table_, pool_of_job, pool_set or pools(*capacity), SchedulerConfig(**config), qos_table)


def check(res: Any, start: Sequence[float], end: Sequence[float], state: Sequence[str] | None = None,
          reason: Sequence[str] | None = None) -> None:
    np.testing.assert_array_equal(res.start_s, np.array(start, np.float64), err_msg="start_s")
    np.testing.assert_array_equal(res.end_s, np.array(end, np.float64), err_msg="end_s")
    if state is not None:
        assert [STATES[k] for k in res.state] == list(state)
    if reason is not None:
        assert [REASONS[k] for k in res.reason] == list(reason)


def nodes_of(res: Any) -> list[list[int]]:
    off, ids = res.node_offsets, res.node_ids
    return [sorted(ids[off[i]:off[i + 1]].tolist()) for i in range(len(off) - 1)]


def test_state_and_reason_names_match() -> None:
    assert STATES == STATE_NAMES
    assert REASONS == REASON_NAMES


# -- neutral options: the canonical engine ----------------------------------------------------


@pytest.mark.parametrize("policy", ["fcfs", "easy", "conservative"])
def test_neutral_options_give_the_canonical_schedule(impl: Impl, policy: str) -> None:
    """fifo, no limits, no reservations, trace walltime: start, end and node ids as the canonical engine."""
    rng = np.random.default_rng(7)
    for _ in range(20):
        n = int(rng.integers(1, 30))
        run_s = rng.integers(1, 40, n).astype(float)
        rows = [
            {"submit": float(s), "run": float(r), "req": float(r + e), "size": int(z), "pool": int(p)}
            for s, r, e, z, p in zip(rng.integers(0, 60, n), run_s, rng.integers(0, 20, n),
                                     rng.integers(1, 6, n), rng.integers(0, 2, n), strict=True)
        ]
        table_, pool_of_job = jobs(rows)
        canonical = run_schedule(table_, pool_of_job, np.array([6, 9]), policy,
                                 pool_first_node=np.array([0, 6]))
        res = impl(table_, pool_of_job, pools(6, 9), SchedulerConfig(policy=policy), PLAIN)
        np.testing.assert_array_equal(res.start_s, canonical.start_s)
        np.testing.assert_array_equal(res.end_s, canonical.end_s)
        assert np.all(res.state == STATES.index("COMPLETED"))
        assert canonical.node_offsets is not None and canonical.node_ids is not None
        np.testing.assert_array_equal(res.node_offsets, canonical.node_offsets)
        want = [sorted(canonical.node_ids[a:b].tolist())
                for a, b in zip(canonical.node_offsets[:-1], canonical.node_offsets[1:], strict=True)]
        assert nodes_of(res) == want


# -- section 2: priorities ---------------------------------------------------------------------


def test_nersc_priority_is_qos_priority_plus_minutes_of_age(impl: Impl) -> None:
    """Capacity 4; A (4 nodes, 0-600) blocks everything; each later job takes 4 nodes for 10 s.

    QOS low = 0, mid = 1, high = 5. Priorities at t = 600 (age in whole minutes since submission;
    every job is its association's only queued job, so all accrue):
      B low  submit 0   -> 0 + 600/60 = 10
      C high submit 420 -> 5 + 180/60 = 8
      D high submit 60  -> 5 + 540/60 = 14
      E mid  submit 70  -> 1 + floor(530/60) = 9
      F low  submit 10  -> 0 + floor(590/60) = 9  (ties E: canonical order, F was submitted first)
    Order D, B, F, E, C: D 600-610.
    t=610: B = 10, F = floor(600/60) = 10, E = 1 + 9 = 10, C = 8: a three-way tie, canonical: B.
    t=620: F = 10, E = 1 + floor(550/60) = 10: tied again, F (submitted first) before E, whatever
    their QOS: F 620, E 630, C 640. (fifo: B, F, D, E, C.)
    """
    t = table(qos("low"), qos("mid", priority=1), qos("high", priority=5))
    rows = [
        {"submit": 0, "run": 600, "size": 4, "qos": "low", "user": 0},
        {"submit": 0, "run": 10, "size": 4, "qos": "low", "user": 1},
        {"submit": 420, "run": 10, "size": 4, "qos": "high", "user": 2},
        {"submit": 60, "run": 10, "size": 4, "qos": "high", "user": 3},
        {"submit": 70, "run": 10, "size": 4, "qos": "mid", "user": 4},
        {"submit": 10, "run": 10, "size": 4, "qos": "low", "user": 5},
    ]
    res = run(impl, rows, qos_table=t, priority="nersc")
    check(res, [0, 610, 640, 600, 630, 620], [600, 620, 650, 610, 640, 630])
    fifo = run(impl, rows, qos_table=t, priority="fifo")
    check(fifo, [0, 600, 640, 620, 630, 610], [600, 610, 650, 630, 640, 620])


@pytest.mark.parametrize(("accrue_limit", "c_start", "b3_start"), [(None, 620, 630), (0, 630, 620)])
def test_only_two_jobs_per_association_accrue_age(
    impl: Impl, accrue_limit: int | None, c_start: float, b3_start: float
) -> None:
    """nersc, default accrue limit 2. Capacity 4; A (user 0) holds the machine 0-600; 10 s jobs of 4 nodes.

    User 1 (one QOS, one account) queues B1, B2, B3 at 0; user 2 queues C at 100.
    t=600: B1, B2 accrued 600 s -> 10; B3 did not accrue (third of its association) -> 0; C: 500 s -> 8.
      B1 starts (tie with B2, canonical). B3 starts accruing now.
    t=610: B2 610 s -> 10, C 510 -> 8, B3 10 s -> 0: B2.  t=620: C 520 -> 8 > B3 20 s -> 0: C.  t=630: B3.
    With accrue_limit = 0 (no limit) B3 has accrued 620 s (10) at 620 and goes before C (8).
    """
    rows = [
        {"submit": 0, "run": 600, "size": 4, "user": 0},
        {"submit": 0, "run": 10, "size": 4, "user": 1},
        {"submit": 0, "run": 10, "size": 4, "user": 1},
        {"submit": 0, "run": 10, "size": 4, "user": 1},
        {"submit": 100, "run": 10, "size": 4, "user": 2},
    ]
    res = run(impl, rows, priority="nersc", accrue_limit=accrue_limit)
    check(res, [0, 600, 610, b3_start, c_start], [600, 610, 620, b3_start + 10, c_start + 10])


def test_fairshare_fresh_account_goes_first(impl: Impl) -> None:
    """multifactor with only the fairshare term. Capacity 4. A (account 1) runs 0-100 on all 4 nodes.

    B (account 1) and C (account 2) are queued at 50, B first in canonical order. At t=100,
    U_1 = 4 x H/ln2 x (1 - 2^(-100/H)) > 0 and U_2 = 0, so F_1 = 2^(-(1)/(1/2)) = 1/4 < F_2 = 1:
    C 100-110, then B 110-120 (fifo: B first).
    """
    rows = [
        {"submit": 0, "run": 100, "size": 4, "account": 1},
        {"submit": 50, "run": 10, "size": 4, "account": 1},
        {"submit": 50, "run": 10, "size": 4, "account": 2},
    ]
    res = run(impl, rows, priority="multifactor", age_weight=0.0, fairshare_weight=1000.0)
    check(res, [0, 110, 100], [100, 120, 110])


@pytest.mark.parametrize(("decision_s", "b_first"), [(200.0, False), (400.0, True)])
def test_fairshare_decay_flips_the_order(impl: Impl, decision_s: float, b_first: bool) -> None:
    """Half-life H = 100 s; multifactor, fairshare term only; capacity 4; three accounts.

    A (acct 1) runs 4 nodes 0-100: U_1(100) = 4 H/ln2 (1 - 1/2) = 288.5. At 100, D (acct 2, 1 node,
    runs 1000 s) and X (acct 3, 3 nodes, ends at T) start; B (acct 1) and C (acct 2), 3 nodes each,
    wait for X (C is behind D and X and in front of B since F_1 < 1). At T, with x = 2^(-(T-100)/H):
    U_1 = 288.5 x (decayed only) and U_2 = 1 x H/ln2 (1 - x) = 144.3 (1 - x) (D running).
      T = 200: x = 1/2: U_1 = 144.3 > U_2 = 72.1, so F_2 > F_1: C first (C 200-250, B 250-300).
      T = 400: x = 1/8: U_1 = 36.1 < U_2 = 126.2: B first (B 400-450, C 450-500).
    """
    rows = [
        {"submit": 0, "run": 100, "size": 4, "account": 1},
        {"submit": 100, "run": 1000, "size": 1, "account": 2},
        {"submit": 100, "run": decision_s - 100, "size": 3, "account": 3},
        {"submit": 100, "run": 50, "size": 3, "account": 1},
        {"submit": 100, "run": 50, "size": 3, "account": 2},
    ]
    res = run(impl, rows, priority="multifactor", age_weight=0.0, fairshare_weight=1000.0,
              decay_half_life_s=100.0)
    first, second = decision_s, decision_s + 50
    b, c = (first, second) if b_first else (second, first)
    check(res, [0, 100, 100, b, c], [100, 1100, decision_s, b + 50, c + 50])


def test_multifactor_qos_and_size_terms(impl: Impl) -> None:
    """Weights qos 100, size 10; age and fairshare off. Capacity 4, A blocks 0-100, then 10 s jobs.

    B: QOS lo (priority 0), 1 node: 0 + 10 x 1/4 = 2.5.  C: QOS hi (priority 4 = the largest): 100 +
    10 x 1/4 = 102.5.  D: lo, 4 nodes: 0 + 10 x 4/4 = 10.  Order at 100: C, D, B (fifo: B, C, D).
    fcfs: C 100-110 (1 node), D needs 4: waits for C: D 110-120; B (1 node) behind D: 120-130.
    """
    t = table(qos("lo"), qos("hi", priority=4))
    rows = [
        {"submit": 0, "run": 100, "size": 4, "qos": "lo"},
        {"submit": 10, "run": 10, "size": 1, "qos": "lo"},
        {"submit": 20, "run": 10, "size": 1, "qos": "hi"},
        {"submit": 30, "run": 10, "size": 4, "qos": "lo"},
    ]
    res = run(impl, rows, qos_table=t, priority="multifactor", age_weight=0.0, qos_weight=100.0,
              size_weight=10.0)
    check(res, [0, 120, 100, 110], [100, 130, 110, 120])


@pytest.mark.parametrize(("period", "b_first"), [(0.0, True), (300.0, False)])
def test_priority_calc_period(impl: Impl, period: float, b_first: bool) -> None:
    """nersc; QOS lo = 0, hi = 3; capacity 4; A (4 nodes) 0-250, then 10 s jobs of 4 nodes.
    B (lo) is queued at 0, C (hi) at 200. At 250, with priorities computed at each pass:
    B = 0 + 250/60 -> 4 > C = 3 + 0: B 250-260, C 260-270. With a 300 s period the last
    calculation was at 0 (B = 0) and C got 3 when it joined: C 250-260, B 260-270."""
    t = table(qos("lo"), qos("hi", priority=3))
    rows = [
        {"submit": 0, "run": 250, "size": 4, "qos": "lo", "user": 0},
        {"submit": 0, "run": 10, "size": 4, "qos": "lo", "user": 1},
        {"submit": 200, "run": 10, "size": 4, "qos": "hi", "user": 2},
    ]
    res = run(impl, rows, qos_table=t, priority="nersc", priority_calc_period_s=period)
    b, c = (250, 260) if b_first else (260, 250)
    check(res, [0, b, c], [250, b + 10, c + 10])


def test_priority_calc_period_counts_every_pass(impl: Impl) -> None:
    """multifactor (age only, weight 1000, max age 600 s), priority_calc_period_s = 9, capacity 3.
    J1 (3 nodes) 6-32. J2 (3 nodes, afterany J1, submitted at 16) joins the queue at 32. J3 (1 node,
    7 s) arrives at 25: that pass (J3 joined the queue) is the first one at least 9 s after the last
    calculation (at 6), so every priority is computed at 25 (J3: 0). At 32 (< 25 + 9) only J2, new,
    gets a priority: 0. J2 and J3 tie at 0; canonical order: J2 32-61, then J3 61-68. (Had the
    calculation not happened at 25, J3 would have 1000 x 7/600 = 11.7 at 32 and start first.)"""
    rows = [
        {"submit": 6, "run": 26, "size": 3},
        {"submit": 16, "run": 29, "size": 3},
        {"submit": 25, "run": 7, "size": 1},
    ]
    res = run(impl, rows, capacity=(3,), deps=[(2, 1, AFTERANY)], priority="multifactor", max_age_s=600.0,
              priority_calc_period_s=9.0)
    check(res, [6, 32, 61], [32, 61, 68])


def test_priority_calc_period_joining_job_gets_its_priority_when_it_joins(impl: Impl) -> None:
    """nersc (one QOS, priority 0), priority_calc_period_s = 180, capacity 4, 4-node jobs.
    J1 runs 20-160. J2 joins at 20: the calculation at 20 gives it 0. J3 joins at 100: nothing can
    start then, but the pass at 100 (J3 joined the queue) inserts it with its priority computed then:
    0 (age 0). At 160 (< 20 + 180, no calculation) J2 and J3 tie at 0: canonical order, J2 160-170,
    J3 170-180. (Computing J3's priority only at 160 would give it 1 minute of age: J3 first.)"""
    rows = [
        {"submit": 20, "run": 140, "size": 4, "user": 1},
        {"submit": 20, "run": 10, "size": 4, "user": 2},
        {"submit": 100, "run": 10, "size": 4, "user": 3},
    ]
    res = run(impl, rows, priority="nersc", priority_calc_period_s=180.0)
    check(res, [20, 160, 170], [160, 170, 180])


def test_priority_calc_period_requeued_job_gets_a_new_priority(impl: Impl) -> None:
    """multifactor (age only: 1000 x age / 12000 s), priority_calc_period_s = 180, fcfs, capacity 4.
    A (4 nodes) 0-280. J1 (low, preemptible, 2 nodes, at 0), J2 (regular, 2 nodes, at 40), J3 (high,
    may preempt low, 2 nodes, at 60), J4 (low, 3 nodes, at 80) all get 0 when they join.
    t=280: calculation (280 >= 0 + 180): J1 23.3, J2 20, J3 18.3, J4 16.7. J1 and J2 start; J3 does
    not fit and preempts J1 (started last); J1 ends at once and is requeued; the pass starts over and
    J3 (the preemptor) starts 280-440. J1 rejoins the queue: a new eligible job, age 0, priority 0
    (sections 2 and 8). t=440: no calculation (< 460): J4 (16.7) is ahead of J1 (0) and does not fit:
    fcfs stops. t=780: calculation: J4 58.3 > J1 41.7: J4 780-1260, then J1 1260-1740."""
    t = table(qos("regular"), qos("high", can_preempt=("low",)), qos("low", preemptible=True))
    rows = [
        {"submit": 0, "run": 280, "size": 4, "qos": "regular", "user": 0},
        {"submit": 0, "run": 480, "size": 2, "qos": "low", "user": 1},
        {"submit": 40, "run": 500, "size": 2, "qos": "regular", "user": 2},
        {"submit": 60, "run": 160, "size": 2, "qos": "high", "user": 3},
        {"submit": 80, "run": 480, "size": 3, "qos": "low", "user": 4},
    ]
    res = run(impl, rows, qos_table=t, priority="multifactor", max_age_s=12000.0,
              priority_calc_period_s=180.0)
    check(res, [0, 1260, 280, 280, 780], [280, 1740, 780, 440, 1260], ["COMPLETED"] * 5)
    assert res.requeues.tolist() == [0, 1, 0, 0, 0]


# -- section 1: QOS limits --------------------------------------------------------------------


def test_running_jobs_per_user_hold(impl: Impl) -> None:
    """max_running_jobs_per_user = 1; capacity 8; 2-node 10 s jobs at 0.

    J1 (user 1) starts; J2 (user 1) is held and skipped (the main step goes on); J3 (user 2) starts.
    At 10 J1 ends and J2 starts: J1 0-10, J2 10-20, J3 0-10.
    """
    t = table(qos("normal", max_running_jobs_per_user=1))
    rows = [{"size": 2, "run": 10, "user": u} for u in (1, 1, 2)]
    check(run(impl, rows, capacity=(8,), qos_table=t), [0, 10, 0], [10, 20, 10])


def test_running_nodes_per_user_hold(impl: Impl) -> None:
    """max_running_nodes_per_user = 4; one user; capacity 8.

    J1 (3 nodes, 10 s) starts; J2 (2 nodes) would make 5 > 4: held; J3 (1 node, 20 s) makes 4: starts.
    At 10 J1 ends: 1 + 2 = 3 <= 4, J2 starts: J1 0-10, J2 10-20, J3 0-20.
    """
    t = table(qos("normal", max_running_nodes_per_user=4))
    rows = [{"size": 3, "run": 10}, {"size": 2, "run": 10}, {"size": 1, "run": 20}]
    check(run(impl, rows, capacity=(8,), qos_table=t), [0, 10, 0], [10, 20, 20])


def test_running_jobs_per_account_hold_counts_within_the_qos(impl: Impl) -> None:
    """QOS 'capped' has max_running_jobs_per_account = 1; QOS 'free' none; capacity 8; 1-node jobs.

    J1 (user 1, account 7, capped) starts; J2 (user 2, account 7, capped) is held; J3 (user 3,
    account 8, capped) starts; J4 (user 2, account 7, free) starts (other QOS). J2 starts at 10.
    """
    t = table(qos("capped", max_running_jobs_per_account=1), qos("free"))
    rows = [
        {"run": 10, "user": 1, "account": 7, "qos": "capped"},
        {"run": 10, "user": 2, "account": 7, "qos": "capped"},
        {"run": 10, "user": 3, "account": 8, "qos": "capped"},
        {"run": 10, "user": 2, "account": 7, "qos": "free"},
    ]
    check(run(impl, rows, capacity=(8,), qos_table=t), [0, 10, 0, 0], [10, 20, 10, 10])


def test_held_jobs_neither_start_nor_block_easy(impl: Impl) -> None:
    """EASY, capacity 4, max_running_jobs_per_user = 1.

    J1 (user 1, 2 nodes) 0-100. J2 (user 1, 4 nodes, 10 s, at 1) is held: skipped, not H, no
    reservation. J3 (user 2, 2 nodes, 200 s, at 2) fits now: the main step (which skips J2) starts it,
    2-202 (had J2 been H, reserved at 100, J3 would have had to wait). J4 (user 3, 4 nodes, 10 s,
    at 3): H, S = 202. J5 (user 4, 2 nodes, 50 s, at 4): no node free.
    t=100: J1 ends; J2 is no longer held and is the first job that does not fit (2 free): H, S = 202;
    J4 does not fit; J5 ends by S (100 + 50 <= 202): backfilled 100-150.
    t=202: J2 202-212, then J4 212-222.
    """
    t = table(qos("one", max_running_jobs_per_user=1))
    rows = [
        {"submit": 0, "run": 100, "size": 2, "user": 1},
        {"submit": 1, "run": 10, "size": 4, "user": 1},
        {"submit": 2, "run": 200, "size": 2, "user": 2},
        {"submit": 3, "run": 10, "size": 4, "user": 3},
        {"submit": 4, "run": 50, "size": 2, "user": 4},
    ]
    res = run(impl, rows, qos_table=t, policy="easy")
    check(res, [0, 202, 2, 212, 100], [100, 212, 202, 222, 150])


def test_unknown_users_and_accounts_are_not_limited(impl: Impl) -> None:
    """User and account -1 (unknown) are not subject to per-user or per-account limits (section 1):
    with one running job per user and per account and a submit limit of 1, three such jobs all run
    at 0 (capacity 4, 1 node each)."""
    t = table(qos("tight", max_running_jobs_per_user=1, max_running_jobs_per_account=1,
                  max_submitted_jobs_per_user=1))
    rows = [{"run": 10, "user": -1, "account": -1} for _ in range(3)]
    check(run(impl, rows, qos_table=t), [0, 0, 0], [10, 10, 10], ["COMPLETED"] * 3)


def test_submit_limit_rejects(impl: Impl) -> None:
    """max_submitted_jobs_per_user = 2 in QOS 'lim'; capacity 4; 4-node 10 s jobs of user 1.

    J1 (0) runs 0-10, J2 (0) is queued: J3 (at 1, lim) finds 2 jobs and is rejected
    (qos_submit_limit). J4 (at 1, QOS 'other') counts separately: accepted, runs after J2: 20-30.
    J5 (at 15): J1 has ended, J2 runs: 1 < 2, accepted; J5 30-40.
    """
    t = table(qos("lim", max_submitted_jobs_per_user=2), qos("other"))
    rows = [
        {"submit": 0, "run": 10, "size": 4, "user": 1, "qos": "lim"},
        {"submit": 0, "run": 10, "size": 4, "user": 1, "qos": "lim"},
        {"submit": 1, "run": 10, "size": 4, "user": 1, "qos": "lim"},
        {"submit": 1, "run": 10, "size": 4, "user": 1, "qos": "other"},
        {"submit": 15, "run": 10, "size": 4, "user": 1, "qos": "lim"},
    ]
    res = run(impl, rows, qos_table=t)
    check(res, [0, 10, NAN, 20, 30], [10, 20, NAN, 30, 40],
          ["COMPLETED", "COMPLETED", "REJECTED", "COMPLETED", "COMPLETED"],
          ["", "", "qos_submit_limit", "", ""])


def test_walltime_and_max_nodes_rejections(impl: Impl) -> None:
    """QOS debug: 1800 s, 2 nodes (the default QOS, so "" means debug); QOS big: no limits.

    J1 limit 1800, 2 nodes: accepted (0-100). J2 limit 1801: qos_walltime. J3 3 nodes: qos_max_nodes.
    J4 both: qos_walltime (READING 4: the section 1 order). J5 in 'big', 3 nodes, limit 5000: accepted,
    starts at 0 next to J1 (capacity 8).
    """
    t = table(qos("debug", max_walltime_s=1800, max_nodes_per_job=2), qos("big"))
    rows = [
        {"run": 100, "req": 1800, "size": 2},
        {"run": 100, "req": 1801, "size": 2},
        {"run": 100, "req": 1800, "size": 3},
        {"run": 100, "req": 1801, "size": 3},
        {"run": 100, "req": 5000, "size": 3, "qos": "big"},
    ]
    res = run(impl, rows, capacity=(8,), qos_table=t)
    check(res, [0, NAN, NAN, NAN, 0], [100, NAN, NAN, NAN, 100],
          ["COMPLETED", "REJECTED", "REJECTED", "REJECTED", "COMPLETED"],
          ["", "qos_walltime", "qos_max_nodes", "qos_walltime", ""])
    assert nodes_of(res) == [[0, 1], [], [], [], [2, 3, 4]]


# -- section 4: walltime ----------------------------------------------------------------------


@pytest.mark.parametrize("over", [0.0, 5.0])
def test_kill_at_limit_plus_over_time(impl: Impl, over: float) -> None:
    """walltime = kill; capacity 4; 4-node jobs in a row; over_time_limit_s = over.

    J1 work 100, limit 50: killed at 50 + over (TIMEOUT). J2 work 30, limit 60: COMPLETED after 30.
    J3 work 63, limit 60: with over 0 killed at 60 (TIMEOUT); with over 5 it ends at 63 inside the
    over time, COMPLETED (READING 15).
    """
    rows = [
        {"run": 100, "limit": 50, "size": 4},
        {"run": 30, "limit": 60, "size": 4},
        {"run": 63, "limit": 60, "size": 4},
    ]
    res = run(impl, rows, walltime="kill", over_time_limit_s=over)
    e1 = 50 + over
    j3_run = 63.0 if over else 60.0
    check(res, [0, e1, e1 + 30], [e1, e1 + 30, e1 + 30 + j3_run],
          ["TIMEOUT", "COMPLETED", "COMPLETED" if over else "TIMEOUT"])
    trace = run(impl, rows)  # trace mode: recorded run times, nobody is killed
    check(trace, [0, 100, 130], [100, 130, 193], ["COMPLETED"] * 3)


def test_kill_mode_plans_with_the_time_limit(impl: Impl) -> None:
    """walltime = kill, EASY, capacity 4: the estimate is limit_s (the trace estimate req is ignored).

    J1: 2 nodes, work 20, limit 100 (req 20). J2: 4 nodes (H). J3: 2 nodes, work 10, limit 150.
    Kill mode: S = 0 + 100 (J1's limit); J3 ends by estimate at 150 > S and extra = 4 - 4 = 0: waits.
    J1 really ends at 20: J2 20-30 (its own work 10), J3 30-40.
    Trace mode (req = run): S = 20, J3's estimate 10 ends by S: backfilled 0-10; J2 20-30.
    """
    rows = [
        {"run": 20, "req": 20, "limit": 100, "size": 2},
        {"run": 10, "req": 10, "limit": 100, "size": 4},
        {"run": 10, "req": 10, "limit": 150, "size": 2},
    ]
    check(run(impl, rows, policy="easy", walltime="kill"), [0, 20, 30], [20, 30, 40])
    check(run(impl, rows, policy="easy"), [0, 20, 0], [20, 30, 10])


# -- section 5: reservations and maintenance --------------------------------------------------


def test_drain_before_a_reservation(impl: Impl) -> None:
    """EASY, capacity 4; reservation of the whole pool over [100, 200).

    J1 (2 nodes, 50 s) starts at 0. J2 (2 nodes, 150 s) would overlap the reservation: it does not
    fit now (drain), so it is H; its earliest fit for 150 s is 200. J3 (2 nodes, 100 s) ends exactly
    when the reservation begins: backfilled 0-100. J4 (4 nodes, 10 s, at 60) fits nowhere before the
    reservation (J3 holds 2 nodes until 100). t=200: J2 starts 200-350; J4 (4 nodes) after it:
    S = 350, starts 350-360.
    """
    rows = [
        {"submit": 0, "run": 50, "size": 2},
        {"submit": 0, "run": 150, "size": 2},
        {"submit": 0, "run": 100, "size": 2},
        {"submit": 60, "run": 10, "size": 4},
    ]
    resv = (Reservation(name="r", start_s=100, end_s=200),)
    res = run(impl, rows, policy="easy", reservations=resv)
    check(res, [0, 200, 0, 350], [50, 350, 100, 360])
    check(run(impl, rows, policy="easy"), [0, 0, 50, 150], [50, 150, 150, 160])


def test_partial_reservation_takes_the_lowest_free_nodes(impl: Impl) -> None:
    """Capacity 4 (nodes 0-3); reservation 'r' of 2 nodes of pool a over [50, 150); fcfs.

    J1 (2 nodes, 100 s) starts at 0 on nodes 0-1. J2 (3 nodes, 10 s, at 0): 2 free now: waits, and
    J3 (1 node) behind it waits too (fcfs). At 50 the reservation takes the free nodes 2-3. At 100 J1
    ends: 4 - 2 reserved = 2 < 3. At 150 the reservation ends: J2 150-160 on 0-2, and J3, now at the
    head, fits: 150-160 on node 3.
    """
    rows = [
        {"submit": 0, "run": 100, "size": 2},
        {"submit": 0, "run": 10, "size": 3},
        {"submit": 0, "run": 10, "size": 1},
    ]
    resv = (Reservation(name="r", start_s=50, end_s=150, pool="a", nodes=2),)
    res = run(impl, rows, reservations=resv)
    check(res, [0, 150, 150], [100, 160, 160])
    assert nodes_of(res) == [[0, 1], [0, 1, 2], [3]]


def test_partial_reservation_node_ids_and_backfill(impl: Impl) -> None:
    """EASY, capacity 4, reservation of 2 nodes over [50, 150).

    J1 (1 node, 200 s) at 0 on node 0. J2 (1 node, 20 s) at 0 on node 1, ends at 20. At 50 the
    reservation takes the lowest free nodes, 1 and 2. J3 (2 nodes, 30 s, at 60): node 3 only is
    free: H; the profile has 4 - 1 (J1) - 2 (reserved) = 1 on [60, 150), 3 on [150, 200): S = 150.
    J4 (1 node, 100 s, at 61): fits now on node 3 and over [61, 161) the profile with J3's block
    [150, 180) keeps 4 - 1 - 2 = 1 >= 1 node: backfilled 61-161 on node 3.
    t=150: the reservation gives nodes 1-2 back: J3 150-180 on them.
    """
    rows = [
        {"submit": 0, "run": 200, "size": 1},
        {"submit": 0, "run": 20, "size": 1},
        {"submit": 60, "run": 30, "size": 2},
        {"submit": 61, "run": 100, "size": 1},
    ]
    resv = (Reservation(name="r", start_s=50, end_s=150, nodes=2),)
    res = run(impl, rows, policy="easy", reservations=resv)
    check(res, [0, 0, 150, 61], [200, 20, 180, 161])
    assert nodes_of(res) == [[0], [1], [1, 2], [3]]


def test_maintenance_drains_every_pool(impl: Impl) -> None:
    """Maintenance windows [100, 150) and [1100, 1150) on every node of both pools (4 + 2 nodes); fcfs.

    Pool a: J1 (1 node, 120 s, at 0) would overlap the first window: does not fit until 150
      (150-270); J2 (1 node, 100 s, at 0) would fit but is behind J1 (fcfs): 150-250.
      J3 (4 nodes, 50 s, at 1000): 1000-1050. J4 (1 node, 50 s, at 1060): [1060, 1110) overlaps the
      second window: 1150-1200.
    Pool b: J5 (2 nodes, 20 s, at 90): [90, 110) overlaps: 150-170.
    """
    rows = [
        {"submit": 0, "run": 120, "size": 1},
        {"submit": 0, "run": 100, "size": 1},
        {"submit": 1000, "run": 50, "size": 4},
        {"submit": 1060, "run": 50, "size": 1},
        {"submit": 90, "run": 20, "size": 2, "pool": 1},
    ]
    maintenance = Maintenance(first_start_s=100, period_s=1000, duration_s=50, count=2)
    res = run(impl, rows, capacity=(4, 2), maintenance=maintenance)
    check(res, [150, 150, 1000, 1150, 150], [270, 250, 1050, 1200, 170])


# -- section 6: node sharing ------------------------------------------------------------------


SHARED = table(qos("shared", shared=True), qos("normal"))


def test_shared_nodes_best_fit(impl: Impl) -> None:
    """Capacity 2 nodes of 8 cores, 4 GPUs, 1000 MB; fcfs; all submitted at 0.

    S1 4 cores, mem 0 = 4/8 of 1000 = 500 -> node 0 (becomes shared) used (4c, 0g, 500m).
    S2 2c 1g 100m -> node 0 has room: (6, 1, 600).
    S3 4c -> node 0 has 2 free cores: lowest free node 1 becomes shared: (4, 0, 500).
    S4 1c 3g 100m -> fits node 0 (2 free cores) and node 1 (4): best fit node 0: (7, 4, 700).
    S5 1c 1g 100m -> node 0 has no GPU left: node 1: (5, 1, 600).
    S6 1c 450m -> node 0 has 300 MB free, node 1 400 MB: does not fit, no whole node free: fcfs stops.
    X (exclusive, 1 node) waits behind it.
    t=30: S3 ends: node 1 (1, 1, 100): S6 fits there (30-40). X: no whole node (both shared).
    t=40: S5 and S6 end: node 1 is empty, so whole again: X 40-50 on node 1.
    """
    rows = [
        {"run": 100, "qos": "shared", "cores": 4},
        {"run": 50, "qos": "shared", "cores": 2, "gpus": 1, "mem": 100},
        {"run": 30, "qos": "shared", "cores": 4},
        {"run": 100, "qos": "shared", "cores": 1, "gpus": 3, "mem": 100},
        {"run": 40, "qos": "shared", "cores": 1, "gpus": 1, "mem": 100},
        {"run": 10, "qos": "shared", "cores": 1, "mem": 450},
        {"run": 10, "qos": "normal", "size": 1},
    ]
    res = run(impl, rows, capacity=(2,), qos_table=SHARED)
    check(res, [0, 0, 0, 0, 0, 30, 40], [100, 50, 30, 100, 40, 40, 50])
    assert nodes_of(res) == [[0], [0], [1], [0], [1], [1], [1]]


def test_shared_too_big(impl: Impl) -> None:
    """Nodes of 8 cores, 4 GPUs, 1000 MB; QOS 'half' shared with max_node_fraction 0.5.

    2 nodes: shared_too_big. 9 cores: more than the node. 5 GPUs: more than the node. 5 cores of 8
    (0.625 > 0.5): more than the QOS allows (READING 3). 4 cores and 2 GPUs and 500 MB: exactly half:
    accepted, 0-10 on node 0.
    """
    t = table(qos("half", shared=True, max_node_fraction=0.5))
    rows = [
        {"run": 10, "size": 2, "cores": 1},
        {"run": 10, "cores": 9},
        {"run": 10, "cores": 1, "gpus": 5},
        {"run": 10, "cores": 5},
        {"run": 10, "cores": 4, "gpus": 2, "mem": 500},
    ]
    res = run(impl, rows, capacity=(2,), qos_table=t)
    check(res, [NAN] * 4 + [0], [NAN] * 4 + [10], ["REJECTED"] * 4 + ["COMPLETED"],
          ["shared_too_big"] * 4 + [""])


def test_shared_job_backfills_on_a_shared_node(impl: Impl) -> None:
    """EASY; capacity 2; nodes of 8 cores.

    S1 (shared, 4 cores, 100 s) on node 0 at 0. E1 (exclusive, 1 node, 50 s) on node 1 at 0.
    E2 (exclusive, 2 nodes, 10 s, at 1): H; S = 100 (node 0's release estimate), extra = 2 - 2 = 0.
    S2 (shared, 4 cores, 200 s, at 2): its placement is node 0 (release 100 <= S) and would keep it
    busy past S, with extra 0: not backfilled. S3 (shared, 2 cores, 90 s, at 3): node 0 until 93 <= S:
    backfilled 3-93 on node 0.
    t=50: E1 ends: node 1 free; H still E2 (needs 2 whole nodes); S2 would take node 1 (not counted...
    it is free now and counted at S): extra 0, S2 ends after S: no. t=100: S1 ends; node 0 is empty
    (S3 ended at 93): E2 100-110; S2 110-310 on node 0.
    """
    rows = [
        {"submit": 0, "run": 100, "qos": "shared", "cores": 4},
        {"submit": 0, "run": 50, "qos": "normal", "size": 1},
        {"submit": 1, "run": 10, "qos": "normal", "size": 2},
        {"submit": 2, "run": 200, "qos": "shared", "cores": 4},
        {"submit": 3, "run": 90, "qos": "shared", "cores": 2},
    ]
    res = run(impl, rows, capacity=(2,), qos_table=SHARED, policy="easy")
    check(res, [0, 0, 100, 110, 3], [100, 50, 110, 310, 93])
    assert nodes_of(res) == [[0], [1], [0, 1], [0], [0]]


def test_shared_job_uses_its_placement_only(impl: Impl) -> None:
    """EASY; capacity 2 nodes of 8 cores. S1 (7 cores, 100 s) makes node 0 shared (1 core left);
    S2 (6 cores, 300 s) does not fit there: node 1 (2 cores left). H (exclusive, 1 node, 50 s, at 1):
    no whole node; S = 100 (node 0's release), extra 0. J (shared, 1 core, 150 s, at 1): its placement
    (section 6: least free cores) is node 0, which it would keep busy past S with extra 0: it does not
    start (READING 20: "its placement" is the one node the rule picks; node 1, whose release 300 lies
    beyond J's end, is not tried). t=100: S1 ends, H 100-150 on node 0; J's placement is now node 1
    (the only shared node): 100-250."""
    rows = [
        {"submit": 0, "run": 100, "qos": "shared", "cores": 7},
        {"submit": 0, "run": 300, "qos": "shared", "cores": 6},
        {"submit": 1, "run": 50, "qos": "normal", "size": 1},
        {"submit": 1, "run": 150, "qos": "shared", "cores": 1},
    ]
    res = run(impl, rows, capacity=(2,), qos_table=SHARED, policy="easy")
    check(res, [0, 0, 100, 100], [100, 300, 150, 250])
    assert nodes_of(res) == [[0], [1], [0], [1]]


def test_conservative_with_shared_jobs_is_refused(impl: Impl) -> None:
    rows = [{"run": 10, "qos": "shared", "cores": 1}]
    with pytest.raises(ValueError):
        run(impl, rows, qos_table=SHARED, policy="conservative")


# -- section 7: dependencies and arrays -------------------------------------------------------


def test_afterok_and_afterany(impl: Impl) -> None:
    """Capacity 4; fcfs; 4-node 10 s jobs, all submitted at 0. J1 0-10. J2 afterok J1 and J3 afterany
    J2 are not in the queue until their dependency ends; J4 (no dependency) is. At 10, J2 joins the
    queue and goes before J4 (canonical order: same submit time, id 2 < 4): J2 10-20. At 20 J3 joins,
    and is before J4 likewise: J3 20-30, J4 30-40.
    """
    rows = [{"run": 10, "size": 4} for _ in range(4)]
    res = run(impl, rows, deps=[(2, 1, AFTEROK), (3, 2, AFTERANY)])
    check(res, [0, 10, 20, 30], [10, 20, 30, 40], ["COMPLETED"] * 4)


def test_afterok_after_timeout_cancels_the_chain(impl: Impl) -> None:
    """walltime = kill; capacity 4.

    J1 (4 nodes, work 100, limit 50): TIMEOUT at 50. J2 afterok J1: cancelled at 50
    (dependency_never_satisfied), never runs. J3 afterok J2: cancelled in turn. J4 afterany J1 and
    J5 afterany J3 (a cancelled job has ended): both eligible at 50, 2 nodes each: 50-60.
    J6 afterok J4 (4 nodes): J4 completes at 60: 60-70.
    """
    rows = [
        {"run": 100, "limit": 50, "size": 4},
        {"run": 10, "limit": 20, "size": 4},
        {"run": 10, "limit": 20, "size": 4},
        {"run": 10, "limit": 10, "size": 2},
        {"run": 10, "limit": 10, "size": 2},
        {"run": 10, "limit": 10, "size": 4},
    ]
    deps = [(2, 1, AFTEROK), (3, 2, AFTEROK), (4, 1, AFTERANY), (5, 3, AFTERANY), (6, 4, AFTEROK)]
    res = run(impl, rows, deps=deps, walltime="kill")
    check(res, [0, NAN, NAN, 50, 50, 60], [50, NAN, NAN, 60, 60, 70],
          ["TIMEOUT", "CANCELLED", "CANCELLED", "COMPLETED", "COMPLETED", "COMPLETED"],
          ["", "dependency_never_satisfied", "dependency_never_satisfied", "", "", ""])


def test_dependencies_on_unknown_and_rejected_jobs(impl: Impl) -> None:
    """Capacity 4, 1-node 10 s jobs. J1 depends on job 99 (not in the workload): rejected,
    dependency_unknown. J2 is rejected by its QOS (limit 200 > 100: qos_walltime). A rejected job
    counts as ended (section 7): J3 (at 1) afterany J2 joins the queue at its submission: 1-11;
    J5 (at 1) afterok J2 is cancelled at its submission (dependency_never_satisfied). J4 runs 0-10."""
    t = table(qos("short", max_walltime_s=100))
    rows = [{"run": 10}, {"run": 10, "req": 200}, {"submit": 1, "run": 10}, {"run": 10},
            {"submit": 1, "run": 10}]
    res = run(impl, rows, qos_table=t, deps=[(1, 99, AFTEROK), (3, 2, AFTERANY), (5, 2, AFTEROK)])
    check(res, [NAN, NAN, 1, 0, NAN], [NAN, NAN, 11, 10, NAN],
          ["REJECTED", "REJECTED", "COMPLETED", "COMPLETED", "CANCELLED"],
          ["dependency_unknown", "qos_walltime", "", "", "dependency_never_satisfied"])


def test_dependency_on_a_later_job_is_unknown(impl: Impl) -> None:
    """A dependency must name a job that exists when the dependent job is submitted (section 7).
    J1 (at 0) afterok J2 (submitted at 5): rejected, dependency_unknown. J2 (4 nodes) 5-15.
    J3 (at 5, id 3) afterany J2 (at 5, id 2): J2 is submitted first in job order, so it is known:
    15-25."""
    rows = [{"run": 10}, {"submit": 5, "run": 10, "size": 4}, {"submit": 5, "run": 10, "size": 4}]
    res = run(impl, rows, deps=[(1, 2, AFTEROK), (3, 2, AFTERANY)])
    check(res, [NAN, 5, 15], [NAN, 15, 25], ["REJECTED", "COMPLETED", "COMPLETED"],
          ["dependency_unknown", "", ""])


def test_array_throttle(impl: Impl) -> None:
    """Capacity 8; array 7 of 4 one-node tasks, throttle 2, plus a plain job; 10 s each, all at 0.
    Tasks 1-2 run 0-10, tasks 3-4 are held until 10 (10-20); the plain job runs at 0."""
    rows = [{"run": 10, "array": 7, "throttle": 2} for _ in range(4)] + [{"run": 10}]
    res = run(impl, rows, capacity=(8,))
    check(res, [0, 0, 10, 10, 0], [10, 10, 20, 20, 10])


# -- section 8: preemption --------------------------------------------------------------------


PREEMPT = table(qos("regular", priority=100, can_preempt=("preempt",)), qos("preempt", preemptible=True))


def _preemption_rows(p2_run: float = 100.0) -> list[dict[str, Any]]:
    return [
        {"submit": 0, "run": 100, "size": 2, "qos": "preempt", "user": 1},
        {"submit": 10, "run": p2_run, "size": 2, "qos": "preempt", "user": 2},
        {"submit": 20, "run": 50, "size": 2, "qos": "regular", "user": 3},
    ]


def test_preemption_requeue(impl: Impl) -> None:
    """nersc; capacity 4. P1 (preempt) 0-100 and P2 (preempt) from 10 fill the pool. R (regular,
    2 nodes) arrives at 20, does not fit: it preempts the most recently started job, P2. Grace 0:
    P2 ends at once and is requeued with all its work; the pass starts over and R starts at 20
    (20-70); P2 restarts when R ends: 70-170. Lost: 2 nodes x (20 - 10) = 20 node-seconds."""
    res = run(impl, _preemption_rows(), qos_table=PREEMPT, priority="nersc", policy="easy")
    check(res, [0, 70, 20], [100, 170, 70], ["COMPLETED"] * 3)
    assert res.requeues.tolist() == [0, 1, 0]
    assert res.lost_node_s.tolist() == [0.0, 20.0, 0.0]
    assert nodes_of(res) == [[0, 1], [2, 3], [2, 3]]


def test_preemption_grace_time(impl: Impl) -> None:
    """As above with preempt_grace_s = 15: P2 ends at 35, R runs 35-85, P2 again 85-185;
    lost 2 x (35 - 10) = 50."""
    res = run(impl, _preemption_rows(), qos_table=PREEMPT, priority="nersc", policy="easy",
              preempt_grace_s=15.0)
    check(res, [0, 85, 35], [100, 185, 85], ["COMPLETED"] * 3)
    assert res.requeues.tolist() == [0, 1, 0]
    assert res.lost_node_s.tolist() == [0.0, 50.0, 0.0]


def test_preempted_job_ending_within_the_grace_time_completes(impl: Impl) -> None:
    """P2 runs only 20 s (ends at 30 < 20 + grace 15): it ends by itself, COMPLETED, no requeue;
    R starts at 30 (30-80)."""
    res = run(impl, _preemption_rows(p2_run=20.0), qos_table=PREEMPT, priority="nersc", policy="easy",
              preempt_grace_s=15.0)
    check(res, [0, 10, 30], [100, 30, 80], ["COMPLETED"] * 3)
    assert res.requeues.tolist() == [0, 0, 0]


def test_preemption_cancel(impl: Impl) -> None:
    """preempt_mode = cancel: P2 is CANCELLED (reason preempted) at 20 after running 10-20; R 20-70.
    No requeue, no lost node-seconds (READING 17)."""
    res = run(impl, _preemption_rows(), qos_table=PREEMPT, priority="nersc", policy="easy",
              preempt_mode="cancel")
    check(res, [0, 10, 20], [100, 20, 70], ["COMPLETED", "CANCELLED", "COMPLETED"],
          ["", "preempted", ""])
    assert res.requeues.tolist() == [0, 0, 0]
    assert res.lost_node_s.tolist() == [0.0, 0.0, 0.0]


def test_preemption_chooses_most_recent_first_and_only_what_is_needed(impl: Impl) -> None:
    """Capacity 6; preempt jobs P1 (start 0), P3 (start 5), P2 (start 10), 2 nodes, 100 s each.
    R (4 nodes, 50 s) at 20 needs 4: the most recently started P2 (2), then P3 (4): both requeued
    at 20; P1 keeps running. R 20-70. At 20 the requeued P3 and P2 (2 nodes each) wait: 6 - 2 (P1)
    - 4 (R) = 0. At 70 R ends: P3 (submitted 5, earlier in canonical order; both priority 0 + age
    0 minutes) and P2 start: 70-170. Lost 2 x 10 (P2: 10-20) and 2 x 15 (P3: 5-20)."""
    rows = [
        {"submit": 0, "run": 100, "size": 2, "qos": "preempt", "user": 1},
        {"submit": 10, "run": 100, "size": 2, "qos": "preempt", "user": 2},
        {"submit": 5, "run": 100, "size": 2, "qos": "preempt", "user": 4},
        {"submit": 20, "run": 50, "size": 4, "qos": "regular", "user": 3},
    ]
    res = run(impl, rows, capacity=(6,), qos_table=PREEMPT, priority="nersc", policy="easy")
    check(res, [0, 70, 70, 20], [100, 170, 170, 70], ["COMPLETED"] * 4)
    assert res.requeues.tolist() == [0, 1, 1, 0]
    assert res.lost_node_s.tolist() == [0.0, 20.0, 30.0, 0.0]


def test_no_preemption_when_victims_cannot_cover_the_head(impl: Impl) -> None:
    """Capacity 4: P1 (preempt, 2 nodes) and N (regular, 2 nodes) run from 0. R (regular, 4 nodes) at
    20: free 0 + P1's 2 < 4, so nothing is chosen; R waits for both: 100-150."""
    rows = [
        {"submit": 0, "run": 100, "size": 2, "qos": "preempt", "user": 1},
        {"submit": 0, "run": 100, "size": 2, "qos": "regular", "user": 2},
        {"submit": 20, "run": 50, "size": 4, "qos": "regular", "user": 3},
    ]
    res = run(impl, rows, qos_table=PREEMPT, priority="nersc", policy="easy")
    check(res, [0, 0, 100], [100, 100, 150], ["COMPLETED"] * 3)
    assert res.requeues.tolist() == [0, 0, 0]


@pytest.mark.parametrize("mode", ["requeue", "cancel"])
def test_preemptor_takes_the_freed_nodes(impl: Impl, mode: str) -> None:
    """fifo (the victim is ahead of the preemptor in the queue), EASY, capacity 4.
    X (low, 4 nodes, 100 s) 0-... ; H (regular, may preempt low; 4 nodes, 50 s) at 10 preempts X
    (grace 0): X ends at 10 and the pass starts over; H, the pool's preemptor, starts first (10-60),
    so the requeued X, first in fifo order, cannot take its nodes back: X again 60-160 (lost
    4 x 10 = 40). Cancel: X CANCELLED 0-10."""
    rows = [
        {"submit": 0, "run": 100, "size": 4, "qos": "low", "user": 1},
        {"submit": 10, "run": 50, "size": 4, "qos": "regular", "user": 2},
    ]
    t = table(qos("regular", can_preempt=("low",)), qos("low", preemptible=True))
    res = run(impl, rows, qos_table=t, policy="easy", preempt_mode=mode)
    if mode == "requeue":
        check(res, [60, 10], [160, 60], ["COMPLETED", "COMPLETED"])
        assert res.requeues.tolist() == [1, 0] and res.lost_node_s.tolist() == [40.0, 0.0]
    else:
        check(res, [0, 10], [10, 60], ["CANCELLED", "COMPLETED"], ["preempted", ""])


@pytest.mark.parametrize("mode", ["requeue", "cancel"])
def test_job_started_in_the_same_pass_can_be_preempted(impl: Impl, mode: str) -> None:
    """fifo, capacity 4, both at 0, X first in canonical order. The main step starts X (low, 4
    nodes); H (4 nodes, may preempt low) does not fit and preempts the most recently started job:
    X, started now. With grace 0 X ends at once: a run of 0 s (requeue: lost 0, X runs again after H,
    50-150; cancel: CANCELLED at 0-0). H 0-50. The spec allows this; see the report."""
    rows = [
        {"submit": 0, "run": 100, "size": 4, "qos": "low", "user": 1},
        {"submit": 0, "run": 50, "size": 4, "qos": "regular", "user": 2},
    ]
    t = table(qos("regular", can_preempt=("low",)), qos("low", preemptible=True))
    res = run(impl, rows, qos_table=t, policy="easy", preempt_mode=mode)
    if mode == "requeue":
        check(res, [50, 0], [150, 50], ["COMPLETED", "COMPLETED"])
        assert res.requeues.tolist() == [1, 0] and res.lost_node_s.tolist() == [0.0, 0.0]
    else:
        check(res, [0, 0], [0, 50], ["CANCELLED", "COMPLETED"], ["preempted", ""])


def test_only_preemptible_qos_are_preempted(impl: Impl) -> None:
    """regular lists low in can_preempt, but low is not flagged preemptible: nothing is preempted
    (READING 16; section 8 does not say what the flag does). Capacity 4: X (low, 4 nodes) 0-100;
    H (regular, 4 nodes, 50 s, at 10) waits: 100-150."""
    t = table(qos("regular", can_preempt=("low",)), qos("low", preemptible=False))
    rows = [
        {"submit": 0, "run": 100, "size": 4, "qos": "low", "user": 1},
        {"submit": 10, "run": 50, "size": 4, "qos": "regular", "user": 2},
    ]
    res = run(impl, rows, qos_table=t, policy="easy")
    check(res, [0, 100], [100, 150], ["COMPLETED", "COMPLETED"])
    assert res.requeues.tolist() == [0, 0]


def test_requeued_job_ages_from_zero(impl: Impl) -> None:
    """nersc (low 0, high 100), EASY, capacity 4; all users differ.
    A (low, 4 nodes) 0-600. B (low, 2 nodes, 2000 s) and V (low, 2 nodes, 1000 s), queued at 0, start
    at 600. W (low, 2 nodes, 10 s) is queued at 660. H (high, 2 nodes, 100 s) at 700 preempts the
    most recently started job, V (tie with B at 600: higher index first): V is requeued at 700 and
    H runs 700-800. At 800: V has aged 100 s (1 minute), W 140 s (2): W 800-810, then V 810-1810.
    (Had V kept its 600 s of age from before its first start, it would have gone first.)"""
    t = table(qos("low", preemptible=True), qos("high", priority=100, can_preempt=("low",)))
    rows = [
        {"submit": 0, "run": 600, "size": 4, "qos": "low", "user": 0},
        {"submit": 0, "run": 2000, "size": 2, "qos": "low", "user": 1},
        {"submit": 0, "run": 1000, "size": 2, "qos": "low", "user": 2},
        {"submit": 700, "run": 100, "size": 2, "qos": "high", "user": 3},
        {"submit": 660, "run": 10, "size": 2, "qos": "low", "user": 4},
    ]
    res = run(impl, rows, qos_table=t, priority="nersc", policy="easy")
    check(res, [0, 600, 810, 700, 800], [600, 2600, 1810, 800, 810], ["COMPLETED"] * 5)
    assert res.requeues.tolist() == [0, 0, 1, 0, 0] and res.lost_node_s.tolist()[2] == 200.0


def test_signalled_job_estimate_is_the_signal_time(impl: Impl) -> None:
    """Section 8: a signalled job "ends at t + grace or its own end if earlier, and its estimated end
    becomes that time" (READING 16: that time is the earlier of the two).
    nersc (high 100), EASY, capacity 5, grace 50. V (low, 2 nodes, runs 30 s, estimate 1000) and
    X (regular, 2 nodes, 1000 s) run from 0; one node is free. H (high, 3 nodes, 100 s) at 10:
    1 free + V's 2 cover it, V is signalled: it would end at 60 but ends by itself at 30, so its
    estimated end becomes 30. H's shadow time is then 30 with extra 0, so J (regular, 1 node, 40 s,
    at 10) would end after it: not backfilled. t=30: V completes; H (the preemptor) starts 30-130;
    J 130-170. (With V's estimate at 60 instead, J would run 10-50 and delay H to 50.)"""
    t = table(qos("regular"), qos("low", preemptible=True), qos("high", priority=100, can_preempt=("low",)))
    rows = [
        {"submit": 0, "run": 30, "req": 1000, "size": 2, "qos": "low", "user": 1},
        {"submit": 0, "run": 1000, "size": 2, "qos": "regular", "user": 2},
        {"submit": 10, "run": 100, "size": 3, "qos": "high", "user": 3},
        {"submit": 10, "run": 40, "size": 1, "qos": "regular", "user": 4},
    ]
    res = run(impl, rows, capacity=(5,), qos_table=t, priority="nersc", policy="easy", preempt_grace_s=50.0)
    check(res, [0, 0, 50, 10], [30, 1000, 150, 50], ["COMPLETED"] * 4)
    assert res.requeues.tolist() == [0, 0, 0, 0]


# -- section 3: backfill window, max jobs, interval -------------------------------------------


@pytest.mark.parametrize("policy", ["easy", "conservative"])
@pytest.mark.parametrize(("window", "starts", "ends"), [
    (0.0, [0, 100, 110], [100, 110, 310]),
    (100.0, [0, 100, 110], [100, 110, 310]),
    (50.0, [0, 200, 0], [100, 210, 200]),
])
def test_backfill_window(impl: Impl, policy: str, window: float, starts: list[float], ends: list[float]
                         ) -> None:
    """Capacity 4. J1 (2 nodes) 0-100; J2 (4 nodes, 10 s) does not fit: its reservation is at 100.
    J3 (2 nodes, 200 s) would delay it (extra 0): without a window (or with S = t + window exactly,
    100) J3 waits: J2 100-110, J3 110-310. With a 50 s window, 100 > 0 + 50: J2 gets no reservation
    and J3 starts now (0-200); J2 waits for both: 200-210."""
    rows = [{"run": 100, "size": 2}, {"run": 10, "size": 4}, {"run": 200, "size": 2}]
    check(run(impl, rows, policy=policy, backfill_window_s=window), starts, ends)


@pytest.mark.parametrize("policy", ["easy", "conservative"])
@pytest.mark.parametrize(("max_jobs", "j4_start"), [(0, 0.0), (1, 120.0), (2, 0.0)])
def test_backfill_max_jobs(impl: Impl, policy: str, max_jobs: int, j4_start: float) -> None:
    """Capacity 4. J1 (2 nodes) 0-100; J2 (4 nodes, 10 s): H at 0 (reserved at 100); J3 (4 nodes,
    10 s); J4 (1 node, 10 s) fits before S = 100 and is backfilled at 0 if the backfill step looks at
    it. Both policies look at jobs after H (H itself is not counted): max 1 sees only J3, max 2 sees J3
    and J4. When not backfilled: J2 100-110, J3 110-120, J4 120-130."""
    rows = [{"run": 100, "size": 2}, {"run": 10, "size": 4}, {"run": 10, "size": 4}, {"run": 10, "size": 1}]
    res = run(impl, rows, policy=policy, backfill_max_jobs=max_jobs)
    check(res, [0, 100, 110, j4_start], [100, 110, 120, j4_start + 10])


def test_backfill_max_jobs_counts_queued_jobs_only(impl: Impl) -> None:
    """EASY, capacity 4, backfill_max_jobs = 1. J1 (2 nodes, 100 s) 0-100; J2 (4 nodes): H, S = 100;
    J3 (1 node, 10 s) is the one job looked at after H and ends by S: 0-10. At 5, J4 (1 node, 10 s)
    arrives; the queue is J2, J4 (J3 is running, no longer queued), so J4 is the one job looked at:
    5-15. J2 100-110."""
    rows = [{"run": 100, "size": 2}, {"run": 10, "size": 4}, {"run": 10, "size": 1},
            {"submit": 5, "run": 10, "size": 1}]
    res = run(impl, rows, policy="easy", backfill_max_jobs=1)
    check(res, [0, 100, 0, 5], [100, 110, 10, 15])


def test_held_jobs_do_not_count_towards_backfill_max_jobs(impl: Impl) -> None:
    """EASY, capacity 4, backfill_max_jobs = 1, max_running_jobs_per_user = 1.
    J1 (user 1, 2 nodes) 0-100; J2 (user 2, 4 nodes): H, S = 100. J3 (user 1, 1 node) is held and not
    counted (section 3: queued jobs after H that are not held), so the one job looked at is J4 (user 3,
    1 node, 10 s): it ends by S, 0-10. t=100: J1 ends, J3 is released; J2 starts 100-110; J3 110-120."""
    t = table(qos("one", max_running_jobs_per_user=1))
    rows = [
        {"run": 100, "size": 2, "user": 1},
        {"run": 10, "size": 4, "user": 2},
        {"run": 10, "size": 1, "user": 1},
        {"run": 10, "size": 1, "user": 3},
    ]
    res = run(impl, rows, qos_table=t, policy="easy", backfill_max_jobs=1)
    check(res, [0, 100, 110, 0], [100, 110, 120, 10])


def test_backfill_at_a_tick_that_is_also_a_submission(impl: Impl) -> None:
    """EASY, backfill_interval_s = 30, capacity 4; nothing is queued before 60. At 60 (= 2 x 30, a
    tick) J1 (2 nodes, 100 s), J2 (4 nodes) and J3 (1 node, 10 s) arrive: J1 starts, J2 is H (S = 160)
    and the backfill step of the tick starts J3: 60-70. J2 160-170."""
    rows = [{"submit": 60, "run": 100, "size": 2}, {"submit": 60, "run": 10, "size": 4},
            {"submit": 60, "run": 10, "size": 1}]
    res = run(impl, rows, policy="easy", backfill_interval_s=30.0)
    check(res, [60, 160, 60], [160, 170, 70])


@pytest.mark.parametrize(("interval", "j3_start"), [(0.0, 5.0), (30.0, 30.0)])
def test_backfill_interval(impl: Impl, interval: float, j3_start: float) -> None:
    """EASY, capacity 4. J1 (2 nodes) 0-100; J2 (4 nodes) H from 0. J3 (1 node, 10 s) arrives at 5.
    With backfill at every pass it starts at 5; with a 30 s interval the pass at 5 is main step only
    (J3 is not at the head) and the backfill runs at the tick 30: J3 30-40. J2 100-110 either way
    (its start at 100 is a main-step start)."""
    rows = [{"run": 100, "size": 2}, {"run": 10, "size": 4}, {"submit": 5, "run": 10, "size": 1}]
    res = run(impl, rows, policy="easy", backfill_interval_s=interval)
    check(res, [0, 100, j3_start], [100, 110, j3_start + 10])
