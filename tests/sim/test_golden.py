"""Golden replays: the engine on real SWF traces equals the reference scheduler, start for start.

The reference reads the traces with its own loader below (not pmtwin's reader), so these tests also
check ``pmtwin.workload.swf.read_swf`` and its normalisation.
"""

from __future__ import annotations

import functools
import gzip
from pathlib import Path

import numpy as np
import pytest

from pmtwin.workload.jobs import JobTable
from tests.sim.checkers import Workload, check_capacity, check_fcfs_order, check_times, first_difference

TRACES = {"KTH-SP2-1996-2.1-cln.swf.gz": 100, "SDSC-SP2-1998-4.2-cln.swf.gz": 128}
KTH = "KTH-SP2-1996-2.1-cln.swf.gz"
KTH_PREFIX = 5000


@functools.cache
def load_swf(path: Path) -> Workload:
    """SWF v2.2 with the doc's default normalisation; jobs in (submit, id) order."""
    header: dict[str, int] = {}
    fields = []
    with gzip.open(path, "rt") as fh:
        for line in fh:
            line = line.strip()
            if line.startswith(";"):
                key, _, value = line[1:].partition(":")
                if key.strip() in ("MaxProcs", "MaxNodes") and value.strip().isdigit():
                    header[key.strip()] = int(value)
            elif line:
                fields.append([float(x) for x in line.split()])
    sizes = [int(f[4]) if f[4] > 0 else int(f[7]) for f in fields]
    cap = header.get("MaxProcs") or header.get("MaxNodes") or max(sizes)
    jobs = []
    for f, size in zip(fields, sizes, strict=True):
        run, size = f[3], min(size, cap)
        if run <= 0 or size <= 0:
            continue
        jobs.append((f[1], int(f[0]), run, run if f[8] < 0 else max(f[8], run), size))
    jobs.sort()
    return Workload(
        job_id=[j[1] for j in jobs],
        submit=[j[0] for j in jobs],
        run=[j[2] for j in jobs],
        requested=[j[3] for j in jobs],
        size=[j[4] for j in jobs],
        capacity=cap,
    )


@functools.cache
def reference(path: Path, policy: str, prefix: int | None = None) -> tuple[Workload, list[float]]:
    wl = load_swf(path)
    if prefix is not None:
        wl = Workload(
            wl.job_id[:prefix],
            wl.submit[:prefix],
            wl.run[:prefix],
            wl.requested[:prefix],
            wl.size[:prefix],
            wl.capacity,
        )
    return wl, wl.reference(policy)[0]


def pmtwin_jobs(path: Path) -> tuple[JobTable, int]:
    from pmtwin.workload.swf import read_swf

    trace = read_swf(path)
    return trace.jobs, trace.capacity


def assert_same_jobs(jobs: JobTable, wl: Workload) -> None:
    """pmtwin's reader yields the same jobs as the loader above (compared by job id)."""
    assert len(jobs) == len(wl), f"read_swf kept {len(jobs)} jobs, the reference loader {len(wl)}"
    row = {int(j): k for k, j in enumerate(jobs.job_id)}
    assert len(row) == len(jobs), "duplicate job ids"
    idx = np.array([row[j] for j in wl.job_id])
    for name, col, want in [
        ("submit", jobs.submit_s, wl.submit),
        ("run", jobs.work_s, wl.run),
        ("requested", jobs.requested_s, wl.requested),
        ("size", jobs.size, wl.size),
    ]:
        bad = np.flatnonzero(col[idx] != np.asarray(want))
        assert bad.size == 0, f"{name} differs for {bad.size} jobs, e.g. {wl.describe(int(bad[0]))}"


def compare_with_reference(
    jobs: JobTable, capacity: int, policy: str, wl: Workload, want: list[float]
) -> None:
    from pmtwin.sim.engine import schedule_single_pool

    schedule = schedule_single_pool(jobs, capacity, policy)
    row = {int(j): k for k, j in enumerate(jobs.job_id)}
    idx = np.array([row[j] for j in wl.job_id])
    got = schedule.start_s[idx].tolist()
    got_end = schedule.end_s[idx].tolist()
    assert (diff := first_difference(wl, policy, got, want)) is None, diff
    assert check_times(wl, got, got_end) == []


@pytest.mark.parametrize("policy", ["easy", "fcfs"])
@pytest.mark.parametrize("name", list(TRACES))
def test_trace_matches_reference(traces_dir: Path, name: str, policy: str) -> None:
    wl, want = reference(traces_dir / name, policy)
    assert wl.capacity == TRACES[name]
    jobs, capacity = pmtwin_jobs(traces_dir / name)
    assert capacity == wl.capacity
    assert_same_jobs(jobs, wl)
    compare_with_reference(jobs, capacity, policy, wl, want)


@pytest.mark.parametrize("policy", ["easy", "fcfs"])
@pytest.mark.parametrize("name", list(TRACES))
def test_reference_schedule_is_sane(traces_dir: Path, name: str, policy: str) -> None:
    """The reference itself on the full traces: no overcommit, times consistent, FCFS in order."""
    wl, start = reference(traces_dir / name, policy)
    end = [s + r for s, r in zip(start, wl.run, strict=True)]
    assert check_times(wl, start, end) == []
    assert check_capacity(wl, start, end) == []
    if policy == "fcfs":
        assert check_fcfs_order(wl, start) == []


def test_kth_prefix_conservative(traces_dir: Path) -> None:
    wl, want = reference(traces_dir / KTH, "conservative", KTH_PREFIX)
    jobs, capacity = pmtwin_jobs(traces_dir / KTH)
    prefix = jobs.take(jobs.canonical_order()[:KTH_PREFIX])
    assert prefix.job_id.tolist() == wl.job_id
    compare_with_reference(prefix, capacity, "conservative", wl, want)


def random_workload(rng: np.random.Generator) -> Workload:
    """Small integer workload with many ties, rows in random order, ids not in submit order."""
    n = int(rng.integers(1, 80))
    capacity = int(rng.integers(1, 65))
    run = rng.integers(1, 30, n)
    requested = run + rng.integers(0, 30, n) * (rng.random(n) < 0.6)
    return Workload(
        job_id=(rng.permutation(n) * 3 + 1).tolist(),
        submit=rng.integers(0, int(rng.integers(1, 100)), n).astype(float).tolist(),
        run=run.astype(float).tolist(),
        requested=requested.astype(float).tolist(),
        size=np.minimum(rng.integers(1, capacity + 1, n), rng.integers(1, capacity + 1, n)).tolist(),
        capacity=capacity,
    )


@pytest.mark.parametrize("policy", ["conservative", "easy", "fcfs"])
def test_random_small_workloads(policy: str) -> None:
    rng = np.random.default_rng(20240611)
    for _ in range(300):
        wl = random_workload(rng)
        compare_with_reference(wl.table(), wl.capacity, policy, wl, wl.reference(policy)[0])
