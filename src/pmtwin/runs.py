"""Whole runs as library calls: replay a trace, or simulate a machine under a generated workload.

Each call resolves its configuration, runs the engine, computes the results and writes the run directory
(``config.toml``, ``jobs.parquet``, ``series.parquet``, ``summary.json``). The command line is a thin
layer over these functions.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from pmtwin._toml import dumps_toml
from pmtwin.sim.engine import EngineInputError, LevelsFn, ProgressFn, Schedule, run_schedule
from pmtwin.workload.jobs import JobTable
from pmtwin.workload.routing import pool_of_jobs

if TYPE_CHECKING:
    from pmtwin.machine import Machine
    from pmtwin.report import ReportKind
    from pmtwin.runs_power import PowerOptions, PowerPlan
    from pmtwin.sched.config import SchedulerConfig
    from pmtwin.sched.qos import QosTable
    from pmtwin.sched.slurm import SlurmPools
    from pmtwin.workload.model import WorkloadModel

ProgressFactory = Callable[[float, float], ProgressFn]
"""Given the first and last submit time (s), returns the callback the engine reports progress to: it
gets the simulated time reached and a reader of the pool levels (``PoolLevels``, with pool names)."""

DEFAULT_SIMULATE_DAYS = 30.0
MAX_DAYS = 3650.0
"""The longest workload the commands and the dashboard generate: ten years of the default workload
(about fourteen million jobs)."""
DEFAULT_WORKLOAD_MODEL = "perlmutter"
"""The workload model ``simulate`` draws from (src/pmtwin/workload/models/perlmutter.toml)."""
DEFAULT_REPLAY_PARTITION = "cpu"


@dataclass(frozen=True)
class Pools:
    """Where jobs run: pool names, capacities (units) and, on a machine model, each pool's first node id."""

    names: tuple[str, ...]
    capacity: NDArray[np.int64]
    first_node: NDArray[np.int64] | None


@dataclass(frozen=True)
class RunResult:
    """A finished run: what was simulated, the schedule, the summary, and where it was written."""

    out_dir: Path
    jobs: JobTable
    schedule: Schedule
    pools: Pools
    summary: dict[str, Any]
    config: dict[str, dict[str, Any]]
    wall_s: dict[str, float] = field(default_factory=dict)
    """Wall time of the run's phases (input, simulate, results: computing and writing them)."""
    report_s: float = 0.0
    """Wall time spent drawing the report, while another thread writes the files (so the call takes
    about the phases' sum plus the report's time beyond the writing)."""


TRACE_FORMATS = ("auto", "swf", "sacct", "parquet", "alibaba", "apps")


@dataclass(frozen=True)
class LoadedTrace:
    """A trace read for replay: the jobs (sizes in the trace's ``unit``), skipped jobs by reason, the pool
    size a single-pool replay uses, and what the run's config records about the trace."""

    jobs: JobTable
    skipped: dict[str, int]
    capacity: int
    unit: str
    config: dict[str, Any]
    header: dict[str, str] = field(default_factory=dict)
    """An SWF trace's header (``; Key: value`` lines); empty for other formats."""


