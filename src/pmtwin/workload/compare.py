"""How alike two workloads are: two-sample Kolmogorov-Smirnov distances and a summary of each marginal.

The marginals are a job's size, its run time (``work_s``), the gaps between consecutive submissions
(all partitions pooled) and its estimate accuracy (run time / time limit, where the limit is finite
and > 0, capped at 1); ``size_node_seconds`` weighs the size distribution by size x run time (how
node-seconds split by size).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from pmtwin.workload.jobs import JobTable


def ks_distances(trace: JobTable, generated: JobTable) -> dict[str, float]:
    """Two-sample Kolmogorov-Smirnov statistics (sup |F1 - F2| over the pooled values, ties handled)
    between two workloads: ``size``, ``runtime`` (work_s), ``interarrival`` (gaps between consecutive
    submit times, all partitions pooled), ``accuracy`` (work_s / limit_s where the limit is > 0 and
    finite, capped at 1) and ``size_node_seconds`` (the size distribution weighted by size x run time:
    how node-seconds split by size)."""
    a, b = _marginals(trace), _marginals(generated)
    out = {key: _ks(a[key], b[key]) for key in ("size", "runtime", "interarrival", "accuracy")}
    out["size_node_seconds"] = _ks(
        trace.size.astype(np.float64), generated.size.astype(np.float64),
        trace.size * trace.work_s, generated.size * generated.work_s,
    )  # fmt: skip
    return out


def marginal_summary(jobs: JobTable) -> dict[str, dict[str, float]]:
    """Count, mean, median and 90th percentile of size, run time, inter-arrival time and accuracy."""
    out: dict[str, dict[str, float]] = {}
    for key, x in _marginals(jobs).items():
        if len(x) == 0:
            out[key] = {"count": 0.0, "mean": math.nan, "p50": math.nan, "p90": math.nan}
            continue
        p50, p90 = np.quantile(x, [0.5, 0.9]).tolist()
        out[key] = {"count": float(len(x)), "mean": float(x.mean()), "p50": p50, "p90": p90}
    return out


def _marginals(jobs: JobTable) -> dict[str, NDArray[np.float64]]:
    limit = jobs.limit_s
    known = np.isfinite(limit) & (limit > 0.0)
    return {
        "size": jobs.size.astype(np.float64),
        "runtime": np.asarray(jobs.work_s, np.float64),
        "interarrival": np.diff(np.sort(jobs.submit_s)),
        "accuracy": np.minimum(jobs.work_s[known] / limit[known], 1.0),
    }


def _ks(
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    wx: NDArray[np.float64] | None = None,
    wy: NDArray[np.float64] | None = None,
) -> float:
    """sup |Fx - Fy| over the pooled values (empirical CDFs, optionally weighted); nan if either is empty."""
    if len(x) == 0 or len(y) == 0:
        return math.nan
    pooled = np.unique(np.concatenate([x, y]))
    return float(np.max(np.abs(_ecdf(x, wx, pooled) - _ecdf(y, wy, pooled))))


def _ecdf(
    x: NDArray[np.float64], w: NDArray[np.float64] | None, at: NDArray[np.float64]
) -> NDArray[np.float64]:
    order = np.argsort(x, kind="stable")
    sorted_x = x[order]
    weights = np.ones(len(x)) if w is None else np.asarray(w, np.float64)[order]
    cumulative = np.concatenate(([0.0], np.cumsum(weights)))
    total = cumulative[-1]
    index = np.searchsorted(sorted_x, at, side="right")
    out: NDArray[np.float64] = cumulative[index] / (total if total > 0.0 else 1.0)
    return out
