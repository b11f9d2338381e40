"""Node, job and system power (docs/power.md sections 1, 2 and 4b): pure functions of the machine, the
power classes and the jobs. Powers are watts, energies joules, unless a name says otherwise."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, Field, model_validator

from pmtwin.machine.devices import CONFIG, GpuSpec
from pmtwin.machine.errors import load_config
from pmtwin.machine.system import Machine, NodeType

CLASSES_FILE = "power_classes.toml"
DYNAMIC_POWER_CLOCK_EXPONENT = 3.0
"""Dynamic power ~ f V^2 with V proportional to f in the DVFS range: P_dyn ~ f^3 (docs/power.md 4b)."""


class PowerModelError(ValueError):
    """The machine lacks a figure the power model needs, or a power option is out of range."""


class Phase(BaseModel):
    """A part of a job's run time (``time_share``, uncapped) with its per-component utilization and
    the share of it that scales with the GPU clock."""

    model_config = CONFIG

    time_share: float = Field(gt=0, le=1)
    cpu: float = Field(ge=0, le=1)
    gpu: float = Field(ge=0, le=1)
    memory: float = Field(ge=0, le=1)
    nic: float = Field(ge=0, le=1)
    gpu_clock_bound: float = Field(ge=0, le=1)


PHASE_KEYS = ("cpu", "gpu", "memory", "nic", "gpu_clock_bound")
TIME_SHARE_TOLERANCE = 1e-9


class PowerClass(BaseModel):
    """A kind of work: one or more phases that alternate through the run (docs/power.md section 1). A
    class of one phase may give its utilizations directly (``cpu = ...`` without ``phases``)."""

    model_config = CONFIG

    phases: tuple[Phase, ...] = Field(min_length=1, strict=False)
    source: str = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _one_phase(cls, data: Any) -> Any:
        if isinstance(data, dict) and "phases" not in data and any(key in data for key in PHASE_KEYS):
            phase = {key: data[key] for key in PHASE_KEYS if key in data}
            rest = {key: value for key, value in data.items() if key not in PHASE_KEYS}
            return {**rest, "phases": [{"time_share": 1.0, **phase}]}
        return data

    @model_validator(mode="after")
    def _shares_add_up(self) -> PowerClass:
        total = sum(phase.time_share for phase in self.phases)
        if abs(total - 1.0) > TIME_SHARE_TOLERANCE:
            raise ValueError(f"phases: time_share values add up to {total:g}, not 1")
        return self


class ClassDefaults(BaseModel):
    """The class of a job that names none: by whether its nodes have GPUs."""

    model_config = CONFIG

    gpu_nodes: str
    cpu_nodes: str


class PowerClasses(BaseModel):
    """The power classes file: ``[defaults]`` and ``[classes.NAME]`` tables."""

    model_config = CONFIG

    defaults: ClassDefaults
    classes: dict[str, PowerClass] = Field(min_length=1)

    @model_validator(mode="after")
    def _defaults_exist(self) -> PowerClasses:
        for field in ("gpu_nodes", "cpu_nodes"):
            name = getattr(self.defaults, field)
            if name not in self.classes:
                raise ValueError(
                    f"defaults.{field}: unknown class {name!r}; valid: {', '.join(self.classes)}"
                )
        return self

    def default_for(self, node_type: NodeType) -> str:
        return self.defaults.gpu_nodes if node_type.gpus_per_node else self.defaults.cpu_nodes


def load_power_classes(path: str | Path | None = None) -> PowerClasses:
    """The packaged power classes, or the file at ``path``."""
    return load_config(PowerClasses, "pmtwin.physics", CLASSES_FILE, path)


@dataclass(frozen=True)
class GpuDraw:
    """One GPU under a class and an optional cap: its power and the job's rate (1 = uncapped speed)."""

    power_w: float
    rate: float


