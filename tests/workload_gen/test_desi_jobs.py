"""DESI jobs for generated workloads (pmtwin.workload.desi_jobs): exact small cases, a decade's
invariants, the reprocessing campaign against the performance model, determinism, bad configurations,
and a Slurm-mode run in which no DESI job is rejected."""

from __future__ import annotations

import math
import time
from functools import cache
from typing import Any

import numpy as np
import pytest

from pmtwin.machine import load_system
from pmtwin.machine.system import Machine
from pmtwin.perf.desi import predict_desi
from pmtwin.perf.desi_workflow import desi_night_workflow
from pmtwin.perf.node import PerfModelError
from pmtwin.sched.qos import load_qos
from pmtwin.workload.desi_jobs import (
    DesiJobs,
    DesiJobsConfig,
    desi_night_jobs,
    desi_reprocessing_campaign,
    desi_reprocessing_jobs,
    draw_desi_jobs,
    load_desi_jobs_config,
)
from pmtwin.workload.jobs import AFTERANY, AFTEROK, COLUMN_DTYPES, JobTable
from pmtwin.workload.slurm_mix import QOS_NAMES, REALTIME, REGULAR

DAY_S = 86400.0
START_S = 17 * 3600.0  # desi_jobs.toml night_start_hour
DECADE_DAYS = 3650.0


@cache
def perlmutter() -> Machine:
    return load_system("perlmutter")


@cache
def config() -> DesiJobsConfig:
    return load_desi_jobs_config()


def every_night(exposures: int, **more: Any) -> DesiJobsConfig:
    """Every day observes, every night has exactly ``exposures`` exposures."""
    return load_desi_jobs_config(
        observing_nights_per_year=365.0, exposures_mean=float(exposures), exposures_max=exposures, **more
    )


@cache
def decade_drawn() -> DesiJobs:
    return draw_desi_jobs(perlmutter(), days=DECADE_DAYS, rng=np.random.default_rng(1))


def decade() -> JobTable:
    return decade_drawn().jobs


def rows(jobs: JobTable, ids: np.ndarray) -> np.ndarray:
    """Row of each job id (ids are 1..n in row order)."""
    assert np.array_equal(jobs.job_id, np.arange(1, len(jobs) + 1))
    return ids - 1


# -- exact small cases -----------------------------------------------------------------------------------


def test_one_night_of_two_exposures_exactly() -> None:
    """Day 0, 2 exposures: 12 afternoon calibrations at 17:00, then each exposure's tilenight and Redrock
    jobs when its data arrive (2 h after the start, then every 15 min)."""
    jobs = desi_night_jobs(perlmutter(), days=1, rng=np.random.default_rng(0), config=every_night(2))
    assert len(jobs) == 16
    assert jobs.job_id.tolist() == list(range(1, 17))
    assert jobs.submit_s.tolist() == [61200.0] * 12 + [68400.0] * 2 + [69300.0] * 2
    names = [jobs.partition_names[p] for p in jobs.partition]
    assert names == ["cpu"] * 8 + ["gpu"] * 8
    assert jobs.size.tolist() == [2, 1, 3, 3, 3, 3, 3, 1, 1, 1, 1, 1, 5, 1, 5, 1]
    # tilenight on 5 nodes: 60 s start-up + 6 frames x 12.857 s = 137.14 s -> 138 s
    assert jobs.work_s.tolist() == [300, 300] + [900] * 5 + [300] + [1200] * 3 + [300, 138, 1500, 138, 1500]
    # limit = ceil(work x 1.5 / 60 s) minutes: 450 s -> 8 min, 1350 -> 23, 1800 -> 30, 207 -> 4, 2250 -> 38
    limits_min = [8, 8] + [23] * 5 + [8] + [30] * 3 + [8, 4, 38, 4, 38]
    assert (jobs.limit_s / 60).tolist() == limits_min
    assert np.array_equal(jobs.requested_s, jobs.limit_s)
    assert jobs.gpus.tolist() == [0] * 8 + [4, 4, 4, 4, 20, 4, 20, 4]
    assert {QOS_NAMES[q] for q in jobs.qos} == {"realtime"}
    assert set(jobs.user.tolist()) == {90000} and set(jobs.group.tolist()) == {90000}
    classes = [jobs.power_class_names[c] for c in jobs.power_class]
    assert classes[:2] == ["cpu_memory_bound"] * 2 and classes[11] == "idle_waiting"
    assert classes[12:] == ["gpu_memory_bound"] * 4
    assert jobs.qos_names == QOS_NAMES and jobs.constraint_names == ("",)
    assert jobs.depends is not None
    edges = sorted(zip(jobs.depends.job_id.tolist(), jobs.depends.on_id.tolist(), strict=True))
    expected = [(2, 1), *[(a, 2) for a in range(3, 8)], *[(8, a) for a in range(3, 8)],
                (9, 8), (10, 8), (11, 8), (12, 9), (12, 10), (12, 11),
                (13, 12), (14, 13), (15, 12), (16, 15)]  # fmt: skip
    assert edges == sorted(expected)
    assert set(jobs.depends.kind.tolist()) == {AFTEROK}


