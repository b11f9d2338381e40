"""Run reports: the figures behind the charts, the page, comparisons, and the run's own report."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import numpy as np
import pytest

from pmtwin import runs
from pmtwin.report import write_comparison, write_report
from pmtwin.report.build import comparison_report, run_report
from pmtwin.report.charts import Chart, Report, Row, Trace
from pmtwin.report.figures import bin_means, ecdf_points, sample_rows, size_buckets, top_with_rest
from pmtwin.report.html import format_value, plotly_js, render_html
from pmtwin.report.rundata import load_run
from pmtwin.runs_power import PowerOptions


@pytest.fixture(scope="module")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Half a day of the Perlmutter model, report written during the run (page only)."""
    out = tmp_path_factory.mktemp("run") / "base"
    runs.simulate(out_dir=out, days=0.5, seed=1, report="html")
    return out


def test_bin_means_are_exact_means_of_the_level() -> None:
    time_s = np.array([10.0, 20.0, 35.0])
    value = np.array([1.0, 3.0, 0.0])
    x, y = bin_means(time_s, value, 0.0, 40.0, 4)
    assert x.tolist() == [0.0, 10.0, 20.0, 30.0]
    # level 0 before the first row; 1 on [10, 20); 3 on [20, 35); 0 from 35
    assert y.tolist() == [0.0, 1.0, 3.0, 1.5]


def test_ecdf_points_are_ranks_over_n() -> None:
    x, y = ecdf_points(np.array([5.0, 1.0, np.nan, 3.0, 2.0]), points=10)
    assert x.tolist() == [1.0, 2.0, 3.0, 5.0]
    assert y.tolist() == [0.25, 0.5, 0.75, 1.0]
    x, y = ecdf_points(np.arange(1000.0), points=5)
    assert x.tolist() == [0.0, 250.0, 500.0, 749.0, 999.0]
    assert y[-1] == 1.0


def test_samples_are_fixed_sorted_and_bounded() -> None:
    assert sample_rows(5, 10).tolist() == [0, 1, 2, 3, 4]
    first, second = sample_rows(10_000, 100), sample_rows(10_000, 100)
    assert np.array_equal(first, second) and len(np.unique(first)) == 100
    assert np.all(np.diff(first) > 0)


def test_size_buckets_take_the_median_of_each_power_of_two() -> None:
    bucket, median = size_buckets(np.array([1.0, 1.0, 2.0, 3.0, 8.0]), np.array([0.0, 2.0, 5.0, 7.0, 1.0]))
    assert bucket.tolist() == [1.0, 2.0, 8.0]
    assert median.tolist() == [1.0, 6.0, 1.0]


def test_top_with_rest_sums_the_others() -> None:
    labels, values = top_with_rest({"a": 1.0, "b": 5.0, "c": 5.0, "d": 2.0}, 2)
    assert labels == ("b", "c", "other (2)")
    assert values.tolist() == [5.0, 5.0, 3.0]


def test_the_run_writes_the_same_page_as_the_report_command(small_run: Path) -> None:
    """In memory during the run, or read back from the files: the same page, byte for byte."""
    during_run = (small_run / "report.html").read_bytes()
    assert write_report(small_run, pngs=False).read_bytes() == during_run


def test_report_has_every_chart_and_the_summary_figures(small_run: Path) -> None:
    run = load_run(small_run)
    report = run_report(run)
    keys = [c.key for c in report.charts]
    assert keys == [
        "utilization", "queue", "power", "wait_partition", "bsld_partition", "wait_qos", "bsld_qos",
        "size_wait", "gantt", "energy_account",
    ]  # fmt: skip
    summary = json.loads((small_run / "summary.json").read_text())
    rows = {row.label: row.values[0] for row in report.table}
    assert rows["jobs"] == summary["jobs"]
    assert rows["utilization gpu"] == summary["pools"]["gpu"]["utilization"]
    assert rows["wait mean"] == pytest.approx(summary["wait_s"]["mean"] / 3600)
    assert rows["energy, facility"] == summary["power"]["energy_facility_mwh"]
    util = next(c for c in report.charts if c.key == "utilization")
    assert [t.name for t in util.traces] == ["gpu", "gpu:hbm80g", "cpu"]
    # bins cover the run's span; the summary divides by each pool's own span: same busy node-seconds
    span_s = max(run.numbers["end_s"]) - min(run.numbers["submit_s"])
    for trace in util.traces:
        pool = summary["pools"][trace.name]
        assert float(np.mean(trace.y)) * span_s == pytest.approx(
            pool["utilization"] * pool["makespan_s"], rel=1e-9
        )
    wait = next(c for c in report.charts if c.key == "wait_partition")
    assert (
        sum(int(re.search(r"\(([\d,]+)\)", t.name).group(1).replace(",", "")) for t in wait.traces)
        == (  # type: ignore[union-attr]
            summary["jobs"]
        )
    )


