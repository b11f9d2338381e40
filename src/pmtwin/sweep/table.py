"""The sweep's results table: rows (dicts) to one Parquet file with a stable column order and types."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pmtwin.sweep.points import METRICS

if TYPE_CHECKING:
    import pyarrow as pa

LEADING = ("point_id", "index", "seed")
TRAILING = ("status", "error")
TIMING = ("wall_s", "simulate_s", "worker")
"""Where and how fast a point ran: these columns differ between two runs of the same point."""
LAST = ("run_dir", "config", "traceback")


def rows_table(rows: Sequence[dict[str, Any]], axes: Sequence[str]) -> pa.Table:
    """The rows as a table: identity, axis columns, status, metrics (per-pool utilization after the
    overall metrics), timing, run directory, resolved scenario. A column's type follows its values:
    integers, floats (integers and floats mixed), booleans, else text."""
    import pyarrow as pa

    pools = sorted({k for row in rows for k in row if k.startswith("utilization:")})
    names = [*LEADING, *axes, *TRAILING, *METRICS, *pools, *TIMING, *LAST]
    return pa.table({name: _column([row.get(name) for row in rows]) for name in names})


def write_table(table: pa.Table, path: Path) -> None:
    """Write beside ``path``, then rename into place (a reader never sees half a table)."""
    import pyarrow.parquet as pq

    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, path)


def _column(values: list[Any]) -> pa.Array:
    import pyarrow as pa

    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return pa.array(values, pa.bool_())
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return pa.array(values, pa.int64())
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return pa.array([None if v is None else float(v) for v in values], pa.float64())
    return pa.array([None if v is None else str(v) for v in values], pa.string())


def read_results(path: Path) -> pa.Table:
    """A sweep's results table; a missing or unreadable file is a ValueError naming it."""
    import pyarrow.parquet as pq

    try:
        return pq.read_table(path)
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: cannot read the sweep's results: {exc}") from None
