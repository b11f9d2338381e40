"""The replay normalisation of SWF records (scheduling-semantics.md, "Units and trace normalisation").

1. skip a record whose run time <= 0, then one whose size <= 0 (counted by reason);
2. size := allocated processors if > 0, else requested processors; capped at the capacity (the
   override, else header ``MaxProcs``, else ``MaxNodes``, else the largest size of the kept jobs, or 1
   for a trace that keeps no job);
3. requested time := run time if the requested time is < 0, else max(requested time, run time);
4. rows in canonical order (submit time, job id; stable).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from pmtwin.workload import _swf_format as fmt
from pmtwin.workload.jobs import JobTable

RUN_REASON = "run<=0"
SIZE_REASON = "size<=0"
CAPACITY_KEYS = ("MaxProcs", "MaxNodes")
SMALL_SPAN = 1 << 16


@dataclass(frozen=True)
class Normalised:
    jobs: JobTable
    capacity: int
    capacity_source: str
    skipped: dict[str, int]
    capped: int
    partition_numbers: tuple[int, ...]


def normalise(
    fields: NDArray[np.float64],
    header: dict[str, str],
    declared_partitions: dict[int, str],
    capacity_override: int | None,
) -> Normalised:
    """Normalise the SWF records in ``fields`` (18 rows, one column per record; integer fields whole)."""
    run_s = fields[fmt.RUN]
    allocated = fields[fmt.ALLOCATED]
    size = np.where(allocated > 0, allocated, fields[fmt.REQUESTED_PROCS]).astype(np.int64)
    no_run = run_s <= 0
    no_size = ~no_run & (size <= 0)
    kept = ~(no_run | no_size)
    every = bool(kept.all())

    def column(index: int) -> NDArray[np.float64]:
        return np.ascontiguousarray(fields[index]) if every else fields[index][kept]

    size = size if every else size[kept]
    capacity, source = _capacity(capacity_override, header, size)
    over = size > capacity
    size[over] = capacity
    run_s = column(fmt.RUN)
    estimate_s = column(fmt.REQUESTED_TIME)
    codes, names, numbers = _partitions(column(fmt.PARTITION).astype(np.int64), declared_partitions)
    jobs = JobTable(
        job_id=column(fmt.JOB).astype(np.int64),
        submit_s=column(fmt.SUBMIT),
        work_s=run_s,
        requested_s=np.where(estimate_s < 0, run_s, np.maximum(estimate_s, run_s)),
        size=size,
        partition=codes,
        partition_names=names,
        user=column(fmt.USER).astype(np.int64),
        group=column(fmt.GROUP).astype(np.int64),
    )
    return Normalised(
        jobs=_in_canonical_order(jobs),
        capacity=capacity,
        capacity_source=source,
        skipped={RUN_REASON: int(no_run.sum()), SIZE_REASON: int(no_size.sum())},
        capped=int(over.sum()),
        partition_numbers=numbers,
    )


def _capacity(override: int | None, header: dict[str, str], size: NDArray[np.int64]) -> tuple[int, str]:
    """The machine size and where it came from; a header value that does not parse or is <= 0 is
    passed over. With no jobs and no header value it is 0."""
    if override is not None:
        return override, "override"
    for key in CAPACITY_KEYS:
        count = fmt.header_count(header.get(key, ""))
        if count is not None:
            return count, key
    return (int(size.max()) if len(size) else 1), "largest size"


def _partitions(
    numbers: NDArray[np.int64], declared: dict[int, str]
) -> tuple[NDArray[np.int32], tuple[str, ...], tuple[int, ...]]:
    """Partition codes, names and SWF numbers for the partition field of the kept jobs.

    Names are those of the numbers used, in increasing number order: the declared name, else the
    number itself (``unknown`` for -1). Numbers that share a name share a code, whose SWF number is
    the smallest of them.
    """
    used, index_of_used = _used_values(numbers)
    code_of_name: dict[str, int] = {}
    first_number: list[int] = []
    code_of_used = np.empty(len(used), np.int32)
    for k, number in enumerate(used.tolist()):
        name = declared.get(number, fmt.default_partition_name(number))
        if name not in code_of_name:
            code_of_name[name] = len(code_of_name)
            first_number.append(number)
        code_of_used[k] = code_of_name[name]
    if not code_of_name:
        return np.empty(0, np.int32), (fmt.UNKNOWN_PARTITION,), (-1,)
    return code_of_used[index_of_used], tuple(code_of_name), tuple(first_number)


def _used_values(numbers: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.intp]]:
    """The distinct values, sorted, and each element's index among them (``np.unique`` with
    ``return_inverse``, in linear time when the values span a small range, as partition numbers do)."""
    if len(numbers) == 0:
        return numbers, np.empty(0, np.intp)
    low = int(numbers.min())
    span = int(numbers.max()) - low + 1
    if span > SMALL_SPAN:
        used, inverse = np.unique(numbers, return_inverse=True)
        return used, inverse.reshape(-1)
    offset = numbers - low
    present = np.zeros(span, np.bool_)
    present[offset] = True
    rank = np.cumsum(present) - 1
    return np.flatnonzero(present) + low, rank[offset]


def _in_canonical_order(jobs: JobTable) -> JobTable:
    """The rows sorted by (submit time, job id), stably; no copy when they already are."""
    step_s = np.diff(jobs.submit_s)
    in_order = (step_s > 0) | ((step_s == 0) & (np.diff(jobs.job_id) >= 0))
    return jobs if bool(in_order.all()) else jobs.take(jobs.canonical_order())
