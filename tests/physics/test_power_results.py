"""Power results (docs/power.md sections 3 and 4): the series, energies and summary of
``pmtwin.results.power.power_outputs``, ``resample``, whole runs with a power budget or GPU caps, and the
outdoor temperature file."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from pmtwin import runs
from pmtwin.results.power import J_PER_MWH, PowerInputs, PowerOutputs, PueFn, power_outputs
from pmtwin.results.series import LevelSeries, integrate, resample
from pmtwin.runs_power import PowerOptions, read_outdoor_temperature
from tests.results.builders import Run, make_run

SETTINGS = settings(
    max_examples=100,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
PARTITIONS = ("gpu", "cpu")


def rows(series: LevelSeries, name: str) -> list[tuple[float, float]]:
    time_s, value = series.get(name)
    return list(zip(time_s.tolist(), value.tolist(), strict=True))


def outputs_of(
    run: Run,
    added_mw: list[int],
    idle_w: list[float],
    *,
    static_w: float,
    efficiency: float,
    partition_of_pool: tuple[str, ...],
    partition_idle_w: dict[str, float],
    pue_at: PueFn | None = None,
) -> PowerOutputs:
    inputs = PowerInputs(
        added_mw=np.asarray(added_mw, np.int64),
        idle_w=np.asarray(idle_w, np.float64),
        rate=np.ones(len(added_mw)),
        partition_of_pool=partition_of_pool,
        partition_idle_w=partition_idle_w,
        static_dc_w=static_w,
        efficiency=efficiency,
        pue_at=pue_at or PueFn(None, np.array([1.05])),
        settings={},
    )
    return power_outputs(run.jobs, run.schedule, inputs)


# -- power_outputs by hand ---------------------------------------------------------------------------


def test_power_outputs_by_hand() -> None:
    # job 1: pool 0 (gpu), 0 -> 100, 1 kW added, 0.5 kW idle share
    # job 2: pool 1 (cpu), submitted 10, runs 50 -> 150, 2 kW added, 0.25 kW idle share
    run = make_run(
        [0, 10], [0, 50], [100, 150], [1, 1], pool=[0, 1], pool_names=("a", "b"), pool_capacity=(1, 1)
    )
    pue_at = PueFn(np.array([0.0, 120.0]), np.array([1.1, 1.2]))
    out = outputs_of(
        run, [1_000_000, 2_000_000], [500.0, 250.0], static_w=10_000.0, efficiency=0.8,
        partition_of_pool=PARTITIONS, partition_idle_w={"gpu": 4000.0, "cpu": 3000.0}, pue_at=pue_at,
    )  # fmt: skip
    # system = (10 kW + running jobs) / 0.8
    time_s, value = out.series.get("power_system_w")
    assert time_s.tolist() == [0, 50, 100, 150]
    assert value == pytest.approx([13750, 16250, 15000, 12500], rel=1e-12)
    # facility = system x PUE, which changes from 1.1 to 1.2 at 120 s
    time_s, value = out.series.get("power_facility_w")
    assert time_s.tolist() == [0, 50, 100, 120, 150]
    assert value == pytest.approx(
        [13750 * 1.1, 16250 * 1.1, 15000 * 1.1, 15000 * 1.2, 12500 * 1.2], rel=1e-12
    )
    assert rows(out.series, "power_nodes_w:gpu") == [(0, 5000), (100, 4000)]
    assert rows(out.series, "power_nodes_w:cpu") == [(0, 3000), (50, 5000), (150, 3000)]
    s = out.summary
    # 13750 x 50 + 16250 x 50 + 15000 x 50 = 2,250,000 J over 150 s
    assert s["energy_system_mwh"] * J_PER_MWH == pytest.approx(2_250_000, rel=1e-12)
    assert s["mean_system_w"] == pytest.approx(15_000, rel=1e-12)
    assert s["idle_system_w"] == 12_500
    assert s["peak_system_w"] == 16_250
    assert s["peak_facility_w"] == pytest.approx(15000 * 1.2, rel=1e-12)  # > 16250 x 1.1 = 17875
    # facility: 1.1 x (687,500 + 812,500 + 15,000 x 20) + 1.2 x 15,000 x 30 = 1,980,000 + 540,000
    assert s["energy_facility_mwh"] * J_PER_MWH == pytest.approx(2_520_000, rel=1e-12)
    assert s["mean_pue"] == pytest.approx(2_520_000 / 2_250_000, rel=1e-12)
    # per job: (added + idle share) x run = 1.5 kW x 100 s, 2.25 kW x 100 s
    assert out.columns["energy_j"].tolist() == [150_000, 225_000]
    assert out.columns["power_w"].tolist() == [1000, 2000]
    assert s["energy_jobs_mwh"] * J_PER_MWH == pytest.approx(375_000, rel=1e-12)
    # partitions: gpu 5000 x 100 + 4000 x 50 = 700,000 J; cpu 3000 x 50 + 5000 x 100 = 650,000 J
    assert s["partitions"]["gpu"]["energy_nodes_mwh"] * J_PER_MWH == pytest.approx(700_000, rel=1e-12)
    assert s["partitions"]["cpu"]["energy_nodes_mwh"] * J_PER_MWH == pytest.approx(650_000, rel=1e-12)


@st.composite
def power_runs(draw: st.DrawFn) -> tuple[Run, list[int], list[float], float, float]:
    n = draw(st.integers(1, 15))
    submit = [0.25 * draw(st.integers(0, 200)) for _ in range(n)]
    start = [s + 0.25 * draw(st.integers(0, 100)) for s in submit]
    end = [s + 0.25 * draw(st.integers(0, 400)) for s in start]
    pools = [draw(st.integers(0, 2)) for _ in range(n)]
    run = make_run(
        submit, start, end, [1] * n, pool=pools, pool_names=("p0", "p1", "p2"), pool_capacity=(9, 9, 9)
    )
    added = [draw(st.integers(0, 10**10)) for _ in range(n)]
    idle = [draw(st.floats(0, 1e6)) for _ in range(n)]
    return run, added, idle, draw(st.floats(1.0, 1e7)), draw(st.floats(0.5, 1.0))


@SETTINGS
@given(case=power_runs())
def test_energy_is_exact(case: tuple[Run, list[int], list[float], float, float]) -> None:
    run, added_mw, idle_w, static_w, efficiency = case
    partition_idle = {"gpu": 123.5, "cpu": 77.25}
    out = outputs_of(
        run, added_mw, idle_w, static_w=static_w, efficiency=efficiency,
        partition_of_pool=("gpu", "cpu", "gpu"), partition_idle_w=partition_idle,
    )  # fmt: skip
    first, last = float(run.jobs.submit_s.min()), float(run.schedule.end_s.max())
    span = last - first
    run_s = run.schedule.end_s - run.schedule.start_s
    added_w = np.asarray(added_mw, np.float64) / 1000.0

    time_s, system = out.series.get("power_system_w")
    assert time_s[0] == first
    expected = (static_w * span + float(np.dot(added_w, run_s))) / efficiency
    assert integrate(time_s, system, first, last) == pytest.approx(expected, rel=1e-9, abs=1e-9)
    assert out.summary["energy_system_mwh"] * J_PER_MWH == pytest.approx(expected, rel=1e-9, abs=1e-9)
    # back to exactly idle once the last job has ended
    assert time_s[-1] <= last
    assert system[-1] == static_w / efficiency
    assert out.summary["peak_system_w"] == system.max()

    # per partition: its idle nodes plus its jobs
    pool_partition = np.array([0, 1, 0])[run.schedule.pool]
    for k, name in enumerate(("gpu", "cpu")):
        t_k, v_k = out.series.get(f"power_nodes_w:{name}")
        mine = pool_partition == k
        expected_k = partition_idle[name] * span + float(np.dot(added_w[mine], run_s[mine]))
        assert integrate(t_k, v_k, first, last) == pytest.approx(expected_k, rel=1e-9, abs=1e-9)
        assert v_k[-1] == partition_idle[name]

    # facility at a constant PUE of 1.05
    t_f, facility = out.series.get("power_facility_w")
    assert integrate(t_f, facility, first, last) == pytest.approx(1.05 * expected, rel=1e-9, abs=1e-9)

    # per-job energy, and the energy balance: jobs + idle nodes not in jobs + overheads = system
    energy_j = out.columns["energy_j"]
    assert energy_j == pytest.approx((added_w + np.asarray(idle_w)) * run_s, rel=1e-12)
    assert out.summary["energy_jobs_mwh"] * J_PER_MWH == pytest.approx(float(energy_j.sum()), rel=1e-12)
    balance = static_w * span - float(np.dot(idle_w, run_s)) + float(energy_j.sum())
    assert out.summary["energy_system_mwh"] * J_PER_MWH * efficiency == pytest.approx(
        balance, rel=1e-9, abs=1e-6 * (1.0 + float(np.dot(idle_w, run_s)))
    )


# -- resample --------------------------------------------------------------------------------------


def level(rows_: list[tuple[float, float]]) -> LevelSeries:
    time_s = np.array([t for t, _ in rows_], np.float64)
    value = np.array([v for _, v in rows_], np.float64)
    return LevelSeries(("x",), np.array([0, len(rows_)], np.int64), time_s, value)


def test_resample_bin_means_by_hand() -> None:
    # 10 on [0, 5), 20 on [5, 12), 0 after: bin [0, 10) = (5 x 10 + 5 x 20) / 10 = 15,
    # bin [10, 20) = (2 x 20 + 8 x 0) / 10 = 4
    out = resample(level([(0, 10), (5, 20), (12, 0)]), 10.0, 20.0)
    assert rows(out, "x") == [(0, 15), (10, 4)]
    # bins start at the series' first row: 3 + [0, 4), [4, 8): (1 x 10 + 2 x 20 + 1 x 0) / 4 = 12.5 ...
    out = resample(level([(3, 10), (4, 20), (6, 0)]), 4.0, 11.0)
    assert rows(out, "x") == [(3, 12.5), (7, 0)]


def test_resample_keeps_a_constant_series_one_row() -> None:
    assert rows(resample(level([(0, 7.5)]), 10.0, 100.0), "x") == [(0, 7.5)]
    # equal bin means are dropped as repeated levels; the last level holds on into later bins
    assert rows(resample(level([(0, 1), (5, 3), (10, 1), (15, 3)]), 10.0, 20.0), "x") == [(0, 2)]
    assert rows(resample(level([(0, 1), (5, 3), (10, 1), (15, 3)]), 10.0, 40.0), "x") == [(0, 2), (20, 3)]


def test_resample_refuses_a_bad_step() -> None:
    for step in (0.0, -1.0, math.nan, math.inf):
        with pytest.raises(ValueError, match="--resolution must be a positive number"):
            resample(level([(0, 1)]), step, 10.0)


@st.composite
def level_series_sets(draw: st.DrawFn) -> tuple[LevelSeries, float, float]:
    times: list[NDArray[np.float64]] = []
    values: list[NDArray[np.float64]] = []
    for _ in range(draw(st.integers(1, 3))):
        n = draw(st.integers(1, 12))
        gaps = [0.25 * draw(st.integers(1, 80)) for _ in range(n - 1)]
        t0 = 0.25 * draw(st.integers(0, 40))
        times.append(t0 + np.concatenate([[0.0], np.cumsum(gaps)]))
        values.append(np.array([draw(st.floats(0, 1e6)) for _ in range(n)]))
    names = tuple(f"s{k}" for k in range(len(times)))
    offsets = np.concatenate([[0], np.cumsum([len(t) for t in times])]).astype(np.int64)
    series = LevelSeries(names, offsets, np.concatenate(times), np.concatenate(values))
    step = draw(st.sampled_from([0.5, 1.0, 2.5, 7.0, 10.0, 33.3]))
    end = max(float(t[-1]) for t in times) + 0.25 * draw(st.integers(0, 40))
    return series, step, end


@SETTINGS
@given(case=level_series_sets())
def test_resample_keeps_integrals_over_its_bins(case: tuple[LevelSeries, float, float]) -> None:
    series, step, end = case
    out = resample(series, step, end)
    assert out.names == series.names
    for name in series.names:
        time_s, value = series.get(name)
        r_time, r_value = out.get(name)
        first = float(time_s[0])
        assert r_time[0] == first
        bins = max(1, math.ceil((end - first) / step))
        assert len(r_time) <= bins
        scale = float(np.abs(value).max()) * step * 1e-9
        last = end if end > first else first + step  # the last bin ends with the run
        for m in range(1, bins + 1):
            edge = min(first + step * m, last)
            assert integrate(r_time, r_value, first, edge) == pytest.approx(
                integrate(time_s, value, first, edge), rel=1e-9, abs=scale
            )


# -- whole runs ------------------------------------------------------------------------------------

CAP_MW = 3.5
"""Above perlmutter's idle 2.2 MW, and above what its largest job of 3 days needs (0.83 MW), below the
3-day run's uncapped peak (4.9 MW): the budget binds."""


