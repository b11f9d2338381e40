"""The power model inside a run (docs/power.md): resolve it for a machine, apply GPU caps and the power
budget before scheduling, and compute the power results after."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:  # the power model is imported only by runs that use it (start-up stays fast)
    from pmtwin.machine.system import Machine, NodeType
    from pmtwin.physics.power import JobPower, PowerClasses, StaticPower
    from pmtwin.results.power import PowerOutputs, PueFn
    from pmtwin.sim.engine import Schedule
    from pmtwin.workload.jobs import JobTable


@dataclass(frozen=True)
class PowerOptions:
    """What a run asks of the power model (all optional; power is computed whenever a machine is)."""

    enabled: bool = True
    power_cap_mw: float | None = None
    gpu_power_cap_w: float | None = None
    outdoor_temp_c: float | Path | None = None
    resolution_s: float | None = None

    def config(self) -> dict[str, Any]:
        """The power options as the run's config.toml records them (None left out; the resolution is
        an output option, recorded apart)."""
        values = {
            "power_cap_mw": self.power_cap_mw,
            "gpu_power_cap_w": self.gpu_power_cap_w,
            "outdoor_temp_c": str(self.outdoor_temp_c)
            if isinstance(self.outdoor_temp_c, Path)
            else self.outdoor_temp_c,
        }
        return {key: value for key, value in values.items() if value is not None}


@dataclass(frozen=True)
class PowerPlan:
    """A run's power model, resolved before scheduling."""

    machine: Machine
    pool_node_types: list[NodeType]
    pool_partitions: list[str]
    classes: PowerClasses
    options: PowerOptions
    static: StaticPower
    efficiency: float
    pue: PueFn


def plan_power(machine: Machine, pool_names: tuple[str, ...], options: PowerOptions) -> PowerPlan:
    """The power model of ``machine`` for a run over the pools named (a subset of the machine's)."""
    from pmtwin.physics.power import check_gpu_cap, conversion_efficiency, load_power_classes, static_power

    by_name = {pool.name: pool for pool in machine.pools()}
    node_types = [machine.node_type(by_name[name].node_type) for name in pool_names]
    if options.gpu_power_cap_w is not None:
        if not any(t.gpus_per_node for t in node_types):
            raise ValueError("--gpu-power-cap-w: no node this run uses has GPUs")
        check_gpu_cap(machine, node_types, options.gpu_power_cap_w)
    if options.outdoor_temp_c is not None and machine.facility is None:
        raise ValueError(
            f"--outdoor-temp-c: machine {machine.name} has no [facility] table, hence no PUE model"
        )
    if options.power_cap_mw is not None and not (
        math.isfinite(options.power_cap_mw) and options.power_cap_mw > 0
    ):
        raise ValueError(f"--power-cap-mw must be a positive number of megawatts, got {options.power_cap_mw}")
    if isinstance(options.outdoor_temp_c, float | int) and not math.isfinite(options.outdoor_temp_c):
        raise ValueError(f"--outdoor-temp-c must be a finite temperature, got {options.outdoor_temp_c}")
    static = static_power(machine)
    return PowerPlan(
        machine=machine,
        pool_node_types=node_types,
        pool_partitions=[by_name[name].partition for name in pool_names],
        classes=load_power_classes(),
        options=options,
        static=static,
        efficiency=conversion_efficiency(machine),
        pue=_pue_fn(machine, options.outdoor_temp_c),
    )


@dataclass(frozen=True)
class Prepared:
    """The jobs as the scheduler sees them (GPU-capped jobs slowed) and the budget, when there is one."""

    jobs: JobTable
    power_mw: NDArray[np.int64] | None
    budget_mw: int | None


def prepare_jobs(plan: PowerPlan, jobs: JobTable, pool_of_job: NDArray[np.int32]) -> Prepared:
    """docs/power.md 4b: a capped job's work and requested time are divided by its rate (its Slurm time
    limit stays as submitted); 4a: the budget left to jobs is cap x efficiency - static DC power."""
    if plan.options.gpu_power_cap_w is None and plan.options.power_cap_mw is None:
        return Prepared(jobs, None, None)  # nothing for the scheduler to know
    power = _job_power(plan, jobs, pool_of_job, np.ones((len(jobs), 3)))
    if plan.options.gpu_power_cap_w is not None and np.any(power.rate != 1.0):
        jobs = replace(jobs, work_s=jobs.work_s / power.rate, requested_s=jobs.requested_s / power.rate)
    if plan.options.power_cap_mw is None:
        return Prepared(jobs, None, None)
    headroom_w = plan.options.power_cap_mw * 1e6 * plan.efficiency - plan.static.total_w
    if headroom_w < 0:
        raise ValueError(
            f"--power-cap-mw {plan.options.power_cap_mw:g}: below the machine's idle power "
            f"({plan.static.total_w / plan.efficiency / 1e6:.3f} MW with every node idle)"
        )
    budget_mw = math.floor(headroom_w * 1000.0)
    too_big = power.added_mw > budget_mw
    if np.any(too_big):
        row = int(np.argmax(too_big))
        raise ValueError(
            f"--power-cap-mw {plan.options.power_cap_mw:g}: job {int(jobs.job_id[row])} adds "
            f"{power.added_mw[row] / 1e6:,.1f} kW while it runs, more than the budget leaves above idle "
            f"({headroom_w / 1e3:,.1f} kW = cap x conversion efficiency {plan.efficiency:g} - idle nodes, "
            f"switches and storage {plan.static.total_w / 1e3:,.1f} kW); it could never start"
        )
    return Prepared(jobs, power.added_mw, budget_mw)


