"""Charging (docs/slurm-scheduling.md section 9): what each job costs its account, in node-hours.

Per job: charge = size x (end - start) / 3600 s x share x QOS charge factor x pool charge factor,
where ``share`` is the fraction of each node the job holds (1 for exclusive jobs; section 6) and the
pool factor is the machine charge factor of the pool's node type (NERSC: "node-hours x QOS factor x
machine charge factor"). A job that never ran (no finite start or end: rejected, cancelled while
queued) is charged 0.

Currencies: on Perlmutter a CPU node-hour and a GPU node-hour are separate allocations that cannot be
exchanged (reference sheet section 4), both at factor 1.0. ``Charges.by_pool`` keeps them apart; the
total and the per-account and per-QOS sums add node-hours of every pool, which is what a single-pool
run wants and a mixed CPU/GPU run should read together with ``by_pool``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from pmtwin.machine.errors import MachineConfigError
from pmtwin.machine.system import Machine
from pmtwin.sched.qos import QosTable, job_qos_index
from pmtwin.workload.jobs import JobTable

SECONDS_PER_HOUR = 3600.0


@dataclass(frozen=True)
class Charges:
    """Charges of a run, in node-hours of the pools' currencies.

    ``per_job`` is aligned with the job table's rows. ``by_account`` is keyed by the account id as a
    string (the job table's ``group``; "-1" for unknown), in ascending id order, and lists every account
    that has a job, charged or not. ``by_qos`` lists every QOS of the table, in table order; ``by_pool``
    every pool, in pool order.
    """

    per_job: NDArray[np.float64]
    by_account: dict[str, float]
    by_qos: dict[str, float]
    by_pool: dict[str, float]
    total: float


def compute_charges(
    jobs: JobTable,
    start_s: ArrayLike,
    end_s: ArrayLike,
    share: ArrayLike,
    pool_of_job: ArrayLike,
    qos_table: QosTable,
    pool_charge_factor: ArrayLike,
    *,
    pool_names: Sequence[str] | None = None,
) -> Charges:
    """The charges of every job and their sums by account, QOS and pool.

    ``start_s``/``end_s``/``share``/``pool_of_job`` are per job (``share`` from :func:`node_share`);
    ``pool_charge_factor`` is per pool (from :func:`pool_charge_factors`), ``pool_names`` name the
    pools in ``by_pool`` (default "0", "1", ...). A job's QOS is ``jobs.qos_names[jobs.qos]``, the
    table's default for the name "". Raises ``ValueError`` for misaligned or invalid inputs and
    ``QosConfigError`` for a job QOS the table does not have.
    """
    n = len(jobs)
    start = _float_column(start_s, "start_s", n)
    end = _float_column(end_s, "end_s", n)
    shares = _float_column(share, "share", n)
    pools: NDArray[np.int64] = np.ascontiguousarray(pool_of_job, np.int64).reshape(-1)
    _check_rows(pools, "pool_of_job", n)
    factors = np.ascontiguousarray(pool_charge_factor, np.float64).reshape(-1)
    names = tuple(pool_names) if pool_names is not None else tuple(str(k) for k in range(len(factors)))
    if len(names) != len(factors):
        raise ValueError(f"{len(names)} pool names but {len(factors)} pool charge factors")
    if not np.all(np.isfinite(factors) & (factors >= 0)):
        raise ValueError("pool charge factors must be finite and >= 0")

    ran = np.isfinite(start) & np.isfinite(end)
    _check_ran(ran, start, end, shares, pools, len(factors))
    qos_index = job_qos_index(jobs, qos_table)
    qos_factor = np.array([qos.charge_factor for qos in qos_table.qos], np.float64)

    per_job = np.zeros(n, np.float64)
    run_h = (end[ran] - start[ran]) / SECONDS_PER_HOUR
    per_job[ran] = jobs.size[ran] * run_h * shares[ran] * qos_factor[qos_index[ran]] * factors[pools[ran]]

    by_qos = np.bincount(qos_index, weights=per_job, minlength=len(qos_table.qos))
    by_pool = np.bincount(pools[ran], weights=per_job[ran], minlength=len(factors))
    return Charges(
        per_job=per_job,
        by_account=sum_by_account(jobs.group, per_job),
        by_qos={name: float(value) for name, value in zip(qos_table.names, by_qos, strict=True)},
        by_pool={name: float(value) for name, value in zip(names, by_pool, strict=True)},
        total=float(per_job.sum()),
    )


def node_share(
    cores: ArrayLike,
    gpus: ArrayLike,
    mem_mb: ArrayLike,
    cores_per_node: ArrayLike,
    gpus_per_node: ArrayLike,
    mem_mb_per_node: ArrayLike,
    *,
    shared: ArrayLike,
) -> NDArray[np.float64]:
    """The fraction of a node each job holds: 1.0 for exclusive jobs (``shared`` False).

    A shared job holds the largest of its fractions cores / node cores, GPUs / node GPUs and memory /
    node memory (section 9); a request of 0 is no request and is ignored (0 memory is "an even share by
    cores", section 6, which the core fraction already gives). Every job holds at least one core, as
    Slurm allocates at least one CPU to a job, so a shared job that asks for nothing counts as one
    core's share. A request for a device the node does not have, or for more than the node has, counts
    as the whole node (such a job is rejected at submission and never runs). ``cores`` and
    ``cores_per_node`` must be in one unit (Slurm CPUs: hardware threads on Perlmutter). Per-node
    arguments are scalars or per job (jobs in different pools).
    """
    is_shared = np.asarray(shared, np.bool_)
    requests = [np.asarray(values, np.float64) for values in (cores, gpus, mem_mb)]
    capacities = [
        np.asarray(values, np.float64) for values in (cores_per_node, gpus_per_node, mem_mb_per_node)
    ]
    if any(np.any(~(values >= 0)) for values in requests + capacities):
        raise ValueError("node_share: requests and per-node capacities must be >= 0")
    requests[0] = np.maximum(requests[0], 1.0)  # at least one CPU
    fractions = [_fraction(wanted, capacity) for wanted, capacity in zip(requests, capacities, strict=True)]
    share = np.minimum(np.maximum.reduce(np.broadcast_arrays(*fractions)), 1.0)
    return np.where(is_shared, share, 1.0).astype(np.float64)


def pool_charge_factors(machine: Machine, pool_names: Sequence[str]) -> NDArray[np.float64]:
    """The machine charge factor (node type ``charge_factor``) of each named pool of ``machine``."""
    pools = {pool.name: pool for pool in machine.pools()}
    factors = np.empty(len(pool_names), np.float64)
    for k, name in enumerate(pool_names):
        if name not in pools:
            raise MachineConfigError(f"{machine.name}: unknown pool {name!r}; valid: {', '.join(pools)}")
        factors[k] = machine.node_type(pools[name].node_type).charge_factor
    return factors


def _fraction(requested: NDArray[np.float64], capacity: NDArray[np.float64]) -> NDArray[np.float64]:
    """requested / capacity where both are positive; 0 for no request; 1 where the node has none."""
    safe = np.where(capacity > 0, capacity, 1.0)
    fraction = np.where(capacity > 0, requested / safe, 1.0)
    return np.where(requested > 0, fraction, 0.0)


def _float_column(values: ArrayLike, name: str, n: int) -> NDArray[np.float64]:
    column: NDArray[np.float64] = np.ascontiguousarray(values, np.float64).reshape(-1)
    _check_rows(column, name, n)
    return column


def _check_rows(column: NDArray[np.generic], name: str, n: int) -> None:
    if len(column) != n:
        raise ValueError(f"{name} has {len(column)} rows, the job table {n}")


def _check_ran(
    ran: NDArray[np.bool_],
    start: NDArray[np.float64],
    end: NDArray[np.float64],
    shares: NDArray[np.float64],
    pools: NDArray[np.int64],
    n_pools: int,
) -> None:
    if not ran.any():
        return
    if np.any(end[ran] < start[ran]):
        raise ValueError("a job ends before it starts")
    if not np.all(np.isfinite(shares[ran]) & (shares[ran] >= 0) & (shares[ran] <= 1)):
        raise ValueError("share must be within [0, 1] for every job that ran")
    if pools[ran].min() < 0 or pools[ran].max() >= n_pools:
        raise ValueError("pool_of_job holds an index outside the pools given")


def sum_by_account(account: NDArray[np.int64], per_job: NDArray[np.float64]) -> dict[str, float]:
    """Sums of a per-job quantity by account id (as a string; "-1" for unknown), ids ascending."""
    ids, inverse = np.unique(account, return_inverse=True)
    sums = np.bincount(inverse.reshape(-1), weights=per_job, minlength=len(ids))
    return {str(int(i)): float(s) for i, s in zip(ids, sums, strict=True)}