def test_dependencies_follow_the_workflow_on_a_later_day() -> None:
    """Day 3 of 4, 5 exposures: job i + first waits for job j + first exactly when step i waits for j."""
    days = 4
    jobs = desi_night_jobs(perlmutter(), days=days, rng=np.random.default_rng(3), config=every_night(5))
    steps = desi_night_workflow(perlmutter(), exposures=5)
    assert len(jobs) == days * len(steps)
    first = 3 * len(steps)
    night = slice(first, first + len(steps))
    offsets = [step.submit_offset_s for step in steps]
    assert (jobs.submit_s[night] - (3 * DAY_S + START_S)).tolist() == offsets
    expected = {(first + i + 1, first + j + 1) for i, step in enumerate(steps) for j in step.after}
    assert jobs.depends is not None
    on_last = jobs.depends.job_id > first
    got = set(zip(jobs.depends.job_id[on_last].tolist(), jobs.depends.on_id[on_last].tolist(), strict=True))
    assert got == expected


def test_a_night_cut_by_the_horizon_is_dropped_whole() -> None:
    """2 exposures: the last job goes in at 17:00 + 2 h 15 min = 69,300 s; the horizon must pass it."""
    cfg = every_night(2)
    short = desi_night_jobs(perlmutter(), days=69300 / DAY_S, rng=np.random.default_rng(0), config=cfg)
    assert len(short) == 0 and short.qos_names == QOS_NAMES
    plan = draw_desi_jobs(perlmutter(), days=69300 / DAY_S, rng=np.random.default_rng(0), config=cfg,
                          reprocessing=False).plan  # fmt: skip
    assert plan is not None and (plan.observing_nights, plan.cut_nights) == (1, 1)
    kept = desi_night_jobs(perlmutter(), days=69301 / DAY_S, rng=np.random.default_rng(0), config=cfg)
    assert len(kept) == 16
    assert len(desi_night_jobs(perlmutter(), days=0, rng=np.random.default_rng(0))) == 0


def test_a_shorter_horizon_gives_a_prefix_of_a_longer_one() -> None:
    """Each day takes its own two uniforms, so 20 days start with the 10 days' jobs."""
    ten = desi_night_jobs(perlmutter(), days=10, rng=np.random.default_rng(5))
    twenty = desi_night_jobs(perlmutter(), days=20, rng=np.random.default_rng(5))
    assert 0 < len(ten) < len(twenty)
    for name in COLUMN_DTYPES:
        assert np.array_equal(getattr(ten, name), getattr(twenty, name)[: len(ten)]), name


def test_cpu_and_80gb_variants() -> None:
    cpu = desi_night_jobs(
        perlmutter(), days=2, rng=np.random.default_rng(0), config=every_night(3, node_type="cpu")
    )
    assert cpu.partition_names == ("cpu",) and not cpu.gpus.any()
    hbm = every_night(3, node_type="gpu-80gb")
    gpu80 = desi_night_jobs(perlmutter(), days=2, rng=np.random.default_rng(0), config=hbm)
    science = gpu80.size == 5
    assert {gpu80.constraint_names[c] for c in gpu80.constraint[science]} == {"gpu&hbm80g"}
    campaign = desi_reprocessing_campaign(perlmutter(), hbm)
    assert (campaign.node_type, campaign.constraint) == ("gpu-80gb", "gpu&hbm80g")


# -- a decade's invariants -------------------------------------------------------------------------------


def test_observing_nights_and_exposures_match_the_survey() -> None:
    """242/365 of days observe and nights average 33 exposures. Over 3,650 days the number of observing
    nights is Binomial(3650, 242/365): sd sqrt(3650 p (1 - p)) = 28.6, so 4 sd = 114 nights (3.5% of
    the mean); a night's exposures have sd sqrt(44 x 0.75 x 0.25) = 2.87, so the mean of ~2,420 nights
    has sd 0.058 and 4 sd = 0.24 exposure."""
    plan = decade_drawn().plan
    assert plan is not None
    p = 242 / 365
    assert abs(plan.observing_nights - DECADE_DAYS * p) <= 4 * math.sqrt(DECADE_DAYS * p * (1 - p))
    observed = plan.exposures[plan.exposures > 0]
    assert abs(observed.mean() - 33.0) <= 4 * math.sqrt(44 * 0.75 * 0.25 / len(observed))
    assert observed.min() >= 1 and observed.max() <= 44
    assert plan.cut_nights <= 1
    jobs = decade()
    realtime = jobs.qos == REALTIME
    tilenight = realtime & (jobs.size == 5)  # science jobs: 5 nodes (desispec's cap); nothing else is
    assert np.count_nonzero(tilenight) == observed[plan.kept[plan.exposures > 0]].sum()


