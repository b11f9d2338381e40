"""The arrays Slurm mode's compiled loop works on, built from a job table, pools, config and QOS table.

Jobs are put in canonical order; categorical columns become dense indices; what can be decided before
the run (QOS walltime and size limits, shared requests that do not fit, unknown dependencies) becomes a
rejection reason; reservations are expanded to one per pool.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from pmtwin.sched.config import SchedulerConfig
from pmtwin.sched.qos import QosTable, job_qos_index
from pmtwin.workload.jobs import JobTable

if TYPE_CHECKING:
    from pmtwin.sched.slurm import SlurmPools

R_QOS_WALLTIME, R_QOS_MAX_NODES, R_SHARED_TOO_BIG, R_DEP_UNKNOWN = 1, 2, 3, 5
POLICY_CODES = {"fcfs": 0, "easy": 1, "conservative": 2}
PRIORITY_CODES = {"fifo": 0, "nersc": 1, "multifactor": 2}
MAX_QOS = 62  # preemption masks are 64-bit


@dataclass(frozen=True)
class Built:
    arrays: dict[str, NDArray[Any]]
    params: dict[str, float | int]
    order: NDArray[np.intp]
    share: NDArray[np.float64]  # canonical order
    fractions: NDArray[np.float64]  # (jobs, 3): of a node's cores, GPUs and memory (canonical order)
    units: NDArray[np.int64]  # nodes a job occupies (canonical order)


def build_state(
    jobs: JobTable,
    pool_of_job: NDArray[np.int64],
    pools: SlurmPools,
    config: SchedulerConfig,
    qos: QosTable,
) -> Built:
    _check_inputs(jobs, pool_of_job, pools, config)
    order = jobs.canonical_order()
    t = jobs.take(order)
    pool = np.ascontiguousarray(pool_of_job[order], np.int64)
    n = len(t)
    q = _qos_index(t, qos)
    shared_q = np.array([x.shared for x in qos.qos], bool)
    shared = shared_q[q]
    cores, gpus, mem = _shared_requests(t, pool, pools, shared)
    fractions = np.ones((n, 3), np.float64)
    if shared.any():
        fractions[shared] = np.stack([
            cores / pools.cores_per_node[pool],
            np.where(pools.gpus_per_node[pool] > 0, gpus / np.maximum(pools.gpus_per_node[pool], 1), 0.0),
            mem / pools.mem_mb_per_node[pool],
        ], axis=1)[shared]  # fmt: skip
    share = fractions.max(axis=1)
    units = np.where(shared, 1, t.size).astype(np.int64)
    kill = config.walltime == "kill"
    req = np.ascontiguousarray(t.limit_s if kill else t.requested_s, np.float64)
    kill_s = req + config.over_time_limit_s if kill else np.full(n, np.inf)
    reject = _rejections(t, q, qos, shared, share, cores, gpus, mem, pool, pools)
    deps = _dependencies(t, reject)
    arrays: dict[str, NDArray[Any]] = {
        "submit_s": np.ascontiguousarray(t.submit_s), "req_s": req, "kill_s": kill_s,
        "work_s": np.ascontiguousarray(t.work_s), "size": np.ascontiguousarray(t.size), "pool": pool,
        "qos": q.astype(np.int64), "shared": shared.astype(np.int8), "cores": cores, "gpus": gpus, "mem": mem,
        "usage_nodes": units * share, "reject_reason": reject, **deps,
    }  # fmt: skip
    arrays.update(_people(t, q, len(qos.qos)))
    arrays["may_hold"] = _may_hold(arrays, q, qos)
    arrays["static_prio"] = _static_priority(t, q, pool, pools, config, qos)
    if shared.any() and config.policy == "conservative":
        raise ValueError("conservative backfilling with shared-QOS jobs is not supported; use easy")
    if shared.any() and not pools.assign_nodes:
        raise ValueError("shared-QOS jobs need pools of nodes (assign_nodes); these pools are counts")
    arrays.update(_job_state(n, units if pools.assign_nodes else np.zeros(n, np.int64)))
    arrays.update(_qos_arrays(qos))
    res, n_res = _reservations(config, pools)
    arrays.update(res)
    arrays.update(_pool_arrays(pool, pools, req, n_res, arrays["res_pool"]))
    arrays["scratch"] = np.zeros(n + 1, np.int64)
    room = 2 * n + len(arrays["run_key"]) + 4 * n_res + 8
    arrays["prof_t"] = np.zeros(room, np.float64)
    arrays["prof_free"] = np.zeros(room, np.int64)
    arrays["next_submit"] = np.zeros(1, np.int64)
    arrays["clock_s"] = np.array([-np.inf])
    arrays["last_tick_final"] = np.zeros(1, np.int64)
    params: dict[str, float | int] = {
        "bf_window_s": config.backfill_window_s, "bf_interval_s": config.backfill_interval_s,
        "max_age_s": config.max_age_s, "age_weight": config.age_weight,
        "fairshare_weight": config.fairshare_weight if config.priority == "multifactor" else 0.0,
        "half_life_s": config.decay_half_life_s, "grace_s": config.preempt_grace_s,
        "calc_period_s": config.priority_calc_period_s,
        "policy": POLICY_CODES[config.policy], "priority": PRIORITY_CODES[config.priority],
        "accrue_limit": config.effective_accrue_limit, "bf_max_jobs": config.backfill_max_jobs,
        "requeue": int(config.preempt_mode == "requeue"), "n_jobs": n, "n_pools": len(pools.capacity),
        "n_qos": len(qos.qos), "n_users": int(arrays["urun"].size // len(qos.qos)),
        "n_accts": max(int(arrays["acct_usage"].size), 1), "n_res": n_res,
        "n_slots": int(pools.capacity.sum()),
        "assign_nodes": int(pools.assign_nodes),
    }  # fmt: skip
    return Built(arrays, params, order, share, fractions, units)


def _check_inputs(
    jobs: JobTable, pool_of_job: NDArray[np.int64], pools: SlurmPools, config: SchedulerConfig
) -> None:
    n = len(jobs)
    if len(pool_of_job) != n:
        raise ValueError(f"pool_of_job has {len(pool_of_job)} entries for {n} jobs")
    if len(pools.capacity) == 0 or np.any(pools.capacity <= 0):
        raise ValueError("every pool needs a positive capacity")
    plan = jobs.limit_s if config.walltime == "kill" else jobs.requested_s
    checks = (
        ((pool_of_job < 0) | (pool_of_job >= len(pools.capacity)), "its pool index is out of range"),
        (jobs.size <= 0, "its size is not positive"),
        (~np.isfinite(jobs.submit_s), "its submit time is not finite"),
        (~(jobs.work_s > 0) | ~np.isfinite(jobs.work_s), "its work (run time) is not positive and finite"),
        (~(plan > 0) | ~np.isfinite(plan), "its time limit is not positive and finite"),
        ((jobs.requested_s < jobs.work_s) & (config.walltime == "trace"),
         "its requested time is below its run time (trace walltime mode)"),
    )  # fmt: skip
    for bad, why in checks:
        if np.any(bad):
            row = int(np.argmax(bad))
            raise ValueError(f"job {int(jobs.job_id[row])} (row {row}) cannot be simulated: {why}")
    too_big = jobs.size > pools.capacity[np.clip(pool_of_job, 0, len(pools.capacity) - 1)]
    if np.any(too_big):
        row = int(np.argmax(too_big))
        raise ValueError(f"job {int(jobs.job_id[row])} (row {row}) asks for more nodes than its pool has")


def _qos_index(t: JobTable, qos: QosTable) -> NDArray[np.int64]:
    if len(qos.qos) > MAX_QOS:
        raise ValueError(f"QOS table {qos.name!r} has {len(qos.qos)} QOS; at most {MAX_QOS} are supported")
    return job_qos_index(t, qos).astype(np.int64)


def _shared_requests(
    t: JobTable, pool: NDArray[np.int64], pools: SlurmPools, shared: NDArray[np.bool_]
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """A shared job asking no cores gets one; asking no memory, the memory of its cores' share."""
    cpn, mpn = pools.cores_per_node[pool], pools.mem_mb_per_node[pool]
    cores = np.where(shared, np.maximum(t.cores, 1), 0).astype(np.int64)
    even = (cores * mpn) // np.maximum(cpn, 1)
    mem = np.where(shared, np.where(t.mem_mb > 0, t.mem_mb, even), 0).astype(np.int64)
    gpus = np.where(shared, t.gpus, 0).astype(np.int64)
    return cores, gpus, mem


