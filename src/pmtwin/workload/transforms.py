"""What-if transforms of a job table: more or less load, other job sizes, CPU work moved to GPUs, shuffled
job shapes, a time window. Each transform is a pure function returning the new table and a report.

Rules every transform follows:

- the result is ``renumber``-ed (combine.py): rows in canonical order (submit time, job id), ids 1..n,
  dependencies and array ids following their jobs. On a table already in canonical order with ids 1..n,
  a transform that moves no submit time keeps every id;
- nothing is dropped silently: the report (a flat ``dict`` of counts) has ``jobs_in`` and ``jobs_out``
  and counts every job, dependency and array head removed, as each function's docstring says;
- a dependency is removed when the job it waits on is removed (``dropped_dependencies``), or when a
  transform moves the job it waits on to after the dependent job in canonical order
  (``reordered_dependencies``; Slurm mode rejects a job whose dependency is not submitted before it);
- an array whose head (the task whose job id is the array id, its first task) is removed while other
  tasks stay gets as its array id the id of its first kept task in canonical order
  (``reheaded_arrays`` counts such arrays);
- times below 0 (unknown, -1) stay as they are; rounding up (``ceil``) takes a value less than
  1e-9 x max(1, value) above an integer as that integer, so float noise (3000.0000000000005) does not
  add a second;
- draws come from the ``rng`` given; the same generator state gives the same table, bit for bit.

``transform_config.py`` holds the user-facing configuration (a ``[[transforms]]`` list) and applies
a list of transforms with one seed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from pmtwin.workload.combine import concat_jobs, renumber
from pmtwin.workload.jobs import UNKNOWN, Dependencies, JobTable

Report = dict[str, int | float]
"""A transform's report: counts (int) and a few totals (float), by name."""

SECONDS_PER_DAY = 86_400.0
SECONDS_PER_WEEK = 7 * SECONDS_PER_DAY
CEIL_TOLERANCE = 1e-9
"""Relative slack of ``_ceil`` and ``_round_half_up`` for float noise."""

SHAPE_COLUMNS: tuple[str, ...] = (
    "work_s", "requested_s", "size", "partition", "user", "group", "constraint", "gpus", "qos", "limit_s",
    "cores", "mem_mb", "array_id", "array_throttle", "power_class",
)  # fmt: skip
"""The columns ``shuffle`` permutes: every column but ``job_id`` and ``submit_s``."""


# ---------------------------------------------------------------------------------------------------
# scale_load


def scale_load(
    jobs: JobTable,
    factor: float,
    method: Literal["resample", "compress"] = "resample",
    rng: np.random.Generator | None = None,
    exclude_qos: Sequence[str] = (),
) -> tuple[JobTable, Report]:
    """The workload with its offered load scaled by ``factor`` (> 0).

    ``method="resample"`` keeps the time window [first submit, last submit] and every job's hour of the
    week: copy k = 0 .. ceil(factor) - 1 of the table keeps each job with probability
    min(1, factor - k), one uniform from ``rng`` per job and copy (drawn copy by copy, in row order).
    Copy k is moved k weeks later, wrapped within the window: the times in the window with a job's
    hour of the week are the slots ``f, f + 1 week, ... <= last submit`` (``f`` the earliest at or after
    the first submit); a job in slot i moves to slot (i + k) mod (number of slots). Times move by whole
    weeks, so the hour of the week is kept exactly, and stay in the window (a window shorter than a week
    has one slot per hour of the week: copies keep their times). A copy keeps a dependency only when it
    keeps both jobs (``dropped_dependencies`` counts the others of kept jobs) and the order of the two
    jobs (``reordered_dependencies``); array ids are per copy (a copy without the head re-heads the
    array). ``rng`` is required. Report: ``copies``, ``jobs_not_drawn`` (copies x jobs - jobs out),
    ``dependencies_in``/``dependencies_out`` besides the rules' counts. Jobs in a QOS of
    ``exclude_qos`` (say ``realtime``: DESI's nights happen once whatever the load) are kept once, in
    copy 0, and never copied (``excluded`` counts them).

    ``method="compress"`` squeezes time instead: ``submit_s' = t0 + floor((submit_s - t0) / factor)``
    with ``t0`` the first submit time (factor < 1 stretches); every job is kept, nothing else changes
    but dependencies whose order the rounding reverses. Report: ``span_in_s``, ``span_out_s``.
    """
    _require(factor > 0 and math.isfinite(factor), "scale_load: factor must be a finite number > 0")
    if method == "compress":
        _require(not exclude_qos, "scale_load: exclude_qos applies to method 'resample' only")
        return _compress(jobs, factor)
    if method != "resample":
        raise ValueError(f"scale_load: unknown method {method!r} (expected 'resample' or 'compress')")
    if rng is None:
        raise ValueError("scale_load: method 'resample' needs rng")
    excluded = np.isin(np.asarray(jobs.qos_names)[jobs.qos], list(exclude_qos)) if len(jobs) else None
    return _resample(jobs, factor, rng, excluded if excluded is not None else np.zeros(0, np.bool_))