def test_every_dependency_points_to_an_earlier_job_of_the_same_night_or_campaign() -> None:
    jobs = decade()
    assert jobs.depends is not None and len(jobs.depends.job_id) > 0
    job, on = rows(jobs, jobs.depends.job_id), rows(jobs, jobs.depends.on_id)
    assert np.all(on < job)
    assert np.all(jobs.submit_s[on] <= jobs.submit_s[job])
    assert np.array_equal(jobs.qos[on], jobs.qos[job])
    night = jobs.qos[job] == REALTIME
    day = np.floor((jobs.submit_s - START_S) / DAY_S)
    assert np.array_equal(day[on[night]], day[job[night]])
    assert set(jobs.depends.kind[night].tolist()) == {AFTEROK}
    assert set(jobs.depends.kind[~night].tolist()) == {AFTERANY}
    assert np.array_equal(jobs.submit_s[on[~night]], jobs.submit_s[job[~night]])  # one campaign


def test_jobs_respect_the_qos_limits() -> None:
    """No job would be rejected at submission: sizes and limits within perlmutter.toml's QOS, run times
    within the limits, and the limit rule exactly."""
    jobs = decade()
    table = load_qos("perlmutter")
    assert set(jobs.qos.tolist()) == {REALTIME, REGULAR}
    for code in (REALTIME, REGULAR):
        qos = table.get(QOS_NAMES[code])
        mine = jobs.qos == code
        if qos.max_nodes_per_job:
            assert jobs.size[mine].max() <= qos.max_nodes_per_job
        if qos.max_walltime_s:
            assert jobs.limit_s[mine].max() <= qos.max_walltime_s
    assert table.get("realtime").max_nodes_per_job == 10
    assert np.all(jobs.work_s == np.ceil(jobs.work_s)) and np.all(jobs.work_s >= 1)
    assert np.all(jobs.limit_s >= jobs.work_s) and np.array_equal(jobs.requested_s, jobs.limit_s)
    assert np.array_equal(jobs.limit_s, np.ceil(jobs.work_s * 1.5 / 60) * 60)
    assert np.all(jobs.submit_s == np.floor(jobs.submit_s))
    gpu = np.array([jobs.partition_names[p] == "gpu" for p in jobs.partition])
    assert np.array_equal(jobs.gpus, np.where(gpu, 4 * jobs.size, 0))
    assert set(jobs.user.tolist()) == {90000} and set(jobs.group.tolist()) == {90000}
    assert np.all(np.diff(jobs.submit_s) >= 0) and np.array_equal(jobs.job_id, np.arange(1, len(jobs) + 1))


# -- reprocessing ----------------------------------------------------------------------------------------


def test_campaign_node_hours_equal_the_model() -> None:
    """The campaign's node-hours are the model's year on 10 nodes (988.7), up to rounding each run time
    up to a whole second; 10 one-node chains of 9 jobs of at most 12 h (plus one exposure)."""
    model = predict_desi(perlmutter(), None, 10, {"mode": "year", "nights": 242, "exposures": 33})
    jobs = desi_reprocessing_jobs(perlmutter(), days=365)
    assert len(jobs) == 90 and set(jobs.qos.tolist()) == {REGULAR}
    node_hours = float(np.sum(jobs.size * jobs.work_s)) / 3600
    assert model.figures["node_hours"] == pytest.approx(988.74, abs=0.01)
    assert 0 <= node_hours - model.figures["node_hours"] <= len(jobs) / 3600
    campaign = desi_reprocessing_campaign(perlmutter())
    assert campaign.exposures_per_job.sum() == 242 * 33
    assert float(np.sum(campaign.run_s)) * campaign.job_nodes / 3600 == pytest.approx(
        model.figures["node_hours"]
    )
    assert (campaign.chains, campaign.waves) == (10, 9)
    assert campaign.run_s.max() <= 12 * 3600 + model.run_s / (242 * 33) * 10
    # one chain's jobs run back to back for the model's wall time on 10 nodes
    assert float(np.sum(campaign.run_s[::10])) == pytest.approx(model.run_s, rel=1e-3)
    assert jobs.depends is not None
    assert np.array_equal(jobs.depends.on_id, jobs.depends.job_id - 10)


