"""Draw a workload from a model (``model.py``): ``pmtwin workload generate`` and ``pmtwin simulate``.

The rules (docs/workloads.md section 2), with ``SeedSequence(seed)`` spawning one stream per partition
(model order), then one for the users' accounts, one for the DESI jobs, one for the model's transforms:

1. Rate: ``jobs_per_day``, or ``offered_load x nodes / E[size x run time]`` (the expectation over the
   classes by share, sizes clipped as in rule 3).
2. Submissions: gaps drawn i.i.d. from ``arrivals.gaps`` (mean rescaled to 1; absent: exponential) are
   summed in operational time, where an hour of the week counts ``rate x profile[hour]`` units (profile =
   weekly x daily, mean 1 over the week, t = 0 Monday 00:00 local); operational times before the
   horizon's total are mapped back to real time through the piecewise-linear cumulative rate and
   floored to whole seconds. Exponential gaps make this a Poisson process with that hourly rate.
3. Each job draws, from one row of uniforms, its class (by share), then its size = round(size law),
   clipped to [1, min(max_size, nodes of its pool)] (a constraint no node of the machine's partition
   answers beyond its default node type is dropped: the job runs on the default nodes); its time
   limit = round(limit law) >= 1 s and run time = ceil(limit x accuracy) within [1, limit], the
   accuracy drawn with the limit's uniform for a share |c| of the jobs (``limit_accuracy_coupling`` c;
   1 - that uniform when c < 0), or run time = round(run-time law) >= 1 s and limit = run time; its
   power class (by the class's weights; none: the node's default).
4. Users: rank r with probability ~ r**-exponent, shared by all partitions; each user's account is drawn
   once per user (Zipf over accounts).
5. A QOS whose classes set ``submit_limit`` keeps a job only while its user has fewer than that many
   jobs of the QOS (in every partition) submitted within ``submit_window_s`` before it, in canonical
   order (else the job moves to ``overflow_qos``): the QOS's per-user submit limit then holds whenever
   jobs end within the window.
6. Shared classes (``cores`` or ``gpus`` laws) ask for part of their one node: GPUs (with the cores and
   memory of as many GPUs' share of the node) or cores (memory in proportion); needs a machine.
7. DESI jobs (``[desi]``) join the partitions' jobs before rule 5 (which looks at the whole table);
   the model's ``[[transforms]]`` come last; rows are renumbered 1..n in canonical order (submit time,
   then partition order with DESI last, then draw order).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from pmtwin.workload.combine import concat_jobs
from pmtwin.workload.draws import shared_request, zipf_ranks
from pmtwin.workload.jobs import JobTable
from pmtwin.workload.model import MEAN_GRID, Dist, JobClass, PartitionModel, WorkloadModel
from pmtwin.workload.submit_limits import over_submit_limit

if TYPE_CHECKING:
    from pmtwin.machine.system import Machine

SECONDS_PER_DAY = 86400.0
SECONDS_PER_HOUR = 3600.0
HOURS_PER_WEEK = 168


@dataclass(frozen=True)
class PartitionShape:
    """What the generator needs of a partition: nodes per pool constraint and one node's offer."""

    nodes: int
    constraint_nodes: dict[str, int]
    """Nodes a job of each constraint can run on; a constraint the machine lacks maps to ""."""
    cores_per_node: int
    gpus_per_node: int
    mem_mb_per_node: int


@dataclass(frozen=True)
class GeneratedWorkload:
    """A generated workload and what happened on the way: jobs moved by submit limits (by QOS), the
    DESI nights drawn and kept, and each of the model's transforms' report."""

    jobs: JobTable
    report: dict[str, Any]


def generate_workload(
    model: WorkloadModel, *, days: float, seed: int, machine: Machine | None = None
) -> JobTable:
    """``days`` days of the model's workload (rules in the module docstring); same arguments, same bytes.

    With ``machine`` the partitions take its node counts and node shapes (every model partition must be
    one of its partitions); without, each partition needs ``nodes`` in the model."""
    return generate(model, days=days, seed=seed, machine=machine).jobs


