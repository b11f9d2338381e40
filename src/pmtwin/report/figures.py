"""Numbers behind the charts: level series as bin means, distributions as ECDF points, samples.

Everything here is deterministic (samples use a fixed stream) and bounded in size, whatever the run's
length: a chart of a one-year run holds as many points as a chart of a day.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

SERIES_BINS = 1_000
"""Points per level series on a chart (bin means over the run's span)."""
ECDF_POINTS = 400
"""Points per distribution curve."""
SECONDS_PER_DAY = 86_400.0


def bin_means(
    time_s: NDArray[np.float64], value: NDArray[np.float64], start_s: float, stop_s: float, bins: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Mean level of a piecewise-constant series over ``bins`` equal bins of [start_s, stop_s]: bin
    starts and means (the level is 0 before the first row; the last row holds on)."""
    if len(time_s) == 0 or not stop_s > start_s:
        return np.empty(0), np.empty(0)
    edges = np.linspace(start_s, stop_s, bins + 1)
    segment = np.diff(np.append(time_s, max(float(time_s[-1]), stop_s)))
    cumulative = np.concatenate([[0.0], np.cumsum(value * segment)])
    row = np.searchsorted(time_s, edges, side="right") - 1
    before = row < 0
    row = np.maximum(row, 0)
    integral = cumulative[row] + value[row] * (edges - time_s[row])
    integral[before] = 0.0
    first = float(time_s[0])
    integral = np.where(edges < first, 0.0, integral)
    return edges[:-1], np.diff(integral) / np.diff(edges)


def ecdf_points(
    values: NDArray[np.float64], points: int = ECDF_POINTS
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The empirical CDF of ``values`` at ``points`` evenly spaced fractions: (sorted values, fractions).

    Exact at every point returned (value of rank k, fraction (k + 1) / n)."""
    finite = np.sort(values[np.isfinite(values)])
    n = len(finite)
    if n == 0:
        return np.empty(0), np.empty(0)
    ranks = np.unique(np.linspace(0, n - 1, min(points, n)).round().astype(np.int64))
    return finite[ranks], (ranks + 1) / n


def sample_rows(n: int, limit: int) -> NDArray[np.int64]:
    """At most ``limit`` row indices out of ``n``, in order, drawn from a fixed stream."""
    if n <= limit:
        return np.arange(n, dtype=np.int64)
    rng = np.random.default_rng(0)
    return np.sort(rng.choice(n, size=limit, replace=False)).astype(np.int64)


def bounded_slowdown(
    wait_s: NDArray[np.float64], run_s: NDArray[np.float64], min_run_s: float
) -> NDArray[np.float64]:
    """max(1, (wait + run) / max(run, min_run_s)) per job (Feitelson's bounded slowdown)."""
    return np.maximum(1.0, (wait_s + run_s) / np.maximum(run_s, min_run_s))


def size_buckets(
    size: NDArray[np.float64], wait_s: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Median wait per power-of-two size bucket [2^k, 2^(k+1)): bucket lower bounds and medians."""
    if len(size) == 0:
        return np.empty(0), np.empty(0)
    bucket = np.floor(np.log2(np.maximum(size, 1.0))).astype(np.int64)
    order = np.argsort(bucket, kind="stable")
    keys, starts = np.unique(bucket[order], return_index=True)
    groups = np.split(wait_s[order], starts[1:])
    return 2.0 ** keys.astype(np.float64), np.array([float(np.median(g)) for g in groups])


def top_with_rest(values: dict[str, float], count: int) -> tuple[tuple[str, ...], NDArray[np.float64]]:
    """The ``count`` largest entries (ties by name) and the sum of the others as "other (N)"."""
    ranked = sorted(values.items(), key=lambda kv: (-kv[1], kv[0]))
    head, rest = ranked[:count], ranked[count:]
    labels = [k for k, _ in head]
    sums = [v for _, v in head]
    if rest:
        labels.append(f"other ({len(rest)})")
        sums.append(float(sum(v for _, v in rest)))
    return tuple(labels), np.array(sums, np.float64)
