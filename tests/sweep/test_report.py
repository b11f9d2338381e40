"""The sweep report: means and min..max per axis value, traces per combination of the other axes, the
aggregated path, failed points left out, the ``points`` chart kind in the page and in PNGs.

The results tables are built by hand, with values exact in binary so that means compare exactly.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from numpy.typing import NDArray
from PIL import Image

from pmtwin.report.charts import Chart, Report, Trace
from pmtwin.report.html import render_html
from pmtwin.report.png import write_pngs
from pmtwin.sweep.report import metric_label, sweep_report, write_sweep_report

CAP = "power.power_cap_mw"
AXES = ("policy", CAP)
METRICS = ("wait_mean_h", "utilization", "utilization:gpu")
FAILED = ("easy", 5.0, 2)
"""(policy, cap, seed) of the point that failed."""
Pixels = NDArray[np.int16]


def _wait_h(policy: str, cap: float | None, seed: int) -> float:
    return {"fcfs": 2.0, "easy": 1.0}[policy] + (cap or 0.0) + seed


def _row(index: int, seed: int, values: dict[str, Any], metrics: dict[str, float | None]) -> dict[str, Any]:
    return {
        "point_id": f"p{index:04d}-000000000000", "index": index, "seed": seed, **values, "status": "ok",
        "error": None, **metrics, "wall_s": 1.0, "simulate_s": 0.5, "worker": "host:1",
        "run_dir": f"points/p{index:04d}", "config": "{}",
    }  # fmt: skip


def _results(caps: tuple[float | None, ...] = (None, 4.0, 5.0), fail: bool = True) -> pa.Table:
    """policy (fcfs, easy) x power cap x seeds 0..2; the FAILED point has status "error" and, to show it
    is left out for its status alone, metric values far off the others'."""
    rows = []
    for policy in ("fcfs", "easy"):
        for cap in caps:
            for seed in (0, 1, 2):
                metrics = {
                    "wait_mean_h": _wait_h(policy, cap, seed), "utilization": 0.5 + 0.125 * seed,
                    "utilization:gpu": 0.25 * seed, "energy_facility_mwh": None,
                }  # fmt: skip
                row = _row(len(rows), seed, {"policy": policy, CAP: cap}, metrics)
                if fail and (policy, cap, seed) == FAILED:
                    row.update(status="error", error="RuntimeError: out of nodes\nTraceback ...")
                    row.update({name: 1000.0 for name in METRICS})
                rows.append(row)
    return pa.Table.from_pylist(rows)


def _three_axes() -> pa.Table:
    """policy (2) x cap (3) x scheduler.priority (4) x seeds 0..1; wait = policy + cap + priority + seed."""
    rows = []
    for policy in ("fcfs", "easy"):
        for cap in (None, 4.0, 5.0):
            for k, priority in enumerate(("a", "b", "c", "d")):
                for seed in (0, 1):
                    wait_h = _wait_h(policy, cap, seed) + 16.0 * k
                    values = {"policy": policy, CAP: cap, "scheduler.priority": priority}
                    rows.append(_row(len(rows), seed, values, {"wait_mean_h": wait_h}))
    return pa.Table.from_pylist(rows)


def _charts(report: Report) -> dict[str, Chart]:
    return {chart.key: chart for chart in report.charts}


def _points(trace: Trace) -> list[tuple[float, float, float]]:
    """(mean, min, max) of each point."""
    assert trace.y_low is not None and trace.y_high is not None
    return [
        (float(a), float(b), float(c)) for a, b, c in zip(trace.y, trace.y_low, trace.y_high, strict=True)
    ]


def test_one_chart_per_metric_and_axis_with_sanitised_keys() -> None:
    report = sweep_report(_results(), AXES, METRICS, title="sweep")
    assert [chart.key for chart in report.charts] == [
        "wait_mean_h_vs_policy", "wait_mean_h_vs_power_power_cap_mw",
        "utilization_vs_policy", "utilization_vs_power_power_cap_mw",
        "utilization_gpu_vs_policy", "utilization_gpu_vs_power_power_cap_mw",
    ]  # fmt: skip
    chart = _charts(report)["wait_mean_h_vs_power_power_cap_mw"]
    assert (chart.kind, chart.title, chart.x_label, chart.y_label) == (
        "points", "wait mean (h) vs power.power_cap_mw", CAP, "wait mean (h)",
    )  # fmt: skip
    assert report.title == "sweep"
    assert report.runs == ("min", "median", "max")


