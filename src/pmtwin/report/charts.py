"""What a report shows, independent of how it is drawn: charts of traces, and a table of figures.

``pmtwin.report.data`` builds these from a run directory; ``html`` draws them with the embedded plotly.js
and ``png`` with matplotlib, so both outputs show the same numbers.

Chart kinds (``Trace`` fields each uses):

- ``line``: ``x``, ``y`` joined by straight lines (series resampled to bin means);
- ``ecdf``: ``x`` values, ``y`` cumulative fractions (0..1), drawn as a step curve;
- ``scatter``: ``x``, ``y``: the first trace as points, any others as lines with markers (a summary
  curve over the points);
- ``bar``: ``labels`` (categories) and ``y`` (one bar each);
- ``gantt``: one rectangle per row: time ``x`` to ``x_end``, units ``y`` to ``y + height``;
- ``points``: ``x`` (numbers) or ``labels`` (categories), ``y``, and optionally ``y_low`` and ``y_high``
  (an interval per point): markers joined by lines, with error bars from ``y_low`` to ``y_high``. On a
  categorical axis several traces are offset slightly, so that their bars do not cover each other. All
  traces of one chart are numeric or all categorical.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import NDArray

ChartKind = Literal["line", "ecdf", "scatter", "bar", "gantt", "points"]
Better = Literal["lower", "higher"]


@dataclass(frozen=True)
class Trace:
    """One named set of points (or bars, or rectangles) of a chart."""

    name: str
    x: NDArray[np.float64] = field(default_factory=lambda: np.empty(0))
    y: NDArray[np.float64] = field(default_factory=lambda: np.empty(0))
    x_end: NDArray[np.float64] | None = None
    height: NDArray[np.float64] | None = None
    labels: tuple[str, ...] = ()
    dash: bool = False
    """Drawn dashed (a reference line, such as a budget)."""
    y_low: NDArray[np.float64] | None = None
    y_high: NDArray[np.float64] | None = None
    """The interval of each point (``points`` charts: drawn as error bars); None: no interval."""


@dataclass(frozen=True)
class Chart:
    """A chart: ``key`` names its PNG file (``<key>.png``) and its place in the HTML page."""

    key: str
    title: str
    kind: ChartKind
    x_label: str
    y_label: str
    traces: tuple[Trace, ...]
    x_log: bool = False
    y_log: bool = False
    note: str = ""
    """Shown under the chart: sampling, clipping, what is left out."""


@dataclass(frozen=True)
class Row:
    """A line of the summary table: one value per run (None: the run has no such figure)."""

    label: str
    values: tuple[float | int | str | None, ...]
    unit: str = ""
    better: Better | None = None
    """Which way is an improvement, for highlighting deltas in a comparison."""
    digits: int = 3
    """Significant digits shown for a float."""


@dataclass(frozen=True)
class Report:
    """A report of one run (``runs`` has one name) or a comparison (the first run is the baseline)."""

    title: str
    runs: tuple[str, ...]
    facts: tuple[tuple[str, str], ...]
    """Key facts about the run(s): command, machine, workload, policy (label, text)."""
    table: tuple[Row, ...]
    charts: tuple[Chart, ...]
    notes: tuple[str, ...] = ()