def columns(path: Path) -> dict[str, Any]:
    table = pq.read_table(path).to_pydict()
    return {key: np.array(value) if key != "nodes" else value for key, value in table.items()}


def series_rows(path: Path, name: str) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    table = pq.read_table(path).to_pydict()
    pick = [k for k, s in enumerate(table["series"]) if s == name]
    return np.array(table["time_s"])[pick], np.array(table["value"])[pick]


def default_class_model(path: Path) -> Path:
    """The Perlmutter workload model with every job in its node's default power class (no DESI jobs)."""
    from pmtwin.workload.fit import model_to_toml
    from pmtwin.workload.model import Desi, load_workload_model

    model = load_workload_model("perlmutter")
    partitions = {
        name: part.model_copy(
            update={
                "classes": {k: c.model_copy(update={"power_classes": {}}) for k, c in part.classes.items()}
            }
        )
        for name, part in model.partitions.items()
    }
    path.write_text(model_to_toml(model.model_copy(update={"partitions": partitions, "desi": Desi()})))
    return path


@pytest.fixture(scope="module")
def run_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("power_runs")
    workload = default_class_model(root / "model.toml")
    options = {
        "none": PowerOptions(),
        "budget": PowerOptions(power_cap_mw=CAP_MW),
        "gpu_cap": PowerOptions(gpu_power_cap_w=150.0),
    }
    for name, power in options.items():
        runs.simulate(out_dir=root / name, machine="perlmutter", days=3, power=power, workload=workload)
    return {name: root / name for name in options}


