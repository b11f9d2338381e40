"""Fit a workload model (``model.py``) to a trace and write it as TOML.

``fit_model`` estimates every parameter ``generate_workload`` draws from, so that generating from the
fitted model over the trace's span reproduces the trace's marginal distributions of size, run time,
inter-arrival time and estimate accuracy (run time / time limit), and keeps their main correlations
(through the job classes). The rules:

- **Span and rate.** The span is last submit - first submit (``trace_span_s``; one day when that is
  0). Each partition's ``jobs_per_day`` is its job count over the span in days; its ``nodes`` comes
  from ``nodes`` or is the largest size seen in it.
- **Arrival profiles.** The hour of week of a submission (Monday 00:00 local = 0) is
  ``(start_hour_of_week + submit_s / 3600) mod 168``. The product rate ``weekly[day] x daily[hour]``
  is fitted to the submissions of all partitions pooled by Poisson maximum likelihood (iterative
  proportional fitting of the weekday and hour-of-day counts), each hour of week weighted by how
  long the span [first submit, last submit] covers it; so a weekday's rate is its count over how many
  of it the span holds. Both profiles are scaled to mean 1.
- **Gaps.** Operational time is the integral of the fitted hour-of-week rate (mean 1 over a week).
  Within each partition, the gaps between consecutive submissions in operational time are divided
  by that partition's mean gap; the gaps of all partitions are pooled (one law for every partition,
  as the model has one) and written as a linear quantile function (``quantile_dist``: 128 evenly
  spaced knots, refined towards the upper tail so the mean is kept, with knots at both edges of each
  atom, so that the point mass at zero - submissions in the same second - stays exact).
- **Classes.** A partition's jobs are split into groups by QOS and constraint (when the table uses more
  than one), each group by size bucket (log2: 1, 2, 3-4, 5-8, ...; adjacent buckets merged, in
  increasing size, until each holds at least ``min_jobs`` = the smaller of 200 and 1 % of the
  partition's jobs, but at least 20), and each size bucket by time-limit bucket (cut between distinct
  limits so that each holds at least max(``min_jobs``, an eighth of the size bucket); a short remainder
  joins the last bucket). Jobs whose limit is unknown (not finite or <= 0) form a cell of their own in
  their size bucket. Each cell is a class: ``share`` = its job count; ``size`` = the discrete law of its
  exact sizes when it has at most 64 distinct sizes, else a log quantile function; ``limit_s`` likewise
  (exact limits up to 64 distinct values, else log quantiles); ``accuracy`` = a log quantile function
  (64 knots) of run time / limit, with ``limit_accuracy_coupling`` set so that the class keeps the
  cell's mean of limit x accuracy, its mean run time (``_coupling``). A job whose limit is below its run
  time (it overran and was killed) counts with accuracy 1. A cell where at least 90 % of the jobs have a
  limit at or below their run time (SWF: the requested time was unknown, -1, so replay set it to the run
  time; or the job was killed), or whose limits are unknown, gets ``runtime_s`` (log quantiles of its
  run times) instead: its limit is then its run time.
- **Users and accounts.** ``count`` = distinct users (``user`` >= 0); the Zipf exponent is minus the
  least-squares slope of log(jobs of the user) against log(rank) (ranks by decreasing job count),
  clipped at 0; accounts likewise from ``group``. Unknown (all -1): the ``Users`` defaults.
- Floats are rounded to 6 significant digits, so the TOML reads well; everything is deterministic.

``compare.py`` measures how alike the trace and a workload generated from the model are.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel

from pmtwin._toml import dumps_toml
from pmtwin.workload.jobs import JobTable
from pmtwin.workload.model import (
    DAYS_PER_WEEK,
    HOURS_PER_DAY,
    Arrivals,
    Dist,
    JobClass,
    ModelInfo,
    PartitionModel,
    Users,
    WorkloadModel,
)

if TYPE_CHECKING:
    from pmtwin.workload.swf import SwfTrace

__all__ = [
    "fit_model",
    "hour_of_week",
    "model_to_toml",
    "quantile_dist",
    "swf_start_hour_of_week",
    "trace_span_s",
]

SECONDS_PER_HOUR = 3600.0
SECONDS_PER_DAY = 86400.0
HOURS_PER_WEEK = HOURS_PER_DAY * DAYS_PER_WEEK
SIGNIFICANT_DIGITS = 6
DISCRETE_MAX_VALUES = 64
"""A cell's sizes (limits) are written as their exact discrete law up to this many distinct values."""
QUANTILE_KNOTS = 64
"""Evenly spaced knots of the quantile functions of sizes, limits, run times and accuracies."""
GAP_KNOTS = 128
"""Evenly spaced knots of the gap law's quantile function."""
MIN_CELL_JOBS = 200
MIN_CELL_FRACTION = 0.01
MIN_CELL_FLOOR = 20
"""A size or limit bucket holds at least min(MIN_CELL_JOBS, max(MIN_CELL_FLOOR, MIN_CELL_FRACTION x the
partition's jobs)) jobs."""
LIMIT_BUCKETS = 8
"""At most this many limit buckets per size bucket (each holds at least a 1/LIMIT_BUCKETS share)."""
RUNTIME_ONLY_FRACTION = 0.9
"""A cell with at least this fraction of limits at or below the run time is fitted by run time alone."""
PROFILE_ITERATIONS = 50
MIN_ACCURACY = 1e-9


