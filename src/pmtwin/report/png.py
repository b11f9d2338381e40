"""Static PNG charts of a report, drawn with matplotlib's object API (no pyplot, no global state).

One file per chart, ``<out_dir>/<chart.key>.png``, 800x360 pixels. The bytes depend only on the
``Report`` (no timestamp or software version in the PNG), so a rerun of the same run leaves the files
unchanged. Points a log axis cannot show (zero or negative) are left out rather than failing, and a
chart with nothing to draw says "no data".

The axes are placed with fixed margins, widened only for what is measured cheaply (the legend, rotated
bar labels, the note): matplotlib's automatic layouts would measure every tick label of every chart
first, which costs about a third more time.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from pmtwin.report.charts import Chart, Report, Trace

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.legend import Legend

KEY_PATTERN = re.compile(r"[a-z0-9_-]+")
WIDTH_PX, HEIGHT_PX, DPI = 800, 360, 100
LEFT_PX, RIGHT_PX, TOP_PX, BOTTOM_PX = 88, 24, 30, 48
"""Margins around the axes: y tick labels and label; last x tick label; title; x tick labels and label."""
PAD_PX = 8
TICK_LABEL_PX = 12
"""Height of a level x tick label, included in BOTTOM_PX."""
NOTE_WRAP_CHARS = 130
NOTE_LINE_PX = 13
MAX_LABEL_CHARS = 28
"""Legend entries and bar labels longer than this are shortened, so the plot keeps most of the width."""
ROTATE_ABOVE_CHARS = 6
"""Bar labels longer than this, or more than a dozen bars, are drawn rotated."""
POINTS_OFFSET = 0.08
"""Shift between the traces of a categorical points chart (in category widths), at most 0.6 in all."""

_Mask = NDArray[np.bool_]
_Floats = NDArray[np.float64]
_Handles = list[tuple[str, Any]]
"""(trace name, artist or bar container) of each trace drawn, for the legend."""


def write_pngs(report: Report, out_dir: Path) -> list[Path]:
    """One PNG per chart, <out_dir>/<chart.key>.png, in chart order; returns the paths."""
    _check_charts(report.charts)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for chart in report.charts:
        path = out_dir / f"{chart.key}.png"
        _draw_chart(chart).savefig(path, format="png", dpi=DPI, metadata={"Software": None})
        paths.append(path)
    return paths


def _check_charts(charts: tuple[Chart, ...]) -> None:
    """Keys become file names (lower-case letters, digits, ``_``, ``-``; no repeats); kinds must be known."""
    seen: set[str] = set()
    for chart in charts:
        if not KEY_PATTERN.fullmatch(chart.key):
            raise ValueError(
                f"chart {chart.title!r}: key {chart.key!r} must match ^[a-z0-9_-]+$ (it names the PNG file)"
            )
        if chart.key in seen:
            raise ValueError(f"chart key {chart.key!r} appears twice (it names the PNG file)")
        if chart.kind not in _DRAWERS:
            raise ValueError(
                f"chart {chart.key!r}: unknown kind {chart.kind!r}, expected one of {list(_DRAWERS)}"
            )
        seen.add(chart.key)


def _draw_chart(chart: Chart) -> Figure:
    """The figure of one chart on an Agg canvas, ready to save: plot, labels, legend and note."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI)
    FigureCanvasAgg(fig)  # attaches itself: text is measured and the PNG written with Agg
    ax = fig.add_subplot()
    ax.set_title(chart.title, fontsize="medium", parse_math=False)
    ax.set_xlabel(chart.x_label, parse_math=False)
    ax.set_ylabel(chart.y_label, parse_math=False)
    ax.tick_params(labelsize="small")
    handles = _DRAWERS[chart.kind](ax, chart)
    legend = None
    if not handles:
        _mark_empty(ax)
    else:
        _set_scales(ax, chart)
        ax.grid(True, color="0.9", linewidth=0.6)
        ax.set_axisbelow(True)
        if len(chart.traces) > 1 or any(name for name, _ in handles):
            legend = _add_legend(ax, handles, split=chart.kind == "points")
    note = textwrap.wrap(chart.note, NOTE_WRAP_CHARS)
    if note:
        fig.text(
            4 / WIDTH_PX,
            4 / HEIGHT_PX,
            "\n".join(note),
            fontsize=8,
            color="0.45",
            ha="left",
            va="bottom",
            parse_math=False,
        )
    _place_axes(ax, legend, chart.kind == "bar" or _categorical(chart), len(note))
    return fig