def _rejections(
    t: JobTable, q: NDArray[np.int64], qos: QosTable, shared: NDArray[np.bool_], share: NDArray[np.float64],
    cores: NDArray[np.int64], gpus: NDArray[np.int64], mem: NDArray[np.int64], pool: NDArray[np.int64],
    pools: SlurmPools,
) -> NDArray[np.int8]:
    wall = np.array([x.max_walltime_s for x in qos.qos])[q]
    nodes = np.array([x.max_nodes_per_job for x in qos.qos])[q]
    fraction = np.array([x.max_node_fraction for x in qos.qos])[q]
    reject = np.zeros(len(t), np.int8)
    too_big = shared & (
        (t.size > 1) | (cores > pools.cores_per_node[pool]) | (gpus > pools.gpus_per_node[pool])
        | (mem > pools.mem_mb_per_node[pool]) | (share > fraction)
    )  # fmt: skip
    reject[too_big] = R_SHARED_TOO_BIG
    reject[(nodes > 0) & (t.size > nodes)] = R_QOS_MAX_NODES
    reject[(wall > 0) & (t.limit_s > wall)] = R_QOS_WALLTIME
    return reject


def _dependencies(t: JobTable, reject: NDArray[np.int8]) -> dict[str, NDArray[Any]]:
    """The dependency graph by parent (canonical indices). A dependency on a job that is not in the
    table, or not submitted before the dependent job (Slurm needs it to exist), rejects the job."""
    n = len(t)
    ndeps = np.zeros(n, np.int64)
    empty: dict[str, NDArray[Any]] = {
        "ndeps": ndeps, "dep_off": np.zeros(n + 1, np.int64), "dep_child": np.zeros(1, np.int64),
        "dep_kind": np.zeros(1, np.int8),
    }  # fmt: skip
    d = t.depends
    if d is None or len(d.job_id) == 0:
        return empty
    ids, first = np.unique(t.job_id, return_index=True)
    if len(ids) != n:
        raise ValueError("job ids must be unique when jobs have dependencies")
    child = first[np.searchsorted(ids, d.job_id).clip(0, len(ids) - 1)]
    known_child = ids[np.searchsorted(ids, d.job_id).clip(0, len(ids) - 1)] == d.job_id
    pos = np.searchsorted(ids, d.on_id).clip(0, len(ids) - 1)
    parent = first[pos]
    known = known_child & (ids[pos] == d.on_id) & (parent < child)
    unknown_child = child[known_child & ~known]
    reject[unknown_child[reject[unknown_child] == 0]] = R_DEP_UNKNOWN
    child, parent, kind = child[known], parent[known], d.kind[known]
    np.add.at(ndeps, child, 1)
    by_parent = np.lexsort((child, parent))
    off = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(parent, minlength=n), out=off[1:])
    return {"ndeps": ndeps, "dep_off": off, "dep_child": np.append(child[by_parent], 0).astype(np.int64),
            "dep_kind": np.append(kind[by_parent], 0).astype(np.int8)}  # fmt: skip