def generate(
    model: WorkloadModel, *, days: float, seed: int, machine: Machine | None = None
) -> GeneratedWorkload:
    """``generate_workload`` with its report."""
    horizon_s = _horizon_s(days)
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    shapes = partition_shapes(model, machine)
    specs = _model_transforms(model)
    streams = np.random.SeedSequence(int(seed)).spawn(len(model.partitions) + 3)
    users_rng = np.random.default_rng(streams[len(model.partitions)])
    account_of_user = zipf_ranks(
        users_rng, model.users.count, model.users.accounts, model.users.account_zipf_exponent
    )
    tables = [
        _partition_jobs(
            np.random.default_rng(stream), model, name, part, shapes[name], horizon_s, account_of_user
        )
        for stream, (name, part) in zip(streams, model.partitions.items(), strict=False)
    ]
    report: dict[str, Any] = {}
    if model.desi.nights or model.desi.reprocessing:
        if machine is None:
            raise ValueError(f"model {model.model.name!r}: DESI jobs ([desi]) need a machine")
        desi_table, report["desi"] = _desi(machine, days, streams[len(model.partitions) + 1], model)
        tables.append(desi_table)
    jobs, report["moved_by_submit_limits"] = apply_submit_limits(concat_jobs(tables), model)
    if specs:
        from pmtwin.workload.transform_config import apply_transforms

        transform_seed = int(streams[-1].generate_state(1)[0])
        jobs, report["transforms"] = apply_transforms(jobs, specs, transform_seed)
        if machine is not None:
            check_sizes_fit(jobs, machine, f"model {model.model.name!r}'s transforms")
    return GeneratedWorkload(jobs, report)


def check_sizes_fit(jobs: JobTable, machine: Machine, after: str) -> None:
    """A user error when a job asks for more nodes than its pool (partition and constraint) has, as a
    transform can make (``after`` says which)."""
    capacity = pool_node_counts(jobs, machine)
    over = np.flatnonzero(jobs.size > capacity)
    if len(over):
        k = int(over[0])
        raise ValueError(
            f"after {after}, {len(over)} jobs ask for more nodes than their pool of {machine.name} has "
            f"(job {int(jobs.job_id[k])}: {int(jobs.size[k])} > {int(capacity[k])}); give shift_to_gpu or "
            "rescale_sizes a max_size"
        )


def pool_node_counts(jobs: JobTable, machine: Machine) -> NDArray[np.int64]:
    """The nodes of each job's pool on ``machine`` (from its partition and constraint; every partition
    must be the machine's)."""
    from pmtwin.workload.routing import pool_of_jobs

    nodes: NDArray[np.int64] = np.array([p.node_count for p in machine.pools()], np.int64)[
        pool_of_jobs(jobs, machine)
    ]
    return nodes


def _model_transforms(model: WorkloadModel) -> list[Any]:
    """The model's ``[[transforms]]``, validated before anything is drawn."""
    if not model.transforms:
        return []
    from pmtwin.workload.transform_config import parse_transforms

    return list(parse_transforms({"transforms": model.transforms}, f"model {model.model.name!r}"))


def _desi(
    machine: Machine, days: float, stream: np.random.SeedSequence, model: WorkloadModel
) -> tuple[JobTable, dict[str, int]]:
    """The DESI jobs and the nights drawn."""
    from pmtwin.workload.desi_jobs import draw_desi_jobs

    drawn = draw_desi_jobs(machine, days=days, rng=np.random.default_rng(stream), nights=model.desi.nights,
                           reprocessing=model.desi.reprocessing)  # fmt: skip
    facts = {"jobs": len(drawn.jobs)}
    if drawn.plan is not None:
        facts |= {
            "observing_nights": drawn.plan.observing_nights,
            "nights_cut_at_horizon": drawn.plan.cut_nights,
        }
    return drawn.jobs, facts


