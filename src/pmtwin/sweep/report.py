"""The report of a parameter sweep: every metric against every axis, and the spread of each metric.

Built as a ``Report`` (``pmtwin.report.charts``) and drawn like a run's report, as ``report.html`` and
one PNG per chart, so the page and the images show the same numbers. Only points that ran
(``status == "ok"``) count; the facts and notes say how many failed.

Chart ``<metric>_vs_<axis>`` has the axis' distinct values on x (numbers on a numeric axis; otherwise
categories, null shown as "none") and at each value the metric's mean over the seeds, with min..max as
error bars. The other axes give one trace per combination of their values, up to ``MAX_TRACES``; beyond
that a single trace takes every combination and seed together. A sweep without axes (seeds only) has
one chart per metric with the seeds on x. The table gives, per metric, the min, median and max over the
combinations of axis values of their means over seeds.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from pmtwin._files import replace_file
from pmtwin.report import REPORT_NAME
from pmtwin.report.charts import Chart, Report, Row, Trace
from pmtwin.report.html import format_value, render_html

if TYPE_CHECKING:
    import pyarrow as pa

Value = str | int | float | bool | None
"""An axis value as the results table holds it."""
_Tag = tuple[bool, Value]
"""A value made safe as a dict key: ``True`` and ``1`` hash alike, the flag keeps them apart."""

MAX_TRACES = 6
"""More combinations of the other axes' values than this are drawn as one trace over all of them."""
NONE_LABEL = "none"
MAX_ERRORS_LISTED = 5
MAX_ERROR_CHARS = 160
TABLE_RUNS = ("min", "median", "max")
_UNITS = {"h": "h", "days": "days", "s": "s", "mwh": "MWh", "mw": "MW", "w": "W", "j": "J"}
"""Name suffixes of the metric columns and the units they stand for."""
_WORDS = {"bsld": "bounded slowdown"}
_NOT_KEY = re.compile(r"[^a-z0-9_-]+")


@dataclass(frozen=True)
class _Results:
    """The points that ran: axis values, seeds and metric values (NaN where null), one entry per row;
    and the points that did not."""

    axes: dict[str, list[Value]]
    seeds: list[int]
    metrics: dict[str, NDArray[np.float64]]
    n_seeds: int
    """Distinct seeds of the whole table (failed points included): the seeds each mean is over."""
    failed: tuple[str, ...]
    """``point_id: error`` of each point that did not run."""

    @property
    def n_ok(self) -> int:
        return len(self.seeds)


def write_sweep_report(
    table: pa.Table,
    axes: Sequence[str],
    metrics: Sequence[str],
    out_dir: Path,
    *,
    title: str,
    facts: Sequence[tuple[str, str]] = (),
    pngs: bool = True,
) -> Path:
    """Write ``<out_dir>/report.html`` (and, with ``pngs``, ``<chart>.png`` per chart) of the sweep whose
    results are ``table``; returns the page's path."""
    report = sweep_report(table, axes, metrics, title=title, facts=facts)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    names: list[str] = []
    if pngs:
        from pmtwin.report.png import write_pngs

        names = [path.stem for path in write_pngs(report, out_dir)]
    return replace_file(out_dir / REPORT_NAME, render_html(report, names).encode())


def sweep_report(
    table: pa.Table,
    axes: Sequence[str],
    metrics: Sequence[str],
    *,
    title: str,
    facts: Sequence[tuple[str, str]] = (),
) -> Report:
    """The sweep's report: facts, the min/median/max table and one chart per metric and axis.

    ``axes`` and ``metrics`` name columns of the results table (docs/sweeps.md). Metrics the table lacks,
    or that no point has a value for (energy without the power model), are left out and named in a note.
    """
    results = _results(table, axes, metrics)
    shown = [m for m in metrics if m in results.metrics and bool(np.isfinite(results.metrics[m]).any())]
    keys: set[str] = set()
    if axes:
        pairs = [(metric, axis) for metric in shown for axis in axes]
        charts = [_axis_chart(results, m, a, _unique_key(m, a, keys)) for m, a in pairs]
    else:
        charts = [_seed_chart(results, metric, _unique_key(metric, "seed", keys)) for metric in shown]
    return Report(
        title=title,
        runs=TABLE_RUNS,
        facts=(*facts, *_facts(results)),
        table=tuple(_row(results, metric) for metric in shown),
        charts=tuple(charts),
        notes=_notes(results, [m for m in metrics if m not in shown]),
    )


def metric_label(name: str) -> tuple[str, str]:
    """A metric column's name as words and unit: ``wait_mean_h`` -> ("wait mean", "h"),
    ``bsld_p95`` -> ("bounded slowdown p95", ""), ``utilization:gpu`` -> ("utilization gpu", "")."""
    words = name.replace(":", " ").split("_")
    unit = _UNITS[words.pop()] if len(words) > 1 and words[-1] in _UNITS else ""
    return " ".join(_WORDS.get(word, word) for word in words), unit


def _axis_title(metric: str) -> str:
    """The metric's words with its unit in brackets: "wait mean (h)"."""
    words, unit = metric_label(metric)
    return f"{words} ({unit})" if unit else words