def gpu_draw(gpu: GpuSpec, phase: Phase, cap_w: float | None) -> GpuDraw:
    """docs/power.md 4b: below the phase's natural power, the GPU draws the cap and lowers its clock
    (dynamic power ~ clock^3, never below its lowest clock); the clock-bound share of the phase
    stretches."""
    idle_w = _known(gpu.idle_w, f"GPU {gpu.model}: idle_w")
    natural_w = idle_w + (gpu.tdp_w - idle_w) * phase.gpu
    if cap_w is None or cap_w >= natural_w:
        return GpuDraw(natural_w, 1.0)
    power_w = cap_w
    clock_ratio = ((cap_w - idle_w) / (natural_w - idle_w)) ** (1.0 / DYNAMIC_POWER_CLOCK_EXPONENT)
    lowest = 0.0 if gpu.min_clock_mhz is None else gpu.min_clock_mhz / gpu.boost_clock_mhz
    if clock_ratio < lowest:  # the clock cannot go lower: the GPU then draws above the cap
        clock_ratio = lowest
        power_w = idle_w + (natural_w - idle_w) * lowest**DYNAMIC_POWER_CLOCK_EXPONENT
    share = phase.gpu_clock_bound
    return GpuDraw(power_w, 1.0 / ((1.0 - share) + share / clock_ratio))


@dataclass(frozen=True)
class NodeDraw:
    """One node under a class: its power by component (W) and the rate its GPUs' cap leaves the job."""

    baseline_w: float
    cpu_w: float
    gpu_w: float
    memory_w: float
    nic_w: float
    rate: float

    @property
    def power_w(self) -> float:
        return self.baseline_w + self.cpu_w + self.gpu_w + self.memory_w + self.nic_w


IDLE = PowerClass(
    phases=(Phase(time_share=1.0, cpu=0, gpu=0, memory=0, nic=0, gpu_clock_bound=0),), source="idle"
)
"""Every component at its idle power."""


def node_idle_w(machine: Machine, node_type: NodeType) -> float:
    """Power of one node with nothing running on it."""
    return node_draw(machine, node_type, IDLE, None).power_w


def node_draw(
    machine: Machine, node_type: NodeType, power_class: PowerClass, gpu_cap_w: float | None
) -> NodeDraw:
    """docs/power.md section 1: baseline + CPUs + GPUs + DDR + NICs, each idle + (max - idle) x u,
    averaged over the class's phases by their share of the (capped) run time; the job's rate is
    1 / sum(time_share / phase rate). A figure the node type leaves out (baseline, DDR model, NIC
    model) counts 0 (see ``missing_figures``)."""
    draws = [_phase_draw(machine, node_type, phase, gpu_cap_w) for phase in power_class.phases]
    stretched = [phase.time_share / draw.rate for phase, draw in zip(power_class.phases, draws, strict=True)]
    total = sum(stretched)
    weights = [part / total for part in stretched]
    components = np.array([[d.baseline_w, d.cpu_w, d.gpu_w, d.memory_w, d.nic_w] for d in draws])
    baseline_w, cpu_w, gpu_w, memory_w, nic_w = (float(x) for x in np.asarray(weights) @ components)
    return NodeDraw(baseline_w, cpu_w, gpu_w, memory_w, nic_w, 1.0 / total)


def _phase_draw(machine: Machine, node_type: NodeType, phase: Phase, gpu_cap_w: float | None) -> NodeDraw:
    where = f"{machine.name}: node type {node_type.name}"
    cpu = machine.cpu_spec(node_type)
    cpu_idle_w = _known(cpu.idle_w, f"{where}: CPU {node_type.cpu}: idle_w")
    cpu_w = node_type.cpus_per_node * (cpu_idle_w + (cpu.tdp_w - cpu_idle_w) * phase.cpu)
    gpu_w, rate = 0.0, 1.0
    gpu = machine.gpu_spec(node_type)
    if gpu is not None:
        draw = gpu_draw(gpu, phase, gpu_cap_w)
        gpu_w, rate = node_type.gpus_per_node * draw.power_w, draw.rate
    memory_w = 0.0
    if node_type.memory is not None and node_type.ddr_gb is not None:
        memory = machine.devices.memory[node_type.memory]
        span = memory.active_w_per_gb - memory.idle_w_per_gb
        memory_w = node_type.ddr_gb * (memory.idle_w_per_gb + span * phase.memory)
    nic_w = 0.0
    if node_type.nic is not None:
        nic = machine.devices.nic[node_type.nic]
        nic_w = node_type.nics_per_node * (nic.idle_w + (nic.max_w - nic.idle_w) * phase.nic)
    return NodeDraw(node_type.baseline_w or 0.0, cpu_w, gpu_w, memory_w, nic_w, rate)