def test_keys_stay_unique_when_names_sanitise_alike() -> None:
    table = _results().append_column("wait.mean_h", pa.array([1.0] * 18))
    report = sweep_report(table, ["policy"], ["wait_mean_h", "wait.mean_h"], title="t")
    assert [chart.key for chart in report.charts] == ["wait_mean_h_vs_policy", "wait_mean_h_vs_policy_2"]


def test_means_and_min_max_over_seeds_per_combination_of_the_other_axis() -> None:
    charts = _charts(sweep_report(_results(), AXES, METRICS, title="t"))
    by_cap = charts["wait_mean_h_vs_power_power_cap_mw"]
    assert [trace.name for trace in by_cap.traces] == ["policy=easy", "policy=fcfs"]
    easy, fcfs = by_cap.traces
    assert easy.labels == fcfs.labels == ("none", "4", "5")
    assert _points(easy) == [(2.0, 1.0, 3.0), (6.0, 5.0, 7.0), (6.5, 6.0, 7.0)]  # seed 2 of (easy, 5) failed
    assert _points(fcfs) == [(3.0, 2.0, 4.0), (7.0, 6.0, 8.0), (8.0, 7.0, 9.0)]
    by_policy = charts["wait_mean_h_vs_policy"]
    assert [t.name for t in by_policy.traces] == [f"{CAP}=none", f"{CAP}=4", f"{CAP}=5"]
    assert all(t.labels == ("easy", "fcfs") for t in by_policy.traces)
    assert [_points(t) for t in by_policy.traces] == [
        [(2.0, 1.0, 3.0), (3.0, 2.0, 4.0)],
        [(6.0, 5.0, 7.0), (7.0, 6.0, 8.0)],
        [(6.5, 6.0, 7.0), (8.0, 7.0, 9.0)],
    ]
    gpu = charts["utilization_gpu_vs_policy"].traces[0]
    assert _points(gpu) == [(0.25, 0.0, 0.5), (0.25, 0.0, 0.5)]
    assert by_cap.note == "Points: mean over 3 seeds (fewer where points failed); bars: min to max."


def test_numeric_axis_gives_numbers_categorical_axis_labels() -> None:
    charts = _charts(sweep_report(_results(caps=(5.0, 4.0), fail=False), AXES, ["wait_mean_h"], title="t"))
    numeric = charts["wait_mean_h_vs_power_power_cap_mw"].traces[0]
    assert numeric.labels == ()
    assert numeric.x.tolist() == [4.0, 5.0]
    assert _points(numeric) == [(6.0, 5.0, 7.0), (7.0, 6.0, 8.0)]
    categorical = charts["wait_mean_h_vs_policy"].traces[0]
    assert (categorical.labels, categorical.x.size) == (("easy", "fcfs"), 0)
    assert charts["wait_mean_h_vs_policy"].note == "Points: mean over 3 seeds; bars: min to max."


def test_more_than_six_combinations_are_aggregated() -> None:
    axes = ("policy", CAP, "scheduler.priority")
    charts = _charts(sweep_report(_three_axes(), axes, ["wait_mean_h"], title="t"))
    by_policy = charts["wait_mean_h_vs_policy"]  # 3 caps x 4 priorities: one trace over all
    (trace,) = by_policy.traces
    assert (trace.name, trace.labels) == ("", ("easy", "fcfs"))
    # easy: 1 + mean(cap 0, 4, 5) + mean(16 k) + mean(seed 0, 1) = 1 + 3 + 24 + 0.5;
    # min 1 + 0 + 0 + 0; max 1 + 5 + 48 + 1
    assert _points(trace) == [(28.5, 1.0, 55.0), (29.5, 2.0, 56.0)]
    assert "12 combinations of power.power_cap_mw, scheduler.priority" in by_policy.note
    assert "bars: min to max" in by_policy.note
    by_priority = charts["wait_mean_h_vs_scheduler_priority"]  # 2 policies x 3 caps: six traces
    assert [t.name for t in by_priority.traces] == [
        f"policy=easy, {CAP}=none", f"policy=easy, {CAP}=4", f"policy=easy, {CAP}=5",
        f"policy=fcfs, {CAP}=none", f"policy=fcfs, {CAP}=4", f"policy=fcfs, {CAP}=5",
    ]  # fmt: skip
    assert _points(by_priority.traces[0]) == [
        (1.5 + 16.0 * k, 1.0 + 16.0 * k, 2.0 + 16.0 * k) for k in range(4)
    ]