def replay(
    trace: Path,
    *,
    out_dir: Path,
    policy: str = "easy",
    trace_format: str = "auto",
    machine: str | None = None,
    partition: str | None = None,
    capacity: int | None = None,
    skip_bad_lines: bool = False,
    tz: str | None = None,
    progress: ProgressFactory | None = None,
    scheduler: SchedulerConfig | None = None,
    power: PowerOptions | None = None,
    report: ReportKind = "html",
) -> RunResult:
    """Replay a trace (SWF, sacct ``--parsable2``, a Parquet job table, the Alibaba GPU 2023 pod list, or a
    TOML file of jobs driven by application models, whose run times are predicted on ``machine``:
    docs/performance.md section 6; ``auto`` tells them apart by name and content). With ``scheduler``,
    Slurm mode schedules it (docs/slurm-scheduling.md); an Alibaba trace always runs in Slurm mode (its
    small pods share nodes). Without ``machine``: one pool sized from the SWF header, else by
    ``capacity``, else by the largest job. With ``machine``: an SWF trace runs on ``partition`` of that
    system, its processors converted to whole nodes (ceil(processors / cores per node), capped at the
    pool's node count); sacct and Parquet jobs (sizes in nodes) run in the pool of their own partition and
    constraint. Options that do not apply to the trace's format are refused, not ignored. On a machine,
    ``power`` sets the power model's options (docs/power.md; default: computed, no caps)."""
    t0 = time.perf_counter()
    prepare_out_dir(out_dir)
    fmt = detect_format(trace) if trace_format == "auto" else trace_format
    _check_replay_options(fmt, machine, partition, capacity, skip_bad_lines, tz)
    loaded = load_trace(
        trace, fmt, capacity=capacity, skip_bad_lines=skip_bad_lines, tz=tz or "UTC", machine=machine
    )
    jobs = loaded.jobs
    if fmt == "alibaba" and scheduler is None:
        from pmtwin.sched.config import SchedulerConfig

        scheduler = SchedulerConfig.model_validate({"policy": policy})
    config: dict[str, dict[str, Any]] = {
        "run": {"command": "replay", "policy": policy},
        "trace": {"path": str(Path(trace).resolve()), "format": fmt, **loaded.config},
    }
    if machine is None:
        pools = Pools((loaded.unit,), np.array([loaded.capacity], np.int64), None)
        pool_of_job = np.zeros(len(jobs), np.int32)
    elif fmt == "swf":
        target = partition or DEFAULT_REPLAY_PARTITION
        jobs, pool_of_job, pools, capped_nodes = _onto_machine(jobs, machine, target)
        config["machine"] = {"name": machine, "partition": target, "jobs_capped_to_pool": capped_nodes}
    else:
        from pmtwin.machine import load_system

        system = load_system(machine)
        pool_of_job, pools = pool_of_jobs(jobs, system), _machine_pools(system)
        config["machine"] = {"name": machine}
    plan = _power_plan(machine, pools, power)
    read_s = time.perf_counter() - t0
    try:
        return _run(
            jobs, pool_of_job, pools, policy, loaded.skipped, config, out_dir, progress, read_s,
            _slurm_setup(scheduler, policy, machine, pools), plan, power, report,
        )  # fmt: skip
    except EngineInputError as exc:
        raise EngineInputError(f"{trace}: {exc}") from None


def _check_replay_options(
    fmt: str,
    machine: str | None,
    partition: str | None,
    capacity: int | None,
    skip_bad_lines: bool,
    tz: str | None,
) -> None:
    refusals = (
        (partition is not None and (fmt != "swf" or machine is None),
         "--partition applies to an SWF trace run with --machine (other jobs keep their own partition)"),
        (capacity is not None and machine is not None,
         "--capacity sizes the single pool of a replay without --machine"),
        (tz is not None and fmt != "sacct", "--tz applies to sacct output only"),
        (skip_bad_lines and fmt == "parquet", "--skip-bad-lines applies to text traces (SWF, sacct)"),
        (fmt == "alibaba" and machine is None, "an Alibaba pod trace replays onto a machine: give --machine"),
        (skip_bad_lines and fmt == "apps", "--skip-bad-lines applies to text traces (SWF, sacct)"),
    )  # fmt: skip
    for refused, why in refusals:
        if refused:
            raise ValueError(why)


def prepare_out_dir(out_dir: Path) -> None:
    """Create the run directory before any work, so that a bad --out fails at once."""
    if out_dir.exists() and not out_dir.is_dir():
        raise ValueError(f"{out_dir}: exists and is not a directory")
    out_dir.mkdir(parents=True, exist_ok=True)


def detect_format(path: Path) -> str:
    """``parquet`` or ``swf`` by file name; else ``alibaba`` for the pod list's header, ``sacct`` when the
    first line holds ``|``, else ``swf``."""
    name = Path(path).name.lower()
    if name.endswith(".parquet"):
        return "parquet"
    if name.endswith((".swf", ".swf.gz")):
        return "swf"
    if name.endswith(".toml"):
        return "apps"
    from pmtwin.workload._files import first_line

    line = first_line(path)
    if line.startswith(b"name,cpu_milli,"):
        return "alibaba"
    return "sacct" if b"|" in line else "swf"