def _resample(
    jobs: JobTable, factor: float, rng: np.random.Generator, excluded: NDArray[np.bool_]
) -> tuple[JobTable, Report]:
    n, copies = len(jobs), math.ceil(factor)
    first_s = float(jobs.submit_s.min()) if n else 0.0
    last_s = float(jobs.submit_s.max()) if n else 0.0
    parts: list[JobTable] = []
    counts = {"dropped_dependencies": 0, "reordered_dependencies": 0, "reheaded_arrays": 0}
    for k in range(copies):
        keep = rng.random(n) < min(1.0, factor - k)
        keep[excluded] = k == 0
        part, dropped, reheaded = _subset(jobs, keep)
        old_submit = part.submit_s
        if k:
            part = replace(part, submit_s=_week_shift(old_submit, k, first_s, last_s))
        part, reordered = _drop_reordered(part, old_submit)
        counts["dropped_dependencies"] += dropped
        counts["reordered_dependencies"] += reordered
        counts["reheaded_arrays"] += reheaded
        parts.append(part)
    out = concat_jobs(parts)
    return out, {
        **_sizes(jobs, out),
        "copies": copies,
        "excluded": int(excluded.sum()),
        "jobs_not_drawn": copies * n - len(out),
        "dependencies_in": _dependency_count(jobs),
        "dependencies_out": _dependency_count(out),
        **counts,
    }


def _week_shift(
    submit_s: NDArray[np.float64], weeks: int, first_s: float, last_s: float
) -> NDArray[np.float64]:
    """``submit_s`` moved ``weeks`` slots later among the slots of its hour of the week in
    [first_s, last_s], wrapping from the last slot to the first (see ``scale_load``)."""
    slot = np.floor((submit_s - first_s) / SECONDS_PER_WEEK)
    first_slot_s = submit_s - slot * SECONDS_PER_WEEK
    slots = np.floor((last_s - first_slot_s) / SECONDS_PER_WEEK) + 1
    moved: NDArray[np.float64] = submit_s + (np.mod(slot + weeks, slots) - slot) * SECONDS_PER_WEEK
    return moved


def _compress(jobs: JobTable, factor: float) -> tuple[JobTable, Report]:
    if not len(jobs):
        return renumber(jobs), {**_sizes(jobs, jobs), "span_in_s": 0.0, "span_out_s": 0.0}
    t0 = float(jobs.submit_s.min())
    submit_s = t0 + np.floor((jobs.submit_s - t0) / factor)
    out, reordered = _drop_reordered(replace(jobs, submit_s=submit_s), jobs.submit_s)
    out = renumber(out)
    return out, {
        **_sizes(jobs, out),
        "reordered_dependencies": reordered,
        "span_in_s": float(jobs.submit_s.max()) - t0,
        "span_out_s": float(submit_s.max()) - t0,
    }


# ---------------------------------------------------------------------------------------------------
# rescale_sizes


