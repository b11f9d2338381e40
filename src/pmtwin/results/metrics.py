"""Run metrics (scheduling-semantics.md, section Metrics) as a JSON-ready summary.

Per job: wait = start - submit, run = end - start, response = wait + run,
bounded slowdown = max(1, response / max(run, 10 s)).
Utilization of a set of jobs on a capacity = sum(run x size) / (capacity x (last end - first submit)),
where first submit and last end are those of the set: the whole run for the top level, the pool's own
jobs for a pool block.

Distributions are reported as mean, median, 95th percentile and maximum; percentiles use numpy's
``linear`` method (type 7 of Hyndman and Fan: linear interpolation between closest ranks). A value that
is undefined (no jobs, zero makespan) is ``None``, so the summary serialises to JSON without NaN.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from pmtwin.results._checks import check_schedule
from pmtwin.sim.engine import Schedule
from pmtwin.workload.jobs import JobTable

PERCENTILE_METHOD: Final = "linear"
"""numpy percentile method used for medians and 95th percentiles."""

BOUNDED_SLOWDOWN_MIN_RUN_S = 10.0
"""Run times shorter than this count as this long in the bounded slowdown."""

JsonDict = dict[str, Any]


@dataclass(frozen=True)
class _PerJob:
    """Per-job quantities, aligned rows."""

    submit_s: NDArray[np.float64]
    end_s: NDArray[np.float64]
    wait_s: NDArray[np.float64]
    response_s: NDArray[np.float64]
    bounded_slowdown: NDArray[np.float64]
    busy_unit_s: NDArray[np.float64]

    @classmethod
    def of(cls, jobs: JobTable, schedule: Schedule) -> _PerJob:
        run_s = schedule.end_s - schedule.start_s
        response_s = schedule.end_s - jobs.submit_s
        return cls(
            submit_s=jobs.submit_s,
            end_s=schedule.end_s,
            wait_s=schedule.start_s - jobs.submit_s,
            response_s=response_s,
            bounded_slowdown=np.maximum(1.0, response_s / np.maximum(run_s, BOUNDED_SLOWDOWN_MIN_RUN_S)),
            busy_unit_s=run_s * jobs.size,
        )


def compute_summary(
    jobs: JobTable,
    schedule: Schedule,
    *,
    pool_names: Sequence[str],
    pool_capacity: NDArray[np.int64],
    skipped: Mapping[str, int],
) -> JsonDict:
    """The summary of a finished run: overall block, one block per pool and per partition.

    Keys: ``jobs``, ``skipped`` {total, by_reason}, ``capacity``, ``first_submit_s``, ``last_end_s``,
    ``makespan_s``, ``utilization``, ``wait_s`` / ``bounded_slowdown`` {mean, median, p95, max},
    ``response_s`` {mean}, ``pools`` {name: the same block for the pool's jobs and capacity},
    ``partitions`` {name: job count and distributions; no utilization, a partition has no capacity of
    its own}, ``percentile_method`` and ``bounded_slowdown_min_run_s``. Every pool and partition is
    listed, empty ones with ``jobs`` 0 and ``None`` values.
    """
    check_schedule(jobs, schedule, pool_names, pool_capacity)
    capacity = np.asarray(pool_capacity, np.int64)
    per_job = _PerJob.of(jobs, schedule)
    everyone = np.zeros(len(jobs), np.int32)
    (summary,) = _group_blocks(per_job, everyone, [int(capacity.sum())])
    summary["skipped"] = {
        "total": int(sum(skipped.values())),
        "by_reason": {reason: int(count) for reason, count in sorted(skipped.items())},
    }
    pools = _group_blocks(per_job, schedule.pool, [int(c) for c in capacity])
    summary["pools"] = dict(zip(pool_names, pools, strict=True))
    partitions = _group_blocks(per_job, jobs.partition, [None] * len(jobs.partition_names))
    summary["partitions"] = dict(zip(jobs.partition_names, partitions, strict=True))
    summary["percentile_method"] = PERCENTILE_METHOD
    summary["bounded_slowdown_min_run_s"] = BOUNDED_SLOWDOWN_MIN_RUN_S
    return summary


def _group_blocks(
    per_job: _PerJob, codes: NDArray[np.int32], capacities: Sequence[int | None]
) -> list[JsonDict]:
    """One block per group code; a group with a capacity also gets its span and utilization."""
    n_groups = len(capacities)
    counts = np.bincount(codes, minlength=n_groups)
    response_sum_s = np.bincount(codes, per_job.response_s, n_groups)
    blocks = []
    for k, capacity in enumerate(capacities):
        members = slice(None) if counts[k] == len(codes) else codes == k
        count = int(counts[k])
        block: JsonDict = {
            "jobs": count,
            "wait_s": _distribution(per_job.wait_s[members]),
            "response_s": {"mean": float(response_sum_s[k] / count) if count else None},
            "bounded_slowdown": _distribution(per_job.bounded_slowdown[members]),
        }
        if capacity is not None:
            block |= _capacity_block(per_job, members, count, capacity)
        blocks.append(block)
    return blocks


def _capacity_block(
    per_job: _PerJob, members: slice | NDArray[np.bool_], count: int, capacity: int
) -> JsonDict:
    """Capacity, time span and utilization of the member jobs run on ``capacity`` units."""
    if count == 0:
        return {
            "capacity": capacity,
            "first_submit_s": None,
            "last_end_s": None,
            "makespan_s": None,
            "utilization": None,
        }
    first_submit_s = float(per_job.submit_s[members].min())
    last_end_s = float(per_job.end_s[members].max())
    makespan_s = last_end_s - first_submit_s
    busy_unit_s = float(per_job.busy_unit_s[members].sum())
    return {
        "capacity": capacity,
        "first_submit_s": first_submit_s,
        "last_end_s": last_end_s,
        "makespan_s": makespan_s,
        "utilization": busy_unit_s / (capacity * makespan_s) if makespan_s > 0 else None,
    }


def _distribution(values: NDArray[np.float64]) -> JsonDict:
    if len(values) == 0:
        return {"mean": None, "median": None, "p95": None, "max": None}
    median, p95 = np.percentile(values, [50.0, 95.0], method=PERCENTILE_METHOD)
    return {
        "mean": float(values.mean()),
        "median": float(median),
        "p95": float(p95),
        "max": float(values.max()),
    }


def summary_figure(summary: dict[str, Any], path: tuple[str, ...], factor: float = 1.0) -> float | int | None:
    """The figure at ``path`` in a summary (scaled by ``factor``; whole numbers stay integers when
    unscaled), or None where the run has no such figure."""
    node: Any = summary
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    if isinstance(node, bool) or not isinstance(node, int | float):
        return None
    if isinstance(node, int) and factor == 1.0:
        return node
    return float(node) * factor
