"""The run directory: resolved config, per-job table, level series and summary, written deterministically.

Identical inputs give identical bytes (same pyarrow version): Parquet files carry no timestamps, the
JSON has sorted keys. Each file is written beside its final name and renamed into place.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from pmtwin._files import replace_file
from pmtwin.results.series import LevelSeries
from pmtwin.sim.engine import Schedule
from pmtwin.workload.jobs import JobTable

if TYPE_CHECKING:
    import pyarrow as pa

RUN_FILES = ("config.toml", "summary.json", "jobs.parquet", "series.parquet")
"""The files ``write_run_dir`` writes; nothing else in the directory is touched."""

_PARQUET_COMPRESSION = "snappy"
"""Fast enough for the replay time budget (a 313k-job table in well under 0.1 s)."""
_INT32_MAX = np.iinfo(np.int32).max


def write_run_dir(
    out_dir: Path,
    *,
    config_toml: str,
    jobs: JobTable,
    schedule: Schedule,
    summary: dict[str, Any],
    series: LevelSeries,
    pool_names: Sequence[str],
    extra_columns: Mapping[str, NDArray[Any] | Categorical] | None = None,
) -> None:
    """Write ``config.toml``, ``jobs.parquet``, ``series.parquet`` and ``summary.json`` into ``out_dir``.

    ``extra_columns`` (one value per job) are appended to ``jobs.parquet``. The directory is created
    with its parents; other files in it are left alone.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    replace_file(out_dir / "config.toml", config_toml.encode())
    table = job_results_table(jobs, schedule, pool_names)
    for name, values in (extra_columns or {}).items():
        table = table.append_column(name, _column(values))
    _write_parquet(out_dir / "jobs.parquet", table, ())
    _write_parquet(out_dir / "series.parquet", series.to_table(), ("value",))
    text = json.dumps(summary, indent=2, sort_keys=True, allow_nan=False) + "\n"
    replace_file(out_dir / "summary.json", text.encode())


def job_results_table(jobs: JobTable, schedule: Schedule, pool_names: Sequence[str]) -> pa.Table:
    """One row per job: ids, times (s), size, partition and pool names, and ``nodes`` when known.

    ``nodes`` is ``list<int64>`` (``large_list<int64>`` beyond 2**31 - 1 node ids in all).
    """
    import pyarrow as pa

    columns: dict[str, pa.Array] = {
        "job_id": pa.array(jobs.job_id),
        "submit_s": pa.array(jobs.submit_s),
        "start_s": pa.array(schedule.start_s),
        "end_s": pa.array(schedule.end_s),
        "wait_s": pa.array(schedule.start_s - jobs.submit_s),
        "work_s": pa.array(jobs.work_s),
        "requested_s": pa.array(jobs.requested_s),
        "size": pa.array(jobs.size),
        "partition": _categorical(jobs.partition, jobs.partition_names),
        "pool": _categorical(schedule.pool, pool_names),
    }
    if schedule.node_offsets is not None and schedule.node_ids is not None:
        columns["nodes"] = _node_lists(schedule.node_offsets, schedule.node_ids)
    return pa.table(columns)


@dataclass(frozen=True)
class Categorical:
    """A text column as codes into names (written dictionary-encoded)."""

    codes: NDArray[np.integer]
    names: Sequence[str]


def _column(values: NDArray[Any] | Categorical) -> pa.Array:
    import pyarrow as pa

    if isinstance(values, Categorical):
        return _categorical(values.codes.astype(np.int32), values.names)
    return pa.array(values)


def _categorical(codes: NDArray[np.int32], names: Sequence[str]) -> pa.Array:
    import pyarrow as pa

    return pa.DictionaryArray.from_arrays(
        pa.array(np.asarray(codes, np.int32)), pa.array(list(names), pa.string()), safe=True
    )


def _node_lists(offsets: NDArray[np.int64], node_ids: NDArray[np.int64]) -> pa.Array:
    import pyarrow as pa

    values = pa.array(np.asarray(node_ids, np.int64))
    if offsets[-1] <= _INT32_MAX:
        return pa.ListArray.from_arrays(pa.array(np.asarray(offsets, np.int32)), values)
    return pa.LargeListArray.from_arrays(pa.array(np.asarray(offsets, np.int64)), values)


def _write_parquet(path: Path, table: pa.Table, repetitive_columns: Sequence[str]) -> None:
    """Dictionary-encode categorical and ``repetitive_columns``, byte-split the other float columns."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    dictionary = [f.name for f in table.schema if pa.types.is_dictionary(f.type)] + list(repetitive_columns)
    split = [f.name for f in table.schema if pa.types.is_floating(f.type) and f.name not in dictionary]
    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(
        table,
        tmp,
        compression=_PARQUET_COMPRESSION,
        use_dictionary=dictionary,
        use_byte_stream_split=split or False,
    )
    os.replace(tmp, path)