# ---------------------------------------------------------------------------------------------- fit


def fit_model(
    jobs: JobTable,
    *,
    name: str,
    source: str = "",
    start_hour_of_week: float = 0.0,
    nodes: Mapping[str, int] | None = None,
    description: str = "",
) -> WorkloadModel:
    """A workload model fitted to ``jobs`` (rules in the module docstring).

    ``start_hour_of_week`` is the local hour of week (Monday 00:00 = 0) of ``submit_s = 0``
    (``swf_start_hour_of_week`` gives it for an SWF trace, ``hour_of_week(0, tz)`` for sacct, whose
    times are Unix times); ``nodes`` gives partitions' node counts (default: the largest size seen);
    ``description`` defaults to a line naming ``source``, the job count and the span.
    """
    if len(jobs) == 0:
        raise ValueError("cannot fit a workload model to an empty job table")
    if not math.isfinite(start_hour_of_week):
        raise ValueError(f"start_hour_of_week must be finite, got {start_hour_of_week}")
    span_s = trace_span_s(jobs)
    t0 = float(jobs.submit_s.min())
    arrivals = _fit_arrivals(jobs, start_hour_of_week, t0, span_s)
    partitions: dict[str, PartitionModel] = {}
    for code, partition in enumerate(jobs.partition_names):
        rows = np.flatnonzero(jobs.partition == code)
        if len(rows) == 0:
            continue
        largest = int(jobs.size[rows].max())
        count = (nodes or {}).get(partition, max(largest, 1))
        partitions[partition] = PartitionModel(
            jobs_per_day=_round(len(rows) / (span_s / SECONDS_PER_DAY)),
            nodes=int(count),
            classes=_fit_classes(jobs, rows),
        )
    if not description:
        where = f" from {source}" if source else ""
        description = f"Fitted{where}: {len(jobs)} jobs over {_round(span_s / SECONDS_PER_DAY)} days."
    return WorkloadModel(
        model=ModelInfo(name=name, description=description),
        arrivals=arrivals,
        users=_fit_users(jobs),
        partitions=partitions,
    )


def trace_span_s(jobs: JobTable) -> float:
    """The span a fitted model covers: last submit - first submit (one day when that is 0)."""
    if len(jobs) == 0:
        return SECONDS_PER_DAY
    span = float(jobs.submit_s.max() - jobs.submit_s.min())
    return span if span > 0.0 else SECONDS_PER_DAY


def hour_of_week(unix_s: float, tz: str | tzinfo | None = None) -> float:
    """The local hour of week (Monday 00:00 = 0, in [0, 168)) of the Unix time ``unix_s`` in ``tz``
    (an IANA name or a tzinfo; default UTC)."""
    zone: tzinfo = UTC if tz is None else (ZoneInfo(tz) if isinstance(tz, str) else tz)
    moment = datetime.fromtimestamp(float(unix_s), tz=zone)
    midnight = moment.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    local = moment.replace(tzinfo=None)
    hours = (local - midnight).total_seconds() / SECONDS_PER_HOUR
    return (moment.weekday() * HOURS_PER_DAY + hours) % HOURS_PER_WEEK


