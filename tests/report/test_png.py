"""PNG charts: every kind draws, the bytes repeat, odd input degrades to "no data" or a clear error.

The images are checked through their pixels: the first trace is drawn in matplotlib's ``C0`` blue and
the second in ``C1`` orange, and the axes frame is the only long run of near-black pixels.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image

from pmtwin.report.charts import Chart, ChartKind, Report, Trace
from pmtwin.report.png import write_pngs

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SIZE_PX = (800, 360)
Pixels = NDArray[np.int16]


def _report(*charts: Chart) -> Report:
    return Report(title="t", runs=("base",), facts=(), table=(), charts=charts)


def _chart(
    kind: ChartKind,
    traces: tuple[Trace, ...],
    key: str = "c",
    x_log: bool = False,
    y_log: bool = False,
    note: str = "",
) -> Chart:
    return Chart(key, f"A {kind} chart", kind, "x (s)", "y", traces, x_log=x_log, y_log=y_log, note=note)


def _trace(kind: ChartKind, name: str = "", shift: float = 0.0) -> Trace:
    """A small trace of ``kind``; ``shift`` moves it so that two traces do not cover each other."""
    x = np.linspace(1.0, 100.0, 50)
    if kind == "ecdf":
        return Trace(name, x=x + shift, y=np.arange(1, 51) / 50.0)
    if kind == "bar":
        return Trace(name, y=np.array([3.0, 1.0, 2.0]) + shift, labels=("gpu", "cpu", "shared"))
    if kind == "gantt":
        return Trace(name, x=x, x_end=x + 5.0, y=np.arange(50.0) + shift, height=np.full(50, 2.0))
    return Trace(name, x=x, y=np.sin(x / 10.0) + shift)


def _render(tmp_path: Path, chart: Chart, name: str = "out") -> Pixels:
    """Draw ``chart`` alone and return its RGB pixels, after checking the file is an 800x360 PNG."""
    paths = write_pngs(_report(chart), tmp_path / name)
    assert paths == [tmp_path / name / f"{chart.key}.png"]
    assert paths[0].read_bytes()[:8] == PNG_SIGNATURE
    with Image.open(paths[0]) as image:
        assert image.format == "PNG"
        assert image.size == SIZE_PX
        return np.asarray(image.convert("RGB"), dtype=np.int16)


def _blue(pixels: Pixels) -> NDArray[np.bool_]:
    """Pixels of the first trace's colour (C0, #1f77b4), also half transparent over white."""
    red, green, blue = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    return (blue - red > 50) & (blue > green)


def _orange(pixels: Pixels) -> NDArray[np.bool_]:
    """Pixels of the second trace's colour (C1, #ff7f0e)."""
    red, blue = pixels[..., 0], pixels[..., 2]
    return red - blue > 100


def _frame(pixels: Pixels) -> tuple[int, int, int, int]:
    """Left, right, top and bottom pixel of the axes frame: the long runs of near-black pixels."""
    dark = (pixels < 60).all(axis=2)
    columns = np.flatnonzero(dark.sum(axis=0) > 150)
    rows = np.flatnonzero(dark.sum(axis=1) > 400)
    return int(columns[0]), int(columns[-1]), int(rows[0]), int(rows[-1])


@pytest.mark.parametrize("kind", ["line", "ecdf", "scatter", "bar", "gantt"])
def test_every_kind_draws_its_trace(tmp_path: Path, kind: ChartKind) -> None:
    pixels = _render(tmp_path, _chart(kind, (_trace(kind),)))
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 2
    assert _blue(pixels).sum() > 100
    left, right, top, bottom = _frame(pixels)
    assert 40 < left < right < 800 and 0 < top < bottom < 360


def test_charts_are_written_in_order_under_their_keys(tmp_path: Path) -> None:
    charts = (_chart("line", (_trace("line"),), key="z-last"), _chart("bar", (_trace("bar"),), key="a_1"))
    assert write_pngs(_report(*charts), tmp_path / "new" / "dir") == [
        tmp_path / "new" / "dir" / "z-last.png",
        tmp_path / "new" / "dir" / "a_1.png",
    ]
    assert sorted(path.name for path in (tmp_path / "new" / "dir").iterdir()) == ["a_1.png", "z-last.png"]