def partition_shapes(model: WorkloadModel, machine: Machine | None) -> dict[str, PartitionShape]:
    """Each model partition's nodes and node shape, from the machine or the model's ``nodes``."""
    shapes: dict[str, PartitionShape] = {}
    for name, part in model.partitions.items():
        constraints = {c.constraint for c in part.classes.values()}
        if machine is None:
            if part.nodes is None:
                raise ValueError(
                    f"model {model.model.name!r}: partition {name!r} has no nodes; give a machine"
                )
            shapes[name] = PartitionShape(part.nodes, {c: part.nodes for c in constraints}, 0, 0, 0)
            continue
        if name not in machine.partitions:
            known = ", ".join(machine.partitions)
            raise ValueError(
                f"model {model.model.name!r}: no partition {name!r} in {machine.name} ({known}); "
                "a model fitted to a trace maps onto a machine with `pmtwin workload fit --machine`"
            )
        pools, default_pool = machine.pools(), machine.pool_for(name, "")
        by_constraint = {"": pools[default_pool].node_count}
        by_constraint.update(
            {c: pools[machine.pool_for(name, c)].node_count for c in constraints if _has(machine, name, c)}
        )
        default = machine.node_type(machine.partitions[name].node_types[0])
        cores, gpus, mem_mb = machine.slurm_shape(default)
        total = machine.partition_node_counts()[name]
        shapes[name] = PartitionShape(total, by_constraint, cores, gpus, mem_mb)
    return shapes


def _has(machine: Machine, partition: str, constraint: str) -> bool:
    """Whether some node type of the partition, other than its default, answers ``constraint``."""
    from pmtwin.machine.errors import MachineConfigError

    try:
        return machine.pool_for(partition, constraint) != machine.pool_for(partition, "")
    except MachineConfigError:  # no node type of the partition has the feature
        return False


def effective_constraint(job_class: JobClass, shape: PartitionShape) -> str:
    """The class's constraint, or "" where the machine has no nodes answering it (rule 3)."""
    return job_class.constraint if job_class.constraint in shape.constraint_nodes else ""


def partition_rate_per_s(part: PartitionModel, shape: PartitionShape) -> float:
    """Mean submissions per second of a partition (rule 1)."""
    if part.jobs_per_day is not None:
        return part.jobs_per_day / SECONDS_PER_DAY
    assert part.offered_load is not None
    total_share = math.fsum(c.share for c in part.classes.values())
    node_s = math.fsum(
        c.share * mean_size(c.size, _size_cap(c, shape)) * c.mean_work_s() for c in part.classes.values()
    )
    return part.offered_load * shape.nodes * total_share / node_s


def mean_size(size: Dist, cap: int) -> float:
    """Mean of round(size law) clipped to [1, cap] (exact for a discrete law; a 4,096-point grid else)."""
    if size.weights is not None:
        values = np.clip(np.round(np.asarray(size.values, np.float64)), 1, cap)
        return float(np.dot(size.weights, values) / math.fsum(size.weights))
    grid = (np.arange(MEAN_GRID) + 0.5) / MEAN_GRID
    return float(np.mean(np.clip(np.round(size.sample(grid)), 1, cap)))


def _size_cap(job_class: JobClass, shape: PartitionShape) -> int:
    cap = shape.constraint_nodes[effective_constraint(job_class, shape)]
    return min(cap, job_class.max_size) if job_class.max_size is not None else cap