def _place_axes(ax: Axes, legend: Legend | None, bar_labels: bool, note_lines: int) -> None:
    """Fixed margins, widened for the legend on the right, rotated category labels and the note below.

    Only category labels (bars, categorical points) are measured: other charts' x ticks are numbers,
    which fit in BOTTOM_PX.
    """
    right_px = RIGHT_PX if legend is None else legend.get_window_extent().width + 2 * PAD_PX
    tick_px = max(
        (
            label.get_window_extent().height
            for label in (ax.get_xticklabels() if bar_labels else [])
            if label.get_rotation() and label.get_text()
        ),
        default=0.0,
    )
    bottom_px = BOTTOM_PX + max(tick_px - TICK_LABEL_PX, 0.0) + note_lines * NOTE_LINE_PX
    ax.set_position(
        (
            LEFT_PX / WIDTH_PX,
            bottom_px / HEIGHT_PX,
            (WIDTH_PX - LEFT_PX - right_px) / WIDTH_PX,
            (HEIGHT_PX - TOP_PX - bottom_px) / HEIGHT_PX,
        )
    )


def _add_legend(ax: Axes, handles: _Handles, split: bool = False) -> Legend:
    """A legend right of the plot, so it hides no data. With ``split``, each comma-separated part of a
    name (``policy=easy, scheduler.priority=nersc``) takes a line of its own before it is shortened."""
    parts = [name.split(", ") if split else [name] for name, _ in handles]
    legend = ax.legend(
        [artist for _, artist in handles],
        ["\n".join(_shorten(part) for part in name) for name in parts],
        fontsize="small",
        loc="upper left",
        bbox_to_anchor=(1.0, 1.0),
        frameon=False,
    )
    for text in legend.get_texts():
        text.set_parse_math(False)
    return legend


def _set_scales(ax: Axes, chart: Chart) -> None:
    """Log axes where asked, labelled in plain text ("1000", "1e+04"): no mathtext to parse."""
    from matplotlib.ticker import LogFormatter

    if chart.x_log:
        ax.set_xscale("log")
    if chart.y_log:
        ax.set_yscale("log")
    for log, axis in ((chart.x_log, ax.xaxis), (chart.y_log, ax.yaxis)):
        if log:
            axis.set_major_formatter(LogFormatter(base=10.0))
            axis.set_minor_formatter(LogFormatter(base=10.0))


def _mark_empty(ax: Axes) -> None:
    """An axes with nothing plotted: "no data" in its middle, no ticks."""
    ax.set_xticks([])
    ax.set_yticks([])
    ax.text(
        0.5, 0.5, "no data", transform=ax.transAxes, ha="center", va="center", color="0.45", fontsize="large"
    )


def _shorten(text: str) -> str:
    """``text``, cut to MAX_LABEL_CHARS with an ellipsis."""
    return text if len(text) <= MAX_LABEL_CHARS else text[: MAX_LABEL_CHARS - 1] + "\u2026"


def _color(index: int) -> str:
    """The colour of trace ``index``: the same run gets the same colour in every chart."""
    return f"C{index % 10}"


def _floats(chart: Chart, trace: Trace, field: str, values: _Floats | None, size: int) -> _Floats:
    """``values`` as a float array of ``size`` entries (may be missing when empty), else a ValueError."""
    if values is None and size == 0:
        return np.empty(0)
    if values is None:
        raise ValueError(f"chart {chart.key!r}, trace {trace.name!r}: {field} is missing")
    array = np.asarray(values, dtype=np.float64)
    if array.shape != (size,):
        raise ValueError(
            f"chart {chart.key!r}, trace {trace.name!r}: {field} has shape {array.shape}, expected ({size},)"
        )
    return array


