"""Job tables as Parquet files: one column per JobTable column, categoricals as dictionary-encoded
strings, the category names (order and unused names included) in the schema metadata.

The same table always gives the same bytes (no time stamps or random identifiers are written).
``pyarrow`` is imported on first use, to keep start-up fast.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import numpy as np
from numpy.typing import NDArray

from pmtwin.workload.errors import WorkloadFormatError
from pmtwin.workload.jobs import COLUMN_DTYPES, JobTable

if TYPE_CHECKING:
    import pyarrow as pa

METADATA_KEY = b"pmtwin.jobs"
FORMAT_VERSION = 1
CATEGORIES = {"partition": "partition_names", "constraint": "constraint_names"}
"""Categorical code columns and the JobTable field holding their names."""
REQUIRED = ("job_id", "submit_s", "work_s", "requested_s", "size")
COMPRESSION = "zstd"
NumberT = TypeVar("NumberT", np.int64, np.float64)


def write_jobs_parquet(jobs: JobTable, path: str | Path) -> None:
    """Write ``jobs`` to ``path`` (same table, same bytes)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns: dict[str, pa.Array] = {}
    for name in COLUMN_DTYPES:
        values = getattr(jobs, name)
        if name in CATEGORIES:
            columns[name] = _dictionary(name, values, getattr(jobs, CATEGORIES[name]))
        else:
            columns[name] = pa.array(values)
    metadata = {
        "version": FORMAT_VERSION,
        **{field: list(getattr(jobs, field)) for field in CATEGORIES.values()},
    }
    table = pa.table(columns).replace_schema_metadata({METADATA_KEY: json.dumps(metadata).encode()})
    pq.write_table(table, str(path), compression=COMPRESSION)


def read_jobs_parquet(path: str | Path) -> JobTable:
    """Read a job table written by ``write_jobs_parquet``.

    Other Parquet files with the required columns (job_id, submit_s, work_s, requested_s, size) are
    read too: missing optional columns take the JobTable defaults, and string columns without stored
    names get their distinct values, sorted, as names.
    """
    table = _read_table(path)
    missing = [name for name in REQUIRED if name not in table.column_names]
    if missing:
        raise WorkloadFormatError(path, f"no column {', '.join(missing)}")
    stored = json.loads((table.schema.metadata or {}).get(METADATA_KEY, b"{}"))
    partition, partition_names = _codes(path, table, "partition", stored)
    constraint, constraint_names = _codes(path, table, "constraint", stored)
    return JobTable(
        job_id=_numbers(path, table, "job_id", np.int64),
        submit_s=_numbers(path, table, "submit_s", np.float64),
        work_s=_numbers(path, table, "work_s", np.float64),
        requested_s=_numbers(path, table, "requested_s", np.float64),
        size=_numbers(path, table, "size", np.int64),
        partition=partition if len(partition) else np.zeros(table.num_rows, np.int32),
        partition_names=partition_names or ("default",),
        user=_numbers(path, table, "user", np.int64),
        group=_numbers(path, table, "group", np.int64),
        constraint=constraint,
        constraint_names=constraint_names or ("",),
        gpus=_numbers(path, table, "gpus", np.int64),
    )


def _read_table(path: str | Path) -> pa.Table:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.read_table(str(path))
    except FileNotFoundError:
        raise WorkloadFormatError(path, "no such file") from None
    except (OSError, pa.ArrowException) as err:
        raise WorkloadFormatError(path, f"not a readable Parquet file ({err})") from None


def _column(path: str | Path, table: pa.Table, name: str) -> pa.ChunkedArray | None:
    """The column ``name`` (None when absent); missing values are an error."""
    if name not in table.column_names:
        return None
    column = table.column(name)
    if column.null_count:
        raise WorkloadFormatError(path, f"column {name} has {column.null_count} missing values")
    return column


def _numbers(path: str | Path, table: pa.Table, name: str, dtype: type[NumberT]) -> NDArray[NumberT]:
    """A numeric column as a numpy array (empty when absent: the JobTable default applies)."""
    column = _column(path, table, name)
    if column is None:
        return np.empty(0, dtype)
    try:
        return np.ascontiguousarray(column.to_numpy(), dtype)
    except (TypeError, ValueError) as err:
        raise WorkloadFormatError(path, f"column {name} is not numeric ({err})") from None


def _codes(
    path: str | Path, table: pa.Table, name: str, stored: dict[str, list[str]]
) -> tuple[NDArray[np.int32], tuple[str, ...]]:
    """Codes and names of a categorical column (empty when absent); codes index the stored names,
    else the column's distinct values, sorted."""
    import pyarrow as pa
    import pyarrow.compute as pc

    column = _column(path, table, name)
    if column is None:
        return np.empty(0, np.int32), ()
    strings = column.cast(pa.string())
    names = stored.get(CATEGORIES[name])
    if names is None:
        names = sorted(pc.unique(strings).to_pylist())
    codes = pc.index_in(strings, value_set=pa.array(names, pa.string()))
    if codes.null_count:
        raise WorkloadFormatError(path, f"column {name} has values that are not among its stored names")
    return np.ascontiguousarray(codes.to_numpy(), np.int32), tuple(names)


def _dictionary(name: str, codes: NDArray[np.int32], names: tuple[str, ...]) -> pa.Array:
    """Codes as an Arrow dictionary array over ``names`` (which must be distinct)."""
    import pyarrow as pa

    if len(set(names)) != len(names):
        raise ValueError(f"JobTable {CATEGORIES[name]} has repeated names: {names}")
    if len(codes) and (codes.min() < 0 or codes.max() >= len(names)):
        raise ValueError(f"JobTable column {name!r} has codes outside {CATEGORIES[name]}")
    return pa.DictionaryArray.from_arrays(pa.array(codes, pa.int32()), pa.array(names, pa.string()))
