"""What a Slurm-mode run adds to the results: the jobs that ran as a plain schedule, and the
scheduler's own facts (states, jobs that never ran by reason, requeues, charges) for the summary and
the per-job table."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from pmtwin.results.charging import compute_charges
from pmtwin.results.rundir import Categorical
from pmtwin.sched.qos import QosTable, job_qos_index
from pmtwin.sched.slurm import REASON_NAMES, STATE_NAMES, SlurmResult
from pmtwin.sim.engine import Schedule
from pmtwin.workload.jobs import JobTable


@dataclass(frozen=True)
class Outcome:
    """The jobs that ran (rows of the job table given, in order), their schedule, the fractions of a
    node's cores, GPUs and memory each holds, the summary block ``scheduler`` and extra per-job columns
    for ``jobs.parquet``."""

    ran: JobTable
    schedule: Schedule
    fractions: NDArray[np.float64]
    summary: dict[str, Any]
    columns: dict[str, NDArray[Any] | Categorical]


def slurm_outcome(
    jobs: JobTable,
    result: SlurmResult,
    pool_of_job: NDArray[np.int32],
    pool_names: Sequence[str],
    qos: QosTable,
    pool_charge_factor: NDArray[np.float64],
    *,
    with_nodes: bool,
) -> Outcome:
    ran = np.flatnonzero(result.ran)
    charges = compute_charges(
        jobs, np.where(result.ran, result.start_s, np.nan), result.end_s, result.share, pool_of_job, qos,
        pool_charge_factor, pool_names=pool_names,
    )  # fmt: skip
    times = (result.start_s[ran], result.end_s[ran], np.asarray(pool_of_job, np.int32)[ran])
    schedule = Schedule(*times)
    if with_nodes:
        counts = np.diff(result.node_offsets)
        offsets = np.zeros(len(ran) + 1, np.int64)
        np.cumsum(counts[ran], out=offsets[1:])
        schedule = Schedule(*times, offsets, result.node_ids)  # node ids exist only for jobs that ran
    never = ~result.ran
    not_run = {REASON_NAMES[r]: int(np.count_nonzero(never & (result.reason == r)))
               for r in range(1, len(REASON_NAMES))}  # fmt: skip
    summary = {
        "states": {name: int(np.count_nonzero(result.state == k)) for k, name in enumerate(STATE_NAMES)},
        "not_run": {"total": int(np.count_nonzero(never)),
                    "by_reason": {k: v for k, v in sorted(not_run.items()) if v}},
        "requeues": int(result.requeues.sum()),
        "lost_node_hours": float(result.lost_node_s.sum() / 3600.0),
        "charges": {"total": charges.total, "by_account": charges.by_account, "by_qos": charges.by_qos,
                    "by_pool": charges.by_pool},
    }  # fmt: skip
    everyone = len(ran) == len(jobs)
    qos_index = job_qos_index(jobs, qos)
    columns: dict[str, NDArray[Any] | Categorical] = {
        "qos": Categorical(qos_index if everyone else qos_index[ran], qos.names),
        "state": Categorical(result.state if everyone else result.state[ran], STATE_NAMES),
        "requeues": result.requeues if everyone else result.requeues[ran],
        "charge": charges.per_job if everyone else charges.per_job[ran],
    }
    fractions = result.fractions if everyone else result.fractions[ran]
    return Outcome(jobs if everyone else jobs.take(ran), schedule, fractions, summary, columns)