def _results(table: pa.Table, axes: Sequence[str], metrics: Sequence[str]) -> _Results:
    """The table's rows split into points that ran and points that did not, with the metrics the table
    has; a ValueError names a missing column or a metric that is not numeric."""
    columns = set(table.column_names)
    for name in ("status", "seed", *axes):
        if name not in columns:
            raise ValueError(f"sweep results: no column {name!r} (columns: {', '.join(table.column_names)})")
    ok = [status == "ok" for status in table.column("status").to_pylist()]
    seeds = table.column("seed").to_pylist()
    return _Results(
        axes={
            axis: [_value(v) for v, k in zip(table.column(axis).to_pylist(), ok, strict=True) if k]
            for axis in axes
        },
        seeds=[int(s) for s, k in zip(seeds, ok, strict=True) if k],
        metrics={
            name: _numbers(name, table.column(name).to_pylist(), ok) for name in metrics if name in columns
        },
        n_seeds=len({s for s in seeds if s is not None}),
        failed=_failures(table, ok),
    )


def _numbers(name: str, values: list[object], ok: list[bool]) -> NDArray[np.float64]:
    """The metric's values of the points that ran, NaN for null; a ValueError if it is not numeric."""
    numbers = []
    for value, k in zip(values, ok, strict=True):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise ValueError(f"sweep results: metric column {name!r} holds {value!r}, expected numbers")
        if k:
            numbers.append(np.nan if value is None else float(value))
    return np.array(numbers, dtype=np.float64)


def _value(value: Value) -> Value:
    """An axis value; a float NaN counts as null."""
    return None if isinstance(value, float) and np.isnan(value) else value


def _failures(table: pa.Table, ok: list[bool]) -> tuple[str, ...]:
    """``point_id: error`` (first line, shortened) of each point that did not run."""
    names = set(table.column_names)
    ids = table.column("point_id").to_pylist() if "point_id" in names else [None] * len(ok)
    errors = table.column("error").to_pylist() if "error" in names else [None] * len(ok)
    failed = []
    for point_id, error, k in zip(ids, errors, ok, strict=True):
        if not k:
            text = (str(error).strip().splitlines() or [""])[0] if error is not None else "no error given"
            if len(text) > MAX_ERROR_CHARS:
                text = text[: MAX_ERROR_CHARS - 1] + "\u2026"
            failed.append(f"{point_id or '?'}: {text}")
    return tuple(failed)


def _order(value: Value) -> tuple[int, float, str]:
    """Sort key of axis values: null first, then numbers, booleans, text."""
    if value is None:
        return (0, 0.0, "")
    if isinstance(value, bool):
        return (2, float(value), "")
    if isinstance(value, int | float):
        return (1, float(value), "")
    return (3, 0.0, value)


def _tag(value: Value) -> _Tag:
    return (isinstance(value, bool), value)


def _distinct(values: Sequence[Value]) -> list[Value]:
    """The distinct values, sorted."""
    unique = {_tag(v): v for v in values}
    return sorted(unique.values(), key=_order)


def _label(value: Value) -> str:
    """An axis value as text: null as "none", booleans as in TOML, floats as short as they stay exact."""
    if value is None:
        return NONE_LABEL
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        text = f"{value:g}"
        return text if float(text) == value else repr(value)
    return str(value)


def _numeric_axis(values: Sequence[Value]) -> bool:
    return bool(values) and all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)


def _unique_key(metric: str, axis: str, keys: set[str]) -> str:
    """``<metric>_vs_<axis>`` as a chart key (``^[a-z0-9_-]+$``), made unique among ``keys`` (added)."""
    base = _NOT_KEY.sub("_", f"{metric}_vs_{axis}".lower())
    key, k = base, 2
    while key in keys:
        key, k = f"{base}_{k}", k + 1
    keys.add(key)
    return key