def load_trace(
    path: Path,
    fmt: str,
    *,
    capacity: int | None,
    skip_bad_lines: bool,
    tz: str,
    machine: str | None = None,
) -> LoadedTrace:
    """Read a trace of a known format (see ``replay``); ``machine`` is the system application-model jobs
    (``apps``) are predicted on."""
    if fmt == "swf":
        from pmtwin.workload.swf import read_swf

        swf = read_swf(path, capacity=capacity, skip_bad_lines=skip_bad_lines)
        facts = {"records": swf.records, "capacity_source": swf.capacity_source, "capped_jobs": swf.capped}
        return LoadedTrace(swf.jobs, dict(swf.skipped), swf.capacity, "processors", facts, dict(swf.header))
    if fmt == "sacct":
        from pmtwin.workload.sacct import read_sacct

        sacct = read_sacct(path, tz=tz, skip_bad_lines=skip_bad_lines)
        jobs, skipped, unit = sacct.jobs, dict(sacct.skipped), "nodes"
        facts = {"records": sacct.records, "time_zone": tz, "unlimited_time_limits": sacct.unlimited}
    elif fmt == "parquet":
        from pmtwin.workload.parquet_io import read_jobs_parquet

        jobs, skipped, unit = read_jobs_parquet(path), {}, "units"
        facts = {"records": len(jobs)}
    elif fmt == "apps":
        from pmtwin.machine import load_system
        from pmtwin.perf.app_jobs import read_app_jobs

        if machine is None:
            raise ValueError("jobs driven by application models run on a machine model: give --machine")
        app_jobs = read_app_jobs(path, load_system(machine))
        jobs, skipped, unit = app_jobs.jobs, {}, "nodes"
        facts = app_jobs.facts()
    elif fmt == "alibaba":
        from pmtwin.workload.alibaba import read_alibaba

        pods = read_alibaba(path, skip_bad_lines=skip_bad_lines)
        jobs, skipped, unit = pods.jobs, dict(pods.skipped), "nodes"
        facts = dict(pods.facts())
    else:
        raise ValueError(f"unknown trace format {fmt!r}; choose one of {', '.join(TRACE_FORMATS)}")
    if capacity is not None and capacity <= 0:
        raise ValueError(f"capacity must be positive, got {capacity}")
    largest = int(jobs.size.max()) if len(jobs) else 1
    pool_size = largest if capacity is None else capacity
    too_big = jobs.size > pool_size
    facts["capacity_source"] = "largest size" if capacity is None else "override"
    facts["capped_jobs"] = int(np.count_nonzero(too_big))
    if facts["capped_jobs"]:  # as SWF rule 2: sizes are capped at the machine size
        jobs = replace(jobs, size=np.minimum(jobs.size, pool_size))
    return LoadedTrace(jobs, skipped, pool_size, unit, facts)


def simulate(
    *,
    out_dir: Path,
    machine: str = "perlmutter",
    days: float = DEFAULT_SIMULATE_DAYS,
    seed: int = 0,
    policy: str = "easy",
    progress: ProgressFactory | None = None,
    scheduler: SchedulerConfig | None = None,
    slurm_features: bool = False,
    power: PowerOptions | None = None,
    workload: str | Path | WorkloadModel = DEFAULT_WORKLOAD_MODEL,
    report: ReportKind = "full",
) -> RunResult:
    """Simulate ``machine`` for ``days`` under a workload model (``workload``: a shipped model's name, a
    TOML file or a ``WorkloadModel``; default the calibrated Perlmutter model, docs/workloads.md), drawn
    with ``seed``; with
    ``scheduler``, in Slurm mode (docs/slurm-scheduling.md). ``slurm_features`` adds job arrays,
    dependencies and under-estimated time limits (and users, accounts and QOS where the model has none:
    ``workload/slurm_mix.py``, drawn from the same seed) and implies Slurm mode. ``power`` sets the power
    model's options (docs/power.md; default: computed, no caps)."""
    prepare_out_dir(out_dir)
    from pmtwin.machine import load_system
    from pmtwin.workload.generate import generate
    from pmtwin.workload.model import WorkloadModel, load_workload_model

    t0 = time.perf_counter()
    system = load_system(machine)
    pools = _machine_pools(system)
    in_memory = isinstance(workload, WorkloadModel)
    model = workload if isinstance(workload, WorkloadModel) else load_workload_model(workload)
    generated = generate(model, days=days, seed=seed, machine=system)
    jobs = generated.jobs
    if slurm_features:
        jobs = _with_slurm_features(jobs, system, seed)
        if scheduler is None:
            from pmtwin.sched.config import SchedulerConfig

            scheduler = SchedulerConfig.model_validate({"policy": policy})
    pool_of_job = pool_of_jobs(jobs, system)
    config: dict[str, dict[str, Any]] = {
        "run": {"command": "simulate", "policy": policy},
        "machine": {"name": system.name},
        "workload": {
            "model": model.model.name,
            "source": "(in memory)" if in_memory else str(workload),
            "days": days,
            "seed": seed,
            "slurm_features": slurm_features,
            **generated.report,
        },
    }
    plan = _power_plan(system, pools, power)
    build_s = time.perf_counter() - t0
    slurm = _slurm_setup(scheduler, policy, machine, pools)
    return _run(
        jobs, pool_of_job, pools, policy, {}, config, out_dir, progress, build_s, slurm, plan, power, report
    )


