"""A run directory read back for reporting: config, summary, the job columns a report needs, the series.

Only the columns the charts use are read. ``run_data`` builds the same object from a run still in
memory (what ``pmtwin simulate`` and ``replay`` do), without reading the files back.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from pmtwin.results.rundir import RUN_FILES
from pmtwin.results.series import LevelSeries
from pmtwin.sim.engine import Schedule
from pmtwin.workload.jobs import JobTable

JOB_COLUMNS = (
    "submit_s", "start_s", "end_s", "wait_s", "work_s", "size", "partition", "pool", "qos", "account",
    "energy_j",
)  # fmt: skip
"""Columns read from ``jobs.parquet`` when present (``submit_s`` .. ``pool`` always are)."""


@dataclass(frozen=True)
class Labels:
    """A categorical job column: codes into names."""

    codes: NDArray[np.int32]
    names: tuple[str, ...]


@dataclass(frozen=True)
class RunData:
    """What a report shows of one run."""

    name: str
    path: Path
    config: dict[str, Any]
    summary: dict[str, Any]
    numbers: dict[str, NDArray[np.float64]]
    """Numeric job columns as float64 (``size``, ``account`` included; ``account`` -1: unknown)."""
    labels: dict[str, Labels]
    """Categorical job columns: ``partition``, ``pool``, and ``qos`` where the run has it."""
    series: dict[str, tuple[NDArray[np.float64], NDArray[np.float64]]]
    """Level series by name: change times (s) and levels."""

    node_offsets: NDArray[np.int64] | None = None
    """Node ids of job i are ``node_ids[node_offsets[i]:node_offsets[i + 1]]`` (None: not recorded)."""
    node_ids: NDArray[np.int64] | None = None

    @property
    def n_jobs(self) -> int:
        return len(self.numbers["submit_s"])


def load_run(run_dir: Path) -> RunData:
    """Read a run directory; a missing directory or file is a ValueError naming it."""
    import pyarrow.parquet as pq

    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ValueError(f"{run_dir}: not a run directory (no such directory)")
    for name in RUN_FILES:  # what write_run_dir writes
        if not (run_dir / name).is_file():
            raise ValueError(f"{run_dir / name}: missing; is {run_dir} a run directory of pmtwin?")
    try:
        config = tomllib.loads((run_dir / "config.toml").read_text(encoding="utf-8"))
        summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
        present = set(pq.read_schema(run_dir / "jobs.parquet").names)
        wanted = [c for c in (*JOB_COLUMNS, "nodes") if c in present]
        table = pq.read_table(run_dir / "jobs.parquet", columns=wanted, memory_map=True).unify_dictionaries()
        series_table = pq.read_table(run_dir / "series.parquet", memory_map=True).unify_dictionaries()
    except (OSError, ValueError) as exc:
        raise ValueError(f"{run_dir}: cannot read the run: {exc}") from None
    numbers: dict[str, NDArray[np.float64]] = {}
    labels: dict[str, Labels] = {}
    for name in table.column_names:
        column = table.column(name).combine_chunks()
        if name == "nodes":
            continue
        if hasattr(column, "dictionary"):
            codes = _numpy(column.indices, 0).astype(np.int32, copy=False)
            labels[name] = Labels(codes, tuple(str(v) for v in column.dictionary.to_pylist()))
        else:
            numbers[name] = _numpy(column.cast("float64"), np.nan)
    offsets, node_ids = _nodes(table.column("nodes")) if "nodes" in present else (None, None)
    series = _series(series_table)
    return RunData(run_dir.name, run_dir, config, summary, numbers, labels, series, offsets, node_ids)


def _numpy(array: Any, fill: float) -> NDArray[Any]:
    """A pyarrow array as numpy, nulls replaced by ``fill``."""
    if array.null_count:
        array = array.fill_null(fill)
    return np.asarray(array.to_numpy(zero_copy_only=False))


def _nodes(column: Any) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    import pyarrow as pa

    array = pa.concat_arrays(column.chunks) if column.num_chunks != 1 else column.chunk(0)
    offsets = np.asarray(array.offsets.to_numpy(), np.int64)
    values = np.asarray(array.values.to_numpy(), np.int64)
    return offsets - offsets[0], values[offsets[0] : offsets[-1]]


def _series(table: Any) -> dict[str, tuple[NDArray[np.float64], NDArray[np.float64]]]:
    """Each series' rows, in file order (a series' rows are in time order)."""
    column = table.column("series").combine_chunks()
    series = LevelSeries.from_rows(
        _numpy(column.indices, 0),
        column.dictionary.to_pylist(),
        _numpy(table.column("time_s").combine_chunks(), np.nan),
        _numpy(table.column("value").combine_chunks(), np.nan),
    )
    return {name: (time_s, value) for name, time_s, value in series.parts() if len(time_s)}


def run_data(
    out_dir: Path,
    *,
    config: dict[str, Any],
    summary: dict[str, Any],
    jobs: JobTable,
    schedule: Schedule,
    pool_names: tuple[str, ...],
    columns: Mapping[str, Any],
    series: LevelSeries,
) -> RunData:
    """A run's report data from memory: the same values ``load_run`` reads from its directory."""
    from pmtwin.results.rundir import Categorical

    numbers = {
        "submit_s": jobs.submit_s, "start_s": schedule.start_s, "end_s": schedule.end_s,
        "wait_s": schedule.start_s - jobs.submit_s, "work_s": jobs.work_s,
        "size": jobs.size.astype(np.float64),
    }  # fmt: skip
    for name in ("account", "energy_j"):
        if name in columns:
            numbers[name] = np.asarray(columns[name], np.float64)
    labels = {
        "partition": Labels(jobs.partition, tuple(jobs.partition_names)),
        "pool": Labels(schedule.pool, tuple(pool_names)),
    }
    qos = columns.get("qos")
    if isinstance(qos, Categorical):
        labels["qos"] = Labels(np.asarray(qos.codes, np.int32), tuple(qos.names))
    by_name = {name: series.get(name) for name in series.names}
    return RunData(
        out_dir.name, out_dir, config, summary, numbers, labels,
        {name: pair for name, pair in by_name.items() if len(pair[0])},
        schedule.node_offsets, schedule.node_ids,
    )  # fmt: skip