def rescale_sizes(
    jobs: JobTable,
    factor: float,
    partitions: Sequence[str] | None = None,
    preserve: Literal["runtime", "work"] = "runtime",
    max_size: int | None = None,
) -> tuple[JobTable, Report]:
    """Job sizes scaled by ``factor`` (> 0) in the named ``partitions`` (``None``: every partition), e.g.
    factor = target machine's nodes / source machine's nodes.

    A row of those partitions with a known size (>= 1) gets ``size' = max(1, floor(size * factor + 0.5))``
    (half rounds up), then at most ``max_size`` (``capped`` counts the rows cut down to it). GPUs keep
    their count per node: ``gpus' = round_half_up(gpus * size' / size)`` (exact when ``gpus`` is a
    multiple of ``size``). With ``preserve="work"`` node-seconds are kept: where the size changed,
    ``work_s``, ``requested_s`` and ``limit_s`` become ``ceil(t * size / size')`` (ceil keeps
    ``requested_s >= work_s`` where it held); with ``"runtime"`` times stay. Cores and memory requests
    (per node, shared QOS) stay; ``shared_multi_node`` counts rows with such a request that now have more
    than one node (Slurm mode rejects a shared job above one node). Every job is kept.

    Report: ``rescaled`` (rows of the partitions), ``size_changed``, ``capped``, ``unknown_size`` (rows of
    the partitions with size < 1, left alone), ``shared_multi_node``, ``node_seconds_in``/``_out``
    (sum of size x work_s over jobs with known size and work).
    """
    _require(factor > 0 and math.isfinite(factor), "rescale_sizes: factor must be a finite number > 0")
    _require(max_size is None or max_size >= 1, "rescale_sizes: max_size must be >= 1")
    _require(preserve in ("runtime", "work"), f"rescale_sizes: unknown preserve {preserve!r}")
    rows = _partition_rows(jobs, partitions, "rescale_sizes")
    known = rows & (jobs.size >= 1)
    size, capped = _new_sizes(jobs.size, known, factor, max_size)
    changed = size != jobs.size
    old, new = jobs.size[changed], size[changed]
    gpus = jobs.gpus.copy()
    gpus[changed] = (2 * jobs.gpus[changed] * new + old) // (2 * old)
    resized = replace(jobs, size=size, gpus=gpus)
    if preserve == "work":
        resized = replace(
            resized,
            work_s=_scaled_times(jobs.work_s, changed, old, new),
            requested_s=_scaled_times(jobs.requested_s, changed, old, new),
            limit_s=_scaled_times(jobs.limit_s, changed, old, new),
        )
    out = renumber(resized)
    shared = (jobs.cores > 0) | (jobs.mem_mb > 0)
    return out, {
        **_sizes(jobs, out),
        "rescaled": int(rows.sum()),
        "size_changed": int(changed.sum()),
        "capped": capped,
        "unknown_size": int((rows & ~known).sum()),
        "shared_multi_node": int((shared & changed & (size > 1)).sum()),
        "node_seconds_in": _node_seconds(jobs),
        "node_seconds_out": _node_seconds(out),
    }


def _new_sizes(
    size: NDArray[np.int64], rows: NDArray[np.bool_], factor: float, max_size: int | None
) -> tuple[NDArray[np.int64], int]:
    """``size`` with ``min(max_size, max(1, round_half_up(size * factor)))`` at ``rows``, and the number of
    rows the cap cut down."""
    wanted = np.maximum(_round_half_up(size[rows].astype(np.float64) * factor), 1).astype(np.int64)
    top = np.iinfo(np.int64).max if max_size is None else max_size
    out = size.copy()
    out[rows] = np.minimum(wanted, top)
    return out, int((wanted > top).sum())


def _scaled_times(
    times_s: NDArray[np.float64], rows: NDArray[np.bool_], old: NDArray[np.int64], new: NDArray[np.int64]
) -> NDArray[np.float64]:
    """``times_s`` with ``ceil(t * old / new)`` at ``rows`` where t >= 0 (``old``, ``new``: one size per
    row; the product first, so whole results are exact)."""
    out = times_s.copy()
    values = times_s[rows]
    known = values >= 0
    values[known] = _ceil(values[known] * old[known] / new[known])
    out[rows] = values
    return out


def _node_seconds(jobs: JobTable) -> float:
    known = (jobs.size >= 1) & (jobs.work_s >= 0)
    return float(np.sum(jobs.size[known] * jobs.work_s[known]))


# ---------------------------------------------------------------------------------------------------
# shift_to_gpu