def swf_start_hour_of_week(trace: SwfTrace) -> float:
    """The local hour of week of an SWF trace's ``submit_s = 0``: its header's ``UnixStartTime`` in
    the zone ``TimeZoneString`` names, else at the fixed offset ``TimeZone`` (seconds east of UTC),
    else UTC. The offset is the one at the start (a daylight-saving change later is not followed).
    0.0 when the header has no ``UnixStartTime``."""
    if trace.unix_start_time is None:
        return 0.0
    zone: tzinfo = UTC
    name = trace.header.get("TimeZoneString", "").strip()
    offset = trace.header.get("TimeZone", "").strip()
    try:
        if name:
            zone = ZoneInfo(name)
        elif offset:
            zone = timezone(timedelta(seconds=int(offset)))
    except (ZoneInfoNotFoundError, ValueError):
        zone = UTC
    return hour_of_week(trace.unix_start_time, zone)


# ----------------------------------------------------------------------------------------- arrivals


def _fit_arrivals(jobs: JobTable, start_how: float, t0: float, span_s: float) -> Arrivals:
    hours = start_how + jobs.submit_s / SECONDS_PER_HOUR
    counts = np.bincount(np.floor(hours % HOURS_PER_WEEK).astype(np.int64) % HOURS_PER_WEEK,
                         minlength=HOURS_PER_WEEK).reshape(DAYS_PER_WEEK, HOURS_PER_DAY)  # fmt: skip
    first = start_how + t0 / SECONDS_PER_HOUR
    exposure = (_covered_hours(first + span_s / SECONDS_PER_HOUR) - _covered_hours(first)).reshape(
        DAYS_PER_WEEK, HOURS_PER_DAY
    )
    weekly, daily = _product_rate(counts.astype(np.float64), exposure)
    weekly_r = [_round(v) for v in weekly / weekly.mean()]
    daily_r = [_round(v) for v in daily / daily.mean()]
    draft = Arrivals(daily_profile=daily_r, weekly_profile=weekly_r)
    rate = draft.hour_of_week_rate()
    gaps: list[NDArray[np.float64]] = []
    for code in range(len(jobs.partition_names)):
        submit = np.sort(jobs.submit_s[jobs.partition == code])
        if len(submit) < 2:
            continue
        op = _operational_s(start_how + submit / SECONDS_PER_HOUR, rate)
        gap = np.diff(op)
        mean = gap.mean()
        if mean > 0.0:
            gaps.append(np.maximum(gap, 0.0) / mean)
    law = None
    if gaps:
        pooled = np.sort(np.concatenate(gaps))
        if pooled[-1] > 0.0:
            law = quantile_dist(pooled, GAP_KNOTS, log=False)
    return Arrivals(daily_profile=daily_r, weekly_profile=weekly_r, gaps=law)


def _covered_hours(hour: float) -> NDArray[np.float64]:
    """How long [0, hour) covers each of the 168 hours of the week (hours; ``hour`` >= 0 after a shift by
    whole weeks, which cancels in differences)."""
    weeks = math.floor(hour / HOURS_PER_WEEK)
    rest = hour - weeks * HOURS_PER_WEEK
    bins = np.arange(HOURS_PER_WEEK, dtype=np.float64)
    return weeks + np.clip(rest - bins, 0.0, 1.0)