def test_budget_is_never_exceeded(run_dirs: dict[str, Path]) -> None:
    _, capped = series_rows(run_dirs["budget"] / "series.parquet", "power_system_w")
    _, free = series_rows(run_dirs["none"] / "series.parquet", "power_system_w")
    assert free.max() > CAP_MW * 1e6  # the budget binds
    assert capped.max() <= CAP_MW * 1e6 * (1 + 1e-9)
    summaries = {name: json.loads((d / "summary.json").read_text()) for name, d in run_dirs.items()}
    assert summaries["budget"]["power"]["peak_system_w"] <= CAP_MW * 1e6 * (1 + 1e-9)
    assert summaries["budget"]["power"]["power_cap_mw"] == CAP_MW
    assert summaries["budget"]["jobs"] == summaries["none"]["jobs"]
    assert summaries["budget"]["wait_s"]["mean"] >= summaries["none"]["wait_s"]["mean"]


def test_gpu_cap_slows_gpu_jobs_and_lowers_their_power(run_dirs: dict[str, Path]) -> None:
    free = columns(run_dirs["none"] / "jobs.parquet")
    capped = columns(run_dirs["gpu_cap"] / "jobs.parquet")
    order = np.argsort(free["job_id"])
    where = np.searchsorted(free["job_id"][order], capped["job_id"])
    assert np.array_equal(free["job_id"][order][where], capped["job_id"])
    base = {key: value[order][where] for key, value in free.items() if key != "nodes"}

    gpu = capped["partition"] == "gpu"
    assert gpu.any() and (~gpu).any()
    # every GPU job here runs the default gpu_memory_bound class: rate 1 / (0.75 + 0.25 / phi),
    # phi = (100 / 192.5)^(1/3) (see tests/physics/test_power_model.py)
    rate = 1.0 / (0.75 + 0.25 * (192.5 / 100.0) ** (1 / 3))
    assert capped["gpu_rate"][gpu] == pytest.approx(np.full(gpu.sum(), rate), rel=1e-12)
    assert np.all(capped["gpu_rate"][gpu] < 1.0)
    assert np.all(capped["gpu_rate"][~gpu] == 1.0)
    assert np.all(base["gpu_rate"] == 1.0)
    run = capped["end_s"] - capped["start_s"]
    assert run == pytest.approx(base["work_s"] / capped["gpu_rate"], rel=1e-12)
    assert np.all(run[gpu] > base["work_s"][gpu])
    assert run[~gpu] == pytest.approx(base["work_s"][~gpu], rel=1e-12)
    # GPU nodes draw 4 x (242.5 - 150) = 370 W less each; CPU jobs are unchanged
    assert np.all(capped["power_w"][gpu] < base["power_w"][gpu])
    assert base["power_w"][gpu] - capped["power_w"][gpu] == pytest.approx(
        370.0 * capped["size"][gpu], abs=2e-3
    )
    assert np.array_equal(capped["power_w"][~gpu], base["power_w"][~gpu])