def test_gantt_rectangles_hold_the_nodes_jobs_used(small_run: Path) -> None:
    run = load_run(small_run)
    chart = next(c for c in run_report(run).charts if c.key == "gantt")
    total_rows = sum(float(h) for t in chart.traces for h in (t.height if t.height is not None else []))
    assert total_rows > 0
    for trace in chart.traces:
        assert trace.x_end is not None and trace.height is not None
        assert np.all(trace.x_end >= trace.x) and np.all(trace.height >= 1)
        assert np.all(trace.y >= 0) and np.all(trace.y + trace.height <= 3 * 48)


def _decoded(page: str) -> dict[str, object]:
    match = re.search(r'<script id="report-data" type="application/json">(.*?)</script>', page, re.S)
    assert match is not None
    assert "<" not in match.group(1)  # nothing in the data can end or hide its script element
    data: dict[str, object] = json.loads(match.group(1))
    return data


def test_page_is_self_contained_and_carries_the_chart_data(small_run: Path) -> None:
    page = (small_run / "report.html").read_text()
    library = plotly_js()
    assert page.count(library) == 1  # plotly.js inline, whole
    rest = page.replace(library, "")
    assert "src=" not in rest and "http" not in rest and "<link" not in rest  # nothing else to fetch
    assert rest.count("<script") == 3 and "Plotly.newPlot" in rest
    data = _decoded(page)
    report = run_report(load_run(small_run))
    charts = data["charts"]
    assert isinstance(charts, list) and [c["key"] for c in charts] == [c.key for c in report.charts]
    for chart_json, chart in zip(charts, report.charts, strict=True):
        assert f'id="plot-{chart.key}"' in page
        for trace_json, trace in zip(chart_json["traces"], chart.traces, strict=True):
            y = np.frombuffer(base64.b64decode(trace_json["y"]), "<f4")
            assert np.array_equal(y, trace.y.astype(np.float32))


def test_text_from_runs_is_escaped() -> None:
    hostile = "<script>alert(1)</script>"
    report = Report(
        title=hostile, runs=(hostile,), facts=(("run", hostile),),
        table=(Row(hostile, (1.5,)),),
        charts=(
            Chart("k", hostile, "line", "x", "y", (Trace("</script><b>", np.ones(2), np.ones(2)),)),
            Chart("j", "t", "line", "x", "y", (Trace("<!--<script>", np.ones(2), np.ones(2)),)),
        ),
        notes=(hostile,),
    )  # fmt: skip
    page = render_html(report)
    assert hostile not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "</script><b>" not in page  # inside the JSON payload too
    charts = _decoded(page)["charts"]
    assert charts[0]["traces"][0]["name"] == "</script><b>"  # type: ignore[index]
    assert charts[1]["traces"][0]["name"] == "<!--<script>"  # type: ignore[index]


def test_comparison_colours_deltas_by_which_way_is_better() -> None:
    report = Report(
        title="t", runs=("a", "b"), facts=(),
        table=(
            Row("wait", (10.0, 5.0), "h", "lower"),
            Row("utilization", (0.8, 0.6), "", "higher"),
            Row("jobs", (100, 120)),
            Row("missing", (None, 3.0), "", "lower"),
        ),
        charts=(),
    )  # fmt: skip
    page = render_html(report)
    assert '<td class="better">5 (-50.0%)</td>' in page
    assert '<td class="worse">0.6 (-25.0%)</td>' in page
    assert "<td>120 (+20.0%)</td>" in page
    assert "<td>3</td>" in page and "<td>–</td>" in page


def test_format_value() -> None:
    assert format_value(1234567) == "1,234,567"
    assert format_value(4333439.7) == "4,333,440"
    assert format_value(0.123456) == "0.123"
    assert format_value(None) == "–"


def test_comparison_of_two_runs(small_run: Path, tmp_path: Path) -> None:
    other = tmp_path / "capped"
    runs.simulate(
        out_dir=other, days=0.5, seed=1, report="none", power=PowerOptions(True, 3.5, None, None, None)
    )
    out = write_comparison([small_run, other], tmp_path / "cmp" / "compare.html")
    page = out.read_text()
    report = comparison_report([load_run(small_run), load_run(other)])
    assert report.runs == ("base", "capped")
    assert [c.key for c in report.charts] == ["utilization", "queue", "power", "wait", "bsld"]
    power = next(c for c in report.charts if c.key == "power")
    assert "capped budget" in [t.name for t in power.traces]
    assert "pmtwin comparison: base vs capped" in page


def test_comparison_takes_names(small_run: Path, tmp_path: Path) -> None:
    out = write_comparison([small_run, small_run], tmp_path / "c.html", names=["run-0001 (base)", "again"])
    assert "pmtwin comparison: run-0001 (base) vs again" in out.read_text()
    with pytest.raises(ValueError, match="1 names for 2 runs"):
        write_comparison([small_run, small_run], tmp_path / "c.html", names=["x"])


def test_comparison_needs_two_runs(small_run: Path) -> None:
    with pytest.raises(ValueError, match="at least two"):
        comparison_report([load_run(small_run)])


def test_missing_run_directory_is_named(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a run directory"):
        load_run(tmp_path / "nope")
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "config.toml").write_text("")
    with pytest.raises(ValueError, match=r"summary.json: missing"):
        load_run(tmp_path / "half")