def _product_rate(
    counts: NDArray[np.float64], exposure: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Poisson maximum likelihood of rate[d, h] = weekly[d] x daily[h] (iterative proportional fitting)."""
    by_day, by_hour = counts.sum(axis=1), counts.sum(axis=0)
    weekly = np.ones(DAYS_PER_WEEK)
    daily = np.ones(HOURS_PER_DAY)
    for _ in range(PROFILE_ITERATIONS):
        denom = exposure @ daily
        weekly = np.where(denom > 0.0, by_day / np.where(denom > 0.0, denom, 1.0), 0.0)
        denom = weekly @ exposure
        daily = np.where(denom > 0.0, by_hour / np.where(denom > 0.0, denom, 1.0), 0.0)
    if weekly.sum() <= 0.0 or daily.sum() <= 0.0:
        return np.ones(DAYS_PER_WEEK), np.ones(HOURS_PER_DAY)
    # an uncovered weekday or hour (short trace) gets the mean rate rather than 0
    weekly = np.where(exposure.sum(axis=1) > 0.0, weekly, weekly[exposure.sum(axis=1) > 0.0].mean())
    daily = np.where(exposure.sum(axis=0) > 0.0, daily, daily[exposure.sum(axis=0) > 0.0].mean())
    return weekly, daily


def _operational_s(hours: NDArray[np.float64], rate: NDArray[np.float64]) -> NDArray[np.float64]:
    """Operational time (s) at absolute hours ``hours`` (hour of week = hours mod 168): the integral of
    ``rate`` (168 values, mean 1) from hour 0."""
    cumulative = np.concatenate(([0.0], np.cumsum(rate)))
    weeks = np.floor(hours / HOURS_PER_WEEK)
    rest = hours - weeks * HOURS_PER_WEEK
    index = np.minimum(np.floor(rest).astype(np.int64), HOURS_PER_WEEK - 1)
    within = cumulative[index] + rate[index] * (rest - index)
    out: NDArray[np.float64] = (weeks * cumulative[-1] + within) * SECONDS_PER_HOUR
    return out


# ------------------------------------------------------------------------------------------ classes


def _fit_classes(jobs: JobTable, rows: NDArray[np.intp]) -> dict[str, JobClass]:
    min_jobs = min(MIN_CELL_JOBS, max(MIN_CELL_FLOOR, math.ceil(MIN_CELL_FRACTION * len(rows))))
    qos = jobs.qos[rows]
    constraint = jobs.constraint[rows]
    split_qos = len(np.unique(qos)) > 1
    split_constraint = len(np.unique(constraint)) > 1
    classes: dict[str, JobClass] = {}
    keys = np.unique(np.stack([qos, constraint]), axis=1)
    for q, c in keys.T.tolist():
        group = rows[(qos == q) & (constraint == c)]
        qos_name = jobs.qos_names[q] if 0 <= q < len(jobs.qos_names) else ""
        constraint_name = jobs.constraint_names[c] if 0 <= c < len(jobs.constraint_names) else ""
        prefix = "".join(
            f"{_safe(name or 'none')}_"
            for name, split in ((qos_name, split_qos), (constraint_name, split_constraint))
            if split
        )
        for label, cell in _cells(jobs, group, min_jobs):
            key = prefix + label
            while key in classes:  # two QOS names that differ only in characters _safe replaces
                key += "-"
            classes[key] = _job_class(jobs, cell, qos_name, constraint_name)
    return classes


def _cells(jobs: JobTable, group: NDArray[np.intp], min_jobs: int) -> Iterable[tuple[str, NDArray[np.intp]]]:
    """(label, rows) of each cell of a group: size buckets, each split by limit bucket."""
    size = jobs.size[group]
    log_bucket = np.ceil(np.log2(np.maximum(size, 1))).astype(np.int64)
    for lo, hi in _merge_runs(*np.unique(log_bucket, return_counts=True), min_jobs):
        in_size = group[(log_bucket >= lo) & (log_bucket <= hi)]
        sizes = jobs.size[in_size]
        size_label = f"s{int(sizes.min())}-{int(sizes.max())}"
        limit = jobs.limit_s[in_size]
        known = np.isfinite(limit) & (limit > 0.0)
        if not known.all():
            yield f"{size_label}_lunknown", in_size[~known]
        in_size, limit = in_size[known], limit[known]
        if len(in_size) == 0:
            continue
        target = max(min_jobs, math.ceil(len(in_size) / LIMIT_BUCKETS))
        for a, b in _merge_runs(*np.unique(limit, return_counts=True), target):
            cell = in_size[(limit >= a) & (limit <= b)]
            yield f"{size_label}_l{_compact(a)}-{_compact(b)}", cell


def _merge_runs(values: NDArray[Any], counts: NDArray[np.int64], min_count: int) -> list[tuple[Any, Any]]:
    """Ranges [first value, last value] of adjacent distinct values (ascending), cut as soon as a range
    holds ``min_count``; a short remainder joins the last range."""
    ranges: list[tuple[Any, Any]] = []
    start, total = 0, 0
    for i, count in enumerate(counts.tolist()):
        total += count
        if total >= min_count:
            ranges.append((values[start].item(), values[i].item()))
            start, total = i + 1, 0
    if start < len(values):
        if ranges:
            ranges[-1] = (ranges[-1][0], values[-1].item())
        else:
            ranges.append((values[start].item(), values[-1].item()))
    return ranges


def _job_class(jobs: JobTable, cell: NDArray[np.intp], qos: str, constraint: str) -> JobClass:
    size = np.maximum(jobs.size[cell], 1).astype(np.float64)
    work = np.maximum(jobs.work_s[cell], 1.0)
    limit = jobs.limit_s[cell]
    known = np.isfinite(limit) & (limit > 0.0)
    common: dict[str, Any] = {"share": float(len(cell)), "qos": qos, "constraint": constraint}
    common["size"] = _exact_or_quantiles(size)
    at_or_below = ~known | (limit <= jobs.work_s[cell])
    if not known.all() or at_or_below.mean() >= RUNTIME_ONLY_FRACTION:
        return JobClass(**common, runtime_s=quantile_dist(np.sort(work), QUANTILE_KNOTS, log=True))
    accuracy = np.clip(jobs.work_s[cell] / limit, MIN_ACCURACY, 1.0)
    return JobClass(
        **common,
        limit_s=_exact_or_quantiles(limit),
        accuracy=quantile_dist(np.sort(accuracy), QUANTILE_KNOTS, log=True),
        limit_accuracy_coupling=_coupling(limit, accuracy),
    )


def _coupling(limit: NDArray[np.float64], accuracy: NDArray[np.float64]) -> float:
    """The ``limit_accuracy_coupling`` c whose mixture keeps the cell's mean of limit x accuracy (its
    mean run time): c = (m - m0) / (m+ - m0) for m above the independent mean m0, towards the
    comonotone mean m+ (sorted with sorted), else -(m - m0) / (m- - m0) towards the antitone m-; the
    means are the cell's own (empirical margins), c is clipped to [-1, 1] and rounded."""
    m = float(np.mean(limit * accuracy))
    m0 = float(np.mean(limit) * np.mean(accuracy))
    low, high = np.sort(limit), np.sort(accuracy)
    extreme = float(np.mean(low * high)) if m >= m0 else float(np.mean(low * high[::-1]))
    if abs(extreme - m0) <= 1e-12 * max(abs(m0), 1.0):
        return 0.0
    c = (m - m0) / (extreme - m0)
    return _round(float(np.clip(c, 0.0, 1.0)) * (1.0 if m >= m0 else -1.0))


