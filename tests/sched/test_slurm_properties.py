"""Slurm mode on random small workloads (hypothesis).

(a) The compiled ``run_slurm`` and the pure-Python ``reference_slurm`` give the same schedule
    (start, end, state, reason, requeues, lost node-seconds) with every rule in play at once. Node
    ids are not compared: which freed nodes a reservation short of nodes takes when several free at
    once (overlapping reservations) is not specified (READING 19 in slurm_reference.py).
(b) Invariants read from the output alone: nodes never over-used (one exclusive job per node; shared
    jobs' cores, GPUs and memory within the node), running limits and array throttles never
    exceeded, reserved capacity never used, dependencies respected, TIMEOUT after exactly
    limit + over time.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pmtwin.sched.config import Maintenance, Reservation, SchedulerConfig
from pmtwin.sched.qos import QosTable
from pmtwin.sched.slurm import SlurmPools, run_slurm
from pmtwin.workload.jobs import AFTERANY, AFTEROK, JobTable
from tests.sched.slurm_reference import REASONS, STATES, reference_slurm
from tests.sched.test_slurm_rules import jobs, pools, qos, table

CORES, GPUS, MEM = 8, 4, 1000
EXAMPLES = 600


@dataclass(frozen=True)
class Scenario:
    rows: list[dict[str, Any]]
    deps: list[tuple[int, int, int]]
    capacity: tuple[int, ...]
    qos_table: QosTable
    config: dict[str, Any]

    def build(self) -> tuple[JobTable, np.ndarray, SlurmPools, SchedulerConfig]:
        table_, pool_of_job = jobs(self.rows, self.deps)
        return (table_, pool_of_job, pools(*self.capacity, cores=CORES, gpus=GPUS, mem_mb=MEM),
                SchedulerConfig(**self.config))


@st.composite
def qos_tables(draw: st.DrawFn, preemption: bool, unit: float, limited: bool = True) -> QosTable:
    """regular (default), high, low (preemptible) and shared, each with random limits (none unless
    ``limited``); with ``preemption``, high may preempt low."""
    limit = st.sampled_from([0, 0, 1, 2])

    def limits() -> dict[str, Any]:
        if not limited:
            return {}
        return {
            "max_running_jobs_per_user": draw(limit),
            "max_running_nodes_per_user": draw(st.sampled_from([0, 0, 6, 8])),
            "max_running_jobs_per_account": draw(limit),
            "max_submitted_jobs_per_user": draw(st.sampled_from([0, 0, 2, 3])),
            "max_walltime_s": draw(st.sampled_from([0.0, 0.0, 0.0, 30.0])) * unit,
            "max_nodes_per_job": draw(st.sampled_from([0, 0, 0, 3])),
        }

    return table(
        qos("regular", priority=draw(st.integers(0, 3)), **limits()),
        qos("high", priority=draw(st.sampled_from([0, 3, 10, 1000])),
            can_preempt=("low",) if preemption else (), **limits()),
        qos("low", preemptible=True, **limits()),
        qos("shared", shared=True, max_node_fraction=draw(st.sampled_from([1.0, 0.5])), **limits()),
    )


@st.composite
def scenarios(draw: st.DrawFn, preemption_focus: bool = False) -> Scenario:
    """A random workload and configuration. With ``preemption_focus``: no QOS limits, jobs in the
    preemptible QOS and in the QOS that preempts it, so that most examples preempt."""
    n_pools = draw(st.integers(1, 2))
    capacity = tuple(draw(st.integers(3, 6)) for _ in range(n_pools))
    priority = draw(st.sampled_from(["fifo", "nersc", "multifactor"]))
    u = draw(st.sampled_from([1.0, 20.0]))  # the time unit: 20 s makes minutes of age matter (nersc)
    preemption = preemption_focus or draw(st.booleans())
    qt = draw(qos_tables(preemption=preemption, unit=u, limited=not preemption_focus))
    qos_mix = ["", "regular", "high", "low", "shared"] + (["high", "low", "low"] if preemption else [])
    if preemption_focus:
        qos_mix = ["low", "low", "high", "regular"]
    n = draw(st.integers(1, 11))
    submits = sorted(draw(st.lists(st.integers(0, 30), min_size=n, max_size=n)))
    rows: list[dict[str, Any]] = []
    for k in range(n):
        pool = draw(st.integers(0, n_pools - 1))
        work = draw(st.integers(1, 30))
        row: dict[str, Any] = {
            "submit": submits[k] * u, "run": work * u, "req": (work + draw(st.integers(0, 10))) * u,
            "limit": draw(st.integers(1, 35)) * u, "size": draw(st.integers(1, capacity[pool])),
            "user": draw(st.integers(0, 2)), "account": draw(st.integers(0, 1)),
            "qos": draw(st.sampled_from(qos_mix)), "pool": pool,
        }
        if row["qos"] == "shared":
            row.update(size=draw(st.sampled_from([1, 1, 1, 1, 2])),
                       cores=draw(st.sampled_from([1, 2, 3, 4, 4, 6, 9])),
                       gpus=draw(st.sampled_from([0, 0, 1, 2, 5])),
                       mem=draw(st.sampled_from([0, 0, 200, 600])))
        if draw(st.integers(0, 4)) == 0:
            row.update(array=draw(st.integers(1, 2)), throttle=draw(st.integers(1, 2)))
        rows.append(row)
    # an array's tasks share one throttle
    throttle: dict[int, int] = {}
    for row in rows:
        if "array" in row:
            row["throttle"] = throttle.setdefault(row["array"], row["throttle"])
    deps: list[tuple[int, int, int]] = []
    for k in range(1, n):
        if draw(st.integers(0, 3)) == 0:
            on = draw(st.integers(1, k))  # an earlier job (ids are rows + 1, rows in canonical order)
            deps.append((k + 1, on, draw(st.sampled_from([AFTEROK, AFTERANY]))))
    if n and draw(st.integers(0, 9)) == 0:
        deps.append((n, 999, AFTEROK))  # not in the workload
    shared_jobs = any(r["qos"] == "shared" for r in rows)
    policies = ["fcfs", "easy"] if shared_jobs else ["fcfs", "easy", "conservative"]
    reservations = []
    for r in range(draw(st.integers(0, 2))):
        start = draw(st.integers(0, 60)) * u
        end = start + draw(st.integers(5, 30)) * u
        pool_name = draw(st.sampled_from([None, *"ab"[:n_pools]]))
        reservations.append(Reservation(name=f"r{r}", start_s=start, end_s=end, pool=pool_name,
                                        nodes=draw(st.sampled_from([None, 1, 2]))))
    config: dict[str, Any] = {
        "policy": draw(st.sampled_from(policies)),
        "priority": priority,
        "accrue_limit": draw(st.sampled_from([None, 0, 1])),
        "age_weight": draw(st.sampled_from([0.0, 1000.0])),
        "fairshare_weight": draw(st.sampled_from([0.0, 500.0])),
        "size_weight": draw(st.sampled_from([0.0, 100.0])),
        "qos_weight": draw(st.sampled_from([0.0, 300.0])),
        "max_age_s": 600.0 * u,
        "priority_calc_period_s": draw(st.sampled_from([0.0, 0.0, 0.0, 9.0])) * u,
        "decay_half_life_s": draw(st.sampled_from([50.0 * u, 604800.0])),
        "walltime": draw(st.sampled_from(["trace", "kill"])),
        "over_time_limit_s": draw(st.sampled_from([0.0, 0.0, 4.0])) * u,
        "reservations": tuple(reservations),
        "maintenance": draw(st.sampled_from([None, None, Maintenance(
            first_start_s=30 * u, period_s=70 * u, duration_s=10 * u, count=2)])),
        "preempt_mode": draw(st.sampled_from(["requeue", "cancel"])),
        "preempt_grace_s": draw(st.sampled_from([0.0, 0.0, 5.0])) * u,
        "backfill_window_s": draw(st.sampled_from([0.0, 0.0, 15.0])) * u,
        "backfill_max_jobs": draw(st.sampled_from([0, 0, 1, 2])),
        "backfill_interval_s": draw(st.sampled_from([0.0, 0.0, 7.0])) * u,
    }
    return Scenario(rows, deps, capacity, qt, config)


def schedule(impl: Callable[..., Any], scenario: Scenario) -> Any:
    table_, pool_of_job, pool_set, config = scenario.build()
    return impl(table_, pool_of_job, pool_set, config, scenario.qos_table)


# -- (a) the compiled scheduler equals the reference ------------------------------------------


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow], report_multiple_bugs=False)
@given(scenarios())
def test_run_slurm_equals_reference(scenario: Scenario) -> None:
    assert_same_schedule(scenario)


@settings(max_examples=EXAMPLES // 2, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow], report_multiple_bugs=False)
@given(scenarios(preemption_focus=True))
def test_run_slurm_equals_reference_with_preemption(scenario: Scenario) -> None:
    assert_same_schedule(scenario)


def assert_same_schedule(scenario: Scenario) -> None:
    try:
        want = schedule(reference_slurm, scenario)
    except ValueError:
        with pytest.raises(ValueError):
            schedule(run_slurm, scenario)
        return
    got = schedule(run_slurm, scenario)
    ids = [r.get("id", i + 1) for i, r in enumerate(scenario.rows)]
    for field in ("start_s", "end_s", "state", "reason", "requeues", "lost_node_s"):
        a, b = np.asarray(getattr(got, field)), np.asarray(getattr(want, field))
        bad = [i for i in range(len(ids)) if not (a[i] == b[i] or (a[i] != a[i] and b[i] != b[i]))]
        assert not bad, f"{field}: job {ids[bad[0]]}: run_slurm {a[bad[0]]}, reference {b[bad[0]]}"


# -- (b) invariants from the output alone -----------------------------------------------------


def shared_request(row: dict[str, Any]) -> tuple[int, int, int]:
    """What a shared job takes of its node: 0 cores means 1, 0 memory an even share by cores."""
    cores = max(int(row.get("cores", 0)), 1)
    mem = int(row.get("mem", 0)) or MEM * cores // CORES
    return cores, int(row.get("gpus", 0)), mem


def check_invariants(scenario: Scenario, res: Any) -> None:
    rows, qt, cfg = scenario.rows, scenario.qos_table, scenario.config
    n = len(rows)
    start, end = np.asarray(res.start_s), np.asarray(res.end_s)
    state = [STATES[k] for k in res.state]
    reason = [REASONS[k] for k in res.reason]
    q = [qt.get(r.get("qos", "")) for r in rows]
    ran = [not math.isnan(start[i]) for i in range(n)]
    kill, over = cfg["walltime"] == "kill", cfg["over_time_limit_s"]
    estimate = [float(r["limit"]) if kill else float(max(r["req"], r["run"])) for r in rows]
    first = np.concatenate([[0], np.cumsum(scenario.capacity)[:-1]])

    def running(at: float) -> list[int]:
        return [i for i in range(n) if ran[i] and start[i] <= at < end[i]]

    # every job ends in one state; times only for jobs that ran
    for i in range(n):
        assert ran[i] == (state[i] != "REJECTED" and reason[i] != "dependency_never_satisfied")
        if ran[i]:
            assert start[i] >= rows[i]["submit"] and end[i] >= start[i]
            length = end[i] - start[i]
            if state[i] == "TIMEOUT":
                assert kill and length == rows[i]["limit"] + over and rows[i]["run"] > length
            elif state[i] == "COMPLETED":
                assert length == rows[i]["run"] and (not kill or rows[i]["run"] <= rows[i]["limit"] + over)
            else:
                assert state[i] == "CANCELLED" and reason[i] == "preempted"
        else:
            assert math.isnan(end[i])
        if q[i].max_walltime_s and rows[i]["limit"] > q[i].max_walltime_s:
            assert reason[i] == "qos_walltime"
        elif q[i].max_nodes_per_job and rows[i]["size"] > q[i].max_nodes_per_job:
            assert reason[i] == "qos_max_nodes"

    # nodes: in the job's pool; exclusive nodes single-booked; shared nodes within their resources
    off, ids = res.node_offsets, res.node_ids
    per_node: dict[int, list[int]] = {}
    for i in range(n):
        nodes = ids[off[i]:off[i + 1]].tolist()
        p = rows[i]["pool"]
        if not ran[i]:
            assert nodes == []
            continue
        assert len(nodes) == (1 if q[i].shared else rows[i]["size"]) == len(set(nodes))
        assert all(first[p] <= x < first[p] + scenario.capacity[p] for x in nodes)
        for x in nodes:
            per_node.setdefault(x, []).append(i)
    for users in per_node.values():
        for at in sorted({start[i] for i in users}):
            now = [i for i in users if start[i] <= at < end[i]]
            exclusive = [i for i in now if not q[i].shared]
            assert len(exclusive) <= 1 and not (exclusive and len(now) > 1), f"node shared at {at}: {now}"
            use = np.sum([shared_request(rows[i]) for i in now], axis=0) if now else np.zeros(3)
            assert use[0] <= CORES and use[1] <= GPUS and use[2] <= MEM

    # running limits (counted within the QOS) and array throttles, at every start
    for at in sorted({start[i] for i in range(n) if ran[i]}):
        now = running(at)
        for i in now:
            same_qos = [k for k in now if q[k].name == q[i].name]
            same_user = [k for k in same_qos if rows[k]["user"] == rows[i]["user"]]
            same_acct = [k for k in same_qos if rows[k]["account"] == rows[i]["account"]]
            if q[i].max_running_jobs_per_user:
                assert len(same_user) <= q[i].max_running_jobs_per_user
            if q[i].max_running_nodes_per_user:
                assert sum(rows[k]["size"] for k in same_user) <= q[i].max_running_nodes_per_user
            if q[i].max_running_jobs_per_account:
                assert len(same_acct) <= q[i].max_running_jobs_per_account
            if "array" in rows[i]:
                tasks = [k for k in now if rows[k].get("array") == rows[i]["array"]]
                assert len(tasks) <= rows[i]["throttle"]

    # reservations: jobs within their estimate never sit on reserved capacity (a job past its
    # estimate, in its over time, may still hold nodes when a reservation begins: section 5)
    resvs = list(cfg["reservations"])
    if cfg["maintenance"] is not None:
        resvs += list(cfg["maintenance"].reservations())
    names = "ab"
    for p, cap in enumerate(scenario.capacity):
        mine = [r for r in resvs if r.pool in (None, names[p])]
        points = {r.start_s for r in mine} | {start[i] for i in range(n) if ran[i] and rows[i]["pool"] == p}
        for at in sorted(points):
            reserved = min(sum(min(r.nodes or cap, cap) for r in mine if r.start_s <= at < r.end_s), cap)
            if not reserved:
                continue
            busy_nodes = set()
            for i in running(at):
                if rows[i]["pool"] == p and at < start[i] + estimate[i]:
                    busy_nodes.update(ids[off[i]:off[i + 1]].tolist())
            assert len(busy_nodes) + reserved <= cap, f"pool {p} at {at}: {busy_nodes} + {reserved} reserved"

    # dependencies: a rejected or cancelled job counts as ended; afterok needs COMPLETED
    row_of = {r.get("id", k + 1): k for k, r in enumerate(rows)}
    for child_id, on_id, kind in scenario.deps:
        child = row_of[child_id]
        parent = row_of.get(on_id)
        if parent is None or parent > child:
            assert state[child] == "REJECTED"
            continue
        if ran[child]:
            if ran[parent]:
                assert start[child] >= end[parent]
            if kind == AFTEROK:
                assert state[parent] == "COMPLETED"
        if kind == AFTEROK and state[parent] != "COMPLETED" and state[child] != "REJECTED":
            assert state[child] == "CANCELLED" and reason[child] == "dependency_never_satisfied"


@pytest.mark.parametrize("impl", [reference_slurm, run_slurm], ids=["reference", "run_slurm"])
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(scenario=st.one_of(scenarios(), scenarios(preemption_focus=True)))
def test_invariants(impl: Callable[..., Any], scenario: Scenario) -> None:
    check_invariants(scenario, schedule(impl, scenario))