def _dense(values: NDArray[np.int64]) -> tuple[NDArray[np.int64], int]:
    """Known values (>= 0) to 0..k-1 in increasing order; unknown (< 0) stay -1."""
    known = values >= 0
    out = np.full(len(values), -1, np.int64)
    if not known.any():
        return out, 0
    top = int(values.max())
    if top < 4 * len(values):  # small ids: a lookup table instead of a sort
        present = np.bincount(values[known], minlength=top + 1) > 0
        lookup = np.cumsum(present) - 1
        out[known] = lookup[values[known]]
        return out, int(present.sum())
    uniq, inverse = np.unique(values[known], return_inverse=True)
    out[known] = inverse
    return out, len(uniq)


def _people(t: JobTable, q: NDArray[np.int64], n_qos: int) -> dict[str, NDArray[Any]]:
    user, n_users = _dense(t.user)
    acct, n_accts = _dense(t.group)
    arr, n_arrays = _dense(t.array_id)
    assoc_key = np.where(user >= 0, (user * n_qos + q) * (n_accts + 1) + (acct + 1), -1)
    assoc, n_assoc = _dense(assoc_key)
    throttle = np.zeros(max(n_arrays, 1), np.int64)
    if n_arrays:
        np.maximum.at(throttle, arr[arr >= 0], t.array_throttle[arr >= 0])
    nu, na, nas = max(n_users, 1), max(n_accts, 1), max(n_assoc, 1)
    zeros = _zeros
    return {
        "user": user, "acct": acct, "assoc": assoc, "arr": arr,
        "urun": zeros(nu * n_qos), "unodes": zeros(nu * n_qos), "usub": zeros(nu * n_qos),
        "arun": zeros(na * n_qos), "array_run": zeros(len(throttle)), "array_throttle": throttle,
        "uq_held": np.full(nu * n_qos, -1, np.int64), "aq_held": np.full(na * n_qos, -1, np.int64),
        "arr_held": np.full(len(throttle), -1, np.int64),
        "assoc_count": zeros(nas), "assoc_whead": np.full(nas, -1, np.int64),
        "assoc_wtail": np.full(nas, -1, np.int64),
        "acct_usage": np.zeros(na), "acct_last": np.full(na, -np.inf), "acct_running": np.zeros(na),
        "fs_total": np.array([0.0, -np.inf, 0.0]),
    }  # fmt: skip