def power_results(
    plan: PowerPlan, jobs: JobTable, schedule: Schedule, fractions: NDArray[np.float64]
) -> PowerOutputs:
    """Series, summary block and per-job columns of the jobs that ran (``fractions``: of a node's
    cores, GPUs and memory, per job)."""
    from pmtwin.physics.power import missing_figures, node_idle_w
    from pmtwin.results.power import PowerInputs, power_outputs

    power = _job_power(plan, jobs, schedule.pool, fractions)
    machine = plan.machine
    partition_idle = {
        name: sum(
            machine.node_type(t).count * node_idle_w(machine, machine.node_type(t)) for t in part.node_types
        )
        for name, part in machine.partitions.items()
    }
    settings: dict[str, Any] = {
        "model": "docs/power.md",
        **plan.options.config(),
        "conversion_efficiency": plan.efficiency,
        "static_w": {
            "idle_nodes": plan.static.idle_nodes_w,
            "switches": plan.static.switches_w,
            "storage": plan.static.storage_w,
        },
        "jobs_by_class": _class_counts(power),
        "missing_figures": missing_figures(machine),
    }
    inputs = PowerInputs(
        added_mw=power.added_mw,
        idle_w=power.idle_w,
        rate=power.rate,
        partition_of_pool=plan.pool_partitions,
        partition_idle_w=partition_idle,
        static_dc_w=plan.static.total_w,
        efficiency=plan.efficiency,
        pue_at=plan.pue,
        settings=settings,
    )
    return power_outputs(jobs, schedule, inputs)


def _job_power(
    plan: PowerPlan, jobs: JobTable, pool_of_job: NDArray[np.int32], fractions: NDArray[np.float64]
) -> JobPower:
    from pmtwin.physics.power import job_power

    return job_power(
        plan.machine, plan.pool_node_types, np.asarray(pool_of_job, np.int64), jobs.size, fractions,
        (jobs.power_class, jobs.power_class_names), plan.classes, plan.options.gpu_power_cap_w,
    )  # fmt: skip


def _class_counts(power: JobPower) -> dict[str, int]:
    counts = np.bincount(power.class_code, minlength=len(power.class_names))
    return {name: int(c) for name, c in zip(power.class_names, counts, strict=True) if c}


def _pue_fn(machine: Machine, outdoor: float | Path | None) -> PueFn:
    from pmtwin.physics.power import pue
    from pmtwin.results.power import PueFn

    if outdoor is None or isinstance(outdoor, float | int):
        return PueFn(None, pue(machine, None if outdoor is None else float(outdoor)))
    time_s, temp_c = read_outdoor_temperature(outdoor)
    return PueFn(time_s, pue(machine, temp_c))


def read_outdoor_temperature(path: Path) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """A CSV of ``time_s,temp_c`` rows (a header line first), times strictly increasing: a level series
    of the outdoor temperature (docs/power.md section 2). Errors name the file, line and field."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot read the outdoor temperature file ({exc})") from None
    lines = text.splitlines()
    if not lines or [c.strip() for c in lines[0].split(",")] != ["time_s", "temp_c"]:
        raise ValueError(f"{path}:1: the header must be 'time_s,temp_c'")
    times: list[float] = []
    temps: list[float] = []
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        fields = line.split(",")
        if len(fields) != 2:
            raise ValueError(f"{path}:{number}: expected 2 fields (time_s,temp_c), got {len(fields)}")
        for name, raw, out in (("time_s", fields[0], times), ("temp_c", fields[1], temps)):
            try:
                value = float(raw)
            except ValueError:
                raise ValueError(f"{path}:{number}: {name}: not a number: {raw.strip()!r}") from None
            if not math.isfinite(value):
                raise ValueError(f"{path}:{number}: {name}: not finite: {raw.strip()!r}")
            out.append(value)
        if len(times) > 1 and times[-1] <= times[-2]:
            raise ValueError(
                f"{path}:{number}: time_s: times must increase ({times[-1]:g} after {times[-2]:g})"
            )
    if not times:
        raise ValueError(f"{path}: no temperature rows")
    return np.array(times), np.array(temps)
