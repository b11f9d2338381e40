"""Put job tables together and renumber them: the plumbing of generators and transforms.

Categorical columns (partition, constraint, QOS, power class) are codes into per-table name tuples;
``concat_jobs`` maps every table's codes onto one merged tuple of names (first appearance order), and
``renumber`` gives jobs the ids 1..n in canonical order (submit time, then the old id, then input
order) and rewrites dependencies and array ids to follow.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from pmtwin.workload.jobs import COLUMN_DTYPES, UNKNOWN, Dependencies, JobTable

CATEGORICAL: dict[str, str] = {
    "partition": "partition_names",
    "constraint": "constraint_names",
    "qos": "qos_names",
    "power_class": "power_class_names",
}
"""Code column -> its names attribute."""


def merged_names(name_lists: Sequence[tuple[str, ...]]) -> tuple[str, ...]:
    """Every name once, in order of first appearance."""
    return tuple(dict.fromkeys(name for names in name_lists for name in names))


def recode(codes: NDArray[np.int32], names: tuple[str, ...], onto: tuple[str, ...]) -> NDArray[np.int32]:
    """``codes`` into ``names`` as codes into ``onto`` (which must hold every name)."""
    mapping = np.array([onto.index(name) for name in names], np.int32)
    recoded: NDArray[np.int32] = mapping[codes] if len(codes) else np.zeros(0, np.int32)
    return recoded


def concat_jobs(tables: Sequence[JobTable]) -> JobTable:
    """One table holding every row of ``tables``, then ``renumber``-ed (ids 1..n, canonical order).

    Job ids (and dependencies and array ids, which refer to them) are made distinct first: each table
    after the first is shifted so that its smallest id is one above the largest id so far.
    """
    if not tables:
        raise ValueError("concat_jobs needs at least one table")
    names = {attr: merged_names([getattr(t, attr) for t in tables]) for attr in CATEGORICAL.values()}
    cols: dict[str, list[NDArray[np.generic]]] = {name: [] for name in COLUMN_DTYPES}
    dep_parts: list[Dependencies] = []
    top: int | None = None
    for table in tables:
        shift = 0 if top is None or not len(table) else top + 1 - int(table.job_id.min())
        for name in COLUMN_DTYPES:
            col = getattr(table, name)
            if name in CATEGORICAL:
                col = recode(col, getattr(table, CATEGORICAL[name]), names[CATEGORICAL[name]])
            elif name == "job_id":
                col = col + shift
            elif name == "array_id":
                col = np.where(col == UNKNOWN, UNKNOWN, col + shift)
            cols[name].append(col)
        if table.depends is not None:
            d = table.depends
            dep_parts.append(Dependencies(d.job_id + shift, d.on_id + shift, d.kind))
        if len(table):
            highest = int(table.job_id.max()) + shift
            top = highest if top is None else max(top, highest)
    depends = None
    if dep_parts:
        depends = Dependencies(
            np.concatenate([d.job_id for d in dep_parts]),
            np.concatenate([d.on_id for d in dep_parts]),
            np.concatenate([d.kind for d in dep_parts]),
        )
    fields: dict[str, Any] = {name: np.concatenate(parts) for name, parts in cols.items()}
    fields.update(names)
    merged = JobTable(**fields, depends=depends)
    return renumber(merged)


def renumber(jobs: JobTable) -> JobTable:
    """Rows in canonical order with job ids 1..n; dependencies and array ids follow their jobs.

    Old ids must be unique. A dependency on an id that is not in the table raises ``ValueError``.
    """
    order = np.lexsort((np.arange(len(jobs)), jobs.job_id, jobs.submit_s)).astype(np.intp)
    table = jobs.take(order)
    old_ids = table.job_id
    sorted_ids = np.sort(old_ids)
    if np.any(sorted_ids[1:] == sorted_ids[:-1]):
        raise ValueError("renumber: job ids must be unique")
    new_ids = np.arange(1, len(table) + 1, dtype=np.int64)
    array_id = table.array_id.copy()
    tasks = array_id != UNKNOWN
    if np.any(tasks):
        array_id[tasks] = _map_ids(old_ids, new_ids, array_id[tasks], "array id")
    depends = table.depends
    if depends is not None:
        depends = Dependencies(
            _map_ids(old_ids, new_ids, depends.job_id, "dependent job id"),
            _map_ids(old_ids, new_ids, depends.on_id, "dependency"),
            depends.kind,
        )
    return replace(table, job_id=new_ids, array_id=array_id, depends=depends)


def _map_ids(
    old_ids: NDArray[np.int64], new_ids: NDArray[np.int64], values: NDArray[np.int64], what: str
) -> NDArray[np.int64]:
    """``values`` (old ids) as new ids; every value must be an old id."""
    by_old = np.argsort(old_ids, kind="stable")
    pos = np.searchsorted(old_ids[by_old], values)
    pos = np.minimum(pos, max(len(old_ids) - 1, 0))
    found = len(old_ids) > 0 and bool(np.all(old_ids[by_old][pos] == values)) if len(values) else True
    if not found:
        missing = values[(old_ids[by_old][pos] != values)] if len(old_ids) else values
        raise ValueError(f"renumber: {what} {int(missing[0])} is not a job of the table")
    mapped: NDArray[np.int64] = new_ids[by_old][pos]
    return mapped
