"""Slurm mode (docs/slurm-scheduling.md): schedule a job table with priorities, QOS limits, walltime
kills, reservations, shared nodes, dependencies, arrays and preemption.

``run_slurm`` prepares the columns (canonical order, QOS and dense user/account/association indices,
static rejections, the dependency graph, reservations per pool), runs the compiled event loop
(``_cslurm.c``) to the end and returns the outcome aligned with the rows of the job table.
"""

from __future__ import annotations

import ctypes
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from pmtwin import _native
from pmtwin.sched._slurm_build import build_state
from pmtwin.sched._slurm_fields import FLOAT_PARAMS, INT_PARAMS, POINTER_FIELDS, SlurmStateStruct
from pmtwin.sched.config import SchedulerConfig
from pmtwin.sched.qos import QosTable
from pmtwin.sim.engine import FINISHED, PoolLevels, ProgressFn
from pmtwin.workload.jobs import JobTable

STATE_NAMES = ("COMPLETED", "TIMEOUT", "CANCELLED", "REJECTED")
REASON_NAMES = (
    "", "qos_walltime", "qos_max_nodes", "shared_too_big", "qos_submit_limit", "dependency_unknown",
    "dependency_never_satisfied", "preempted",
)  # fmt: skip
QUEUED, RUNNING, ENDED = 2, 3, 4
"""Job status codes of the compiled scheduler (``_cslurm.c``)."""


@dataclass(frozen=True)
class SlurmPools:
    """Pools as contiguous node-id ranges of identical nodes, with what one node offers."""

    names: tuple[str, ...]
    capacity: NDArray[np.int64]
    first_node: NDArray[np.int64]
    cores_per_node: NDArray[np.int64]
    gpus_per_node: NDArray[np.int64]
    mem_mb_per_node: NDArray[np.int64]
    partition_factor: NDArray[np.float64]
    assign_nodes: bool = True

    @staticmethod
    def uniform(names: tuple[str, ...], capacity: list[int], *, cores: int = 64, gpus: int = 4,
                mem_mb: int = 256_000, assign_nodes: bool = True) -> SlurmPools:
        """Pools laid end to end from node 0, every node alike (tests; ``assign_nodes=False`` for
        processor traces, whose pools are counts: no node ids, no shared jobs)."""
        cap = np.asarray(capacity, np.int64)
        first = np.concatenate(([0], np.cumsum(cap)[:-1])).astype(np.int64)
        n = len(cap)
        return SlurmPools(
            names, cap, first, np.full(n, cores, np.int64), np.full(n, gpus, np.int64),
            np.full(n, mem_mb, np.int64), np.zeros(n, np.float64), assign_nodes,
        )  # fmt: skip


@dataclass(frozen=True)
class SlurmResult:
    """The outcome per job (rows of the job table given). A job that never ran has NaN times and no
    nodes; ``share`` is the fraction of a node a job holds (1 for exclusive jobs), the largest of its
    ``fractions`` of the node's cores, GPUs and memory (columns in that order)."""

    start_s: NDArray[np.float64]
    end_s: NDArray[np.float64]
    state: NDArray[np.int8]
    reason: NDArray[np.int8]
    requeues: NDArray[np.int64]
    lost_node_s: NDArray[np.float64]
    node_offsets: NDArray[np.int64]
    node_ids: NDArray[np.int64]
    share: NDArray[np.float64]
    fractions: NDArray[np.float64]

    @property
    def ran(self) -> NDArray[np.bool_]:
        return ~np.isnan(self.start_s)