def _shown(values: _Floats, log: bool) -> _Mask:
    """Which values an axis can show: finite ones, and on a log axis only positive ones."""
    keep = np.isfinite(values)
    return keep & (values > 0) if log else keep


def _xy(chart: Chart, trace: Trace) -> tuple[_Floats, _Floats, _Mask]:
    """A trace's x and y, and which points both axes can show."""
    x = _floats(chart, trace, "x", trace.x, len(trace.x))
    y = _floats(chart, trace, "y", trace.y, len(x))
    return x, y, _shown(x, chart.x_log) & _shown(y, chart.y_log)


def _draw_line(ax: Axes, chart: Chart) -> _Handles:
    """Straight lines through the points; a point an axis cannot show leaves a gap."""
    handles: _Handles = []
    for index, trace in enumerate(chart.traces):
        x, y, keep = _xy(chart, trace)
        if keep.any():
            (line,) = ax.plot(
                np.where(keep, x, np.nan),
                np.where(keep, y, np.nan),
                color=_color(index),
                linewidth=1.2,
                linestyle="--" if trace.dash else "-",
            )
            handles.append((trace.name, line))
    return handles


def _draw_ecdf(ax: Axes, chart: Chart) -> _Handles:
    """Step curves (each fraction holds until the next value), y from 0 to 1."""
    handles: _Handles = []
    for index, trace in enumerate(chart.traces):
        x, y, keep = _xy(chart, trace)
        if keep.any():
            (line,) = ax.step(
                x[keep],
                y[keep],
                where="post",
                color=_color(index),
                linewidth=1.2,
                linestyle="--" if trace.dash else "-",
            )
            handles.append((trace.name, line))
    if handles and not chart.y_log:
        ax.set_ylim(0.0, 1.02)
    return handles


def _draw_scatter(ax: Axes, chart: Chart) -> _Handles:
    """The first trace as small translucent markers (dense regions show darker); any others as lines
    with markers (a summary curve over the points)."""
    handles: _Handles = []
    for index, trace in enumerate(chart.traces):
        x, y, keep = _xy(chart, trace)
        if not keep.any():
            continue
        color = _color(index)
        if index == 0:
            (artist,) = ax.plot(
                x[keep], y[keep], linestyle="none", marker="o", markersize=2.5, markeredgewidth=0.0,
                alpha=0.5, color=color,
            )  # fmt: skip
        else:
            (artist,) = ax.plot(
                x[keep], y[keep], linestyle="-", linewidth=1.5, marker="o", markersize=4.0,
                markeredgewidth=0.0, color=color,
            )  # fmt: skip
        handles.append((trace.name, artist))
    return handles


def _draw_bar(ax: Axes, chart: Chart) -> _Handles:
    """One bar per label; several traces (runs of a comparison) side by side within each label."""
    categories = list(dict.fromkeys(label for trace in chart.traces for label in trace.labels))
    position = {label: float(i) for i, label in enumerate(categories)}
    width = 0.8 / max(len(chart.traces), 1)
    handles: _Handles = []
    for index, trace in enumerate(chart.traces):
        y = _floats(chart, trace, "y", trace.y, len(trace.labels))
        keep = _shown(y, chart.y_log)
        if keep.any():
            x = np.array([position[label] for label in trace.labels]) + (index + 0.5) * width - 0.4
            bars = ax.bar(
                x[keep], y[keep], width=width, color=_color(index), hatch="//" if trace.dash else None
            )
            handles.append((trace.name, bars))
    if handles:
        _set_categories(ax, categories)
    return handles


def _set_categories(ax: Axes, categories: list[str]) -> None:
    """Category labels as x ticks at 0..n-1, rotated when long or many."""
    rotate = len(categories) > 12 or max(len(label) for label in categories) > ROTATE_ABOVE_CHARS
    ax.set_xticks(
        range(len(categories)),
        [_shorten(label) for label in categories],
        rotation=30 if rotate else 0,
        ha="right" if rotate else "center",
        rotation_mode="anchor",
        parse_math=False,
    )


