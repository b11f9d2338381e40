"""The Slurm-features layer over the default workload (src/pmtwin/workload/slurm_mix.py)."""

from __future__ import annotations

import math
from dataclasses import replace
from functools import cache
from typing import Any, TypedDict

import numpy as np
import pytest
from numpy.typing import NDArray

from pmtwin.machine import load_system
from pmtwin.sched.qos import load_qos
from pmtwin.workload.jobs import AFTERANY, AFTEROK, COLUMN_DTYPES, JobTable
from pmtwin.workload.routing import pool_of_jobs
from pmtwin.workload.slurm_mix import QOS_NAMES, SlurmMix, with_slurm_features
from tests.workload.bare import bare_workload
from tests.workload.slurm_run import slurm_pools

DAY_S = 86400.0
NO_LIMITS = {"debug_window_s": 0.0, "interactive_window_s": 0.0, "premium_window_s": 0.0}


class Shapes(TypedDict):
    cores_per_node: dict[str, int]
    gpus_per_node: dict[str, int]
    mem_mb_per_node: dict[str, int]


@cache
def machine_shapes() -> Shapes:
    """What one node of each Perlmutter partition offers (its default node type), as runs.py builds it."""
    system = load_system("perlmutter")
    shapes: Shapes = {"cores_per_node": {}, "gpus_per_node": {}, "mem_mb_per_node": {}}
    for name, partition in system.partitions.items():
        cores, gpus, mem_mb = system.slurm_shape(system.node_type(partition.node_types[0]))
        shapes["cores_per_node"][name] = cores
        shapes["gpus_per_node"][name] = gpus
        shapes["mem_mb_per_node"][name] = mem_mb
    return shapes


@cache
def workload(days: float = 30.0) -> JobTable:
    return bare_workload(days)


@cache
def featured(seed: int = 0, **overrides: Any) -> JobTable:
    mix = replace(SlurmMix(), **overrides)
    return with_slurm_features(workload(), np.random.default_rng(seed), mix, **machine_shapes())


def code(name: str) -> int:
    return QOS_NAMES.index(name)


def test_same_seed_same_table_other_seed_other_table() -> None:
    a = with_slurm_features(workload(), np.random.default_rng(7), **machine_shapes())
    b = with_slurm_features(workload(), np.random.default_rng(7), **machine_shapes())
    c = with_slurm_features(workload(), np.random.default_rng(8), **machine_shapes())
    for name in COLUMN_DTYPES:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert a.depends is not None and b.depends is not None and c.depends is not None
    for name in ("job_id", "on_id", "kind"):
        np.testing.assert_array_equal(getattr(a.depends, name), getattr(b.depends, name))
    assert not np.array_equal(a.qos, c.qos)


def test_jobs_ids_and_shapes_unchanged() -> None:
    jobs, out = workload(), featured()
    assert len(out) == len(jobs)
    np.testing.assert_array_equal(out.job_id, jobs.job_id)
    for name in ("work_s", "requested_s", "size", "partition", "constraint"):
        np.testing.assert_array_equal(getattr(out, name), getattr(jobs, name), err_msg=name)
    assert out.qos_names == QOS_NAMES
    assert out.partition_names == jobs.partition_names and out.constraint_names == jobs.constraint_names
    assert np.all(out.user >= 1) and np.all(out.group >= 1)
    moved = out.submit_s != jobs.submit_s
    assert np.all(out.array_id[moved] >= 0)  # only array tasks move


def test_every_qos_limit_of_perlmutter_toml_holds_by_construction() -> None:
    out, table = featured(), load_qos("perlmutter")
    shapes = machine_shapes()
    names = out.partition_names
    cpn = np.array([shapes["cores_per_node"][p] for p in names])[out.partition]
    gpn = np.array([shapes["gpus_per_node"][p] for p in names])[out.partition]
    mpn = np.array([shapes["mem_mb_per_node"][p] for p in names])[out.partition]
    for c, name in enumerate(QOS_NAMES):
        qos = table.get(name)
        rows = out.qos == c
        assert rows.any(), f"no job in QOS {name}"
        if qos.max_walltime_s > 0:
            assert out.limit_s[rows].max() <= qos.max_walltime_s, name
        if qos.max_nodes_per_job > 0:
            assert out.size[rows].max() <= qos.max_nodes_per_job, name
        if qos.shared:
            assert np.all(out.size[rows] == 1)
            share = np.maximum.reduce([
                out.cores[rows] / cpn[rows],
                np.where(gpn[rows] > 0, out.gpus[rows] / np.maximum(gpn[rows], 1), 0.0),
                out.mem_mb[rows] / mpn[rows],
            ])  # fmt: skip
            assert np.all(out.cores[rows] >= 1) and share.max() <= qos.max_node_fraction
        else:
            assert np.all(out.cores[rows] == 0) and np.all(out.mem_mb[rows] == 0)
    assert np.all(out.limit_s > 0)