def shift_to_gpu(
    jobs: JobTable,
    share: float,
    speedup: float,
    rng: np.random.Generator | None,
    cpu_partition: str = "cpu",
    gpu_partition: str = "gpu",
    gpu_nodes_per_cpu_node: float = 1.0,
    gpus_per_node: int = 4,
    max_size: int | None = None,
) -> tuple[JobTable, Report]:
    """A ``share`` (0..1) of the CPU partition's jobs moved to the GPU partition, ``speedup`` (> 0) times
    faster.

    One uniform from ``rng`` per row (every row, in row order); a job of ``cpu_partition`` moves when its
    uniform is below ``share``. A moved job gets: partition ``gpu_partition`` (added to the names if
    missing), ``size' = max(1, ceil(size * gpu_nodes_per_cpu_node))``, ``work_s' = max(1, ceil(work_s /
    speedup))``, ``requested_s' = ceil(requested_s / speedup)`` and ``limit_s' = ceil(limit_s /
    speedup)``, each raised to ``work_s'`` where it was at least ``work_s`` before, ``gpus = size' *
    gpus_per_node``, no cores or memory request (0), constraint "" and power class "" (the node's
    default; names added if missing), its size at most ``max_size`` (the GPU partition's nodes, say).
    Its user, account, array and dependencies stay, and its QOS too except ``shared``: a moved job asks
    for whole GPU nodes, which the shared QOS refuses, so it moves to ``regular``. ``cpu_partition``
    must be a partition of the table (``ValueError`` otherwise); ``rng`` is required.

    Report: ``cpu_jobs``, ``moved``, ``capped`` (moved jobs cut down to ``max_size``),
    ``moved_shared_requests`` (moved jobs that had a cores or memory request, now gone) and
    ``shared_to_regular`` (moved jobs of the shared QOS now in regular).
    """
    _require(0 <= share <= 1, "shift_to_gpu: share must be in [0, 1]")
    _require(speedup > 0 and math.isfinite(speedup), "shift_to_gpu: speedup must be a finite number > 0")
    _require(
        gpu_nodes_per_cpu_node > 0 and math.isfinite(gpu_nodes_per_cpu_node),
        "shift_to_gpu: gpu_nodes_per_cpu_node must be a finite number > 0",
    )
    _require(gpus_per_node >= 0, "shift_to_gpu: gpus_per_node must be >= 0")
    _require(max_size is None or max_size >= 1, "shift_to_gpu: max_size must be >= 1")
    if rng is None:
        raise ValueError("shift_to_gpu: needs rng")
    is_cpu = _partition_rows(jobs, [cpu_partition], "shift_to_gpu")
    move = is_cpu & (rng.random(len(jobs)) < share)
    partition_names, gpu_code = _with_name(jobs.partition_names, gpu_partition)
    constraint_names, no_constraint = _with_name(jobs.constraint_names, "")
    power_class_names, default_class = _with_name(jobs.power_class_names, "")
    size = jobs.size.copy()
    size[move] = np.maximum(_ceil(np.maximum(jobs.size[move], 0) * gpu_nodes_per_cpu_node), 1).astype(
        np.int64
    )
    capped = np.zeros(len(jobs), np.bool_)
    if max_size is not None:
        capped = move & (size > max_size)
        size[capped] = max_size
    was_shared = move & (np.asarray(jobs.qos_names)[jobs.qos] == "shared") if len(jobs) else move
    qos_names, regular = _with_name(jobs.qos_names, "regular") if was_shared.any() else (jobs.qos_names, 0)
    work_s = jobs.work_s.copy()
    work_s[move] = np.where(
        jobs.work_s[move] >= 0, np.maximum(_ceil(jobs.work_s[move] / speedup), 1), jobs.work_s[move]
    )
    moved = replace(
        jobs,
        partition=np.where(move, gpu_code, jobs.partition),
        partition_names=partition_names,
        size=size,
        work_s=work_s,
        requested_s=_sped_up(jobs.requested_s, jobs.work_s, work_s, move, speedup),
        limit_s=_sped_up(jobs.limit_s, jobs.work_s, work_s, move, speedup),
        gpus=np.where(move, size * gpus_per_node, jobs.gpus),
        cores=np.where(move, 0, jobs.cores),
        mem_mb=np.where(move, 0, jobs.mem_mb),
        constraint=np.where(move, no_constraint, jobs.constraint),
        constraint_names=constraint_names,
        power_class=np.where(move, default_class, jobs.power_class),
        power_class_names=power_class_names,
        qos=np.where(was_shared, regular, jobs.qos),
        qos_names=qos_names,
    )
    out = renumber(moved)
    return out, {
        **_sizes(jobs, out),
        "cpu_jobs": int(is_cpu.sum()),
        "moved": int(move.sum()),
        "capped": int(capped.sum()),
        "moved_shared_requests": int((move & ((jobs.cores > 0) | (jobs.mem_mb > 0))).sum()),
        "shared_to_regular": int(was_shared.sum()),
    }


