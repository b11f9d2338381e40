"""Job tables as Parquet files: one column per JobTable column, categoricals (partition, constraint,
qos, power_class) as dictionary-encoded strings, the category names (order and unused names included)
in the schema metadata.

Dependencies are a string column ``depends`` in Slurm's ``--dependency`` syntax, on the row of the
dependent job: ``afterok:12,afterany:13`` (``afterok:12:14`` is read too; "" is no dependency). It is
written only when the table has dependencies (``JobTable.depends`` is not None), and a table read
without it has none. The order of the dependency entries carries no meaning and is not kept: they read
back in row order.

The same table always gives the same bytes (no time stamps or random identifiers are written).
Files without the Slurm-mode columns (qos, limit_s, cores, mem_mb, array_id, array_throttle, depends)
or power_class still read, with the JobTable defaults. ``pyarrow`` is imported on first use, to keep
start-up fast.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import numpy as np
from numpy.typing import NDArray

from pmtwin.workload.errors import WorkloadFormatError
from pmtwin.workload.jobs import COLUMN_DTYPES, DEPENDENCY_KINDS, Dependencies, JobTable

if TYPE_CHECKING:
    import pyarrow as pa

METADATA_KEY = b"pmtwin.jobs"
FORMAT_VERSION = 3
"""2: the Slurm-mode columns and ``depends``; 3: ``power_class``."""
CATEGORIES = {
    "partition": "partition_names",
    "constraint": "constraint_names",
    "qos": "qos_names",
    "power_class": "power_class_names",
}
"""Categorical code columns and the JobTable field holding their names."""
REQUIRED = ("job_id", "submit_s", "work_s", "requested_s", "size")
COMPRESSION = "zstd"
DEPENDS = "depends"
JOB_COLUMNS = (*COLUMN_DTYPES, DEPENDS)
"""The columns the reader reads; a file's other columns are not read at all."""
KIND_NAMES = {kind: name for name, kind in DEPENDENCY_KINDS.items()}
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
    if jobs.depends is not None:
        columns[DEPENDS] = pa.array(_depends_text(jobs.job_id, jobs.depends), pa.string())
    metadata = {
        "version": FORMAT_VERSION,
        **{field: list(getattr(jobs, field)) for field in CATEGORIES.values()},
    }
    table = pa.table(columns).replace_schema_metadata({METADATA_KEY: json.dumps(metadata).encode()})
    pq.write_table(table, str(path), compression=COMPRESSION)


def read_jobs_parquet(path: str | Path) -> JobTable:
    """Read a job table written by ``write_jobs_parquet``.

    Other Parquet files with the required columns (job_id, submit_s, work_s, requested_s, size) are
    read too: missing optional columns take the JobTable defaults, string columns without stored names
    get their distinct values, sorted, as names, and columns that are not job columns are not read.
    """
    table = _read_table(path)
    missing = [name for name in REQUIRED if name not in table.column_names]
    if missing:
        raise WorkloadFormatError(path, f"no column {', '.join(missing)}")
    stored = json.loads((table.schema.metadata or {}).get(METADATA_KEY, b"{}"))
    partition, partition_names = _codes(path, table, "partition", stored)
    constraint, constraint_names = _codes(path, table, "constraint", stored)
    qos, qos_names = _codes(path, table, "qos", stored)
    power_class, power_class_names = _codes(path, table, "power_class", stored)
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
        qos=qos,
        qos_names=qos_names or ("",),
        limit_s=_numbers(path, table, "limit_s", np.float64),
        cores=_numbers(path, table, "cores", np.int64),
        mem_mb=_numbers(path, table, "mem_mb", np.int64),
        array_id=_numbers(path, table, "array_id", np.int64),
        array_throttle=_numbers(path, table, "array_throttle", np.int64),
        depends=_depends(path, table),
        power_class=power_class,
        power_class_names=power_class_names or ("",),
    )


def _read_table(path: str | Path) -> pa.Table:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(str(path))
        return parquet.read(columns=[name for name in parquet.schema_arrow.names if name in JOB_COLUMNS])
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


def _depends_text(job_id: NDArray[np.int64], depends: Dependencies) -> list[str]:
    """The ``depends`` cell of each row: a job's dependencies go on the first row with its id."""
    first_row: dict[int, int] = {}
    for row, job in enumerate(job_id.tolist()):
        first_row.setdefault(job, row)
    entries: list[list[str]] = [[] for _ in range(len(job_id))]
    for job, on_id, kind in zip(
        depends.job_id.tolist(), depends.on_id.tolist(), depends.kind.tolist(), strict=True
    ):
        if job not in first_row:
            raise ValueError(f"JobTable depends names job {job}, which has no row")
        entries[first_row[job]].append(f"{KIND_NAMES[kind]}:{on_id}")
    return [",".join(row) for row in entries]


def _depends(path: str | Path, table: pa.Table) -> Dependencies | None:
    """The dependencies of the ``depends`` column (None when absent)."""
    import pyarrow as pa

    column = _column(path, table, DEPENDS)
    if column is None:
        return None
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        raise WorkloadFormatError(path, f"column {DEPENDS} is {column.type}, not text")
    job_ids = _numbers(path, table, "job_id", np.int64).tolist()
    job_id: list[int] = []
    on_id: list[int] = []
    kind: list[int] = []
    for row, cell in enumerate(column.to_pylist()):
        for kind_code, on in _parse_depends(path, f"row {row} (job {job_ids[row]})", cell):
            job_id.append(job_ids[row])
            on_id.append(on)
            kind.append(kind_code)
    return Dependencies(np.array(job_id, np.int64), np.array(on_id, np.int64), np.array(kind, np.int8))


def _parse_depends(path: str | Path, where: str, cell: str) -> list[tuple[int, int]]:
    """(kind, job id) pairs of one ``depends`` cell, e.g. ``afterok:12:14,afterany:13``; ``where`` names
    the row (counted from 0) in errors."""
    pairs: list[tuple[int, int]] = []
    for entry in filter(None, cell.split(",")):
        name, *ids = entry.split(":")
        try:
            pairs.extend((DEPENDENCY_KINDS[name], int(on)) for on in ids or [""])
        except (KeyError, ValueError):
            detail = f"column {DEPENDS}, {where}: {entry!r} is not afterok:ID or afterany:ID"
            raise WorkloadFormatError(path, detail) from None
    return pairs