def _stats(values: NDArray[np.float64]) -> tuple[float, float, float]:
    """Mean, min and max of the finite values (NaN when there are none)."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return np.nan, np.nan, np.nan
    return float(finite.mean()), float(finite.min()), float(finite.max())


def _trace(
    name: str, xs: list[Value], groups: dict[_Tag, list[int]], y: NDArray[np.float64], interval: bool = True
) -> Trace:
    """Mean of ``y`` over the rows of each x value (``groups``: x -> rows), with min..max as the
    interval; numbers on x when every value is a number, else labels."""
    stats = np.array([_stats(y[groups.get(_tag(x), [])]) for x in xs]).reshape(len(xs), 3)
    low, high = (stats[:, 1], stats[:, 2]) if interval else (None, None)
    if _numeric_axis(xs):
        x = np.array([float(v) for v in xs if isinstance(v, int | float)])
        return Trace(name, x=x, y=stats[:, 0], y_low=low, y_high=high)
    return Trace(name, y=stats[:, 0], labels=tuple(_label(v) for v in xs), y_low=low, y_high=high)


def _axis_chart(results: _Results, metric: str, axis: str, key: str) -> Chart:
    """The metric against one axis: a trace per combination of the other axes' values, or one over all
    of them when there are more than MAX_TRACES."""
    values = results.axes[axis]
    others = [name for name in results.axes if name != axis]
    combos: dict[tuple[_Tag, ...], tuple[Value, ...]] = {}
    rows: dict[tuple[_Tag, ...], dict[_Tag, list[int]]] = {}
    for i, value in enumerate(values):
        combo = tuple(results.axes[name][i] for name in others)
        tags = tuple(_tag(v) for v in combo)
        combos[tags] = combo
        rows.setdefault(tags, {}).setdefault(_tag(value), []).append(i)
    xs, y = _distinct(values), results.metrics[metric]
    seeds = f"{results.n_seeds:,} seed{'s' if results.n_seeds != 1 else ''}"
    fewer = " (fewer where points failed)" if results.failed else ""
    if len(combos) <= MAX_TRACES:
        ordered = sorted(combos.items(), key=lambda item: [_order(v) for v in item[1]])
        traces = [_trace(_combo_name(others, combo), xs, rows[tags], y) for tags, combo in ordered]
        note = f"Points: mean over {seeds}{fewer}; bars: min to max."
    else:
        traces = [_trace("", xs, _rows_by(values), y)]
        note = (
            f"Points: mean over all {len(combos):,} combinations of {', '.join(others)} (more than "
            f"{MAX_TRACES}, so not drawn one by one) and {seeds}{fewer}; bars: min to max."
        )
    y_label = _axis_title(metric)
    return Chart(key, f"{y_label} vs {axis}", "points", axis, y_label, tuple(traces), note=note)


def _combo_name(axes: Sequence[str], combo: Sequence[Value]) -> str:
    """``policy=easy, scheduler.priority=nersc``."""
    return ", ".join(f"{axis}={_label(value)}" for axis, value in zip(axes, combo, strict=True))


def _seed_chart(results: _Results, metric: str, key: str) -> Chart:
    """The metric of each run of a sweep without axes, seeds on x (as categories: they name runs)."""
    labels: list[Value] = [str(seed) for seed in sorted(set(results.seeds))]
    rows = _rows_by([str(seed) for seed in results.seeds])
    trace = _trace("", labels, rows, results.metrics[metric], interval=False)
    y_label = _axis_title(metric)
    return Chart(
        key, f"{y_label} by seed", "points", "seed", y_label, (trace,),
        note="One run per seed of the base scenario.",
    )  # fmt: skip


def _rows_by(values: Sequence[Value]) -> dict[_Tag, list[int]]:
    """The rows of each value."""
    rows: dict[_Tag, list[int]] = {}
    for i, value in enumerate(values):
        rows.setdefault(_tag(value), []).append(i)
    return rows


def _point_means(results: _Results, metric: str) -> NDArray[np.float64]:
    """The metric's mean over seeds of each combination of axis values (each run without axes)."""
    y = results.metrics[metric]
    if not results.axes:
        return y[np.isfinite(y)]
    rows: dict[tuple[_Tag, ...], list[int]] = {}
    for i in range(results.n_ok):
        rows.setdefault(tuple(_tag(values[i]) for values in results.axes.values()), []).append(i)
    means = np.array([_stats(y[members])[0] for members in rows.values()], dtype=np.float64)
    finite: NDArray[np.float64] = means[np.isfinite(means)]
    return finite


def _row(results: _Results, metric: str) -> Row:
    """Min, median and max of the metric (a metric with values: never empty). The figures are text, as
    the page shows them: numbers would be read as runs of a comparison, with deltas against the min."""
    means = _point_means(results, metric)
    words, unit = metric_label(metric)
    figures = (float(means.min()), float(np.median(means)), float(means.max()))
    return Row(words, tuple(format_value(figure) for figure in figures), unit)


def _facts(results: _Results) -> tuple[tuple[str, str], ...]:
    axes = ", ".join(f"{name} ({len(_distinct(v)):,} values)" for name, v in results.axes.items())
    total = results.n_ok + len(results.failed)
    status = f"{results.n_ok:,} of {total:,} points ran"
    if results.failed:
        status += f"; {len(results.failed):,} failed (left out)"
    return (("axes", axes or "none (seeds only)"), ("seeds", f"{results.n_seeds:,}"), ("status", status))


def _notes(results: _Results, left_out: Sequence[str]) -> tuple[str, ...]:
    if results.axes:
        notes = ["Table: min, median and max over the combinations of axis values of the mean over seeds."]
    else:
        notes = ["Table: min, median and max over the runs (one per seed)."]
    if left_out:
        notes.append(f"No values in the results for {', '.join(left_out)}: left out.")
    failed = results.failed
    if failed:
        many = len(failed) != 1
        notes.append(
            f"{len(failed):,} point{'s' if many else ''} failed and {'are' if many else 'is'} left out:"
        )
        notes += failed[:MAX_ERRORS_LISTED]
        if len(failed) > MAX_ERRORS_LISTED:
            notes.append(f"... and {len(failed) - MAX_ERRORS_LISTED:,} more (results.parquet, column error).")
    return tuple(notes)