def _partition_jobs(
    rng: np.random.Generator,
    model: WorkloadModel,
    name: str,
    part: PartitionModel,
    shape: PartitionShape,
    horizon_s: float,
    account_of_user: NDArray[np.int64],
) -> JobTable:
    """One partition's jobs (rules 2-6), ids 1..n in submission order."""
    submit_s = arrival_times_s(rng, model, partition_rate_per_s(part, shape), horizon_s)
    n = len(submit_s)
    u = rng.random((6, n))
    classes = list(part.classes.values())
    shares = np.cumsum([c.share for c in classes])
    class_of = np.minimum(np.searchsorted(shares / shares[-1], u[0], side="right"), len(classes) - 1)
    size = np.ones(n, np.int64)
    work_s, limit_s = np.ones(n), np.ones(n)
    cores, gpus, mem_mb = np.zeros(n, np.int64), np.zeros(n, np.int64), np.zeros(n, np.int64)
    qos_names = tuple(dict.fromkeys(["", *(c.qos for c in classes)]))
    constraint_names = tuple(dict.fromkeys(["", *(effective_constraint(c, shape) for c in classes)]))
    power_names = tuple(dict.fromkeys(["", *(p for c in classes for p in c.power_classes)]))
    qos, constraint, power = np.zeros(n, np.int32), np.zeros(n, np.int32), np.zeros(n, np.int32)
    user = zipf_ranks(rng, n, model.users.count, model.users.zipf_exponent)
    for k, job_class in enumerate(classes):
        rows = np.flatnonzero(class_of == k)
        size[rows] = np.clip(np.round(job_class.size.sample(u[1, rows])), 1, _size_cap(job_class, shape))
        work_s[rows], limit_s[rows] = _times_s(job_class, u[2, rows], u[3, rows], u[5, rows])
        qos[rows] = qos_names.index(job_class.qos)
        constraint[rows] = constraint_names.index(effective_constraint(job_class, shape))
        power[rows] = _power_codes(job_class, u[4, rows], power_names)
        gpus[rows] = size[rows] * shape.gpus_per_node
    where = f"model {model.model.name!r}: partitions.{name}.classes"
    _shared_requests(rng, classes, class_of, shape, cores, gpus, mem_mb, where, list(part.classes))
    return JobTable(
        job_id=np.arange(1, n + 1, dtype=np.int64),
        submit_s=submit_s,
        work_s=work_s,
        requested_s=np.maximum(limit_s, work_s),
        size=size,
        partition=np.zeros(n, np.int32),
        partition_names=(name,),
        user=user,
        group=account_of_user[user - 1],
        constraint=constraint,
        constraint_names=constraint_names,
        gpus=gpus,
        qos=qos,
        qos_names=qos_names,
        limit_s=limit_s,
        cores=cores,
        mem_mb=mem_mb,
        power_class=power,
        power_class_names=power_names,
    )


def arrival_times_s(
    rng: np.random.Generator, model: WorkloadModel, rate_per_s: float, horizon_s: float
) -> NDArray[np.float64]:
    """Sorted submit times in whole seconds on [0, horizon) (rule 2)."""
    hours = math.ceil(horizon_s / SECONDS_PER_HOUR)
    knots_s = np.minimum(np.arange(hours + 1) * SECONDS_PER_HOUR, horizon_s)
    profile = model.arrivals.hour_of_week_rate()[np.arange(hours) % HOURS_PER_WEEK]
    cumulative = np.concatenate(([0.0], np.cumsum(rate_per_s * profile * np.diff(knots_s))))
    total = float(cumulative[-1])
    gaps = model.arrivals.gaps
    scale = 1.0 if gaps is None else 1.0 / gaps.mean()
    chunks: list[NDArray[np.float64]] = []
    reached = 0.0
    while reached < total:
        want = int(total - reached + 6.0 * math.sqrt(total - reached) + 16.0)
        draw = rng.standard_exponential(want) if gaps is None else gaps.sample(rng.random(want)) * scale
        chunk = reached + np.cumsum(draw)
        chunks.append(chunk)
        reached = float(chunk[-1])
    operational = np.concatenate(chunks) if chunks else np.zeros(0)
    operational = operational[operational < total]
    submit_s: NDArray[np.float64] = np.floor(np.interp(operational, cumulative, knots_s))
    return np.minimum(submit_s, math.ceil(horizon_s) - 1.0)