def _may_hold(arrays: dict[str, NDArray[Any]], q: NDArray[np.int64], qos: QosTable) -> NDArray[np.int8]:
    """Jobs a running limit or an array throttle can hold (the others are never checked)."""
    per_user = np.array([x.max_running_jobs_per_user > 0 or x.max_running_nodes_per_user > 0
                         for x in qos.qos])  # fmt: skip
    per_account = np.array([x.max_running_jobs_per_account > 0 for x in qos.qos])
    arr = arrays["arr"]
    throttled = (arr >= 0) & (arrays["array_throttle"][np.maximum(arr, 0)] > 0)
    held_by = (per_user[q] & (arrays["user"] >= 0)) | (per_account[q] & (arrays["acct"] >= 0)) | throttled
    out: NDArray[np.int8] = held_by.astype(np.int8)
    return out


def _static_priority(
    t: JobTable, q: NDArray[np.int64], pool: NDArray[np.int64], pools: SlurmPools, config: SchedulerConfig,
    qos: QosTable,
) -> NDArray[np.float64]:
    """The multifactor terms that do not change while a job waits: job size, QOS and partition."""
    prio = np.array([x.priority for x in qos.qos], np.float64)
    top = max(float(prio.max()), 1.0)
    return np.ascontiguousarray(
        config.size_weight * t.size / pools.capacity[pool]
        + config.qos_weight * prio[q] / top
        + config.partition_weight * pools.partition_factor[pool],
        np.float64,
    )