def _draw_gantt(ax: Axes, chart: Chart) -> _Handles:
    """Rectangles x..x_end by y..y+height (1 when not given), one collection and colour per trace."""
    from matplotlib.collections import PolyCollection

    handles: _Handles = []
    for index, trace in enumerate(chart.traces):
        x, y, keep = _xy(chart, trace)
        x_end = _floats(chart, trace, "x_end", trace.x_end, len(x))
        height = (
            np.ones(len(x)) if trace.height is None else _floats(chart, trace, "height", trace.height, len(x))
        )
        top = y + height
        keep &= _shown(x_end, chart.x_log) & _shown(top, chart.y_log)
        if keep.any():
            x, x_end, y, top = x[keep], x_end[keep], y[keep], top[keep]
            corners = np.stack([x, y, x, top, x_end, top, x_end, y], axis=1).reshape(-1, 4, 2)
            rects = PolyCollection(list(corners), facecolors=_color(index), edgecolors="none")
            ax.add_collection(rects)
            handles.append((trace.name, rects))
    if handles:
        ax.autoscale_view()
    return handles


def _categorical(chart: Chart) -> bool:
    """Whether a ``points`` chart has categories on x (its traces have labels)."""
    return chart.kind == "points" and any(trace.labels for trace in chart.traces)


def _draw_points(ax: Axes, chart: Chart) -> _Handles:
    """Markers joined by lines, with error bars from ``y_low`` to ``y_high``. Categories sit at
    0..n-1, and several traces there are offset slightly so that their bars stay apart."""
    categorical = _categorical(chart)
    categories = list(dict.fromkeys(label for trace in chart.traces for label in trace.labels))
    position = {label: float(i) for i, label in enumerate(categories)}
    step = min(POINTS_OFFSET, 0.6 / len(chart.traces)) if chart.traces else 0.0
    handles: _Handles = []
    for index, trace in enumerate(chart.traces):
        if categorical != bool(trace.labels):
            raise ValueError(
                f"chart {chart.key!r}, trace {trace.name!r}: a points chart is all numeric x or all labels"
            )
        if categorical:
            offset = (index - (len(chart.traces) - 1) / 2.0) * step
            x = np.array([position[label] for label in trace.labels]) + offset
        else:
            x = _floats(chart, trace, "x", trace.x, len(trace.x))
        y = _floats(chart, trace, "y", trace.y, len(x))
        keep = (np.isfinite(x) if categorical else _shown(x, chart.x_log)) & _shown(y, chart.y_log)
        if not keep.any():
            continue
        errors = _error_bars(chart, trace, y)
        artist = ax.errorbar(
            np.where(keep, x, np.nan), np.where(keep, y, np.nan), yerr=errors, color=_color(index),
            linewidth=1.2, linestyle="--" if trace.dash else "-", marker="o", markersize=4.0,
            capsize=3.0, elinewidth=1.0,
        )  # fmt: skip
        handles.append((trace.name, artist))
    if handles and categorical:
        _set_categories(ax, categories)
        ax.set_xlim(-0.5, len(categories) - 0.5)
    return handles


def _error_bars(chart: Chart, trace: Trace, y: _Floats) -> _Floats | None:
    """The distances below and above each point (2 x n), from ``y_low`` and ``y_high``; None when the
    trace has no interval. A bound that is missing (NaN) or on the wrong side draws no bar that way."""
    if trace.y_low is None and trace.y_high is None:
        return None
    low = _floats(chart, trace, "y_low", trace.y_low, len(y)) if trace.y_low is not None else y
    high = _floats(chart, trace, "y_high", trace.y_high, len(y)) if trace.y_high is not None else y
    below, above = y - low, high - y
    return np.stack(
        [np.where(below > 0, below, 0.0), np.where(above > 0, above, 0.0)]
    )  # NaN compares False: no bar


_DRAWERS: dict[str, Callable[[Axes, Chart], _Handles]] = {
    "line": _draw_line,
    "ecdf": _draw_ecdf,
    "scatter": _draw_scatter,
    "bar": _draw_bar,
    "gantt": _draw_gantt,
    "points": _draw_points,
}