def _with_slurm_features(jobs: JobTable, system: Machine, seed: int) -> JobTable:
    """A generated workload with Slurm features, drawn from a stream of its own (seed, 1)."""
    from pmtwin.workload.slurm_mix import with_slurm_features

    shapes = {name: system.node_type(system.partitions[name].node_types[0]) for name in jobs.partition_names}
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 1]))
    node = {p: system.slurm_shape(t) for p, t in shapes.items()}
    return with_slurm_features(
        jobs, rng,
        cores_per_node={p: shape[0] for p, shape in node.items()},
        gpus_per_node={p: shape[1] for p, shape in node.items()},
        mem_mb_per_node={p: shape[2] for p, shape in node.items()},
    )  # fmt: skip


def _run(
    jobs: JobTable,
    pool_of_job: NDArray[np.int32],
    pools: Pools,
    policy: str,
    skipped: dict[str, int],
    config: dict[str, dict[str, Any]],
    out_dir: Path,
    progress: ProgressFactory | None,
    input_s: float,
    slurm: SlurmSetup | None = None,
    power: PowerPlan | None = None,
    power_options: PowerOptions | None = None,
    report: ReportKind = "none",
) -> RunResult:
    from pmtwin.results import compute_summary, level_series, write_run_dir
    from pmtwin.results.series import check_bins, check_resolution, join_series, resample

    config["pools"] = {name: int(cap) for name, cap in zip(pools.names, pools.capacity.tolist(), strict=True)}
    resolution_s = power_options.resolution_s if power_options is not None else None
    if resolution_s is not None:
        check_resolution(resolution_s)
        if len(jobs):  # the run lasts at least from the first to the last submission
            check_bins(resolution_s, float(jobs.submit_s.max() - jobs.submit_s.min()))
    t0 = time.perf_counter()
    extra: dict[str, Any] = {}
    columns: dict[str, Any] = {}
    power_mw, budget_mw = None, None
    if power is not None:
        from pmtwin.runs_power import prepare_jobs

        if power.options.power_cap_mw is not None and (slurm is not None or policy == "conservative"):
            raise ValueError(
                "--power-cap-mw: a power budget works with the fcfs and easy policies of the canonical "
                "engine, not with conservative backfilling or in Slurm mode (docs/power.md 4a)"
            )
        config["power"] = power.options.config()
        prepared = prepare_jobs(power, jobs, pool_of_job)
        jobs, power_mw, budget_mw = prepared.jobs, prepared.power_mw, prepared.budget_mw
    fractions = np.ones((len(jobs), 3))  # of a node's cores, GPUs and memory: whole nodes
    callback = _named_progress(progress, jobs, pools.names)
    if slurm is None:
        schedule = run_schedule(
            jobs, pool_of_job, pools.capacity, policy, pool_first_node=pools.first_node, progress=callback,
            power_mw=power_mw, power_budget_mw=budget_mw,
        )  # fmt: skip
    else:
        config["scheduler"] = slurm.config.model_dump(mode="json", exclude_none=True)
        jobs, schedule, pool_of_job, extra, columns, fractions = _run_slurm(
            jobs, pool_of_job, pools, slurm, callback
        )
    t1 = time.perf_counter()
    names = list(pools.names)
    summary = compute_summary(jobs, schedule, pool_names=names, pool_capacity=pools.capacity, skipped=skipped)
    if slurm is not None:
        summary["scheduler"] = extra
    series = level_series(jobs, schedule, pool_names=names, pool_capacity=pools.capacity)
    if power is not None:
        from pmtwin.runs_power import power_results

        outputs = power_results(power, jobs, schedule, fractions)
        summary["power"] = outputs.summary
        series = join_series(series, outputs.series)
        columns = {**columns, **outputs.columns}
    columns = {**_workload_columns(jobs), **columns}
    if resolution_s is not None:
        config["output"] = {"resolution_s": resolution_s}
        series = resample(series, resolution_s, float(schedule.end_s.max()) if len(jobs) else 0.0)
    write = partial(
        _timed, write_run_dir, out_dir, config_toml=dumps_toml(config), jobs=jobs, schedule=schedule,
        summary=summary, series=series, pool_names=names, extra_columns=columns,
    )  # fmt: skip
    computed_s = time.perf_counter() - t1
    report_s = 0.0
    if report == "none":
        write_s = write()
    else:  # the report is drawn from memory while another thread writes the files (Parquet frees the GIL)
        from concurrent.futures import ThreadPoolExecutor

        from pmtwin.report import write_run_report
        from pmtwin.report.rundata import run_data

        with ThreadPoolExecutor(max_workers=1) as pool:
            writing = pool.submit(write)
            data = run_data(
                out_dir, config=config, summary=summary, jobs=jobs, schedule=schedule,
                pool_names=tuple(names), columns=columns, series=series,
            )  # fmt: skip
            report_s = _timed(write_run_report, data, pngs=report == "full")
            write_s = writing.result()
    wall = {"input_s": input_s, "simulate_s": t1 - t0, "results_s": computed_s + write_s}
    return RunResult(out_dir, jobs, schedule, pools, summary, config, wall, report_s)