def _exact_or_quantiles(x: NDArray[np.float64]) -> Dist:
    values, counts = np.unique(x, return_counts=True)
    if len(values) <= DISCRETE_MAX_VALUES:
        return Dist(values=[_round(v) for v in values.tolist()], weights=[float(c) for c in counts.tolist()])
    return quantile_dist(np.sort(x), QUANTILE_KNOTS, log=True)


def quantile_dist(sorted_x: NDArray[np.float64], knots: int, *, log: bool) -> Dist:
    """A quantile-function ``Dist`` of the sorted sample ``sorted_x``.

    Knots: ``knots`` evenly spaced probabilities, then 1 - 2**-k towards the top (down to 1 / n), so
    that a heavy upper tail keeps its mean; plus both edges of every atom (a value held by at least
    1 / ``knots`` of the sample), so that point masses stay exact. Values are the sample's quantiles
    (linear between order statistics); runs of equal values keep only their end knots. ``log``
    needs a positive sample."""
    x = np.asarray(sorted_x, np.float64)
    n = len(x)
    if n == 0:
        raise ValueError("cannot fit a quantile function to an empty sample")
    if n == 1:
        return Dist(values=[_round(float(x[0]))] * 2, probs=[0.0, 1.0], log=log)
    probs = [np.linspace(0.0, 1.0, knots)]
    k = math.ceil(math.log2(knots))
    while 2.0**-k >= 1.0 / n:
        probs.append(np.array([1.0 - 2.0**-k]))
        k += 1
    values, first = np.unique(x, return_index=True)
    counts = np.diff(np.append(first, n))
    atoms = counts * knots >= n
    probs.append(first[atoms] / (n - 1))
    probs.append((first[atoms] + counts[atoms] - 1) / (n - 1))
    grid = np.unique(np.clip(np.concatenate(probs), 0.0, 1.0))
    position = grid * (n - 1)
    below = np.minimum(np.floor(position).astype(np.int64), n - 2)
    frac = position - below
    quant = x[below] + frac * (x[below + 1] - x[below])
    quant = np.maximum.accumulate(np.clip(quant, x[0], x[-1]))
    p_r = [0.0, *(_round(p) for p in grid[1:-1].tolist()), 1.0]
    v_r = [_round(v) for v in quant.tolist()]
    last = len(v_r) - 1
    keep = [i for i in range(len(v_r)) if i in (0, last) or not v_r[i - 1] == v_r[i] == v_r[i + 1]]
    return Dist(values=[v_r[i] for i in keep], probs=[p_r[i] for i in keep], log=log)