def test_same_report_gives_the_same_bytes(tmp_path: Path) -> None:
    kinds: tuple[ChartKind, ...] = ("line", "ecdf", "scatter", "bar", "gantt")
    charts = tuple(_chart(kind, (_trace(kind, "base"), _trace(kind, "alt", 1.0)), key=kind) for kind in kinds)
    first = write_pngs(_report(*charts), tmp_path / "a")
    second = write_pngs(_report(*charts), tmp_path / "b")
    assert [path.read_bytes() for path in first] == [path.read_bytes() for path in second]
    with Image.open(first[0]) as image:
        assert "Software" not in image.info


@pytest.mark.parametrize(
    "traces", [(Trace("empty"),), (Trace("a"), Trace("b", x=np.array([np.nan]), y=np.array([1.0])))]
)
def test_chart_without_points_still_gives_a_png(tmp_path: Path, traces: tuple[Trace, ...]) -> None:
    no_traces = _render(tmp_path, _chart("line", (), note="nothing was recorded"), "none")
    pixels = _render(tmp_path, _chart("line", traces, note="nothing was recorded"))
    assert not _blue(pixels).any()
    assert not _orange(pixels).any()
    # The same "no data" picture as a chart without traces: no ticks, no legend.
    assert np.array_equal(pixels, no_traces)


@pytest.mark.parametrize("kind", ["bar", "gantt", "ecdf", "scatter"])
def test_empty_trace_of_each_kind_gives_a_png(tmp_path: Path, kind: ChartKind) -> None:
    pixels = _render(tmp_path, _chart(kind, (Trace("none"),)))
    assert not _blue(pixels).any()