def _timed(action: Callable[..., object], *args: Any, **kwargs: Any) -> float:
    """Seconds ``action(*args, **kwargs)`` took."""
    began = time.perf_counter()
    action(*args, **kwargs)
    return time.perf_counter() - began


def _workload_columns(jobs: JobTable) -> dict[str, Any]:
    """The jobs' QOS, account and user, where the workload names them (a generated workload does)."""
    from pmtwin.results.rundir import Categorical

    columns: dict[str, Any] = {}
    if len(jobs) and any(jobs.qos_names):
        columns["qos"] = Categorical(jobs.qos, jobs.qos_names)
    if len(jobs) and np.any(jobs.group >= 0):
        columns["account"] = jobs.group
    if len(jobs) and np.any(jobs.user >= 0):
        columns["user"] = jobs.user
    return columns


def _named_progress(
    progress: ProgressFactory | None, jobs: JobTable, names: tuple[str, ...]
) -> ProgressFn | None:
    """The engine's progress callback: ``progress``'s, with the pool names put into the levels."""
    if progress is None or len(jobs) == 0:
        return None
    reporter = progress(float(jobs.submit_s.min()), float(jobs.submit_s.max()))

    def named(t_s: float, levels: LevelsFn) -> None:
        reporter(t_s, lambda: replace(levels(), names=names))

    return named


def _power_plan(
    machine: Machine | str | None, pools: Pools, options: PowerOptions | None
) -> PowerPlan | None:
    """The run's power model: on a machine model unless switched off; caps on a machine without the
    figures the model needs are an error, a plain run there simply has no power results."""
    from pmtwin.runs_power import PowerOptions

    options = options or PowerOptions()
    asked = any(
        value is not None for value in (options.power_cap_mw, options.gpu_power_cap_w, options.outdoor_temp_c)
    )
    if machine is None or not options.enabled:
        if asked:
            raise ValueError("power caps and --outdoor-temp-c need a machine model (--machine) with power on")
        return None
    from pmtwin.physics.power import PowerModelError
    from pmtwin.runs_power import plan_power

    if isinstance(machine, str):
        from pmtwin.machine import load_system

        machine = load_system(machine)
    try:
        return plan_power(machine, pools.names, options)
    except PowerModelError:
        if asked:
            raise
        return None