def _job_state(n: int, units: NDArray[np.int64]) -> dict[str, NDArray[Any]]:
    node_off = np.zeros(n + 1, np.int64)
    np.cumsum(units, out=node_off[1:])
    def nan() -> NDArray[np.float64]:
        return np.full(n, np.nan)

    return {
        "node_off": node_off, "status": np.zeros(n, np.int8), "state": np.zeros(n, np.int8),
        "reason": np.zeros(n, np.int8), "signalled": np.zeros(n, np.int8),
        "inq": np.zeros(n, np.int8), "hq": np.zeros(n, np.int8),
        "hnext": np.zeros(n, np.int64), "start_s": nan(), "end_s": nan(),
        # set before they are read (at start, on joining the queue, on placement or hold): lazily zeroed
        "est_end": np.zeros(n), "eligible_s": np.zeros(n), "accrued_s": np.zeros(n),
        "accrue_since": np.zeros(n),
        "lost_node_s": np.zeros(n), "requeues": np.zeros(n, np.int64),
        "wnext": np.zeros(n, np.int64), "wprev": np.zeros(n, np.int64),
        "snext": np.zeros(n, np.int64), "node_ids": np.zeros(int(node_off[-1]) + 1, np.int64),
        "heap_t": np.zeros(2 * n + 16), "heap_j": np.zeros(2 * n + 16, np.int64),
        "heap_len": np.zeros(1, np.int64), "heap_cap": np.array([2 * n + 16], np.int64),
    }  # fmt: skip


def _qos_arrays(qos: QosTable) -> dict[str, NDArray[Any]]:
    names = qos.names
    mask = [sum(1 << names.index(v) for v in x.can_preempt) for x in qos.qos]
    def col(attr: str) -> NDArray[np.int64]:
        return np.array([getattr(x, attr) for x in qos.qos], np.int64)

    return {
        "qos_prio": np.array([x.priority for x in qos.qos], np.float64),
        "lim_jobs_pu": col("max_running_jobs_per_user"),
        "lim_nodes_pu": col("max_running_nodes_per_user"),
        "lim_jobs_pa": col("max_running_jobs_per_account"),
        "lim_submit_pu": col("max_submitted_jobs_per_user"),
        "preempt_mask": np.array(mask, np.int64),
        "preemptible": np.array([x.preemptible for x in qos.qos], np.int8),
    }  # fmt: skip


def _reservations(config: SchedulerConfig, pools: SlurmPools) -> tuple[dict[str, NDArray[Any]], int]:
    rows: list[tuple[float, float, int, int]] = []
    for r in config.all_reservations():
        targets = range(len(pools.names)) if r.pool is None else [_pool_index(pools, r.pool, r.name)]
        for p in targets:
            nodes = int(pools.capacity[p]) if r.nodes is None else r.nodes
            if nodes > pools.capacity[p]:
                raise ValueError(
                    f"reservation {r.name!r}: {nodes} nodes, "
                    f"but pool {pools.names[p]!r} has {pools.capacity[p]}"
                )
            rows.append((r.start_s, r.end_s, p, nodes))
    rows.sort()
    k = len(rows)
    start = np.array([x[0] for x in rows], np.float64)
    end = np.array([x[1] for x in rows], np.float64)
    pool = np.array([x[2] for x in rows], np.int64)
    held = np.array([x[3] for x in rows], np.int64)
    off = np.zeros(k + 1, np.int64)
    np.cumsum(held, out=off[1:])
    by_pool = np.lexsort((np.arange(k), start, pool)) if k else np.zeros(0, np.int64)
    pool_off = np.zeros(len(pools.names) + 1, np.int64)
    np.cumsum(np.bincount(pool, minlength=len(pools.names)), out=pool_off[1:])
    pad = _pad
    return {
        "res_pool": pad(pool), "res_nodes": pad(held), "res_off": off, "res_start": np.append(start, 0.0),
        "res_end": np.append(end, 0.0), "res_by_start": pad(np.arange(k, dtype=np.int64)),
        "res_by_end": pad(np.lexsort((np.arange(k), end)).astype(np.int64)),
        "res_held": np.full(k + 1, -2, np.int64), "res_slots": np.zeros(int(off[-1]) + 1, np.int64),
        "res_ptrs": np.zeros(2, np.int64), "pool_res_off": pool_off,
        "pool_res": pad(by_pool.astype(np.int64)),
        "pool_res_ptr": pool_off[:-1].copy(),
    }, k  # fmt: skip


