"""A compact terminal view of a run summary (rich)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence

    from rich.table import Table

    from pmtwin.perf.prediction import Prediction, ValidationRow

_DURATION_UNITS_S = (("d", 86400.0), ("h", 3600.0), ("min", 60.0))
"""Largest first: a duration is shown in the largest unit it reaches."""


def format_duration_s(seconds: float | None) -> str:
    """``12.3 s``, ``4.5 min``, ``6.7 h``, ``8.9 d``; ``-`` when undefined."""
    if seconds is None:
        return "-"
    for unit, size_s in _DURATION_UNITS_S:
        if abs(seconds) >= size_s:
            return f"{seconds / size_s:.1f} {unit}"
    return f"{seconds:.1f} s"


def render_summary(summary: dict[str, Any], *, title: str) -> Table:
    """One row for the whole run and one per pool: jobs, waits, bounded slowdown, utilization, makespan.

    Skipped jobs (total and by reason) go in the caption.
    """
    from rich.table import Table

    skipped = summary["skipped"]
    reasons = ", ".join(f"{reason} {count}" for reason, count in skipped["by_reason"].items())
    caption = f"skipped {skipped['total']}" + (f" ({reasons})" if reasons else "")
    not_run = summary.get("scheduler", {}).get("not_run")
    if not_run is not None:
        why = ", ".join(f"{reason} {count}" for reason, count in not_run["by_reason"].items())
        caption += f"; not run {not_run['total']}" + (f" ({why})" if why else "")
    power = summary.get("power")
    if power is not None:
        caption += (
            f"\npower: idle {power['idle_system_w'] / 1e6:.2f} MW, "
            f"mean {_megawatts(power['mean_system_w'])}, "
            f"peak {power['peak_system_w'] / 1e6:.2f} MW (facility {power['peak_facility_w'] / 1e6:.2f} MW); "
            f"energy {power['energy_system_mwh']:,.0f} MWh (facility {power['energy_facility_mwh']:,.0f} MWh)"
        )
    table = Table(title=title, caption=caption)
    table.add_column("scope")
    for heading in ("jobs", "wait mean", "wait p95", "wait max", "bsld mean", "bsld p95", "util", "makespan"):
        table.add_column(heading, justify="right")
    table.add_row("all", *_cells(summary), end_section=len(summary["pools"]) > 0)
    for name, block in summary["pools"].items():
        table.add_row(name, *_cells(block))
    return table


def _cells(block: dict[str, Any]) -> list[str]:
    wait_s = block["wait_s"]
    bsld = block["bounded_slowdown"]
    return [
        f"{block['jobs']:,}",
        format_duration_s(wait_s["mean"]),
        format_duration_s(wait_s["p95"]),
        format_duration_s(wait_s["max"]),
        _number(bsld["mean"]),
        _number(bsld["p95"]),
        "-" if block["utilization"] is None else f"{100.0 * block['utilization']:.1f} %",
        format_duration_s(block["makespan_s"]),
    ]


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _megawatts(watts: float | None) -> str:
    return "-" if watts is None else f"{watts / 1e6:.2f} MW"


def render_power(overview: dict[str, Any]) -> Table:
    """``pmtwin power``: watts per node, idle and by power class, then the system and facility totals."""
    from rich.table import Table

    classes = list(overview["node_types"][0]["classes_w"]) if overview["node_types"] else []
    static = overview["static_w"]
    low, high = overview["full_load_facility_w"]
    caption = (
        f"system idle {overview['idle_system_w'] / 1e6:.3f} MW, full load "
        f"{overview['full_load_system_w'] / 1e6:.3f} MW (every batch node in its heaviest class); facility "
        f"idle {overview['idle_facility_w'] / 1e6:.3f} MW, full load {low / 1e6:.3f}-{high / 1e6:.3f} MW; "
        f"switches {static['switches'] / 1e3:,.0f} kW, storage {static['storage'] / 1e3:,.0f} kW, "
        f"conversion efficiency {overview['conversion_efficiency']:.2f}"
    )
    for note in overview["missing_figures"]:
        caption += f"\nnote: {note}"
    table = Table(title=f"{overview['machine']}: power per node (W)", caption=caption)
    for heading in ("node type", "count", "idle", *classes):
        table.add_column(heading, justify="left" if heading == "node type" else "right")
    for node_type in overview["node_types"]:
        table.add_row(
            node_type["name"], f"{node_type['count']:,}", f"{node_type['idle_w']:,.0f}",
            *(f"{node_type['classes_w'][name]:,.0f}" for name in classes),
        )  # fmt: skip
    return table


def render_validation(rows: Sequence[ValidationRow]) -> Table:
    """``pmtwin validate``: prediction, published value, error and target per row."""
    from rich.table import Table

    table = Table(title="pmtwin validation")
    for heading in ("check", "predicted", "published", "unit", "error", "target", "met"):
        table.add_column(heading, justify="left" if heading == "check" else "right")
    for row in rows:
        met = abs(row.error_pct) <= row.target_pct
        table.add_row(
            row.name, f"{row.predicted:,.1f}", f"{row.published:,.1f}", row.unit, f"{row.error_pct:+.1f} %",
            f"±{row.target_pct:g} %", "yes" if met else "no",
        )  # fmt: skip
    return table


def render_prediction(prediction: Prediction) -> Table:
    """``pmtwin predict``: the run time, its breakdown, the model's figures and notes."""
    from rich.table import Table

    p = prediction
    table = Table(
        title=f"{p.app} on {p.nodes:,} {p.node_type} nodes of {p.machine}: {p.run_s:,.1f} s"
        f" ({p.run_s / 3600:,.2f} h)",
        caption="\n".join(p.notes) or None,
    )
    table.add_column("quantity")
    table.add_column("value", justify="right")
    for name, seconds in p.breakdown.items():
        table.add_row(name, f"{seconds:,.3f}")
    for name, value in p.figures.items():
        table.add_row(name, f"{value:,.6g}")
    for name, value in p.inputs.items():
        table.add_row(f"input {name}", str(value))
    return table
