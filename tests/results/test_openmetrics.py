"""OpenMetrics export: exact text of a hand-made run, bin means and energy, a real run read back by an
independent parser, and the refusals."""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pmtwin.results.openmetrics import (
    Family,
    LiveRun,
    Sample,
    live_families,
    render,
    run_families,
    write_run_metrics,
)
from pmtwin.results.series import integrate

ORIGIN_S = 1_700_000_000.0


def parse(text: str) -> list[Any]:
    """The families as prometheus_client's strict OpenMetrics parser reads them (a test dependency)."""
    from prometheus_client.openmetrics.parser import text_string_to_metric_families

    return list(text_string_to_metric_families(text))


def write_series(run_dir: Path, rows: list[tuple[str, float, float]]) -> Path:
    """A run directory holding only ``series.parquet`` with ``rows`` (series, time_s, value)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    run_dir.mkdir(parents=True)
    names, times, values = zip(*rows, strict=True) if rows else ((), (), ())
    table = pa.table(
        {
            "series": pa.array(names, pa.string()).dictionary_encode(),
            "time_s": pa.array(times, pa.float64()),
            "value": pa.array(values, pa.float64()),
        }
    )
    pq.write_table(table, run_dir / "series.parquet")
    return run_dir


TINY_ROWS = [
    ("utilization", 0.0, 0.5),
    ("utilization", 30.0, 1.0),
    ("utilization:cpu", 0.0, 0.0),
    ("utilization", 120.0, 0.25),  # rows of a series need not be consecutive
    ("utilization:cpu", 90.0, 0.5),
    ("queue_jobs", 0.0, 2.0),
    ("queue_jobs", 60.0, 3.0),
    ("queue_jobs", 105.0, 0.0),
    ("running_jobs", 30.0, 1.0),
    ("running_jobs", 60.0, 3.0),
    ("power_system_w", 0.0, 1000.0),
    ("power_system_w", 45.0, 2000.0),
    ("power_system_w", 150.0, 500.0),
    ("power_nodes_w:gpu", 0.0, 400.0),
]
"""The run ends at 150 s (its last series time); on a 60 s grid from 0 s: bins at 0, 60, 120 s."""

TINY_TEXT = """\
# TYPE pmtwin_utilization_ratio gauge
# UNIT pmtwin_utilization_ratio ratio
# HELP pmtwin_utilization_ratio Busy share of the pool's capacity (pool=\\"all\\": of the whole machine), \
mean over the step.
pmtwin_utilization_ratio{run="tiny",pool="all"} 0.75 1700000000
pmtwin_utilization_ratio{run="tiny",pool="all"} 1.0 1700000060
pmtwin_utilization_ratio{run="tiny",pool="all"} 0.25 1700000120
pmtwin_utilization_ratio{run="tiny",pool="cpu"} 0.0 1700000000
pmtwin_utilization_ratio{run="tiny",pool="cpu"} 0.25 1700000060
pmtwin_utilization_ratio{run="tiny",pool="cpu"} 0.5 1700000120
# TYPE pmtwin_queued_jobs gauge
# HELP pmtwin_queued_jobs Jobs submitted and not started, mean over the step.
pmtwin_queued_jobs{run="tiny",pool="all"} 2.0 1700000000
pmtwin_queued_jobs{run="tiny",pool="all"} 2.25 1700000060
pmtwin_queued_jobs{run="tiny",pool="all"} 0.0 1700000120
# TYPE pmtwin_running_jobs gauge
# HELP pmtwin_running_jobs Jobs started and not ended, mean over the step.
pmtwin_running_jobs{run="tiny",pool="all"} 2.0 1700000030
pmtwin_running_jobs{run="tiny",pool="all"} 3.0 1700000090
pmtwin_running_jobs{run="tiny",pool="all"} 3.0 1700000150
# TYPE pmtwin_system_power_watts gauge
# UNIT pmtwin_system_power_watts watts
# HELP pmtwin_system_power_watts Electrical power drawn by the system, mean over the step.
pmtwin_system_power_watts{run="tiny"} 1250.0 1700000000
pmtwin_system_power_watts{run="tiny"} 2000.0 1700000060
pmtwin_system_power_watts{run="tiny"} 1250.0 1700000120
# TYPE pmtwin_node_power_watts gauge
# UNIT pmtwin_node_power_watts watts
# HELP pmtwin_node_power_watts Power drawn by the pool's nodes, idle ones included, mean over the step.
pmtwin_node_power_watts{run="tiny",pool="gpu"} 400.0 1700000000
pmtwin_node_power_watts{run="tiny",pool="gpu"} 400.0 1700000060
pmtwin_node_power_watts{run="tiny",pool="gpu"} 400.0 1700000120
# TYPE pmtwin_system_energy_joules counter
# UNIT pmtwin_system_energy_joules joules
# HELP pmtwin_system_energy_joules Energy drawn by the system since the run's first submit.
pmtwin_system_energy_joules_total{run="tiny"} 0.0 1700000000
pmtwin_system_energy_joules_total{run="tiny"} 75000.0 1700000060
pmtwin_system_energy_joules_total{run="tiny"} 195000.0 1700000120
pmtwin_system_energy_joules_total{run="tiny"} 255000.0 1700000150
# EOF
"""


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    return write_series(tmp_path / "tiny", TINY_ROWS)


def test_tiny_run_text_line_by_line(tiny: Path, tmp_path: Path) -> None:
    lines = list(render(run_families(tiny, origin_unix_s=ORIGIN_S)))
    assert all(line.endswith("\n") and line.count("\n") == 1 for line in lines)
    assert lines == TINY_TEXT.splitlines(keepends=True)
    out = tmp_path / "tiny.om"
    assert write_run_metrics(tiny, out, origin_unix_s=ORIGIN_S) == 22
    assert out.read_text() == TINY_TEXT
    assert [path.name for path in tmp_path.iterdir() if path.name.startswith("tiny.om")] == ["tiny.om"]


def test_bin_means_and_energy_by_hand(tiny: Path) -> None:
    families = {family.name: family for family in run_families(tiny, step_s=40.0)}
    # utilization: 0.5 on [0, 30), 1.0 on [30, 120), 0.25 from 120 s; bins [0, 40), [40, 80), ...
    utilization = [s for s in families["pmtwin_utilization_ratio"].samples if s.labels["pool"] == "all"]
    assert [s.timestamp_s for s in utilization] == [0.0, 40.0, 80.0, 120.0]
    assert [s.value for s in utilization] == pytest.approx(
        [(30 * 0.5 + 10 * 1.0) / 40, 1.0, (40 * 1.0) / 40, 0.25], rel=1e-15
    )
    # power: 1000 W on [0, 45), 2000 W on [45, 150), 500 W on; the run ends at 150 s
    energy = families["pmtwin_system_energy_joules"].samples
    assert [s.timestamp_s for s in energy] == [0.0, 40.0, 80.0, 120.0, 150.0]
    expected_j = [0.0, 40_000.0, 45_000.0 + 35 * 2000.0, 45_000.0 + 75 * 2000.0, 45_000.0 + 105 * 2000.0]
    assert [s.value for s in energy] == expected_j
    power = families["pmtwin_system_power_watts"].samples
    assert [s.value for s in power] == [
        1000.0,
        (5 * 1000.0 + 35 * 2000.0) / 40,
        2000.0,
        (30 * 2000 + 10 * 500) / 40,
    ]
    assert "pmtwin_facility_power_watts" not in families  # no facility series: no family


def test_run_without_power_has_no_power_families(tmp_path: Path) -> None:
    run = write_series(tmp_path / "nopower", [r for r in TINY_ROWS if not r[0].startswith("power")])
    names = [family.name for family in run_families(run)]
    assert names == ["pmtwin_utilization_ratio", "pmtwin_queued_jobs", "pmtwin_running_jobs"]


def test_fractional_timestamps_keep_milliseconds(tiny: Path) -> None:
    text = "".join(render(run_families(tiny, step_s=60.0, origin_unix_s=1.25)))
    assert 'pmtwin_queued_jobs{run="tiny",pool="all"} 2.25 61.250\n' in text
    assert 'pmtwin_system_energy_joules_total{run="tiny"} 255000.0 151.250\n' in text
    assert [f.name for f in parse(text)][0] == "pmtwin_utilization_ratio"


def test_arrays_and_single_samples_render_alike(tiny: Path) -> None:
    families = run_families(tiny, step_s=7.0, origin_unix_s=0.5)
    as_lists = [Family(f.name, f.kind, f.unit, f.help, list(f.samples)) for f in families]
    assert list(render(as_lists)) == list(render(families))
    assert len(families[0].samples) == 2 * 22 and families[0].samples[-1] == as_lists[0].samples[-1]


@pytest.fixture(scope="module")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from pmtwin.runs import simulate

    out = tmp_path_factory.mktemp("om") / "day"
    simulate(out_dir=out, days=1, seed=0)
    return out


def test_real_run_read_back_by_prometheus_client(small_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "day.om"
    written = write_run_metrics(small_run, out, step_s=300.0, origin_unix_s=ORIGIN_S)
    families = {family.name: family for family in parse(out.read_text())}
    assert {name: (f.type, f.unit) for name, f in families.items()} == {
        "pmtwin_utilization_ratio": ("gauge", "ratio"),
        "pmtwin_queued_jobs": ("gauge", ""),
        "pmtwin_running_jobs": ("gauge", ""),
        "pmtwin_system_power_watts": ("gauge", "watts"),
        "pmtwin_facility_power_watts": ("gauge", "watts"),
        "pmtwin_node_power_watts": ("gauge", "watts"),
        "pmtwin_system_energy_joules": ("counter", "joules"),
        "pmtwin_facility_energy_joules": ("counter", "joules"),
    }
    assert written == sum(len(f.samples) for f in families.values())
    pools = {s.labels["pool"] for s in families["pmtwin_utilization_ratio"].samples}
    assert {"all", "cpu", "gpu"} <= pools
    assert all(s.labels["run"] == "day" for f in families.values() for s in f.samples)

    stamps: dict[tuple[str, tuple[tuple[str, str], ...]], list[float]] = defaultdict(list)
    for family in families.values():
        for s in family.samples:
            stamps[s.name, tuple(sorted(s.labels.items()))].append(float(s.timestamp))
    for key, times in stamps.items():
        assert np.all(np.diff(times) > 0), key
        if not key[0].endswith("_total"):
            assert np.allclose(np.diff(times), 300.0, rtol=0, atol=1e-3), key

    power = json.loads((small_run / "summary.json").read_text())["power"]
    system_j = [s.value for s in families["pmtwin_system_energy_joules"].samples]
    assert system_j[-1] == pytest.approx(power["energy_system_mwh"] * 3.6e9, rel=1e-12)
    assert system_j[0] == 0.0


def test_real_run_means_match_integrals(small_run: Path) -> None:
    import pyarrow.parquet as pq

    table = pq.read_table(small_run / "series.parquet").to_pydict()
    rows = [(t, v) for name, t, v in zip(*table.values(), strict=True) if name == "queue_jobs:gpu"]
    time_s, value = np.array([r[0] for r in rows]), np.array([r[1] for r in rows])
    family = next(f for f in run_families(small_run, step_s=600.0) if f.name == "pmtwin_queued_jobs")
    samples = [s for s in family.samples if s.labels["pool"] == "gpu"]
    assert samples[0].timestamp_s == time_s[0]
    for sample in samples[:: max(1, len(samples) // 20)]:
        t = sample.timestamp_s or 0.0
        assert sample.value == pytest.approx(
            integrate(time_s, value, t, t + 600.0) / 600.0, rel=1e-9, abs=1e-9
        )


def test_label_values_escaped(tmp_path: Path) -> None:
    name = 'a"b\\c\nd'
    run = write_series(tmp_path / name, [("utilization", 0.0, 1.0)])
    lines = list(render(run_families(run)))
    assert lines[3] == 'pmtwin_utilization_ratio{run="a\\"b\\\\c\\nd",pool="all"} 1.0 0\n'
    (family,) = parse("".join(lines))
    assert family.samples[0].labels == {"run": name, "pool": "all"}


@pytest.mark.parametrize("step_s", [0.0, -60.0, math.nan, math.inf, 0.0005])
def test_bad_step(tiny: Path, step_s: float) -> None:
    with pytest.raises(ValueError, match="step_s"):
        run_families(tiny, step_s=step_s)


@pytest.mark.parametrize("origin_s", [-1e9, 1e300, 9.1e12])
def test_origin_outside_the_timestamp_range(tiny: Path, origin_s: float) -> None:
    with pytest.raises(ValueError, match="timestamps must lie between 0"):
        run_families(tiny, origin_unix_s=origin_s)


def test_step_giving_too_many_samples_suggests_one(tmp_path: Path) -> None:
    run = write_series(tmp_path / "long", [("utilization", 0.0, 1.0), ("utilization", 100_000.0, 0.0)])
    with pytest.raises(ValueError, match=r"100,000,001 samples .* use step_s >= 0\.0101$"):
        run_families(run, step_s=0.001)


def test_missing_run_directory_or_series(tmp_path: Path) -> None:
    with pytest.raises(
        ValueError, match=re.escape(f"{tmp_path / 'nowhere' / 'series.parquet'}: no such file")
    ):
        run_families(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="series.parquet: no such file"):
        write_run_metrics(tmp_path, tmp_path / "x.om")
    assert not (tmp_path / "x.om").exists()


def test_malformed_series_refused(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    (tmp_path / "cols").mkdir()
    pq.write_table(
        pa.table({"series": ["utilization"], "time_s": [0.0]}), tmp_path / "cols" / "series.parquet"
    )
    with pytest.raises(ValueError, match=r"cols/series.parquet: missing column\(s\) value"):
        run_families(tmp_path / "cols")
    run = write_series(tmp_path / "back", [("utilization", 10.0, 1.0), ("utilization", 5.0, 0.0)])
    with pytest.raises(ValueError, match="series 'utilization': time_s decreases"):
        run_families(run)


def test_render_refuses_invalid_families() -> None:
    def text(*families: Family) -> str:
        return "".join(render(families))

    one = [Sample({"run": "r"}, 1.0, 1.0)]
    with pytest.raises(ValueError, match="must end with _<unit>"):
        text(Family("pmtwin_power", "gauge", "watts", "", one))
    with pytest.raises(ValueError, match="named twice"):
        text(Family("pmtwin_x", "gauge", "", "", one), Family("pmtwin_x", "gauge", "", "", one))
    with pytest.raises(ValueError, match="increasing timestamps"):
        text(Family("pmtwin_x", "gauge", "", "", one + one))
    with pytest.raises(ValueError, match="interleaved"):
        text(Family("pmtwin_x", "gauge", "", "", [*one, Sample({"run": "s"}, 1.0, 1.0), *one]))
    with pytest.raises(ValueError, match="counter cannot be negative"):
        text(Family("pmtwin_x", "counter", "", "", [Sample({}, -1.0)]))
    with pytest.raises(ValueError, match="not a valid label name"):
        text(Family("pmtwin_x", "gauge", "", "", [Sample({"a-b": "r"}, 1.0)]))
    assert text(Family("pmtwin_x", "gauge", "", "a\\b\nc", [Sample({}, math.inf)])) == (
        "# TYPE pmtwin_x gauge\n# HELP pmtwin_x a\\\\b\\nc\npmtwin_x +Inf\n# EOF\n"
    )


LIVE_TEXT = """\
# TYPE pmtwin_runs gauge
# HELP pmtwin_runs Runs by state.
pmtwin_runs{state="queued"} 0.0
pmtwin_runs{state="running"} 1.0
pmtwin_runs{state="done"} 1.0
pmtwin_runs{state="failed"} 0.0
pmtwin_runs{state="cancelled"} 0.0
# TYPE pmtwin_run_progress_ratio gauge
# UNIT pmtwin_run_progress_ratio ratio
# HELP pmtwin_run_progress_ratio Share of the run done (0 to 1).
pmtwin_run_progress_ratio{run="r1"} 0.5
pmtwin_run_progress_ratio{run="r\\"2"} 1.0
# TYPE pmtwin_utilization_ratio gauge
# UNIT pmtwin_utilization_ratio ratio
# HELP pmtwin_utilization_ratio Busy share of the pool's capacity, latest level.
pmtwin_utilization_ratio{run="r1",pool="all"} 0.25
pmtwin_utilization_ratio{run="r1",pool="cpu"} 0.5
# TYPE pmtwin_queued_jobs gauge
# HELP pmtwin_queued_jobs Jobs submitted and not started, latest level.
pmtwin_queued_jobs{run="r1",pool="all"} 3.0
pmtwin_queued_jobs{run="r1",pool="cpu"} 1.0
# TYPE pmtwin_running_jobs gauge
# HELP pmtwin_running_jobs Jobs started and not ended, latest level.
pmtwin_running_jobs{run="r1",pool="all"} 2.0
pmtwin_running_jobs{run="r1",pool="cpu"} 2.0
# EOF
"""


def test_live_families_text() -> None:
    runs = [
        LiveRun("r1", "running", 0.5, 3600.0, {"all": (0.25, 3, 2), "cpu": (0.5, 1, 2)}),
        LiveRun('r"2', "done", 1.0, None, {}),
    ]
    text = "".join(render(live_families(runs)))
    assert text.splitlines() == LIVE_TEXT.splitlines()
    assert [f.name for f in parse(text)][:2] == ["pmtwin_runs", "pmtwin_run_progress_ratio"]
    empty = "".join(render(live_families([])))
    assert empty.count('pmtwin_runs{state="') == 5 and empty.endswith("# EOF\n")
    with pytest.raises(ValueError, match="state 'paused' is not one of"):
        live_families([LiveRun("r", "paused", 0.0, None, {})])
