"""The report of one run, and the comparison of several: which charts, which figures (docs/reports.md).

Times on chart axes are days from each run's first submission; waits are hours; power is MW.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import NDArray

from pmtwin.report.charts import Better, Chart, Report, Row, Trace
from pmtwin.report.figures import (
    SECONDS_PER_DAY,
    SERIES_BINS,
    bin_means,
    bounded_slowdown,
    ecdf_points,
    sample_rows,
    size_buckets,
    top_with_rest,
)
from pmtwin.report.gantt import gantt_chart
from pmtwin.report.rundata import RunData
from pmtwin.results.metrics import summary_figure

SCATTER_POINTS = 4_000
TOP_ACCOUNTS = 20
MIN_WAIT_S = 1.0
"""Waits below this are drawn at it on the log axes (the curve's left end shows their share)."""
DEFAULT_QOS_LABEL = "(default)"
_BSLD_NOTE = "Runs shorter than the summary's bounded_slowdown_min_run_s (10 s) count as that long."


def run_report(run: RunData) -> Report:
    """Facts, summary table and charts of one run."""
    charts = [
        _levels_chart([run], "utilization", "Utilization", "busy share of the pool", per_pool=True),
        _levels_chart([run], "queue", "Queue length", "queued jobs", per_pool=True, quantity="queue_jobs"),
        _power_chart([run]),
        *_distribution_charts(run),
        _size_wait_chart(run),
        gantt_chart(run),
        _energy_chart(run),
    ]
    return Report(
        title=f"pmtwin run {run.name}",
        runs=(run.name,),
        facts=_facts(run),
        table=_table([run]),
        charts=tuple(c for c in charts if c is not None),
        notes=_notes(run),
    )


def comparison_report(runs: Sequence[RunData]) -> Report:
    """Side by side: the figures of every run with deltas against the first, and overlaid charts."""
    if len(runs) < 2:
        raise ValueError("a comparison needs at least two runs")
    names = _unique_names(runs)
    labelled = [_renamed(run, name) for run, name in zip(runs, names, strict=True)]
    charts = [
        _levels_chart(labelled, "utilization", "Utilization, all pools", "busy share of the machine"),
        _levels_chart(labelled, "queue", "Queue length, all pools", "queued jobs", quantity="queue_jobs"),
        _power_chart(labelled),
        _overlay_ecdf(labelled, "wait", "Wait time", "wait (hours, log)", _waits_h),
        _overlay_ecdf(labelled, "bsld", "Bounded slowdown", "bounded slowdown (log)", _bsld),
    ]
    facts = tuple((name, _describe(run)) for name, run in zip(names, runs, strict=True))
    return Report(
        title="pmtwin comparison: " + " vs ".join(names),
        runs=tuple(names),
        facts=facts,
        table=_table(labelled),
        charts=tuple(c for c in charts if c is not None),
        notes=("Deltas are against the first run; green is better, red worse.",),
    )


def _renamed(run: RunData, name: str) -> RunData:
    from dataclasses import replace

    return replace(run, name=name)


def _unique_names(runs: Sequence[RunData]) -> list[str]:
    names: list[str] = []
    for run in runs:
        name, k = run.name, 2
        while name in names:
            name, k = f"{run.name} ({k})", k + 1
        names.append(name)
    return names


def _span(run: RunData) -> tuple[float, float]:
    """First submission and last end of the run (s)."""
    if run.n_jobs == 0:
        return 0.0, 0.0
    return float(np.min(run.numbers["submit_s"])), float(np.max(run.numbers["end_s"]))


def _pools(run: RunData) -> list[str]:
    return [name.split(":", 1)[1] for name in run.series if name.startswith("utilization:")]


def _levels_chart(
    runs: Sequence[RunData],
    key: str,
    title: str,
    y_label: str,
    *,
    per_pool: bool = False,
    quantity: str = "utilization",
) -> Chart | None:
    traces = []
    for run in runs:
        start_s, stop_s = _span(run)
        pools = _pools(run) if per_pool else []
        names = [f"{quantity}:{p}" for p in pools] or [quantity]
        for name in names:
            if name not in run.series:
                continue
            x, y = bin_means(*run.series[name], start_s, stop_s, SERIES_BINS)
            label = name.split(":", 1)[1] if ":" in name else ("all" if per_pool else run.name)
            traces.append(Trace(label, (x - start_s) / SECONDS_PER_DAY, y))
    if not traces:
        return None
    note = f"Means over {SERIES_BINS:,} equal bins of the run, first submission to last end."
    if quantity == "utilization" and per_pool:
        note += " The table's pool utilization divides by each pool's own span instead."
    return Chart(key, title, "line", "days from the first submission", y_label, tuple(traces), note=note)


def _power_chart(runs: Sequence[RunData]) -> Chart | None:
    traces = []
    for run in runs:
        start_s, stop_s = _span(run)
        for name, label in (("power_facility_w", "facility"), ("power_system_w", "system")):
            if name in run.series:
                x, y = bin_means(*run.series[name], start_s, stop_s, SERIES_BINS)
                label = label if len(runs) == 1 else f"{run.name} {label}"
                traces.append(Trace(label, (x - start_s) / SECONDS_PER_DAY, y / 1e6))
        cap_mw = run.config.get("power", {}).get("power_cap_mw")
        if cap_mw is not None and traces:
            x = np.array([0.0, (stop_s - start_s) / SECONDS_PER_DAY])
            label = "power budget" if len(runs) == 1 else f"{run.name} budget"
            traces.append(Trace(label, x, np.full(2, float(cap_mw)), dash=True))
    if not traces:
        return None
    return Chart(
        "power", "Power", "line", "days from the first submission", "MW", tuple(traces),
        note="System: nodes, switches and storage; facility: system / conversion efficiency x PUE "
        "(docs/power.md). Means over bins.",
    )  # fmt: skip


def _waits_h(run: RunData) -> NDArray[np.float64]:
    return np.maximum(run.numbers["wait_s"], MIN_WAIT_S) / 3600.0


def _bsld(run: RunData) -> NDArray[np.float64]:
    min_run_s = float(run.summary.get("bounded_slowdown_min_run_s", 10.0))
    numbers = run.numbers
    return bounded_slowdown(numbers["wait_s"], numbers["end_s"] - numbers["start_s"], min_run_s)


def _groups(run: RunData) -> list[tuple[str, str, NDArray[np.int32], tuple[str, ...]]]:
    """(key suffix, title word, codes, names) for partitions, and for QOS where the run has them."""
    groups = [("partition", "partition", run.labels["partition"].codes, run.labels["partition"].names)]
    if "qos" in run.labels:
        names = tuple(name or DEFAULT_QOS_LABEL for name in run.labels["qos"].names)
        groups.append(("qos", "QOS", run.labels["qos"].codes, names))
    return groups


def _distribution_charts(run: RunData) -> list[Chart]:
    charts = []
    for key, word, codes, names in _groups(run):
        for metric, title, label, values in (
            ("wait", "Wait time", "wait (hours, log)", _waits_h(run)),
            ("bsld", "Bounded slowdown", "bounded slowdown (log)", _bsld(run)),
        ):
            traces = []
            for code, name in enumerate(names):
                members = codes == code
                if np.any(members):
                    x, y = ecdf_points(values[members])
                    traces.append(Trace(f"{name} ({int(members.sum()):,})", x, y))
            note = "Waits under 1 s are drawn at 1 s." if metric == "wait" else _BSLD_NOTE
            charts.append(
                Chart(
                    f"{metric}_{key}",
                    f"{title} by {word}",
                    "ecdf",
                    label,
                    "share of jobs",
                    tuple(traces),
                    x_log=True,
                    note=note,
                )  # fmt: skip
            )
    return charts


def _overlay_ecdf(
    runs: Sequence[RunData],
    key: str,
    title: str,
    label: str,
    values: Callable[[RunData], NDArray[np.float64]],
) -> Chart:
    traces = []
    for run in runs:
        x, y = ecdf_points(values(run))
        traces.append(Trace(run.name, x, y))
    return Chart(key, f"{title}, all jobs", "ecdf", label, "share of jobs", tuple(traces), x_log=True)


def _size_wait_chart(run: RunData) -> Chart:
    size, wait_h = run.numbers["size"], run.numbers["wait_s"] / 3600.0
    rows = sample_rows(run.n_jobs, SCATTER_POINTS)
    bucket, median = size_buckets(size, wait_h)
    unit = "nodes" if "machine" in run.config else "units"
    note = f"{len(rows):,} of {run.n_jobs:,} jobs drawn"
    if len(rows) < run.n_jobs:
        note += " (a fixed sample)"
    return Chart(
        "size_wait", "Job size against wait", "scatter", f"job size ({unit}, log)", "wait (hours)",
        (Trace("jobs", size[rows], wait_h[rows]), Trace("median per size bucket", bucket, median)),
        x_log=True, note=note + "; the line is the median wait of sizes [2^k, 2^(k+1)).",
    )  # fmt: skip


def _energy_chart(run: RunData) -> Chart | None:
    by_account = run.summary.get("power", {}).get("energy_by_account_mwh")
    if not by_account:
        return None
    labels, mwh = top_with_rest({str(k): float(v) for k, v in by_account.items()}, TOP_ACCOUNTS)
    return Chart(
        "energy_account", "Energy by account", "bar", "account", "MWh (node energy of the jobs)",
        (Trace("energy", y=mwh, labels=labels),),
        note=f"The {TOP_ACCOUNTS} largest of {len(by_account):,} accounts; node energy attributed to jobs.",
    )  # fmt: skip


def _describe(run: RunData) -> str:
    config = run.config
    parts = [str(config.get("run", {}).get("command", "run"))]
    if "machine" in config:
        parts.append(f"machine {config['machine'].get('name', '?')}")
    if "workload" in config:
        w = config["workload"]
        parts.append(f"workload {w.get('model', '?')}, {w.get('days', '?')} days, seed {w.get('seed', '?')}")
    if "trace" in config:
        parts.append(f"trace {config['trace'].get('path', '?')}")
    parts.append(f"policy {config.get('run', {}).get('policy', '?')}")
    if "scheduler" in config:
        parts.append(f"Slurm mode, priority {config['scheduler'].get('priority', '?')}")
    power = config.get("power", {})
    for key, unit in (("power_cap_mw", "MW cap"), ("gpu_power_cap_w", "W per GPU")):
        if power.get(key) is not None:
            parts.append(f"{power[key]:g} {unit}")
    return "; ".join(parts)


def _facts(run: RunData) -> tuple[tuple[str, str], ...]:
    start_s, stop_s = _span(run)
    return (
        ("run", _describe(run)),
        ("directory", str(run.path)),
        ("span", f"{(stop_s - start_s) / SECONDS_PER_DAY:,.2f} days, {run.n_jobs:,} jobs"),
    )


def _notes(run: RunData) -> tuple[str, ...]:
    notes = []
    skipped = (run.summary.get("skipped") or {}).get("by_reason") or {}
    if skipped:
        reasons = ", ".join(f"{k}: {int(v):,}" for k, v in sorted(skipped.items()))
        notes.append(f"Jobs skipped while reading the trace ({reasons}).")
    missing = run.summary.get("power", {}).get("missing_figures") or []
    notes += [f"Power model: {m}" for m in missing]
    return tuple(notes)


def _table(runs: Sequence[RunData]) -> tuple[Row, ...]:
    """The summary figures, one column per run: (label, unit, better, path in summary.json, factor)."""
    h, day = 1 / 3600.0, 1 / SECONDS_PER_DAY
    specs: list[tuple[str, str, Better | None, tuple[str, ...], float]] = [
        ("jobs", "", None, ("jobs",), 1.0),
        ("makespan", "days", None, ("makespan_s",), day),
        ("utilization", "", "higher", ("utilization",), 1.0),
    ]
    pools = sorted({p for run in runs for p in (run.summary.get("pools") or {})})
    if len(pools) > 1:
        specs += [(f"utilization {p}", "", "higher", ("pools", p, "utilization"), 1.0) for p in pools]
    specs += [(f"wait {stat}", "h", "lower", ("wait_s", stat), h) for stat in ("mean", "median", "p95")]
    partitions = sorted({p for run in runs for p in (run.summary.get("partitions") or {})})
    if len(partitions) > 1:
        specs += [
            (f"wait mean {p}", "h", "lower", ("partitions", p, "wait_s", "mean"), h) for p in partitions
        ]
    specs += [
        ("bounded slowdown mean", "", "lower", ("bounded_slowdown", "mean"), 1.0),
        ("bounded slowdown p95", "", "lower", ("bounded_slowdown", "p95"), 1.0),
    ]
    if any("power" in run.summary for run in runs):
        specs += [
            ("energy, facility", "MWh", "lower", ("power", "energy_facility_mwh"), 1.0),
            ("energy, system", "MWh", "lower", ("power", "energy_system_mwh"), 1.0),
            ("mean power, system", "MW", "lower", ("power", "mean_system_w"), 1e-6),
            ("peak power, facility", "MW", "lower", ("power", "peak_facility_w"), 1e-6),
            ("mean PUE", "", "lower", ("power", "mean_pue"), 1.0),
        ]
    if any("scheduler" in run.summary for run in runs):
        specs += [
            ("jobs not run", "", "lower", ("scheduler", "not_run", "total"), 1.0),
            ("requeues", "", "lower", ("scheduler", "requeues"), 1.0),
        ]
    return tuple(
        Row(label, tuple(summary_figure(run.summary, path, factor) for run in runs), unit, better)
        for label, unit, better, path, factor in specs
    )