@pytest.mark.parametrize("key", ["Bad", "a b", "../x", "a/b", "", "r\u00e9sum\u00e9", "x.png"])
def test_key_that_is_no_plain_file_name_raises(tmp_path: Path, key: str) -> None:
    with pytest.raises(ValueError, match="must match"):
        write_pngs(_report(_chart("line", (_trace("line"),), key=key)), tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_repeated_key_raises(tmp_path: Path) -> None:
    chart = _chart("line", (_trace("line"),), key="util")
    with pytest.raises(ValueError, match="'util' appears twice"):
        write_pngs(_report(chart, chart), tmp_path)


def test_mismatched_arrays_raise_naming_chart_and_trace(tmp_path: Path) -> None:
    trace = Trace("base", x=np.arange(3.0), y=np.arange(4.0))
    with pytest.raises(ValueError, match=r"chart 'c', trace 'base': y has shape \(4,\), expected \(3,\)"):
        write_pngs(_report(_chart("line", (trace,))), tmp_path)
    gantt = Trace("jobs", x=np.arange(3.0), y=np.arange(3.0))
    with pytest.raises(ValueError, match="chart 'c', trace 'jobs': x_end is missing"):
        write_pngs(_report(_chart("gantt", (gantt,))), tmp_path)


@pytest.mark.parametrize("kind", ["line", "ecdf", "scatter", "gantt"])
def test_log_axes_leave_out_zeros_and_negatives(tmp_path: Path, kind: ChartKind) -> None:
    x = np.array([0.0, -1.0, 1.0, 10.0, 100.0, 1000.0])
    y = np.array([0.5, 0.5, 0.0, 0.25, 0.5, 1.0])
    trace = Trace("t", x=x, y=y, x_end=x * 2.0 + 1.0)
    pixels = _render(tmp_path, _chart(kind, (trace,), x_log=True, y_log=True))
    assert _blue(pixels).sum() > 10


def test_log_axis_with_only_zeros_says_no_data(tmp_path: Path) -> None:
    bars = Trace("t", y=np.zeros(2), labels=("a", "b"))
    pixels = _render(tmp_path, _chart("bar", (bars,), y_log=True))
    assert not _blue(pixels).any()


def test_bar_log_axis_draws_positive_bars(tmp_path: Path) -> None:
    bars = Trace("t", y=np.array([0.0, 10.0, 1000.0]), labels=("a", "b", "c"))
    assert _blue(_render(tmp_path, _chart("bar", (bars,), y_log=True))).sum() > 1000


@pytest.mark.parametrize("kind", ["line", "bar", "gantt"])
def test_comparison_gets_a_legend_right_of_the_plot(tmp_path: Path, kind: ChartKind) -> None:
    single = _render(tmp_path, _chart(kind, (_trace(kind),)), "single")
    pair = _render(tmp_path, _chart(kind, (_trace(kind, "base"), _trace(kind, "alt", 1.0))), "pair")
    _, single_right, _, _ = _frame(single)
    _, pair_right, _, _ = _frame(pair)
    assert pair_right < single_right - 30
    assert _blue(pair[:, pair_right + 2 :]).any() and _orange(pair[:, pair_right + 2 :]).any()
    assert not _blue(single[:, single_right + 2 :]).any()


def test_named_single_trace_gets_a_legend(tmp_path: Path) -> None:
    _, unnamed_right, _, _ = _frame(_render(tmp_path, _chart("line", (_trace("line"),)), "unnamed"))
    _, named_right, _, _ = _frame(_render(tmp_path, _chart("line", (_trace("line", "base"),)), "named"))
    assert named_right < unnamed_right - 20


def test_bars_of_two_runs_stand_side_by_side(tmp_path: Path) -> None:
    base = Trace("base", y=np.array([2.0, 2.0]), labels=("gpu", "cpu"))
    alt = Trace("alt", y=np.array([2.0, 2.0]), labels=("gpu", "cpu"))
    pixels = _render(tmp_path, _chart("bar", (base, alt)))
    row = pixels[pixels.shape[0] // 2]
    blue_columns = np.flatnonzero(_blue(row[np.newaxis])[0])
    orange_columns = np.flatnonzero(_orange(row[np.newaxis])[0])
    assert blue_columns.size > 0 and orange_columns.size > 0
    # Per category the base bar is left of the alternative one, at the same height.
    assert blue_columns.min() < orange_columns.min() and blue_columns.max() < orange_columns.max()


def test_long_bar_labels_and_note_take_room_below(tmp_path: Path) -> None:
    short = Trace("", y=np.ones(3), labels=("a", "b", "c"))
    long = Trace("", y=np.ones(3), labels=("account_number_one", "account_number_two", "account_three"))
    _, _, _, short_bottom = _frame(_render(tmp_path, _chart("bar", (short,)), "short"))
    _, _, _, long_bottom = _frame(_render(tmp_path, _chart("bar", (long,)), "long"))
    _, _, _, noted_bottom = _frame(_render(tmp_path, _chart("bar", (short,), note="sampled " * 30), "note"))
    assert long_bottom < short_bottom - 30
    assert noted_bottom < short_bottom - 20


def test_dashed_trace_covers_fewer_pixels(tmp_path: Path) -> None:
    x = np.array([0.0, 100.0])
    solid = _render(tmp_path, _chart("line", (Trace("", x=x, y=np.ones(2)),)), "solid")
    dashed = _render(tmp_path, _chart("line", (Trace("", x=x, y=np.ones(2), dash=True),)), "dashed")
    assert 0.3 * _blue(solid).sum() < _blue(dashed).sum() < 0.8 * _blue(solid).sum()


def test_thousands_of_rectangles_tile_the_plot(tmp_path: Path) -> None:
    # 100 nodes, each running 50 back-to-back one-hour jobs: the rectangles tile the data area, which is
    # 1 / 1.1 of the axes in each direction (matplotlib's 5 % margins): 82.6 % of the frame's inside.
    node = np.repeat(np.arange(100.0), 50)
    start_s = np.tile(np.arange(50.0) * 3_600.0, 100)
    jobs = Trace("jobs", x=start_s, x_end=start_s + 3_600.0, y=node)
    pixels = _render(tmp_path, _chart("gantt", (jobs,)))
    left, right, top, bottom = _frame(pixels)
    assert _blue(pixels[top + 1 : bottom, left + 1 : right]).mean() == pytest.approx(1 / 1.21, abs=0.01)
