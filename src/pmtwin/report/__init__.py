"""Reports of runs: a self-contained ``report.html`` with interactive charts, PNGs of the same charts,
and side-by-side comparisons of scenarios (docs/reports.md)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pmtwin._files import replace_file

if TYPE_CHECKING:
    from pmtwin.report.rundata import RunData

ReportKind = Literal["full", "html", "none"]
"""What a run writes besides its data: ``report.html`` and PNGs, the page only, or nothing."""
REPORT_KINDS: tuple[ReportKind, ...] = ("full", "html", "none")

REPORT_NAME = "report.html"


def write_report(run_dir: Path, *, pngs: bool = True) -> Path:
    """Write ``report.html`` (and, with ``pngs``, one ``<chart>.png`` per chart) into a run directory;
    returns the page's path."""
    from pmtwin.report.rundata import load_run

    return write_run_report(load_run(Path(run_dir)), pngs=pngs)


def write_run_report(run: RunData, *, pngs: bool) -> Path:
    """``write_report`` for a run already in memory (``pmtwin.report.rundata.run_data``)."""
    from pmtwin.report.build import run_report
    from pmtwin.report.html import render_html

    report = run_report(run)
    names: list[str] = []
    if pngs:
        from pmtwin.report.png import write_pngs

        names = [path.stem for path in write_pngs(report, run.path)]
    return replace_file(run.path / REPORT_NAME, render_html(report, names).encode())


def write_comparison(run_dirs: Sequence[Path], out: Path, *, names: Sequence[str] | None = None) -> Path:
    """Write a comparison of two or more runs (the first is the baseline) as one HTML page at ``out``;
    ``names`` label the runs (default: their directories' names)."""
    from pmtwin.report.build import comparison_report
    from pmtwin.report.html import render_html
    from pmtwin.report.rundata import load_run

    runs = [load_run(Path(d)) for d in run_dirs]
    if names is not None:
        if len(names) != len(runs):
            raise ValueError(f"{len(names)} names for {len(runs)} runs")
        runs = [replace(run, name=name) for run, name in zip(runs, names, strict=True)]
    report = comparison_report(runs)
    out = Path(out)
    if out.exists() and out.is_dir():
        raise ValueError(f"{out}: is a directory; give the comparison's file name (e.g. compare.html)")
    out.parent.mkdir(parents=True, exist_ok=True)
    return replace_file(out, render_html(report).encode())
