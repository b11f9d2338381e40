"""The workload generator (workload/generate.py) and its model files (workload/model.py)."""

from __future__ import annotations

from dataclasses import replace
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pmtwin.machine import Machine, load_system
from pmtwin.sched.qos import load_qos
from pmtwin.workload.errors import WorkloadFormatError
from pmtwin.workload.generate import generate, generate_workload, partition_rate_per_s, partition_shapes
from pmtwin.workload.jobs import COLUMN_DTYPES, JobTable
from pmtwin.workload.model import Desi, Dist, WorkloadModel, load_workload_model, parse_model

DAY_S = 86400.0
YEAR_DAYS = 365.0
DESI_USER = 90000


@cache
def perlmutter() -> Machine:
    return load_system("perlmutter")


@cache
def model() -> WorkloadModel:
    return load_workload_model("perlmutter")


@cache
def year() -> JobTable:
    return generate_workload(model(), days=YEAR_DAYS, seed=2024, machine=perlmutter())


def rows_of(jobs: JobTable, partition: str) -> np.ndarray:
    return np.asarray(jobs.partition_names)[jobs.partition] == partition


def names(jobs: JobTable, column: str) -> np.ndarray:
    return np.asarray(getattr(jobs, f"{column}_names"))[getattr(jobs, column)]


def test_same_seed_same_bytes_and_seeds_differ() -> None:
    a = generate_workload(model(), days=7, seed=11, machine=perlmutter())
    b = generate_workload(model(), days=7, seed=11, machine=perlmutter())
    for column in COLUMN_DTYPES:
        assert getattr(a, column).tobytes() == getattr(b, column).tobytes(), column
    assert a.depends is not None and b.depends is not None
    assert a.depends.on_id.tobytes() == b.depends.on_id.tobytes()
    c = generate_workload(model(), days=7, seed=12, machine=perlmutter())
    assert len(a) != len(c) or not np.array_equal(a.submit_s, c.submit_s)


def test_a_year_reaches_the_offered_load_and_the_expected_volume() -> None:
    jobs = year()
    shapes = partition_shapes(model(), perlmutter())
    for name, part in model().partitions.items():
        rows = rows_of(jobs, name) & (jobs.user != DESI_USER)
        load = float(np.sum(jobs.work_s[rows] * jobs.size[rows])) / (shapes[name].nodes * YEAR_DAYS * DAY_S)
        assert abs(load - 0.85) < 0.06, (name, load)  # 12 seeds: gpu 0.851 sd 0.016, cpu 0.855 sd 0.018
        expected = partition_rate_per_s(part, shapes[name]) * YEAR_DAYS * DAY_S
        assert abs(np.count_nonzero(rows) - expected) < 0.01 * expected, name
    assert 1.3e6 < len(jobs) < 1.5e6