@pytest.mark.parametrize(
    ("days", "starts_day"),
    [(182.375, []), (182.376, [182.375]), (365, [182.375]), (730, [182.375, 547.375]), (0, [])],
)
def test_campaigns_start_on_their_day(days: float, starts_day: list[float]) -> None:
    jobs = desi_reprocessing_jobs(perlmutter(), days=days)
    assert sorted(set((jobs.submit_s / DAY_S).tolist())) == starts_day
    assert len(jobs) == 90 * len(starts_day)


# -- determinism, speed, errors ------------------------------------------------------------------------


def test_same_generator_state_same_table_and_fast() -> None:
    start = time.perf_counter()
    one = draw_desi_jobs(perlmutter(), days=365, rng=np.random.default_rng(7)).jobs
    elapsed_s = time.perf_counter() - start
    two = draw_desi_jobs(perlmutter(), days=365, rng=np.random.default_rng(7)).jobs
    other = draw_desi_jobs(perlmutter(), days=365, rng=np.random.default_rng(8)).jobs
    for name in COLUMN_DTYPES:
        assert np.array_equal(getattr(one, name), getattr(two, name)), name
    assert one.depends is not None and two.depends is not None
    assert np.array_equal(one.depends.on_id, two.depends.on_id)
    assert len(one) != len(other) or not np.array_equal(one.submit_s, other.submit_s)
    assert elapsed_s < 1.0  # measured ~0.03 s


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"exposures_mean": 50.0}, "exposures_mean"),
        ({"observing_nights_per_year": 400.0}, "observing_nights_per_year"),
        ({"night_start_hour": 24.0}, "night_start_hour"),
        ({"limit_factor": 0.9}, "limit_factor"),
        ({"reprocessing_job_nodes": 3}, "multiple of reprocessing_job_nodes"),
        ({"reprocessing_start_day": 365}, "reprocessing_start_day"),
        ({"exposures": 33}, "exposures"),
        ({"realtime_nodes": "10"}, "realtime_nodes"),
    ],
)
def test_bad_config_names_the_field(overrides: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        load_desi_jobs_config(**overrides)


def test_bad_runs_raise_clear_errors() -> None:
    machine, rng = perlmutter(), np.random.default_rng(0)
    with pytest.raises(ValueError, match="past the next night's start"):
        desi_night_jobs(machine, days=5, rng=rng, config=load_desi_jobs_config(exposures_max=100))
    with pytest.raises(ValueError, match="max_walltime_s"):
        desi_reprocessing_jobs(machine, days=5, config=load_desi_jobs_config(reprocessing_job_target_h=100.0))
    with pytest.raises(PerfModelError, match="no node type"):
        desi_night_jobs(machine, days=5, rng=rng, config=load_desi_jobs_config(node_type="gpu-90gb"))
    with pytest.raises(ValueError, match="days must be"):
        draw_desi_jobs(machine, days=-1, rng=rng)
    with pytest.raises(ValueError, match="days must be"):
        draw_desi_jobs(machine, days=math.nan, rng=rng)


def test_packaged_toml_loads_and_cites_every_value() -> None:
    from importlib.resources import files

    text = files("pmtwin.workload").joinpath("desi_jobs.toml").read_text(encoding="utf-8")
    for line in text.splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            assert "#" in line, f"uncited value: {line}"
    assert config().observing_probability == pytest.approx(242 / 365)


# -- Slurm mode ----------------------------------------------------------------------------------------


def test_slurm_mode_runs_every_desi_job_to_completion() -> None:
    """20 days of nights plus a campaign on day 3, alone on Perlmutter in Slurm mode (FIFO, walltime
    kill): nothing is rejected or times out, and the realtime jobs never hold more than 10 nodes."""
    from pmtwin.sched.config import SchedulerConfig
    from pmtwin.sched.slurm import STATE_NAMES, run_slurm
    from pmtwin.workload.routing import pool_of_jobs
    from tests.workload.slurm_run import slurm_pools

    system = perlmutter()
    cfg = load_desi_jobs_config(reprocessing_start_day=3)
    jobs = draw_desi_jobs(system, days=20, rng=np.random.default_rng(2), config=cfg).jobs
    config = SchedulerConfig(walltime="kill")
    result = run_slurm(jobs, pool_of_jobs(jobs, system), slurm_pools(system), config, load_qos("perlmutter"))
    assert np.all(result.state == STATE_NAMES.index("COMPLETED"))
    realtime = np.flatnonzero(jobs.qos == REALTIME)
    events = np.concatenate([result.start_s[realtime], result.end_s[realtime]])
    delta = np.concatenate([jobs.size[realtime], -jobs.size[realtime]])
    order = np.lexsort((delta, events))  # at equal times, ends before starts
    assert np.cumsum(delta[order]).max() <= 10