def test_shared_requests_are_whole_gpus_or_cores_with_memory_in_proportion() -> None:
    out = featured()
    shapes = machine_shapes()
    for partition in ("gpu", "cpu"):
        rows = (out.qos == code("shared")) & (out.partition == out.partition_names.index(partition))
        cores, gpus, mem = out.cores[rows], out.gpus[rows], out.mem_mb[rows]
        cpn, mpn = shapes["cores_per_node"][partition], shapes["mem_mb_per_node"][partition]
        np.testing.assert_array_equal(mem, cores * mpn // cpn)
        if partition == "gpu":
            assert set(np.unique(gpus).tolist()) == {1, 2}
            np.testing.assert_array_equal(cores, gpus * (cpn // shapes["gpus_per_node"]["gpu"]))
        else:
            assert np.all(gpus == 0)
            assert set(np.unique(cores).tolist()) == {1, 2, 4, 8, 16, 32, 64}


def test_submit_limits_hold_within_each_window() -> None:
    """A kept debug/interactive/premium job's user has fewer than the QOS's submit limit of other jobs of
    that QOS submitted in the window before it (in canonical order)."""
    mix, out, table = SlurmMix(), featured(), load_qos("perlmutter")
    for name, window_s in (("debug", mix.debug_window_s), ("interactive", mix.interactive_window_s),
                           ("premium", mix.premium_window_s)):  # fmt: skip
        m = table.get(name).max_submitted_jobs_per_user
        assert m == getattr(mix, f"{name}_max_submitted")
        rows = np.flatnonzero(out.qos == code(name))
        rows = rows[np.lexsort((out.job_id[rows], out.submit_s[rows], out.user[rows]))]
        user, t = out.user[rows], out.submit_s[rows]
        crowded = (user[m:] == user[:-m]) & (t[m:] - t[:-m] < window_s)
        assert not crowded.any(), name
    # Without the windows the same jobs are more debug (heavy users submit many short small jobs).
    assert np.count_nonzero(featured(**NO_LIMITS).qos == code("debug")) > np.count_nonzero(
        out.qos == code("debug")
    )


def test_mix_limits_agree_with_the_qos_table() -> None:
    mix, table = SlurmMix(), load_qos("perlmutter")
    assert mix.debug_max_nodes == table.get("debug").max_nodes_per_job
    assert mix.debug_max_limit_s == table.get("debug").max_walltime_s
    assert mix.interactive_max_nodes == table.get("interactive").max_nodes_per_job
    assert mix.interactive_max_limit_s == table.get("interactive").max_walltime_s
    assert mix.preempt_max_nodes == table.get("preempt").max_nodes_per_job
    assert mix.max_limit_s == table.get("regular").max_walltime_s
    assert mix.shared_max_node_fraction == table.get("shared").max_node_fraction
    assert mix.realtime_max_nodes <= table.get("realtime").max_nodes_per_job
    assert set(QOS_NAMES) <= set(table.names)


def qos_steps(jobs: JobTable, out: JobTable, mix: SlurmMix) -> list[tuple[str, NDArray[np.bool_], float]]:
    """Each QOS step of the layer: its name, its eligible jobs (not taken by an earlier step) and share."""
    free = out.qos != code("realtime")
    limit, size = jobs.requested_s, jobs.size
    gpu = jobs.partition == jobs.partition_names.index("gpu")
    steps: list[tuple[str, NDArray[np.bool_], float]] = []
    for name, eligible, share in (
        ("debug", (size <= 8) & (limit <= 1800), mix.debug_share),
        ("interactive", (size <= 4) & (limit <= 14400), mix.interactive_share),
        ("premium", np.ones(len(jobs), bool), mix.premium_share),
        ("preempt", (size <= 128) & (limit >= 7200), mix.preempt_share),
        ("overrun", np.ones(len(jobs), bool), mix.overrun_share),
        ("shared", (size == 1) & gpu, mix.shared_gpu_share),
        ("shared", (size == 1) & ~gpu, mix.shared_cpu_share),
    ):
        steps.append((name, free & eligible, share))
        if name != "shared":
            free = free & (out.qos != code(name))
    return steps


def binomial_ok(hits: int, trials: int, p: float, sigmas: float = 4.0) -> bool:
    return abs(hits - p * trials) <= sigmas * math.sqrt(trials * p * (1 - p)) + 1


def test_qos_shares_match_the_mix_without_submit_limits() -> None:
    jobs, mix = workload(), SlurmMix()
    out = featured(**NO_LIMITS)
    for name, eligible, share in qos_steps(jobs, out, mix):
        hits = int(np.count_nonzero(eligible & (out.qos == code(name))))
        trials = int(np.count_nonzero(eligible))
        assert trials > 500, name
        assert binomial_ok(hits, trials, share), f"{name}: {hits}/{trials} vs {share}"


def test_default_shares_with_submit_limits() -> None:
    out, n = featured(), len(workload())
    share = {name: np.count_nonzero(out.qos == c) / n for c, name in enumerate(QOS_NAMES)}
    assert 0.10 < share["debug"] < 0.25  # 25% candidates, heavy users capped by the submit limit
    assert 0.01 < share["premium"] <= 0.03 and 0.015 < share["preempt"] < 0.035
    assert 0.004 < share["overrun"] < 0.012 and 0.003 < share["interactive"] < 0.015
    assert 0.05 < share["shared"] < 0.15 and share["regular"] > 0.6


def test_realtime_is_a_nightly_desi_stream() -> None:
    mix, out = SlurmMix(), featured()
    rows = out.qos == code("realtime")
    assert len(np.unique(out.user[rows])) == 1 and len(np.unique(out.group[rows])) == 1
    desi_user, desi_account = out.user[rows][0], out.group[rows][0]
    assert np.all(out.qos[out.user == desi_user] == code("realtime"))
    assert np.count_nonzero(out.group == desi_account) == np.count_nonzero(rows)
    assert out.size[rows].max() <= mix.realtime_max_nodes
    assert out.limit_s[rows].max() <= mix.realtime_max_limit_s
    assert np.all(out.partition[rows] == out.partition_names.index("gpu"))
    hour = np.mod(out.submit_s[rows], DAY_S) / 3600.0
    assert np.all((hour >= 19.0) | (hour < 7.0))
    nights = 31  # 30 days: a partial night at each end
    assert binomial_ok(int(np.count_nonzero(rows)), len(out), mix.realtime_jobs_per_night * nights / len(out))
    # Each night's later realtime jobs depend afterok on the night's first.
    assert out.depends is not None
    desi = np.isin(out.depends.job_id, out.job_id[rows])
    assert np.all(out.depends.kind[desi] == AFTEROK)
    assert np.count_nonzero(desi) == np.count_nonzero(rows) - len(np.unique(out.depends.on_id[desi]))


def canonical_rank(out: JobTable) -> NDArray[np.int64]:
    rank = np.empty(len(out), np.int64)
    rank[out.canonical_order()] = np.arange(len(out))
    return rank


def test_dependencies_are_on_earlier_jobs_of_the_same_user() -> None:
    out = featured()
    deps = out.depends
    assert deps is not None and len(deps.job_id) > 0
    row_of = {int(j): i for i, j in enumerate(out.job_id.tolist())}
    child = np.array([row_of[int(j)] for j in deps.job_id])
    parent = np.array([row_of[int(j)] for j in deps.on_id])
    rank = canonical_rank(out)
    assert np.all(rank[parent] < rank[child])
    assert np.all(out.user[parent] == out.user[child])
    assert len(np.unique(deps.job_id)) == len(deps.job_id)  # one dependency per job
    assert set(np.unique(deps.kind).tolist()) == {AFTEROK, AFTERANY}
    # Jobs of QOS with a small submit limit never wait on a dependency (it would count against it).
    assert np.all(np.isin(out.qos[child], [code(q) for q in ("regular", "shared", "overrun", "preempt",
                                                               "realtime")]))  # fmt: skip


def test_dependency_shares_match_the_mix() -> None:
    mix, out = SlurmMix(), featured()
    assert out.depends is not None
    rank = canonical_rank(out)
    by_user = np.lexsort((rank, out.user))
    has_previous = np.zeros(len(out), bool)
    has_previous[by_user[1:]] = out.user[by_user[1:]] == out.user[by_user[:-1]]
    may = np.isin(out.qos, [code(q) for q in ("regular", "shared", "overrun", "preempt")])
    eligible = may & (out.array_id < 0) & has_previous
    general = np.isin(out.job_id, out.depends.job_id) & (out.qos != code("realtime"))
    assert not np.any(general & ~eligible)
    assert binomial_ok(int(np.count_nonzero(general)), int(np.count_nonzero(eligible)), mix.dependency_share)
    kinds = out.depends.kind[out.qos[np.searchsorted(out.job_id, out.depends.job_id)] != code("realtime")]
    assert binomial_ok(int(np.count_nonzero(kinds == AFTERANY)), len(kinds), mix.afterany_share)


def test_arrays_share_submit_time_shape_user_and_limit() -> None:
    mix, jobs, out = SlurmMix(), workload(), featured()
    tasks = np.flatnonzero(out.array_id >= 0)
    assert len(tasks) > 0.02 * len(out)
    ids, inverse, counts = np.unique(out.array_id[tasks], return_inverse=True, return_counts=True)
    assert counts.min() >= 2 and counts.max() <= mix.array_max_tasks
    assert np.all(np.isin(ids, out.job_id[tasks]))  # the array id is one of its tasks' job id
    for name in ("submit_s", "size", "user", "group", "partition", "constraint", "qos", "limit_s", "cores",
                 "gpus", "mem_mb", "array_throttle"):  # fmt: skip
        col = getattr(out, name)[tasks]
        lo, hi = np.full(len(ids), np.inf), np.full(len(ids), -np.inf)
        np.minimum.at(lo, inverse, col)
        np.maximum.at(hi, inverse, col)
        np.testing.assert_array_equal(lo, hi, err_msg=name)
    head = np.searchsorted(out.job_id, ids)
    np.testing.assert_array_equal(out.submit_s[head], jobs.submit_s[head])  # the first task stays put
    early = jobs.submit_s[tasks] - out.submit_s[tasks]
    assert early.min() >= 0 and early.max() < mix.array_window_s
    assert np.all(np.isin(out.qos[tasks], [code("regular"), code("shared")]))
    assert np.all(out.limit_s[tasks] >= out.work_s[tasks])
    throttles = out.array_throttle[head]
    assert set(np.unique(throttles).tolist()) == {0, *mix.array_throttles}
    assert binomial_ok(int(np.count_nonzero(throttles)), len(ids), mix.array_throttle_share)
    assert np.all(out.array_throttle[out.array_id < 0] == 0)


def test_array_users_are_the_mix_share_of_users_who_could() -> None:
    """The draws before the arrays do not depend on ``array_user_share``, so with the same seed the array
    users at share s are those at share 1 whose draw is below s."""
    share = SlurmMix().array_user_share
    everyone = np.unique(featured(array_user_share=1.0).user[featured(array_user_share=1.0).array_id >= 0])
    some = np.unique(featured().user[featured().array_id >= 0])
    assert set(some.tolist()) <= set(everyone.tolist())
    assert binomial_ok(len(some), len(everyone), share)


def test_underestimated_limits_match_the_mix() -> None:
    mix, out = SlurmMix(), featured()
    eligible = (out.qos != code("realtime")) & (out.qos != code("preempt")) & (out.work_s > 60)
    under = out.limit_s < out.work_s
    assert not np.any(under & ~eligible)
    assert binomial_ok(int(np.count_nonzero(under)), int(np.count_nonzero(eligible)), mix.underestimate_share)
    assert np.all(np.mod(out.limit_s[under], 60.0) == 0) and np.all(out.limit_s[under] >= 60)
    assert np.all(out.limit_s[under] >= np.floor(out.work_s[under] * mix.underestimate_fraction[0] / 60) * 60)
    assert np.all(out.requested_s >= out.work_s)  # trace mode still replays every job


def test_users_and_accounts_are_drawn_when_unknown() -> None:
    jobs = workload()
    anonymous = replace(jobs, user=np.full(len(jobs), -1, np.int64))
    mix = SlurmMix()
    out = with_slurm_features(anonymous, np.random.default_rng(0), mix, **machine_shapes())
    desi = out.qos == code("realtime")
    users, counts = np.unique(out.user[~desi], return_counts=True)
    assert 0.8 * mix.users < len(users) <= mix.users and users.min() >= 1
    top = counts.max() / counts.sum()
    harmonic = float(np.sum(1.0 / np.arange(1, mix.users + 1)))
    assert abs(top - 1.0 / harmonic) < 0.02  # Zipf exponent 1: the busiest user submits ~15%
    accounts = np.unique(out.group[~desi])
    assert 0.5 * mix.accounts < len(accounts) <= mix.accounts
    # One account per user.
    pairs = np.unique(np.stack([out.user, out.group]), axis=1)
    assert pairs.shape[1] == len(np.unique(out.user))


def test_refuses_bad_input() -> None:
    jobs, shapes = workload(), machine_shapes()
    with pytest.raises(ValueError, match="cores_per_node has no entry for partition 'cpu'"):
        with_slurm_features(jobs, np.random.default_rng(0), cores_per_node={"gpu": 64},
                            gpus_per_node=shapes["gpus_per_node"],
                            mem_mb_per_node=shapes["mem_mb_per_node"])  # fmt: skip
    with pytest.raises(ValueError, match="already have job arrays"):
        with_slurm_features(featured(), np.random.default_rng(0), **shapes)
    odd = replace(jobs, qos=np.ones(len(jobs), np.int32), qos_names=("", "gold"))
    with pytest.raises(ValueError, match=r"QOS \['gold'\] outside"):
        with_slurm_features(odd, np.random.default_rng(0), **shapes)
    with pytest.raises(ValueError, match="unique"):
        with_slurm_features(
            replace(jobs, job_id=np.ones(len(jobs), np.int64)), np.random.default_rng(0), **shapes
        )
    with pytest.raises(ValueError, match="SlurmMix.debug_share"):
        SlurmMix(debug_share=1.5)


def test_empty_table() -> None:
    empty = workload().take(np.zeros(0, np.intp))
    out = with_slurm_features(empty, np.random.default_rng(0), **machine_shapes())
    assert len(out) == 0 and out.depends is not None and len(out.depends.job_id) == 0


def test_slurm_mode_rejects_no_job_for_a_qos_reason() -> None:
    """10 days on Perlmutter in Slurm mode, FIFO and NERSC priority, walltime kill: nothing is rejected;
    under-estimated jobs time out. (Preempted jobs are cancelled here, not requeued: see the report on
    requeue in the scheduler.)"""
    from pmtwin.sched.config import SchedulerConfig
    from pmtwin.sched.slurm import REASON_NAMES, STATE_NAMES, run_slurm

    system = load_system("perlmutter")
    days = 10.0
    jobs = bare_workload(days)
    out = with_slurm_features(jobs, np.random.default_rng(0), **machine_shapes())
    pools, pool_of_job = slurm_pools(system), pool_of_jobs(out, system)
    for priority in ("fifo", "nersc"):
        config = SchedulerConfig(priority=priority, walltime="kill", preempt_mode="cancel")
        result = run_slurm(out, pool_of_job, pools, config, load_qos("perlmutter"))
        assert np.count_nonzero(result.state == STATE_NAMES.index("REJECTED")) == 0, priority
        assert np.count_nonzero(result.state == STATE_NAMES.index("TIMEOUT")) > 0
        cancelled = result.reason[result.state == STATE_NAMES.index("CANCELLED")]
        assert set(np.unique(cancelled).tolist()) <= {
            REASON_NAMES.index("preempted"),
            REASON_NAMES.index("dependency_never_satisfied"),
        }
