"""A compact terminal view of a run summary (rich)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.table import Table

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