def test_every_job_respects_its_partition_class_and_qos() -> None:
    jobs = year()
    n = len(jobs)
    np.testing.assert_array_equal(jobs.job_id, np.arange(1, n + 1))
    assert np.all(np.diff(jobs.submit_s) >= 0)
    assert np.all((jobs.submit_s >= 0) & (jobs.submit_s < YEAR_DAYS * DAY_S))
    assert np.all(jobs.submit_s == np.floor(jobs.submit_s))
    assert np.all((jobs.work_s >= 1) & (jobs.work_s <= jobs.limit_s) & (jobs.limit_s == jobs.requested_s))
    qos_table = load_qos("perlmutter")
    qos = names(jobs, "qos")
    for name in set(qos.tolist()):
        spec = qos_table.get(name)
        rows = qos == name
        if spec.max_walltime_s > 0:
            assert jobs.limit_s[rows].max() <= spec.max_walltime_s, name
        if spec.max_nodes_per_job > 0:
            assert jobs.size[rows].max() <= spec.max_nodes_per_job, name
    gpu, cpu = rows_of(jobs, "gpu"), rows_of(jobs, "cpu")
    assert np.all(gpu | cpu)
    hbm = names(jobs, "constraint") == "hbm80g"
    assert not np.any(hbm & cpu) and jobs.size[hbm].max() <= 256
    assert jobs.size[gpu & ~hbm].max() <= 1536 and jobs.size[cpu].max() <= 3072
    shared = qos == "shared"
    assert np.all(jobs.size[shared] == 1)
    assert set(np.unique(jobs.gpus[shared & gpu]).tolist()) == {1, 2}
    np.testing.assert_array_equal(jobs.cores[shared & gpu], jobs.gpus[shared & gpu] * 16)
    assert set(np.unique(jobs.cores[shared & cpu]).tolist()) == {1, 2, 4, 8, 16, 32, 64}
    np.testing.assert_array_equal(jobs.mem_mb[shared & cpu], jobs.cores[shared & cpu] * 512 * 1024 // 128)
    whole_gpu = gpu & ~shared
    np.testing.assert_array_equal(jobs.gpus[whole_gpu], jobs.size[whole_gpu] * 4)
    assert np.all(jobs.gpus[cpu] == 0) and np.all(jobs.cores[~shared] == 0)
    users = jobs.user[jobs.user != DESI_USER]
    assert users.min() >= 1 and users.max() <= 7000
    assert np.all(jobs.group[jobs.user != DESI_USER] <= 800)


def test_the_users_submit_limits_hold_by_construction() -> None:
    jobs = year()
    qos = names(jobs, "qos")
    for name, limit, window_s in (
        ("debug", 5, 2 * DAY_S),
        ("interactive", 2, 2 * DAY_S),
        ("premium", 5, 7 * DAY_S),
    ):
        mask = qos == name
        assert mask.sum() > 1000, name
        assert max_in_window(jobs.submit_s[mask], jobs.user[mask], window_s) <= limit, name


def max_in_window(submit_s: np.ndarray, user: np.ndarray, window_s: float) -> int:
    """Brute force: the most jobs one user has in any (t - window, t] ending at one of their submissions."""
    most = 0
    for u in np.unique(user):
        t = np.sort(submit_s[user == u])
        earliest = np.searchsorted(t, t - window_s, side="right")
        most = max(most, int(np.max(np.arange(len(t)) - earliest + 1)))
    return most


def test_a_submit_limit_moves_the_extra_jobs_to_the_overflow_qos() -> None:
    data = {
        "model": {"name": "limits"},
        "users": {"count": 1},
        "partitions": {"p": {"jobs_per_day": 200, "nodes": 4, "classes": {"d": {
            "share": 1, "qos": "debug", "size": {"values": [1], "weights": [1]},
            "runtime_s": {"values": [60], "weights": [1]}, "submit_limit": 3, "submit_window_s": 3600,
        }}}},
    }  # fmt: skip
    generated = generate(parse_model(data, "limits"), days=5, seed=0)
    jobs = generated.jobs
    debug = names(jobs, "qos") == "debug"
    assert max_in_window(jobs.submit_s[debug], jobs.user[debug], 3600) <= 3
    moved = generated.report["moved_by_submit_limits"]["debug"]
    assert moved == np.count_nonzero(names(jobs, "qos") == "regular") > 0


def test_the_mix_and_the_cycles_follow_the_model() -> None:
    jobs = year()
    plain = jobs.user != DESI_USER
    qos = names(jobs, "qos")[plain]
    assert 0.09 < np.mean(qos == "debug") < 0.15  # 15% drawn, heavy users' extras moved to regular
    assert 0.55 < np.mean(qos == "regular") < 0.70
    gpu = rows_of(jobs, "gpu")[plain]
    assert abs(np.mean(names(jobs, "constraint")[plain][gpu] == "hbm80g") - 0.16) < 0.005
    hours = (jobs.submit_s[plain] % DAY_S // 3600).astype(np.int64)
    hourly = np.bincount(hours, minlength=24) / np.count_nonzero(plain) * 24
    daily = np.asarray(model().arrivals.daily_profile)
    np.testing.assert_allclose(hourly, daily / daily.mean(), rtol=0.03)
    weekday = (jobs.submit_s[plain] // DAY_S % 7).astype(np.int64)
    days_of = np.bincount(np.arange(365) % 7, minlength=7)  # 365 days start on a Monday
    per_weekday = np.bincount(weekday, minlength=7) / days_of
    weekly = np.asarray(model().arrivals.weekly_profile)
    np.testing.assert_allclose(per_weekday / per_weekday.mean(), weekly / weekly.mean(), rtol=0.03)
    accuracy = jobs.work_s[plain] / jobs.limit_s[plain]
    assert 0.17 < float(np.mean(accuracy)) < 0.22


def test_desi_nights_run_as_realtime_chains() -> None:
    jobs = generate_workload(model(), days=30, seed=3, machine=perlmutter())
    desi = jobs.user == DESI_USER
    realtime = names(jobs, "qos") == "realtime"
    assert realtime.sum() > 0 and np.all(desi[realtime])
    assert jobs.depends is not None
    dependent = np.isin(jobs.job_id, jobs.depends.job_id)
    assert np.all(desi[dependent])
    on = np.searchsorted(jobs.job_id, jobs.depends.on_id)
    child = np.searchsorted(jobs.job_id, jobs.depends.job_id)
    assert np.all(jobs.submit_s[on] <= jobs.submit_s[child])


def test_a_machine_without_80gb_nodes_gets_no_hbm80g_jobs() -> None:
    jobs = generate_workload(model(), days=3, seed=5, machine=load_system("perlmutter-2021"))
    assert "hbm80g" not in set(names(jobs, "constraint").tolist())
    assert jobs.size[rows_of(jobs, "gpu")].max() <= 1536


def test_a_model_with_node_counts_needs_no_machine(tmp_path: Path) -> None:
    path = tmp_path / "m.toml"
    path.write_text(SMALL_MODEL)
    jobs = generate_workload(load_workload_model(path), days=20, seed=1)
    assert jobs.partition_names == ("batch",)
    assert jobs.size.max() <= 64 and set(np.unique(jobs.limit_s).tolist()) <= {600.0, 3600.0}
    assert abs(len(jobs) - 2000) < 5 * np.sqrt(2000)
    with pytest.raises(ValueError, match="DESI jobs"):
        generate_workload(
            model().model_copy(update={"partitions": load_workload_model(path).partitions}), days=1, seed=0
        )
    with pytest.raises(ValueError, match="has no nodes; give a machine"):
        generate_workload(model(), days=1, seed=0)


def test_exponential_gaps_make_a_poisson_process(tmp_path: Path) -> None:
    path = tmp_path / "m.toml"
    path.write_text(SMALL_MODEL)
    jobs = generate_workload(load_workload_model(path), days=400, seed=7)
    gaps = np.diff(jobs.submit_s)
    assert abs(gaps.mean() - DAY_S / 100) < 0.03 * DAY_S / 100
    assert abs(gaps.std() / gaps.mean() - 1.0) < 0.05


SMALL_MODEL = """
[model]
name = "small"
[partitions.batch]
jobs_per_day = 100
nodes = 64
[partitions.batch.classes.short]
share = 1
size = { values = [1, 200], weights = [3, 1] }
limit_s = { values = [600, 3600], weights = [1, 1] }
accuracy = { probs = [0, 1], values = [0.1, 1.0] }
"""


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("[model]\nname = 'x'\n", "partitions: Field required"),
        (
            SMALL_MODEL.replace("share = 1", "share = 0"),
            "partitions.batch.classes.short.share: Input should be greater",
        ),
        (
            SMALL_MODEL.replace("weights = [3, 1]", "weights = [3]"),
            "classes.short.size: weights has 1 entries",
        ),
        (SMALL_MODEL.replace("probs = [0, 1]", "probs = [0, 0.9]"), "accuracy: probs must run from 0 to 1"),
        (SMALL_MODEL.replace("values = [0.1, 1.0]", "values = [0.1, 1.5]"), "accuracy values must lie in"),
        (
            SMALL_MODEL.replace("jobs_per_day = 100", "jobs_per_day = 100\noffered_load = 0.5"),
            "exactly one of",
        ),
        (
            SMALL_MODEL.replace("nodes = 64", "nodes = 64\ncolour = 1"),
            "partitions.batch.colour: Extra inputs",
        ),
        (SMALL_MODEL + "[arrivals]\ndaily_profile = [1, 2]\n", "arrivals: daily_profile needs 24 values"),
        (SMALL_MODEL.replace("[model]", "[model"), "not valid TOML"),
        (
            SMALL_MODEL.replace("values = [0.1, 1.0]", "values = [0.5, -3], weights = [1, 1]").replace(
                "probs = [0, 1], ", ""
            ),
            "accuracy values must lie in",
        ),
        (
            SMALL_MODEL.replace("share = 1", "share = 1\nsubmit_limit = 2"),
            "submit_limit needs submit_window_s > 0",
        ),
        (SMALL_MODEL + "[arrivals]\ngaps = { values = [10, -8], weights = [1, 1] }\n", "gaps must be >= 0"),
        (SMALL_MODEL + "[[transforms]]\nkind = 'scale_load'\nfactor = -1\n", "transforms"),
        (
            SMALL_MODEL.replace("share = 1", "share = 1\nlimit_accuracy_coupling = 0.5").replace(
                "values = [600, 3600]", "values = [3600, 600]"
            ),
            "needs limit_s values in increasing order",
        ),
        (
            SMALL_MODEL.replace("limit_s = { values = [600, 3600], weights = [1, 1] }", "").replace(
                "accuracy = { probs = [0, 1], values = [0.1, 1.0] }",
                "runtime_s = { values = [60], weights = [1] }\nlimit_accuracy_coupling = 0.5",
            ),
            "limit_accuracy_coupling needs limit_s and accuracy",
        ),
    ],
)
def test_bad_model_files_name_the_file_and_the_field(tmp_path: Path, text: str, match: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(WorkloadFormatError, match=match) as info:
        load_workload_model(path)
    assert str(info.value).startswith(str(path))


def test_unknown_model_name() -> None:
    with pytest.raises(WorkloadFormatError, match="no such workload model"):
        load_workload_model("nersc-2030")


@pytest.mark.parametrize(
    ("dist", "mean"),
    [
        (Dist(values=[1, 2, 4], weights=[1, 1, 2]), 2.75),
        (Dist(values=[0, 1, 3], probs=[0, 0.5, 1]), 0.25 + 1.0),
        (Dist(values=[1, np.e], probs=[0, 1], log=True), np.e - 1),
    ],
)
def test_distribution_means_are_exact(dist: Dist, mean: float) -> None:
    assert dist.mean() == pytest.approx(mean)
    u = (np.arange(200_000) + 0.5) / 200_000
    assert float(np.mean(dist.sample(u))) == pytest.approx(mean, rel=1e-3)


@settings(max_examples=30, deadline=None)
@given(
    nodes=st.integers(1, 512),
    sizes=st.lists(st.integers(1, 600), min_size=1, max_size=5),
    limits=st.lists(st.integers(1, 200_000), min_size=1, max_size=4),
    low=st.floats(0.0, 1.0),
    days=st.floats(0.01, 3.0),
    seed=st.integers(0, 2**32),
    load=st.floats(0.05, 2.0),
)
def test_invariants_for_any_small_model(
    nodes: int, sizes: list[int], limits: list[int], low: float, days: float, seed: int, load: float
) -> None:
    data = {
        "model": {"name": "h"},
        "partitions": {
            "p": {
                "offered_load": load,
                "nodes": nodes,
                "classes": {
                    "a": {
                        "share": 1.0,
                        "size": {"values": sizes, "weights": [1.0] * len(sizes)},
                        "limit_s": {"values": limits, "weights": [1.0] * len(limits)},
                        "accuracy": {"values": [low, 1.0], "probs": [0.0, 1.0]},
                    },
                    "b": {"share": 0.5, "size": {"values": [1, nodes], "probs": [0, 1], "log": True},
                          "runtime_s": {"values": [1, 10_000], "probs": [0, 1]}},
                },
            }
        },
    }  # fmt: skip
    jobs = generate_workload(parse_model(data, "h"), days=days, seed=seed)
    assert np.all((jobs.size >= 1) & (jobs.size <= nodes))
    assert np.all((jobs.work_s >= 1) & (jobs.work_s <= jobs.limit_s))
    assert np.all((jobs.submit_s >= 0) & (jobs.submit_s < days * DAY_S))
    np.testing.assert_array_equal(jobs.job_id, np.arange(1, len(jobs) + 1))
    again = generate_workload(parse_model(data, "h"), days=days, seed=seed)
    assert again.submit_s.tobytes() == jobs.submit_s.tobytes()


def test_generated_workload_runs_in_slurm_mode_without_rejections(tmp_path: Path) -> None:
    """10 days of the default workload plus the Slurm features, NERSC priority, walltime kill: no job is
    rejected (the model keeps QOS limits and submit limits; DESI keeps realtime's)."""
    from pmtwin.runs import simulate
    from pmtwin.sched.config import SchedulerConfig

    config = SchedulerConfig(priority="nersc", walltime="kill", preempt_mode="cancel")
    result = simulate(out_dir=tmp_path / "run", days=10, seed=1, scheduler=config, slurm_features=True,
                      power=None)  # fmt: skip
    states = result.summary["scheduler"]["states"]
    assert states.get("REJECTED", 0) == 0, states
    assert states.get("COMPLETED", 0) > 0.9 * len(result.jobs)


def test_model_desi_switch_off() -> None:
    quiet = model().model_copy(update={"desi": Desi()})
    jobs = generate_workload(quiet, days=5, seed=0, machine=perlmutter())
    assert not np.any(jobs.user == DESI_USER)
    assert jobs.depends is None or len(jobs.depends.job_id) == 0
    assert replace(jobs).qos_names == jobs.qos_names


@pytest.mark.parametrize("coupling", [-1.0, -0.4, 0.0, 0.5, 1.0])
def test_limit_accuracy_coupling_keeps_the_margins_and_sets_the_mean(coupling: float) -> None:
    data = {
        "model": {"name": "c"},
        "partitions": {"p": {"jobs_per_day": 20_000, "nodes": 4, "classes": {"a": {
            "share": 1, "size": {"values": [1], "weights": [1]},
            "limit_s": {"values": [600, 3600, 86400], "weights": [1, 1, 1]},
            "accuracy": {"values": [0.01, 1.0], "probs": [0, 1]}, "limit_accuracy_coupling": coupling,
        }}}},
    }  # fmt: skip
    model = parse_model(data, "c")
    jobs = generate_workload(model, days=5, seed=3)
    job_class = model.partitions["p"].classes["a"]
    assert float(np.mean(jobs.work_s)) == pytest.approx(job_class.mean_work_s(), rel=0.02)
    counts = np.unique(jobs.limit_s, return_counts=True)[1] / len(jobs)
    np.testing.assert_allclose(counts, 1 / 3, atol=0.01)  # the limit law is untouched
    accuracy = jobs.work_s / jobs.limit_s
    assert abs(np.mean(accuracy) - 0.505) < 0.01  # and so is the accuracy law
    short, long = jobs.limit_s == 600, jobs.limit_s == 86400
    gap = float(np.mean(accuracy[long]) - np.mean(accuracy[short]))
    assert gap == pytest.approx(coupling * 0.66, abs=0.03)  # comonotone: thirds of U(0.01, 1) apart


def test_submit_limits_may_not_chain() -> None:
    def cls(qos: str, overflow: str) -> dict[str, object]:
        return {"share": 1, "qos": qos, "size": {"values": [1], "weights": [1]},
                "runtime_s": {"values": [60], "weights": [1]}, "submit_limit": 2, "submit_window_s": 3600,
                "overflow_qos": overflow}  # fmt: skip

    for overflow in ("b", "a"):
        classes = {"x": cls("a", overflow), "y": cls("b", "c")}
        data = {
            "model": {"name": "chain"},
            "partitions": {"p": {"jobs_per_day": 10, "nodes": 4, "classes": classes}},
        }
        with pytest.raises(WorkloadFormatError, match="which has a submit limit itself"):
            parse_model(data, "chain.toml")


def test_a_transform_that_oversizes_jobs_is_refused_on_a_machine() -> None:
    transforms = [{"kind": "shift_to_gpu", "share": 1.0, "speedup": 2.0}]
    model = load_workload_model("perlmutter").model_copy(update={"transforms": transforms, "desi": Desi()})
    with pytest.raises(
        ValueError, match=r"jobs ask for more nodes than their pool of perlmutter has .*max_size"
    ):
        generate_workload(model, days=7, seed=0, machine=perlmutter())
    transforms[0]["max_size"] = 1536
    capped = model.model_copy(update={"transforms": transforms})
    assert generate_workload(capped, days=7, seed=0, machine=perlmutter()).size.max() <= 1536