def run_slurm(
    jobs: JobTable,
    pool_of_job: NDArray[np.int32],
    pools: SlurmPools,
    config: SchedulerConfig,
    qos: QosTable,
    *,
    until_s: float = math.inf,
    progress: ProgressFn | None = None,
    progress_steps: int = 100,
) -> SlurmResult:
    """Schedule ``jobs`` (each in pool ``pool_of_job``) under ``config`` and the QOS ``qos``.

    ``progress`` (optional) is called ``progress_steps`` times with the simulated time reached and a
    reader of the pool levels then (busy units count a pool's nodes, or its slots of shared nodes)."""
    built = build_state(jobs, np.asarray(pool_of_job, np.int64), pools, config, qos)
    arrays = built.arrays
    struct = SlurmStateStruct(
        *[_native.pointer(arrays[name], dtype) for name, dtype in POINTER_FIELDS],
        *[float(built.params[name]) for name in FLOAT_PARAMS],
        *[int(built.params[name]) for name in INT_PARAMS],
    )
    advance = _native.library().pm_slurm_advance
    if progress is not None and len(jobs) and until_s == math.inf:
        first = float(jobs.submit_s.min())
        horizon = float(jobs.submit_s.max() + jobs.limit_s.max())
        for step in range(1, progress_steps):
            t = first + (horizon - first) * step / progress_steps
            if advance(ctypes.byref(struct), t) == FINISHED:
                break
            progress(t, lambda: _levels(arrays))
    advance(ctypes.byref(struct), until_s)
    status = arrays["status"]
    stuck = np.flatnonzero(status != ENDED)
    if len(stuck) and until_s == math.inf:
        row = int(built.order[stuck[0]])
        raise ValueError(
            f"{len(stuck)} jobs could never run (first: job {int(jobs.job_id[row])}, row {row}); "
            "a reservation or limit leaves no room for them"
        )
    return _result(built.order, arrays, built.share, built.fractions, pools, built.units)


def _levels(arrays: dict[str, NDArray[np.generic]]) -> PoolLevels:
    capacity = np.asarray(arrays["capacity"], np.int64).copy()
    running = np.asarray(arrays["status"]) == RUNNING
    pool = np.asarray(arrays["pool"], np.int64)
    return PoolLevels(
        capacity=capacity,
        busy_units=capacity - np.asarray(arrays["free"], np.int64),
        queued_jobs=np.bincount(pool[np.asarray(arrays["status"]) == QUEUED], minlength=len(capacity)),
        running_jobs=np.bincount(pool[running], minlength=len(capacity)).astype(np.int64),
        finished_jobs=int(np.count_nonzero(np.asarray(arrays["status"]) == ENDED)),
        total_jobs=len(pool),
    )


def _result(
    order: NDArray[np.intp],
    arrays: dict[str, NDArray[np.generic]],
    share: NDArray[np.float64],
    fractions: NDArray[np.float64],
    pools: SlurmPools,
    units: NDArray[np.int64],
) -> SlurmResult:
    n = len(order)
    rank = np.empty(n, np.int64)
    rank[order] = np.arange(n)
    start = np.asarray(arrays["start_s"], np.float64)[rank]
    ran = ~np.isnan(start)
    counts = np.where(ran, units[rank], 0) if pools.assign_nodes else np.zeros(n, np.int64)
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(counts, out=offsets[1:])
    node_off = np.asarray(arrays["node_off"], np.int64)
    # node ids of job i: its slots (node_ids[node_off[rank[i]]:...]) shifted from slots to node ids
    slots = np.asarray(arrays["node_ids"], np.int64)
    if np.array_equal(node_off[:-1][rank], offsets[:-1]):  # canonical input order, every job ran
        nodes = slots[: offsets[-1]].copy()
    else:
        nodes = slots[np.repeat(node_off[:-1][rank] - offsets[:-1], counts) + np.arange(offsets[-1])]
    shift = pools.first_node - np.asarray(arrays["first_slot"], np.int64)
    if np.any(shift):
        nodes += np.repeat(shift[np.asarray(arrays["pool"], np.int64)[rank]], counts)
    return SlurmResult(
        start_s=start,
        end_s=np.asarray(arrays["end_s"], np.float64)[rank],
        state=np.asarray(arrays["state"], np.int8)[rank],
        reason=np.asarray(arrays["reason"], np.int8)[rank],
        requeues=np.asarray(arrays["requeues"], np.int64)[rank],
        lost_node_s=np.asarray(arrays["lost_node_s"], np.float64)[rank],
        node_offsets=offsets,
        node_ids=nodes,
        share=share[rank],
        fractions=fractions[rank],
    )