def missing_figures(machine: Machine) -> list[str]:
    """What the power model counts as 0 W on this machine because the system file does not give it."""
    missing = []
    for node_type in machine.node_types:
        absent = [
            name
            for name, value in (("baseline_w", node_type.baseline_w), ("memory", node_type.memory))
            if value is None
        ]
        if node_type.nic is None and node_type.nics_per_node > 0:
            absent.append("nic")
        if absent:
            missing.append(f"node type {node_type.name}: no {', '.join(absent)} (counted as 0 W)")
    if machine.facility is None:
        missing.append("no [facility] table: no switches, storage or conversion losses; PUE 1")
    return missing


def check_gpu_cap(machine: Machine, node_types: list[NodeType], cap_w: float) -> None:
    """A per-GPU cap must lie in every capped GPU's supported range (reference sheet section 4)."""
    if not math.isfinite(cap_w) or cap_w <= 0:
        raise PowerModelError(f"--gpu-power-cap-w must be a positive number of watts, got {cap_w}")
    for node_type in node_types:
        gpu = machine.gpu_spec(node_type)
        if gpu is not None and not gpu.power_cap_min_w <= cap_w <= gpu.power_cap_max_w:
            raise PowerModelError(
                f"--gpu-power-cap-w {cap_w:g}: {gpu.model} accepts caps from {gpu.power_cap_min_w:g} to "
                f"{gpu.power_cap_max_w:g} W"
            )


@dataclass(frozen=True)
class StaticPower:
    """What the machine draws with no job running, before conversion losses (DC, W)."""

    idle_nodes_w: float
    switches_w: float
    storage_w: float

    @property
    def total_w(self) -> float:
        return self.idle_nodes_w + self.switches_w + self.storage_w


def static_power(machine: Machine) -> StaticPower:
    """Every node idle (login and service nodes included), every switch, the storage (section 2)."""
    idle = sum(t.count * node_idle_w(machine, t) for t in machine.node_types)
    facility = machine.facility
    if facility is None:
        return StaticPower(idle, 0.0, 0.0)
    switches = sum(t.cabinet_count * t.switches_per_cabinet for t in machine.node_types)
    return StaticPower(idle, switches * facility.switch_w, facility.storage_w)


def conversion_efficiency(machine: Machine) -> float:
    return 1.0 if machine.facility is None else machine.facility.conversion_efficiency


def pue(machine: Machine, outdoor_c: NDArray[np.float64] | float | None) -> NDArray[np.float64]:
    """PUE at outdoor temperatures (docs/power.md section 2): pue_min up to free_cooling_max_c, then
    linear to pue_max at pue_max_at_c, constant above; pue_min without a temperature; 1 without a
    facility."""
    facility = machine.facility
    temps = np.atleast_1d(np.asarray(np.nan if outdoor_c is None else outdoor_c, np.float64))
    if facility is None:
        return np.ones(len(temps))
    if outdoor_c is None:
        return np.full(len(temps), facility.pue_min)
    ramp = (temps - facility.free_cooling_max_c) / (facility.pue_max_at_c - facility.free_cooling_max_c)
    return facility.pue_min + (facility.pue_max - facility.pue_min) * np.clip(ramp, 0.0, 1.0)


@dataclass(frozen=True)
class JobPower:
    """Per job (rows of the job table): the class it ran as, its added power (integer mW, rounded up,
    as the scheduler's budget counts it), its nodes' idle power share (W) and its GPU rate."""

    class_code: NDArray[np.int32]
    class_names: tuple[str, ...]
    added_mw: NDArray[np.int64]
    idle_w: NDArray[np.float64]
    rate: NDArray[np.float64]