def test_one_axis_gives_one_trace() -> None:
    chart = sweep_report(_results(caps=(None,), fail=False), ["policy"], ["utilization"], title="t").charts[0]
    (trace,) = chart.traces
    assert (trace.name, trace.labels) == ("", ("easy", "fcfs"))
    assert _points(trace) == [(0.625, 0.5, 0.75), (0.625, 0.5, 0.75)]


def test_sweep_without_axes_has_the_seeds_on_x() -> None:
    rows = [_row(seed, seed, {}, {"wait_mean_h": 1.5 * seed}) for seed in (2, 0, 1)]
    report = sweep_report(pa.Table.from_pylist(rows), [], ["wait_mean_h"], title="t")
    (chart,) = report.charts
    assert (chart.key, chart.x_label) == ("wait_mean_h_vs_seed", "seed")
    (trace,) = chart.traces
    assert trace.labels == ("0", "1", "2")
    assert trace.y.tolist() == [0.0, 1.5, 3.0]
    assert trace.y_low is None and trace.y_high is None
    assert report.table[0].values == ("0", "1.5", "3")
    assert dict(report.facts)["axes"] == "none (seeds only)"


def test_table_gives_min_median_max_of_the_point_means() -> None:
    report = sweep_report(_results(), AXES, [*METRICS, "energy_facility_mwh"], title="t")
    rows = {row.label: row for row in report.table}
    assert list(rows) == ["wait mean", "utilization", "utilization gpu"]
    # point means of wait: easy 2, 6, 6.5; fcfs 3, 7, 8 -> median (6 + 6.5) / 2
    assert (rows["wait mean"].values, rows["wait mean"].unit) == (("2", "6.25", "8"), "h")
    assert rows["utilization"].values == ("0.562", "0.625", "0.625")  # (easy, 5): seeds 0, 1 only
    assert all(row.better is None for row in report.table)
    assert "No values in the results for energy_facility_mwh: left out." in report.notes


def test_failed_points_are_left_out_and_counted() -> None:
    report = sweep_report(_results(), AXES, METRICS, title="t", facts=(("sweep", "s.toml"),))
    facts = dict(report.facts)
    assert facts["sweep"] == "s.toml"
    assert facts["status"] == "17 of 18 points ran; 1 failed (left out)"
    assert facts["seeds"] == "3"
    assert facts["axes"] == f"policy (2 values), {CAP} (3 values)"
    assert "1 point failed and is left out:" in report.notes
    assert "p0017-000000000000: RuntimeError: out of nodes" in report.notes
    assert max(float(np.max(t.y_high)) for c in report.charts for t in c.traces if t.y_high is not None) < 10


def test_metric_labels_carry_units() -> None:
    assert metric_label("wait_mean_h") == ("wait mean", "h")
    assert metric_label("energy_facility_mwh") == ("energy facility", "MWh")
    assert metric_label("peak_facility_mw") == ("peak facility", "MW")
    assert metric_label("makespan_days") == ("makespan", "days")
    assert metric_label("bsld_p95") == ("bounded slowdown p95", "")
    assert metric_label("utilization:gpu") == ("utilization gpu", "")
    assert metric_label("jobs") == ("jobs", "")


def test_bad_columns_are_named() -> None:
    with pytest.raises(ValueError, match="no column 'load_factor'"):
        sweep_report(_results(), ["load_factor"], METRICS, title="t")
    with pytest.raises(ValueError, match="metric column 'policy' holds 'fcfs'"):
        sweep_report(_results(), [CAP], ["policy"], title="t")


def _page_data(page: str) -> dict[str, Any]:
    match = re.search(r'<script id="report-data" type="application/json">(.*?)</script>', page)
    assert match is not None
    data: dict[str, Any] = json.loads(match.group(1))
    return data


def _decode(encoded: str) -> list[float]:
    return np.frombuffer(base64.b64decode(encoded), "<f4").astype(np.float64).tolist()


def test_page_carries_the_charts_and_error_bars(tmp_path: Path) -> None:
    page_path = write_sweep_report(_results(), AXES, METRICS, tmp_path, title="My sweep", pngs=False)
    assert page_path == tmp_path / "report.html"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]
    page = page_path.read_text(encoding="utf-8")
    assert "<title>My sweep</title>" in page
    assert 'id="plot-wait_mean_h_vs_power_power_cap_mw"' in page
    assert "function points(t)" in page and "error_y" in page
    charts = {c["key"]: c for c in _page_data(page)["charts"]}
    assert len(charts) == 6
    easy = charts["wait_mean_h_vs_power_power_cap_mw"]["traces"][0]
    assert (easy["name"], easy["labels"], charts["wait_mean_h_vs_policy"]["kind"]) == (
        "policy=easy", ["none", "4", "5"], "points",
    )  # fmt: skip
    assert [_decode(easy[k]) for k in ("y", "y_low", "y_high")] == [
        [2.0, 6.0, 6.5],
        [1.0, 5.0, 6.0],
        [3.0, 7.0, 7.0],
    ]
    assert "<td>6.25</td>" in page  # the median: text, no delta against the min


