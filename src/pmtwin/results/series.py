"""Level series: piecewise-constant quantities of a run, stored as (time, value) change points.

A series row says "from ``time_s`` until this series' next row the level is ``value``"; the last row
holds on. All changes at one timestamp are applied before the level is recorded, so there are no
transient rows, and a row is written only where the level changes (a timestamp whose changes cancel
writes none). Every series starts with a row at the run's first submit time.

Series (``<pool>`` is each pool's name; per-pool series exist when there is more than one pool):

- ``utilization``, ``utilization:<pool>``: busy units / capacity (all pools: their total capacity);
- ``queue_jobs``, ``queue_jobs:<pool>``: jobs submitted and not yet started;
- ``running_jobs``, ``running_jobs:<pool>``: jobs started and not yet ended.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

import numpy as np
from numpy.typing import NDArray

from pmtwin.results._checks import check_schedule
from pmtwin.sim.engine import Schedule
from pmtwin.workload.jobs import JobTable

if TYPE_CHECKING:
    import pyarrow as pa

_QUANTITIES = ("utilization", "queue_jobs", "running_jobs")
"""The quantities recorded for the whole machine and for each pool, in this order."""
_QUEUE_DELTA = np.array([1, -1, 0], np.int64)
"""Change of the queue length at a submit, a start and an end event."""
_RUNNING_DELTA = np.array([0, 1, -1], np.int64)
"""Change of the running job count (and, times size, of busy units) at a submit, start and end."""


@dataclass(frozen=True)
class LevelSeries:
    """Several level series in long format: the rows of series ``k`` are ``offsets[k]:offsets[k+1]``."""

    names: tuple[str, ...]
    offsets: NDArray[np.int64]
    time_s: NDArray[np.float64]
    value: NDArray[np.float64]

    @classmethod
    def from_parts(
        cls,
        names: Sequence[str],
        times: Sequence[NDArray[np.float64]],
        values: Sequence[NDArray[np.float64]],
    ) -> LevelSeries:
        """The series ``names[k]`` with change times ``times[k]`` and levels ``values[k]``."""
        lengths = [len(t) for t in times]
        return cls(
            names=tuple(names),
            offsets=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
            time_s=np.concatenate(times).astype(np.float64, copy=False) if times else np.empty(0),
            value=np.concatenate(values).astype(np.float64, copy=False) if values else np.empty(0),
        )

    @classmethod
    def from_rows(
        cls,
        codes: NDArray[np.integer],
        names: Sequence[str],
        time_s: NDArray[np.float64],
        value: NDArray[np.float64],
    ) -> LevelSeries:
        """The series of long-format rows as ``to_table`` writes them: row ``i`` belongs to the series
        ``names[codes[i]]``; each series keeps its rows in their order."""
        codes = np.asarray(codes, np.int64)
        if len(codes) > 1 and np.any(codes[1:] < codes[:-1]):  # to_table writes them grouped already
            order = np.argsort(codes, kind="stable")
            codes, time_s, value = codes[order], time_s[order], value[order]
        return cls(
            names=tuple(str(name) for name in names),
            offsets=np.searchsorted(codes, np.arange(len(names) + 1)).astype(np.int64),
            time_s=np.asarray(time_s, np.float64),
            value=np.asarray(value, np.float64),
        )

    def __len__(self) -> int:
        return len(self.time_s)

    def get(self, name: str) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """The change times and levels of the series ``name``."""
        return self._rows(self.names.index(name))

    def parts(self) -> Iterator[tuple[str, NDArray[np.float64], NDArray[np.float64]]]:
        """Each series' name, change times and levels, in order."""
        for k, name in enumerate(self.names):
            yield (name, *self._rows(k))

    def _rows(self, k: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        rows = slice(int(self.offsets[k]), int(self.offsets[k + 1]))
        return self.time_s[rows], self.value[rows]

    def to_table(self) -> pa.Table:
        """Arrow table with columns ``series`` (dictionary-encoded string), ``time_s``, ``value``."""
        import pyarrow as pa

        codes = np.repeat(np.arange(len(self.names), dtype=np.int32), np.diff(self.offsets))
        series = pa.DictionaryArray.from_arrays(pa.array(codes), pa.array(self.names, pa.string()))
        return pa.table({"series": series, "time_s": self.time_s, "value": self.value})


def level_series(
    jobs: JobTable,
    schedule: Schedule,
    *,
    pool_names: Sequence[str],
    pool_capacity: NDArray[np.int64],
) -> LevelSeries:
    """Utilization, queue length and running jobs of a run, overall and per pool (see module doc)."""
    check_schedule(jobs, schedule, pool_names, pool_capacity)
    capacity = np.asarray(pool_capacity, np.int64)
    scopes: list[tuple[str, int | None, int]] = [("", None, int(capacity.sum()))]
    if len(pool_names) > 1:
        scopes += [(f":{name}", k, int(capacity[k])) for k, name in enumerate(pool_names)]
    names = tuple(quantity + suffix for suffix, _, _ in scopes for quantity in _QUANTITIES)
    n = len(jobs)
    if n == 0:
        empty = np.empty(0, np.float64)
        return LevelSeries(names, np.zeros(len(names) + 1, np.int64), empty, empty)

    times_s = np.concatenate([jobs.submit_s, schedule.start_s, schedule.end_s])
    order = np.argsort(times_s, kind="stable")
    sorted_s = times_s[order]
    kind = order // n
    job = order - kind * n
    running = _RUNNING_DELTA[kind]
    deltas = (running * jobs.size[job], _QUEUE_DELTA[kind], running)
    event_pool = schedule.pool[job]
    first_s = float(sorted_s[0])

    time_parts: list[NDArray[np.float64]] = []
    value_parts: list[NDArray[np.float64]] = []
    for _, pool, pool_capacity_units in scopes:
        if pool is None:
            levels = levels_at_events(sorted_s, deltas, first_s)
        else:
            mine = np.flatnonzero(event_pool == pool)
            levels = levels_at_events(sorted_s[mine], tuple(delta[mine] for delta in deltas), first_s)
        for (time_s, level), divisor in zip(levels, (pool_capacity_units, 1, 1), strict=True):
            time_parts.append(time_s)
            value_parts.append(level / divisor)
    return LevelSeries.from_parts(names, time_parts, value_parts)


def levels_at_events(
    sorted_s: NDArray[np.float64], deltas: tuple[NDArray[np.int64], ...], first_s: float
) -> list[tuple[NDArray[np.float64], NDArray[np.int64]]]:
    """Change points of levels that start at 0 and move by each of ``deltas`` at the sorted event times.

    A level is read after the last event of each timestamp; rows that repeat the previous level are
    dropped; a row (``first_s``, 0) leads when the first event is later than ``first_s``.
    """
    if len(sorted_s) == 0:
        return [(np.array([first_s]), np.zeros(1, np.int64)) for _ in deltas]
    last = np.append(np.flatnonzero(sorted_s[1:] != sorted_s[:-1]), len(sorted_s) - 1)
    time_s = sorted_s[last]
    lead = time_s[0] > first_s
    if lead:
        time_s = np.concatenate([[first_s], time_s])
    rows = []
    for delta in deltas:
        value = np.cumsum(delta)[last]
        if lead:
            value = np.concatenate([[0], value])
        rows.append(drop_repeats(time_s, value))
    return rows


ValueT = TypeVar("ValueT", bound=np.generic)


def drop_repeats(
    time_s: NDArray[np.float64], value: NDArray[ValueT]
) -> tuple[NDArray[np.float64], NDArray[ValueT]]:
    """The rows whose level differs from the previous row's (the first row always stays)."""
    keep = np.ones(len(value), np.bool_)
    keep[1:] = value[1:] != value[:-1]
    return time_s[keep], value[keep]


def integrate(series_time_s: NDArray[np.float64], value: NDArray[np.float64], t0: float, t1: float) -> float:
    """Integral over [t0, t1] of a level series (value holds from its time to the next; the last holds on).

    The level is undefined before the first row, so ``t0`` must not precede it.
    """
    if t1 < t0:
        raise ValueError(f"integration interval is reversed: t0={t0} > t1={t1}")
    if len(series_time_s) == 0 or t0 < series_time_s[0]:
        raise ValueError("a level series is undefined before its first row")
    start_s = np.maximum(series_time_s, t0)
    stop_s = np.minimum(np.append(series_time_s[1:], t1), t1)
    # a numpy sum, not np.dot: BLAS splits long dot products over its threads, so the last bits of the
    # result would depend on how many threads it has (Dask workers get one)
    return float(np.sum(value * np.maximum(stop_s - start_s, 0.0)))


def join_series(first: LevelSeries, second: LevelSeries) -> LevelSeries:
    """The series of ``first`` followed by those of ``second`` (names must differ)."""
    clash = set(first.names) & set(second.names)
    if clash:
        raise ValueError(f"series named twice: {', '.join(sorted(clash))}")
    return LevelSeries(
        names=first.names + second.names,
        offsets=np.concatenate([first.offsets, first.offsets[-1] + second.offsets[1:]]),
        time_s=np.concatenate([first.time_s, second.time_s]),
        value=np.concatenate([first.value, second.value]),
    )


MAX_RESAMPLED_ROWS = 10_000_000
"""Bins per series beyond which a resolution is refused (a typo such as 0.001 s over a year)."""


def resample(series: LevelSeries, step_s: float, end_s: float) -> LevelSeries:
    """Each series as the mean level over bins ``[t0 + k step, t0 + (k+1) step)`` from its first row
    ``t0``, the last bin ending at ``end_s`` (docs/power.md section 3); repeated levels are dropped, as
    in every level series. Integrals over the bins, hence up to ``end_s``, are unchanged."""
    check_resolution(step_s)
    times: list[NDArray[np.float64]] = []
    values: list[NDArray[np.float64]] = []
    for name in series.names:
        time_s, value = series.get(name)
        if len(time_s) == 0:
            times.append(time_s)
            values.append(value)
            continue
        first_s = float(time_s[0])
        last_s = end_s if end_s > first_s else first_s + step_s  # a run of no length gets one bin
        bins = int(np.ceil((last_s - first_s) / step_s))
        check_bins(step_s, last_s - first_s)
        edges = np.append(first_s + step_s * np.arange(bins, dtype=np.float64), last_s)
        segment = np.diff(np.append(time_s, max(float(time_s[-1]), last_s)))
        cumulative = np.concatenate([[0.0], np.cumsum(value * segment)])
        row = np.searchsorted(time_s, edges, side="right") - 1
        integral = cumulative[row] + value[row] * (edges - time_s[row])
        mean = np.diff(integral) / np.diff(edges)
        bin_s, mean = drop_repeats(edges[:-1], mean)
        times.append(bin_s)
        values.append(mean)
    return LevelSeries.from_parts(series.names, times, values)


def check_resolution(step_s: float) -> None:
    if not step_s > 0 or not np.isfinite(step_s):
        raise ValueError(f"--resolution must be a positive number of seconds, got {step_s}")


def check_bins(step_s: float, span_s: float) -> None:
    """Refuse a resolution that would write more than ``MAX_RESAMPLED_ROWS`` bins over ``span_s``."""
    if span_s / step_s > MAX_RESAMPLED_ROWS:
        raise ValueError(
            f"--resolution {step_s:g} s gives {span_s / step_s:,.0f} bins per series over {span_s:,.0f} s; "
            f"ask for at least {span_s / MAX_RESAMPLED_ROWS:,.0f} s"
        )