@dataclass(frozen=True)
class SlurmSetup:
    """What a Slurm-mode run needs beyond the pools: the configuration, the QOS table, what one node of
    each pool offers and each pool's charge factor."""

    config: SchedulerConfig
    qos: QosTable
    pools: SlurmPools
    charge_factor: NDArray[np.float64]


def _slurm_setup(
    scheduler: SchedulerConfig | None, policy: str, machine: str | None, pools: Pools
) -> SlurmSetup | None:
    """Slurm mode's setup, or None for the canonical engine. The run's policy is the scheduler's."""
    if scheduler is None:
        return None
    from pmtwin.sched.qos import load_qos
    from pmtwin.sched.slurm import SlurmPools

    if scheduler.policy != policy:
        scheduler = scheduler.model_copy(update={"policy": policy})
    n = len(pools.names)
    if machine is None or pools.first_node is None:
        slurm_pools = SlurmPools.uniform(pools.names, pools.capacity.tolist(), assign_nodes=False)
        return SlurmSetup(scheduler, load_qos(scheduler.qos_table), slurm_pools, np.ones(n))
    from pmtwin.machine import load_system
    from pmtwin.results.charging import pool_charge_factors

    system = load_system(machine)
    shapes = [system.node_type(p.node_type) for p in system.pools() if p.name in pools.names]
    node = np.array([system.slurm_shape(t) for t in shapes], np.int64).reshape(-1, 3)
    slurm_pools = SlurmPools(
        pools.names, pools.capacity, pools.first_node, node[:, 0], node[:, 1], np.maximum(node[:, 2], 1),
        np.zeros(n),
    )  # fmt: skip
    charge = pool_charge_factors(system, pools.names)
    return SlurmSetup(scheduler, load_qos(scheduler.qos_table), slurm_pools, charge)


def _run_slurm(
    jobs: JobTable,
    pool_of_job: NDArray[np.int32],
    pools: Pools,
    slurm: SlurmSetup,
    progress: ProgressFn | None = None,
) -> tuple[JobTable, Schedule, NDArray[np.int32], dict[str, Any], dict[str, Any], NDArray[np.float64]]:
    from pmtwin.results.slurm_outcome import slurm_outcome
    from pmtwin.sched.slurm import run_slurm

    result = run_slurm(jobs, pool_of_job, slurm.pools, slurm.config, slurm.qos, progress=progress)
    outcome = slurm_outcome(
        jobs, result, pool_of_job, pools.names, slurm.qos, slurm.charge_factor,
        with_nodes=slurm.pools.assign_nodes,
    )  # fmt: skip
    ran_pools = outcome.schedule.pool
    return outcome.ran, outcome.schedule, ran_pools, outcome.summary, outcome.columns, outcome.fractions


def _machine_pools(system: Machine) -> Pools:
    pool_list = system.pools()
    return Pools(
        tuple(p.name for p in pool_list),
        np.array([p.node_count for p in pool_list], np.int64),
        np.array([p.first_node_id for p in pool_list], np.int64),
    )


def _onto_machine(
    jobs: JobTable, machine: str, partition: str
) -> tuple[JobTable, NDArray[np.int32], Pools, int]:
    """A processor trace mapped onto one partition of a machine model: sizes in whole nodes."""
    from pmtwin.machine import load_system
    from pmtwin.workload.routing import processors_to_nodes

    mapped, target, capped = processors_to_nodes(jobs, load_system(machine), partition)
    pools = Pools(
        (target.name,),
        np.array([target.node_count], np.int64),
        np.array([target.first_node_id], np.int64),
    )
    return mapped, np.zeros(len(jobs), np.int32), pools, capped


def simulated_span_s(result: RunResult) -> float:
    """Simulated time from the first submit to the last end (0 for an empty run)."""
    if len(result.jobs) == 0:
        return 0.0
    return float(result.schedule.end_s.max() - result.jobs.submit_s.min())


def rate_figures(result: RunResult) -> dict[str, float]:
    """Speed of the run within the library call: jobs and simulated seconds per wall second."""
    total = sum(result.wall_s.values())
    if total <= 0:
        return {"jobs_per_s": math.inf, "simulated_s_per_wall_s": math.inf}
    return {
        "jobs_per_s": len(result.jobs) / total,
        "simulated_s_per_wall_s": simulated_span_s(result) / total,
    }
