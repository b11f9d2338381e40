"""The node-time Gantt chart: which job held which node when, on a sample of nodes and time.

Rows are nodes: the first ``NODES_PER_POOL`` node ids of each pool, stacked pool after pool. A job's
rectangle covers each run of consecutive sampled rows it held, from its start to its end. When that
gives more than ``MAX_RECTANGLES``, the time window shrinks around the middle of the run until it fits.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from pmtwin.report.charts import Chart, Trace
from pmtwin.report.figures import SECONDS_PER_DAY
from pmtwin.report.rundata import RunData

NODES_PER_POOL = 48
MAX_RECTANGLES = 5_000


def gantt_chart(run: RunData) -> Chart | None:
    """The chart, or None for a run without node ids (a processor-count replay)."""
    if run.n_jobs == 0 or run.node_offsets is None or run.node_ids is None:
        return None
    offsets, node_ids = run.node_offsets, run.node_ids
    pool = run.labels["pool"]
    first_node, pool_size = _pool_ranges(run, offsets, node_ids)
    row_of_node, rows = _sampled_rows(first_node, pool_size)
    job = np.repeat(np.arange(run.n_jobs), np.diff(offsets))
    row = row_of_node(node_ids)
    keep = row >= 0
    job, row = job[keep], row[keep]
    order = np.lexsort((row, job))
    job, row = job[order], row[order]
    # runs of consecutive rows of one job become one rectangle
    new = np.ones(len(job), np.bool_)
    new[1:] = (job[1:] != job[:-1]) | (row[1:] != row[:-1] + 1)
    starts = np.flatnonzero(new)
    rect_job = job[starts]
    rect_row = row[starts]
    rect_height = np.diff(np.append(starts, len(job))).astype(np.float64)
    start_s, end_s = run.numbers["start_s"][rect_job], run.numbers["end_s"][rect_job]
    origin_s = float(np.min(run.numbers["submit_s"]))
    window = _window(start_s, end_s, float(np.max(run.numbers["end_s"])), origin_s)
    inside = (end_s > window[0]) & (start_s < window[1])
    traces = []
    for code, name in enumerate(pool.names):
        mine = inside & (pool.codes[rect_job] == code)
        if np.any(mine):
            traces.append(
                Trace(
                    name,
                    (np.maximum(start_s[mine], window[0]) - origin_s) / SECONDS_PER_DAY,
                    rect_row[mine].astype(np.float64),
                    x_end=(np.minimum(end_s[mine], window[1]) - origin_s) / SECONDS_PER_DAY,
                    height=rect_height[mine],
                )
            )
    shown = int(np.count_nonzero(inside))
    span_d = (window[1] - window[0]) / SECONDS_PER_DAY
    note = (
        f"Rows: the first {NODES_PER_POOL} nodes of each pool ({rows} of {int(pool_size.sum()):,} nodes); "
        f"{shown:,} job rectangles over {span_d:,.2f} days"
    )
    return Chart("gantt", "Nodes over time (sample)", "gantt", "days from the first submission",
                 "node (sampled rows)", tuple(traces), note=note + ".")  # fmt: skip


def _pool_ranges(
    run: RunData, offsets: NDArray[np.int64], node_ids: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Each pool's first node id and size, from the config's pool sizes and the ids jobs used."""
    names = run.labels["pool"].names
    sizes = run.config.get("pools", {})
    pool_of_node = np.repeat(run.labels["pool"].codes, np.diff(offsets))
    first = np.full(len(names), -1, np.int64)
    size = np.zeros(len(names), np.int64)
    for code, name in enumerate(names):
        ids = node_ids[pool_of_node == code]
        if len(ids):
            first[code] = int(ids.min())
            size[code] = int(sizes.get(name, ids.max() - ids.min() + 1))
    return first, size


def _sampled_rows(
    first: NDArray[np.int64], size: NDArray[np.int64]
) -> tuple[Callable[[NDArray[np.int64]], NDArray[np.int64]], int]:
    """A function node id -> row (-1: not sampled), and the number of rows."""
    lows, counts = [], []
    for low, n in zip(first.tolist(), size.tolist(), strict=True):
        if low >= 0:
            lows.append(low)
            counts.append(min(n, NODES_PER_POOL))
    low_arr = np.array(lows, np.int64)
    count_arr = np.array(counts, np.int64)
    base = np.concatenate([[0], np.cumsum(count_arr)[:-1]]).astype(np.int64)

    def row_of(ids: NDArray[np.int64]) -> NDArray[np.int64]:
        rows = np.full(len(ids), -1, np.int64)
        for low, count, b in zip(low_arr, count_arr, base, strict=True):
            mine = (ids >= low) & (ids < low + count)
            rows[mine] = b + ids[mine] - low
        return rows

    return row_of, int(count_arr.sum())


def _window(
    start_s: NDArray[np.float64], end_s: NDArray[np.float64], last_s: float, origin_s: float
) -> tuple[float, float]:
    """The whole run, or a window centred on its middle holding at most MAX_RECTANGLES rectangles."""
    low, high = origin_s, last_s
    while True:
        count = int(np.count_nonzero((end_s > low) & (start_s < high)))
        if count <= MAX_RECTANGLES or high - low < 3600.0:
            return low, high
        middle, half = (low + high) / 2, (high - low) / 4
        low, high = middle - half, middle + half