def test_power_runs_are_deterministic(tmp_path: Path) -> None:
    power = PowerOptions(power_cap_mw=CAP_MW, gpu_power_cap_w=200.0, outdoor_temp_c=25.0, resolution_s=600.0)
    outs = [tmp_path / "a", tmp_path / "b"]
    for out in outs:
        runs.simulate(out_dir=out, machine="perlmutter", days=2, seed=5, power=power)
    for name in ("series.parquet", "summary.json", "jobs.parquet"):
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name


def test_outdoor_temperature_file_drives_the_pue(tmp_path: Path) -> None:
    csv = tmp_path / "temp.csv"
    csv.write_text("time_s,temp_c\n0,10\n86400,30\n", encoding="utf-8")
    runs.simulate(
        out_dir=tmp_path / "run", machine="perlmutter", days=2, power=PowerOptions(outdoor_temp_c=csv)
    )
    series = tmp_path / "run" / "series.parquet"
    t_sys, system = series_rows(series, "power_system_w")
    t_fac, facility = series_rows(series, "power_facility_w")
    assert 86400.0 in t_fac.tolist()
    at = np.searchsorted(t_sys, t_fac, side="right") - 1
    expected_pue = np.where(t_fac < 86400.0, 1.05, 1.08)  # perlmutter: 1.05 to 21 C, 1.08 from 30 C
    assert facility == pytest.approx(system[at] * expected_pue, rel=1e-12)
    mean_pue = json.loads((tmp_path / "run" / "summary.json").read_text())["power"]["mean_pue"]
    assert 1.05 < mean_pue < 1.08