def _zeros(k: int, dtype: type = np.int64) -> NDArray[Any]:
    return np.zeros(k, dtype)


def _pad(a: NDArray[Any]) -> NDArray[Any]:
    """One spare element, so that an empty array still has an address."""
    return np.append(a, 0).astype(a.dtype)


def _pool_index(pools: SlurmPools, name: str, reservation: str) -> int:
    if name not in pools.names:
        known = ", ".join(pools.names)
        raise ValueError(f"reservation {reservation!r}: unknown pool {name!r}; pools are {known}")
    return pools.names.index(name)


def _pool_arrays(
    pool: NDArray[np.int64], pools: SlurmPools, req: NDArray[np.float64], n_res: int,
    res_pool: NDArray[np.int64],
) -> dict[str, NDArray[Any]]:
    cap = pools.capacity.astype(np.int64)
    n_pools = len(cap)
    first_slot = np.concatenate(([0], np.cumsum(cap)[:-1])).astype(np.int64)
    per_pool = np.bincount(pool, minlength=n_pools).astype(np.int64)
    qbase = np.concatenate(([0], np.cumsum(per_pool)[:-1])).astype(np.int64)
    res_per_pool = np.bincount(res_pool[:n_res], minlength=n_pools).astype(np.int64)
    room = 2 * (cap + res_per_pool) + 2
    run_base = np.concatenate(([0], np.cumsum(room)[:-1])).astype(np.int64)
    max_req = np.zeros(n_pools)  # the longest planned run of each pool's jobs
    np.maximum.at(max_req, pool, req)
    slots = int(cap.sum())
    free_nodes = np.arange(slots, dtype=np.int64)  # each pool's slice is already a min-heap
    zeros = _zeros
    return {
        "capacity": cap, "first_slot": first_slot, "qbase": qbase, "max_req": max_req,
        "cores_pn": pools.cores_per_node.astype(np.int64), "gpus_pn": pools.gpus_per_node.astype(np.int64),
        "mem_pn": pools.mem_mb_per_node.astype(np.int64),
        "free": cap.copy(), "qlen": zeros(n_pools),
        "run_lo": run_base + room // 2, "run_hi": run_base + room // 2, "node_len": cap.copy(),
        "shlen": zeros(n_pools),
        "shopen": zeros(n_pools), "preemptible_running": zeros(n_pools), "preemptor_queued": zeros(n_pools),
        "preemptor": np.full(n_pools, -1, np.int64), "sorted_len": zeros(n_pools), "nqueued": zeros(n_pools),
        "preemptible_nodes": zeros(n_pools), "signalled_nodes": zeros(n_pools),
        "last_calc": np.full(n_pools, -math.inf),
        "run_base": run_base, "run_end": run_base + room, "dirty": zeros(n_pools, np.int8),
        "bf_dirty": zeros(n_pools, np.int8),
        "qbuf": zeros(max(len(pool), 1)),
        "qunits": zeros(max(len(pool), 1)), "qprio": np.zeros(max(len(pool), 1)),
        "run_key": np.zeros(int(room.sum())),
        "run_id": zeros(int(room.sum())), "free_nodes": free_nodes, "node_cores": zeros(slots),
        "node_gpus": zeros(slots), "node_mem": zeros(slots), "node_njobs": zeros(slots),
        "node_head": np.full(slots, -1, np.int64), "shpos": np.full(slots, -1, np.int64),
        "shlist": zeros(slots), "node_busy": np.full(slots, -math.inf),
    }  # fmt: skip
