"""Read a trace file and fit a workload model to it (``pmtwin workload fit``)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from pmtwin.workload.fit import SECONDS_PER_DAY, fit_model, hour_of_week, swf_start_hour_of_week, trace_span_s
from pmtwin.workload.jobs import JobTable
from pmtwin.workload.model import WorkloadModel

if TYPE_CHECKING:
    from pmtwin.machine import Machine

FIT_FORMATS = ("auto", "swf", "sacct", "parquet")


@dataclass(frozen=True)
class FittedTrace:
    """A fitted model with the jobs it was fitted to, their span in days, what the reader skipped."""

    model: WorkloadModel
    jobs: JobTable
    days: float
    skipped: dict[str, int]
    capped: int = 0
    """Jobs whose size is larger than their pool on the machine: SWF processors onto a machine are
    capped; node sizes are left to the generator, which clips them."""


def fit_trace_file(
    path: Path,
    fmt: str = "auto",
    *,
    name: str | None = None,
    tz: str | None = None,
    skip_bad_lines: bool = False,
    partition: str | None = None,
    machine: Machine | None = None,
) -> FittedTrace:
    """Fit a model to an SWF, sacct (``--parsable2``) or Parquet trace.

    The local hour of week of ``submit_s = 0`` comes from an SWF header (``UnixStartTime`` and its
    time zone) or, for sacct (Unix times), from ``tz`` (default UTC); a Parquet table's is taken as
    Monday 00:00. An SWF trace's partitions each get its header's machine size as their node count;
    sacct's QOS column is kept, so its QOS become classes of their own.

    ``partition`` puts every job in one partition of that name. With ``machine``, an SWF trace (one
    pool of processors) goes to ``partition`` (default "cpu") and its processors become whole nodes of
    that partition's default node type, as ``pmtwin replay --machine`` maps them (ceil(processors /
    cores per node), capped at the pool's nodes: ``capped`` counts those); a sacct or Parquet trace
    keeps its partitions (sizes are nodes already), each of which must be one of the machine's. The
    model then generates for that machine.
    """
    from pmtwin.runs import detect_format

    fmt = detect_format(path) if fmt == "auto" else fmt
    nodes: dict[str, int] | None = None
    if fmt == "swf":
        from pmtwin.workload.swf import read_swf

        swf = read_swf(path, skip_bad_lines=skip_bad_lines)
        jobs, skipped, start_how = swf.jobs, dict(swf.skipped), swf_start_hour_of_week(swf)
        nodes = dict.fromkeys(jobs.partition_names, swf.capacity)
    elif fmt == "sacct":
        from pmtwin.workload.sacct import read_sacct

        sacct = read_sacct(path, tz=tz or "UTC", skip_bad_lines=skip_bad_lines)
        jobs = replace(sacct.jobs, qos=sacct.qos, qos_names=sacct.qos_names)
        skipped, start_how = dict(sacct.skipped), hour_of_week(0.0, tz)
    elif fmt == "parquet":
        from pmtwin.workload.parquet_io import read_jobs_parquet

        jobs, skipped, start_how = read_jobs_parquet(path), {}, 0.0
    else:
        raise ValueError(f"unknown trace format {fmt!r} for fitting; choose one of {', '.join(FIT_FORMATS)}")
    if len(jobs) == 0:
        raise ValueError(f"{path}: no jobs to fit a model to")
    capped = 0
    if partition is not None or (machine is not None and fmt == "swf"):
        target = partition or "cpu"
        jobs = replace(jobs, partition=np.zeros(len(jobs), np.int32), partition_names=(target,))
        nodes = None if nodes is None else {target: max(nodes.values())}
    if machine is not None:
        hint = "" if partition is not None else "; give --partition to put every job in one of them"
        jobs, capped = _onto_machine(jobs, machine, processors=fmt == "swf", hint=hint)
        nodes = {name: machine.partition_node_counts()[name] for name in jobs.partition_names}
    label = name or path.name.removesuffix(".gz").removesuffix(".swf").removesuffix(".parquet")
    model = fit_model(jobs, name=label, source=path.name, start_hour_of_week=start_how, nodes=nodes)
    return FittedTrace(model, jobs, trace_span_s(jobs) / SECONDS_PER_DAY, skipped, capped)


def _onto_machine(jobs: JobTable, machine: Machine, *, processors: bool, hint: str) -> tuple[JobTable, int]:
    """Jobs whose partitions are the machine's; processor sizes (one partition) as whole nodes of its
    default node type, capped at its pool's nodes. Returns the jobs and how many are (or, for node
    sizes, will be) capped at their pool; ``hint`` ends the error for a partition the machine lacks."""
    unknown = [name for name in jobs.partition_names if name not in machine.partitions]
    if unknown:
        known = ", ".join(machine.partitions)
        raise ValueError(f"partition {unknown[0]!r} is not one of {machine.name}'s ({known}){hint}")
    if not processors:  # sizes are nodes: the generator clips those above their pool, counted here
        from pmtwin.workload.generate import pool_node_counts

        return jobs, int(np.count_nonzero(jobs.size > pool_node_counts(jobs, machine)))
    from pmtwin.workload.routing import processors_to_nodes

    mapped, _, capped = processors_to_nodes(jobs, machine, jobs.partition_names[0])
    return mapped, capped