def test_pages_without_points_charts_are_as_before() -> None:
    """Traces without an interval encode without it, and the page's script has no points code."""
    chart = Chart("u", "U", "line", "x", "y", (Trace("a", np.array([0.0, 1.0]), np.array([1.0, 2.0])),))
    page = render_html(Report(title="t", runs=("a",), facts=(), table=(), charts=(chart,)))
    (trace,) = _page_data(page)["charts"][0]["traces"]
    assert list(trace) == ["name", "x", "y", "x_end", "height", "labels", "dash"]
    assert "points" not in page.split('<script id="report-data"', 1)[1]


def test_pngs_are_written_once_per_chart_and_repeat_byte_for_byte(tmp_path: Path) -> None:
    first = write_sweep_report(_results(), AXES, ["wait_mean_h"], tmp_path / "a", title="t")
    second = write_sweep_report(_results(), AXES, ["wait_mean_h"], tmp_path / "b", title="t")
    names = sorted(p.name for p in first.parent.iterdir())
    assert names == ["report.html", "wait_mean_h_vs_policy.png", "wait_mean_h_vs_power_power_cap_mw.png"]
    for name in names:
        assert (first.parent / name).read_bytes() == (second.parent / name).read_bytes()
    assert 'href="wait_mean_h_vs_policy.png"' in first.read_text(encoding="utf-8")


def _draw(tmp_path: Path, *traces: Trace, name: str = "c") -> Pixels:
    chart = Chart("c", "points", "points", "x", "y", traces)
    (path,) = write_pngs(Report(title="t", runs=("a",), facts=(), table=(), charts=(chart,)), tmp_path / name)
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"), dtype=np.int16)


def _blue_rows(pixels: Pixels) -> NDArray[np.intp]:
    """Rows holding the first trace's colour (C0 blue), left of the legend."""
    plot = pixels[:, :600]
    red, green, blue = plot[..., 0], plot[..., 1], plot[..., 2]
    return np.flatnonzero(((blue - red > 50) & (blue > green)).any(axis=1))


def test_points_png_draws_error_bars(tmp_path: Path) -> None:
    x, y = np.array([0.0, 1.0, 2.0]), np.array([1.0, 2.0, 1.5])
    frame = Trace("frame", x=np.array([0.0, 2.0]), y=np.array([-1.0, 4.0]))  # the same y range in both
    bare = _blue_rows(_draw(tmp_path, Trace("", x=x, y=y), frame, name="bare"))
    bars = _blue_rows(_draw(tmp_path, Trace("", x=x, y=y, y_low=y - 1.0, y_high=y + 1.0), frame, name="bars"))
    # the points span y 1..2; the bars 0..3: three times as high
    assert 2.5 < (bars[-1] - bars[0]) / (bare[-1] - bare[0]) < 3.5


def test_points_png_offsets_traces_on_a_categorical_axis(tmp_path: Path) -> None:
    y = np.array([1.0, 1.0])
    pixels = _draw(
        tmp_path, Trace("a", y=y, labels=("fcfs", "easy")), Trace("b", y=y, labels=("fcfs", "easy"))
    )
    plot = pixels[:, :600]  # left of the legend
    red, green, blue = plot[..., 0], plot[..., 1], plot[..., 2]
    blue_cols = np.flatnonzero(((blue - red > 50) & (blue > green)).any(axis=0))
    orange_cols = np.flatnonzero((red - blue > 100).any(axis=0))
    assert blue_cols.size and orange_cols.size
    assert orange_cols[0] > blue_cols[0] and orange_cols[-1] > blue_cols[-1]


def test_points_png_refuses_mixed_or_mismatched_traces(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="all numeric x or all labels"):
        _draw(tmp_path, Trace("a", y=np.ones(1), labels=("x",)), Trace("b", x=np.ones(1), y=np.ones(1)))
    with pytest.raises(ValueError, match="y_high has shape"):
        _draw(tmp_path, Trace("a", x=np.ones(2), y=np.ones(2), y_low=np.zeros(2), y_high=np.ones(3)))
