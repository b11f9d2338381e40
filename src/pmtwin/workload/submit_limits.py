"""Per-user submit limits of a QOS, respected by construction when a workload is generated.

A QOS such as debug accepts a job only while its user has fewer than N jobs of the QOS queued or
running. ``over_submit_limit`` picks the jobs to move elsewhere so that, if every job ends within
``window_s`` of its submission, the limit holds at every submission.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def dense_ids(values: NDArray[np.int64]) -> NDArray[np.integer]:
    """Values as 0..k-1 in value order, in the narrowest unsigned type (radix sorts for <= 65,536)."""
    distinct, inverse = np.unique(values, return_inverse=True)
    dtype = np.uint16 if len(distinct) <= 1 << 16 else np.uint32 if len(distinct) <= 1 << 32 else np.int64
    dense: NDArray[np.integer] = inverse.reshape(-1).astype(dtype)
    return dense


def rows_by_user(user: NDArray[np.integer], rows: NDArray[np.intp]) -> NDArray[np.intp]:
    """``rows`` (given in canonical order) sorted by user, canonical order kept within a user."""
    sorted_rows: NDArray[np.intp] = rows[np.argsort(user[rows], kind="stable")]
    return sorted_rows


def over_submit_limit(
    submit_s: NDArray[np.float64],
    user: NDArray[np.integer],
    mask: NDArray[np.bool_],
    limit_count: int,
    window_s: float,
    canonical: NDArray[np.intp] | None = None,
) -> NDArray[np.bool_]:
    """Jobs of ``mask`` to drop so that every kept job's user has fewer than ``limit_count`` other kept
    jobs submitted in (submit - window, submit], earlier in canonical order: if jobs end within the
    window of their submission, the submit limit (queued and running jobs of the user in the QOS) holds
    at every submission.

    Greedy in canonical order per user (a job is kept if the limit allows it given the jobs kept before
    it). Vectorized where it is obvious: a job with fewer than ``limit_count`` jobs of ``mask`` in its
    window is kept; only users with a crowded window go through the loop.
    """
    over = np.zeros(len(submit_s), bool)
    m = limit_count
    if m <= 0 or window_s <= 0.0:
        return over
    if canonical is None:
        canonical = np.argsort(submit_s, kind="stable").astype(np.intp)
    rows = rows_by_user(user, canonical[mask[canonical]])
    if len(rows) <= m:
        return over
    u, t = user[rows], submit_s[rows]
    crowded = np.zeros(len(rows), bool)
    crowded[m:] = (u[m:] == u[:-m]) & (t[m:] - t[:-m] < window_s)
    if not crowded.any():
        return over
    starts = np.flatnonzero(np.append(True, u[1:] != u[:-1]))
    ends = np.append(starts[1:], len(rows))
    busy = np.unique(np.searchsorted(starts, np.flatnonzero(crowded), side="right") - 1)
    for a, b in zip(starts[busy].tolist(), ends[busy].tolist(), strict=True):
        kept: list[float] = []
        for k, x in enumerate(t[a:b].tolist()):
            if len(kept) < m or kept[-m] <= x - window_s:
                kept.append(x)
            else:
                over[rows[a + k]] = True
    return over