# -------------------------------------------------------------------------------------------- users


def _fit_users(jobs: JobTable) -> Users:
    defaults = Users()
    users = _zipf_fit(jobs.user)
    accounts = _zipf_fit(jobs.group)
    return Users(
        count=users[0] if users else defaults.count,
        zipf_exponent=users[1] if users else defaults.zipf_exponent,
        accounts=accounts[0] if accounts else defaults.accounts,
        account_zipf_exponent=accounts[1] if accounts else defaults.account_zipf_exponent,
    )


def _zipf_fit(ids: NDArray[np.int64]) -> tuple[int, float] | None:
    """(distinct ids >= 0, Zipf exponent by least squares of log count on log rank), or None."""
    _, counts = np.unique(ids[ids >= 0], return_counts=True)
    if len(counts) == 0:
        return None
    if len(counts) == 1:
        return 1, Users().zipf_exponent
    counts = np.sort(counts)[::-1].astype(np.float64)
    slope = np.polyfit(np.log(np.arange(1, len(counts) + 1)), np.log(counts), 1)[0]
    return len(counts), _round(max(0.0, -float(slope)))


# --------------------------------------------------------------------------------------------- TOML


def model_to_toml(model: WorkloadModel) -> str:
    """The model as TOML text that ``load_workload_model`` reads back to an equal model, with a header comment
    (the model's name and description). Fields at their defaults are left out (except the arrival
    profiles and the users, written always); distributions are inline tables. Partition and class
    names must not contain '.' (the TOML writer splits table names there)."""
    tables: dict[str, dict[str, Any]] = {
        "model": _fields(model.model),
        "arrivals": _fields(model.arrivals, always=("daily_profile", "weekly_profile")),
        "users": model.users.model_dump(),
    }
    for pname, partition in model.partitions.items():
        _check_name(pname, "partition")
        tables[f"partitions.{pname}"] = _fields(partition, skip=("classes",))
        for cname, job_class in partition.classes.items():
            _check_name(cname, "class")
            tables[f"partitions.{pname}.classes.{cname}"] = _fields(job_class)
    desi = _fields(model.desi)
    if desi:
        tables["desi"] = desi
    header = [f"# pmtwin workload model {model.model.name!r}"]
    header += [f"# {line}" for line in model.model.description.splitlines()]
    header.append(
        "# Written by pmtwin.workload.fit.model_to_toml; pmtwin.workload.model.load_workload_model reads it."
    )
    text = "\n".join(header) + "\n\n"
    if model.transforms:  # a top-level array must precede the first table
        body = dumps_toml({"_": {"transforms": [dict(t) for t in model.transforms]}})
        text += body.split("\n", 1)[1] + "\n"
    return text + dumps_toml(tables)


def _fields(obj: BaseModel, *, skip: Iterable[str] = (), always: Iterable[str] = ()) -> dict[str, Any]:
    """A pydantic model's fields as TOML values, in declaration order, leaving out those at their default
    (unless named in ``always``) and those in ``skip``; a ``Dist`` becomes an inline table."""
    out: dict[str, Any] = {}
    for name, info in type(obj).model_fields.items():
        value = getattr(obj, name)
        if name in skip or value is None:
            continue
        if (
            name not in always
            and not info.is_required()
            and value == info.get_default(call_default_factory=True)
        ):
            continue
        out[name] = _dist_table(value) if isinstance(value, Dist) else _plain(value)
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(exclude_none=True)
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _dist_table(dist: Dist) -> dict[str, Any]:
    return {"values": dist.values, "weights": dist.weights, "probs": dist.probs, "log": dist.log or None}


def _check_name(name: str, what: str) -> None:
    if "." in name:
        raise ValueError(f"{what} name {name!r} holds '.', which the TOML writer cannot put in a table name")


# ------------------------------------------------------------------------------------------ helpers


def _round(x: float) -> float:
    """``x`` to SIGNIFICANT_DIGITS significant digits (monotone, so order is kept); whole numbers below
    2**53 are kept exactly (sizes, limits in seconds)."""
    if float(x).is_integer() and abs(x) < 2.0**53:
        return float(x)
    return float(f"{x:.{SIGNIFICANT_DIGITS}g}")


def _compact(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else _safe(f"{seconds:g}")


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "-", text)