def job_power(
    machine: Machine,
    pool_node_types: list[NodeType],
    pool_of_job: NDArray[np.int32],
    size: NDArray[np.int64],
    fractions: NDArray[np.float64],
    job_class: tuple[NDArray[np.int32], tuple[str, ...]],
    classes: PowerClasses,
    gpu_cap_w: float | None,
) -> JobPower:
    """Each job's power from its pool's node type, its class (codes into names; the name "" means the
    node's default) and its size in nodes. ``fractions`` (jobs x 3) are the fractions of each node's
    cores, GPUs and memory the job holds (1 for whole nodes): a job adds the dynamic power of its share
    of each component, its NICs' following its cores, and its nodes' idle power is attributed to it by
    its core fraction (docs/power.md section 1)."""
    names = tuple(sorted(classes.classes))
    index = {name: k for k, name in enumerate(names)}
    # dynamic power (active - idle) per pool, class and component [cpu, gpu, memory, nic]
    dynamic = np.empty((len(pool_node_types), len(names), 4))
    node_rate = np.empty((len(pool_node_types), len(names)))
    node_idle = np.empty(len(pool_node_types))
    for p, node_type in enumerate(pool_node_types):
        idle = node_draw(machine, node_type, IDLE, None)
        node_idle[p] = idle.power_w
        for k, name in enumerate(names):
            draw = node_draw(machine, node_type, classes.classes[name], gpu_cap_w)
            dynamic[p, k] = [draw.cpu_w - idle.cpu_w, draw.gpu_w - idle.gpu_w,
                             draw.memory_w - idle.memory_w, draw.nic_w - idle.nic_w]  # fmt: skip
            node_rate[p, k] = draw.rate
    defaults = np.array([index[classes.default_for(t)] for t in pool_node_types], np.int32)
    codes, job_names = job_class
    unknown = [name for name in job_names if name and name not in index]
    if unknown:
        raise PowerModelError(f"unknown power class {unknown[0]!r}; valid: {', '.join(names)}")
    mapped = np.array([index.get(name, -1) for name in job_names], np.int32)[codes]
    code = np.where(mapped >= 0, mapped, defaults[pool_of_job]).astype(np.int32)
    cores, gpus, memory = fractions[:, 0], fractions[:, 1], fractions[:, 2]
    weights = np.stack([cores, gpus, memory, cores], axis=1)
    added_w = size * np.einsum("jc,jc->j", dynamic[pool_of_job, code], weights)
    return JobPower(
        class_code=code,
        class_names=names,
        # whole milliwatts, rounded up; the tolerance keeps float noise (5000.0000001) from adding one
        added_mw=np.ceil(added_w * 1000.0 - 1e-6).astype(np.int64),
        idle_w=size * cores * node_idle[pool_of_job],
        rate=node_rate[pool_of_job, code],
    )


def _known(value: float | None, what: str) -> float:
    if value is None:
        raise PowerModelError(
            f"{what} is not given: the power model needs it (devices.toml, or the system's extra_devices)"
        )
    return value


def power_overview(machine: Machine, classes: PowerClasses) -> dict[str, Any]:
    """Idle and full-load power of a machine (``pmtwin power``): per node type, idle and each class;
    the system idle, and at full load (every batch node in its most power-hungry class); facility power
    at the PUE model's bounds."""
    efficiency = conversion_efficiency(machine)
    static = static_power(machine)
    node_types = []
    busy_extra_w = 0.0
    for node_type in machine.node_types:
        idle_w = node_idle_w(machine, node_type)
        by_class = {
            name: node_draw(machine, node_type, cls, None).power_w
            for name, cls in sorted(classes.classes.items())
        }
        node_types.append(
            {"name": node_type.name, "count": node_type.count, "idle_w": idle_w, "classes_w": by_class}
        )
        if machine.partition_of(node_type.name) is not None:
            busy_extra_w += node_type.count * (max(by_class.values()) - idle_w)
    pue_bounds = pue(machine, np.array([-np.inf, np.inf])) if machine.facility is not None else np.ones(2)
    idle_system_w = static.total_w / efficiency
    full_system_w = (static.total_w + busy_extra_w) / efficiency
    return {
        "machine": machine.name,
        "node_types": node_types,
        "static_w": {
            "idle_nodes": static.idle_nodes_w,
            "switches": static.switches_w,
            "storage": static.storage_w,
        },
        "conversion_efficiency": efficiency,
        "idle_system_w": idle_system_w,
        "full_load_system_w": full_system_w,
        "idle_facility_w": idle_system_w * float(pue_bounds[0]),
        "full_load_facility_w": [full_system_w * float(pue_bounds[0]), full_system_w * float(pue_bounds[1])],
        "missing_figures": missing_figures(machine),
    }