def _sped_up(
    times_s: NDArray[np.float64],
    work_s: NDArray[np.float64],
    new_work_s: NDArray[np.float64],
    rows: NDArray[np.bool_],
    speedup: float,
) -> NDArray[np.float64]:
    """``times_s`` at ``rows`` (where >= 0) divided by ``speedup`` and rounded up, then at least the new
    work where it was at least the old work."""
    out = times_s.copy()
    at = rows & (times_s >= 0)
    out[at] = _ceil(times_s[at] / speedup)
    covered = at & (times_s >= work_s)
    out[covered] = np.maximum(out[covered], new_work_s[covered])
    return out


def _with_name(names: tuple[str, ...], name: str) -> tuple[tuple[str, ...], int]:
    """``names`` with ``name`` appended when missing, and its code."""
    if name not in names:
        names = (*names, name)
    return names, names.index(name)


# ---------------------------------------------------------------------------------------------------
# shuffle


def shuffle(jobs: JobTable, rng: np.random.Generator | None) -> tuple[JobTable, Report]:
    """Submit times kept, job shapes permuted among them.

    The free jobs (not array tasks, not in any dependency on either side) keep their ``job_id`` and
    ``submit_s`` and take the other columns (``SHAPE_COLUMNS``) of the free job at
    ``rng.permutation(number of free jobs)``; the pinned jobs (array tasks, jobs in a dependency) keep
    everything. ``rng`` is required. Report: ``shuffled`` (free jobs), ``pinned``.
    """
    if rng is None:
        raise ValueError("shuffle: needs rng")
    pinned = jobs.array_id != UNKNOWN
    if jobs.depends is not None:
        pinned |= np.isin(jobs.job_id, jobs.depends.job_id) | np.isin(jobs.job_id, jobs.depends.on_id)
    free = np.flatnonzero(~pinned)
    source = free[rng.permutation(len(free))]
    columns: dict[str, Any] = {}
    for name in SHAPE_COLUMNS:
        column = getattr(jobs, name).copy()
        column[free] = column[source]
        columns[name] = column
    out = renumber(replace(jobs, **columns))
    return out, {**_sizes(jobs, out), "shuffled": len(free), "pinned": int(pinned.sum())}


# ---------------------------------------------------------------------------------------------------
# time_window


def time_window(jobs: JobTable, start_s: float, end_s: float, rebase: bool = True) -> tuple[JobTable, Report]:
    """The jobs submitted in [start_s, end_s); with ``rebase`` their submit times less ``start_s``.

    Dependencies on removed jobs are removed (``dropped_dependencies``); arrays that lose their head are
    re-headed (``reheaded_arrays``). Report: ``jobs_dropped`` too.
    """
    _require(end_s > start_s, "time_window: end_s must be > start_s")
    keep = (jobs.submit_s >= start_s) & (jobs.submit_s < end_s)
    part, dropped, reheaded = _subset(jobs, keep)
    if rebase:
        part = replace(part, submit_s=part.submit_s - start_s)
    out = renumber(part)
    return out, {
        **_sizes(jobs, out),
        "jobs_dropped": len(jobs) - len(out),
        "dropped_dependencies": dropped,
        "reheaded_arrays": reheaded,
    }


# ---------------------------------------------------------------------------------------------------
# shared helpers


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise ValueError(message)


def _sizes(before: JobTable, after: JobTable) -> Report:
    return {"jobs_in": len(before), "jobs_out": len(after)}


def _dependency_count(jobs: JobTable) -> int:
    return 0 if jobs.depends is None else len(jobs.depends.job_id)