def _times_s(
    job_class: JobClass,
    u_limit: NDArray[np.float64],
    u_accuracy: NDArray[np.float64],
    u_pair: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(run time, time limit) in whole seconds (rule 3); ``u_pair`` decides which jobs' accuracy takes
    the limit's uniform (``limit_accuracy_coupling``)."""
    if job_class.runtime_s is not None:
        work = np.maximum(np.round(job_class.runtime_s.sample(u_limit)), 1.0)
        return work, work.copy()
    assert job_class.limit_s is not None and job_class.accuracy is not None
    c = job_class.limit_accuracy_coupling
    paired = u_limit if c >= 0.0 else 1.0 - u_limit
    u_acc = np.where(u_pair < abs(c), paired, u_accuracy)
    limit = np.maximum(np.round(job_class.limit_s.sample(u_limit)), 1.0)
    work = np.clip(np.ceil(limit * job_class.accuracy.sample(u_acc)), 1.0, limit)
    return work, limit


def _power_codes(job_class: JobClass, u: NDArray[np.float64], names: tuple[str, ...]) -> NDArray[np.int32]:
    if not job_class.power_classes:
        return np.zeros(len(u), np.int32)
    codes = np.array([names.index(p) for p in job_class.power_classes], np.int32)
    cdf = np.cumsum(list(job_class.power_classes.values()))
    index = np.minimum(np.searchsorted(cdf / cdf[-1], u, side="right"), len(codes) - 1)
    picked: NDArray[np.int32] = codes[index]
    return picked


def apply_submit_limits(jobs: JobTable, model: WorkloadModel) -> tuple[JobTable, dict[str, int]]:
    """Rule 5 over all partitions (a QOS's submit limit counts a user's jobs everywhere); also how many
    jobs each QOS moved to its overflow QOS."""
    limits = submit_limits(model)
    if not limits:
        return jobs, {}
    qos = jobs.qos.copy()
    names = list(jobs.qos_names)
    moved: dict[str, int] = {}
    for name, (count, window_s, overflow) in limits.items():
        if name not in names:
            continue
        if overflow not in names:
            names.append(overflow)
        mask = jobs.qos == names.index(name)
        over = over_submit_limit(jobs.submit_s, jobs.user, mask, count, window_s, jobs.canonical_order())
        qos[over] = names.index(overflow)
        moved[name] = int(np.count_nonzero(over))
    return replace(jobs, qos=qos, qos_names=tuple(names)), moved


def submit_limits(model: WorkloadModel) -> dict[str, tuple[int, float, str]]:
    """QOS name -> (submit limit, window, overflow QOS) from the classes that set one."""
    found: dict[str, tuple[int, float, str]] = {}
    for part in model.partitions.values():
        for job_class in part.classes.values():
            if job_class.submit_limit > 0:
                found[job_class.qos] = (
                    job_class.submit_limit,
                    job_class.submit_window_s,
                    job_class.overflow_qos,
                )
    return found


def _shared_requests(
    rng: np.random.Generator,
    classes: Sequence[JobClass],
    class_of: NDArray[np.intp],
    shape: PartitionShape,
    cores: NDArray[np.int64],
    gpus: NDArray[np.int64],
    mem_mb: NDArray[np.int64],
    where: str,
    class_names: Sequence[str],
) -> None:
    """Rule 6, in place: a shared job's GPUs or cores, with memory in proportion; ``where`` and
    ``class_names`` name a class whose law is missing."""
    u = rng.random(len(class_of))
    for k, job_class in enumerate(classes):
        law = job_class.gpus if shape.gpus_per_node > 0 else job_class.cores
        if job_class.gpus is None and job_class.cores is None:
            continue
        if shape.cores_per_node == 0 or law is None:
            what = (
                "a machine"
                if shape.cores_per_node == 0
                else f"a {'gpus' if shape.gpus_per_node else 'cores'} law"
            )
            raise ValueError(f"{where}.{class_names[k]}: a shared class needs {what}")
        rows = np.flatnonzero(class_of == k)
        most = shape.gpus_per_node if shape.gpus_per_node > 0 else shape.cores_per_node
        asked = np.clip(np.round(law.sample(u[rows])), 1, most).astype(np.int64)
        cores[rows], gpus[rows], mem_mb[rows] = shared_request(
            asked, shape.cores_per_node, shape.gpus_per_node, shape.mem_mb_per_node
        )


def _horizon_s(days: float) -> float:
    ok = not isinstance(days, bool) and isinstance(days, int | float) and math.isfinite(days) and days > 0
    if not ok:
        raise ValueError(f"days must be a finite number > 0, got {days!r}")
    return float(days) * SECONDS_PER_DAY