# -- the outdoor temperature file ------------------------------------------------------------------


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "t.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_read_outdoor_temperature(tmp_path: Path) -> None:
    path = write(tmp_path, "time_s,temp_c\n0,12.5\n\n3600, -1\n7200,30\n")
    time_s, temp_c = read_outdoor_temperature(path)
    assert time_s.tolist() == [0.0, 3600.0, 7200.0]
    assert temp_c.tolist() == [12.5, -1.0, 30.0]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("time,temp\n0,10\n", r":1: the header must be 'time_s,temp_c'"),
        ("", r":1: the header must be 'time_s,temp_c'"),
        ("time_s,temp_c\n0,10\n60,warm\n", r":3: temp_c: not a number: 'warm'"),
        ("time_s,temp_c\nsoon,10\n", r":2: time_s: not a number: 'soon'"),
        ("time_s,temp_c\n0,10\n60,nan\n", r":3: temp_c: not finite"),
        ("time_s,temp_c\n0,10\n60,11\n30,12\n", r":4: time_s: times must increase \(30 after 60\)"),
        ("time_s,temp_c\n0,10\n0,11\n", r":3: time_s: times must increase"),
        ("time_s,temp_c\n0,10,3\n", r":2: expected 2 fields"),
        ("time_s,temp_c\n", r"no temperature rows"),
    ],
)
def test_read_outdoor_temperature_errors(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ValueError, match=message) as info:
        read_outdoor_temperature(path)
    assert str(info.value).startswith(str(path))


def test_read_outdoor_temperature_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot read the outdoor temperature file"):
        read_outdoor_temperature(tmp_path / "absent.csv")


def test_gpu_cap_in_slurm_mode_keeps_time_limits_as_submitted(tmp_path: Path) -> None:
    """A GPU cap slows jobs but leaves their Slurm time limits as submitted (docs/power.md 4b): no job
    is rejected for the QOS walltime because of the cap, and every state count is unchanged."""
    summaries = {}
    for name, cap in (("plain", None), ("capped", 150.0)):
        out = tmp_path / name
        runs.simulate(out_dir=out, days=2, slurm_features=True, power=PowerOptions(gpu_power_cap_w=cap))
        summaries[name] = json.loads((out / "summary.json").read_text())
    assert summaries["capped"]["scheduler"]["states"] == summaries["plain"]["scheduler"]["states"]
    assert summaries["capped"]["scheduler"]["not_run"]["total"] == 0
    assert summaries["capped"]["power"]["mean_system_w"] < summaries["plain"]["power"]["mean_system_w"]