def _partition_rows(jobs: JobTable, partitions: Sequence[str] | None, what: str) -> NDArray[np.bool_]:
    """Rows whose partition is one of ``partitions`` (``None``: every row); unknown names raise."""
    if partitions is None:
        return np.ones(len(jobs), bool)
    unknown = [name for name in partitions if name not in jobs.partition_names]
    if unknown:
        raise ValueError(f"{what}: partition {unknown[0]!r} is not one of the table's {jobs.partition_names}")
    codes = [jobs.partition_names.index(name) for name in partitions]
    return np.isin(jobs.partition, codes)


def _ceil(values: NDArray[np.float64]) -> NDArray[np.float64]:
    """ceil of values >= 0, where a value less than ``CEIL_TOLERANCE`` x max(1, value) above an integer
    gives that integer."""
    up: NDArray[np.float64] = (
        np.maximum(np.ceil(values - CEIL_TOLERANCE * np.maximum(values, 1.0)), 0.0) + 0.0
    )
    return up


def _round_half_up(values: NDArray[np.float64]) -> NDArray[np.float64]:
    """floor(v + 0.5) of values >= 0, with the slack of ``_ceil`` (2.4999999999999996 gives 3)."""
    rounded: NDArray[np.float64] = np.floor(values + 0.5 + CEIL_TOLERANCE * np.maximum(values, 1.0))
    return rounded


def _subset(jobs: JobTable, keep: NDArray[np.bool_]) -> tuple[JobTable, int, int]:
    """The rows at ``keep`` with valid references: dependencies of kept jobs on removed jobs removed,
    arrays without their head re-headed. Also returns the counts of both."""
    table = jobs.take(np.flatnonzero(keep))
    depends, dropped = jobs.depends, 0
    if depends is not None:
        child_kept = np.isin(depends.job_id, table.job_id)
        parent_kept = np.isin(depends.on_id, table.job_id)
        dropped = int((child_kept & ~parent_kept).sum())
        both = child_kept & parent_kept
        depends = Dependencies(depends.job_id[both], depends.on_id[both], depends.kind[both])
    array_id, reheaded = _reheaded(table)
    return replace(table, depends=depends, array_id=array_id), dropped, reheaded


def _reheaded(jobs: JobTable) -> tuple[NDArray[np.int64], int]:
    """Array ids where every array whose id is not a job of the table takes its first task's id (canonical
    order), and the number of such arrays."""
    array_id = jobs.array_id
    orphan = np.flatnonzero((array_id != UNKNOWN) & ~np.isin(array_id, jobs.job_id))
    if not len(orphan):
        return array_id, 0
    rows = orphan[np.lexsort((jobs.job_id[orphan], jobs.submit_s[orphan], array_id[orphan]))]
    arrays, first = np.unique(array_id[rows], return_index=True)
    out = array_id.copy()
    out[orphan] = jobs.job_id[rows[first]][np.searchsorted(arrays, array_id[orphan])]
    return out, len(arrays)


def _drop_reordered(jobs: JobTable, old_submit_s: NDArray[np.float64]) -> tuple[JobTable, int]:
    """``jobs`` (new submit times, same ids) less the dependencies whose job waited on came before the
    dependent job in canonical order with ``old_submit_s`` and no longer does; and their count."""
    d = jobs.depends
    if d is None or not len(d.job_id):
        return jobs, 0
    by_id = np.argsort(jobs.job_id, kind="stable")
    child = by_id[np.searchsorted(jobs.job_id[by_id], d.job_id)]
    parent = by_id[np.searchsorted(jobs.job_id[by_id], d.on_id)]
    ids = jobs.job_id
    before = _precedes(old_submit_s, ids, parent, child)
    after = _precedes(jobs.submit_s, ids, parent, child)
    keep = ~(before & ~after)
    depends = Dependencies(d.job_id[keep], d.on_id[keep], d.kind[keep])
    return replace(jobs, depends=depends), int((~keep).sum())


def _precedes(
    submit_s: NDArray[np.float64], ids: NDArray[np.int64], a: NDArray[np.intp], b: NDArray[np.intp]
) -> NDArray[np.bool_]:
    """Whether row ``a`` comes before row ``b`` in canonical order (submit time, then job id)."""
    earlier: NDArray[np.bool_] = (submit_s[a] < submit_s[b]) | (
        (submit_s[a] == submit_s[b]) & (ids[a] < ids[b])
    )
    return earlier
