"""One DESI night as a workflow of batch jobs (docs/performance.md, DESI section): the afternoon
calibrations, then one tilenight job per science exposure as its data arrive, each followed by its tile's
Redrock job; and a greedy replay of that workflow on a pool of nodes.

Step indices in ``after`` always point backwards, so the list is in a valid submission order."""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass

from pmtwin.machine.system import Machine
from pmtwin.perf.desi_params import Calibration, DesiParams, load_desi_params
from pmtwin.perf.desi_rates import (
    SECONDS_PER_MINUTE,
    NodeRates,
    exposure_breakdown_s,
    node_rates,
    redshift_run_s,
)
from pmtwin.perf.node import PerfModelError
from pmtwin.perf.params import default_gpu_node_type

CPU_CALIBRATION_POWER_CLASS = "cpu_compute"
"""A GPU calibration step moved to CPU nodes (the CPU variant) computes on every core."""


@dataclass(frozen=True)
class WorkflowStep:
    """One batch job of the night: where it runs, how big and how long, when it is submitted relative
    to the night's start, and which earlier steps it waits for (Slurm afterok)."""

    name: str
    partition: str
    nodes: int
    run_s: float
    submit_offset_s: float
    after: tuple[int, ...]
    power_class: str


def desi_night_workflow(
    machine: Machine,
    *,
    exposures: int = 33,
    realtime_nodes: int = 10,
    node_type: str | None = None,
    frames_per_exposure: int | None = None,
    exposure_interval_s: float | None = None,
    params: DesiParams | None = None,
) -> list[WorkflowStep]:
    """The night's jobs. Science runs on ``node_type`` (None: the default GPU node type; a CPU node type
    gives the CPU variant, where the GPU calibration steps move to CPU nodes too). A science job takes
    min(``realtime_nodes``, desispec's 5-node cap, frames) nodes."""
    params = load_desi_params() if params is None else params
    _require_positive("exposures", exposures)
    _require_positive("realtime_nodes", realtime_nodes)
    rates = node_rates(machine, node_type or default_gpu_node_type(machine), params)
    steps = _calibration_steps(params, rates.partition)
    sinks = _calibration_sinks(steps)
    frames = frames_per_exposure or params.survey.frames_per_exposure
    interval_s = exposure_interval_s or params.survey.exposure_interval_s
    for exposure in range(exposures):
        arrival_s = params.survey.science_start_s + exposure * interval_s
        steps.append(_science_step(exposure, rates, params, frames, realtime_nodes, arrival_s, sinks))
        steps.append(_redshift_step(exposure, rates, params, arrival_s, len(steps) - 1))
    return steps


def _require_positive(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise PerfModelError(f"DESI: {name} must be a positive integer, got {value!r}")


def _calibration_steps(params: DesiParams, partition: str) -> list[WorkflowStep]:
    steps: list[WorkflowStep] = []
    indices: dict[str, list[int]] = {}
    for calibration in params.calibrations:
        after = tuple(index for name in calibration.after for index in indices[name])
        for number in range(calibration.count):
            indices.setdefault(calibration.name, []).append(len(steps))
            steps.append(_calibration_step(calibration, number, partition, after, params))
    return steps


def _calibration_step(
    calibration: Calibration, number: int, partition: str, after: tuple[int, ...], params: DesiParams
) -> WorkflowStep:
    """A calibration job as listed, or, when science runs on CPU nodes, a GPU one moved there with its
    run time rescaled by the timefactors (desispec scales requests the same way), floored at 5 min."""
    name = f"{calibration.name}-{number}" if calibration.count > 1 else calibration.name
    if calibration.partition == partition or partition == "gpu":
        return WorkflowStep(
            name, calibration.partition, calibration.nodes, calibration.run_min * SECONDS_PER_MINUTE,
            0.0, after, calibration.power_class,
        )
    pipeline = params.pipeline
    run_min = max(
        calibration.run_min * pipeline.timefactor("cpu") / pipeline.timefactor(calibration.partition),
        pipeline.min_runtime_min,
    )
    return WorkflowStep(
        name, "cpu", calibration.nodes, run_min * SECONDS_PER_MINUTE, 0.0, after, CPU_CALIBRATION_POWER_CLASS
    )


def _calibration_sinks(steps: Sequence[WorkflowStep]) -> tuple[int, ...]:
    """Calibration steps no other calibration waits for: science waits for these (and so for all)."""
    waited_for = {index for step in steps for index in step.after}
    return tuple(index for index in range(len(steps)) if index not in waited_for)


def _science_step(
    exposure: int,
    rates: NodeRates,
    params: DesiParams,
    frames: int,
    realtime_nodes: int,
    arrival_s: float,
    after: tuple[int, ...],
) -> WorkflowStep:
    nodes = min(realtime_nodes, params.pipeline.science_max_nodes, frames)
    run_s = sum(exposure_breakdown_s(rates, params.pipeline, frames, nodes).values())
    return WorkflowStep(
        f"tilenight-{exposure:02d}", rates.partition, nodes, run_s, arrival_s, after, rates.power_class
    )


def _redshift_step(
    exposure: int, rates: NodeRates, params: DesiParams, arrival_s: float, science_index: int
) -> WorkflowStep:
    return WorkflowStep(
        f"redshift-{exposure:02d}",
        rates.partition,
        params.pipeline.redshift_nodes,
        redshift_run_s(params.pipeline, rates.partition),
        arrival_s,
        (science_index,),
        rates.power_class,
    )


def replay_workflow(steps: Sequence[WorkflowStep], pool_nodes: dict[str, int]) -> list[tuple[float, float]]:
    """(start_s, end_s) of each step, greedily in submission order: a step starts once it is submitted,
    its dependencies have ended and enough nodes of its partition are free. Partitions missing from
    ``pool_nodes`` have nodes whenever asked (a large shared partition)."""
    free_at = {partition: [0.0] * count for partition, count in pool_nodes.items()}
    times: list[tuple[float, float]] = []
    for index, step in enumerate(steps):
        if any(dep >= index for dep in step.after):
            raise PerfModelError(f"DESI workflow: step {index} ({step.name}) depends on a later step")
        ready_s = max([step.submit_offset_s, *(times[dep][1] for dep in step.after)])
        start_s = _claim_nodes(free_at.get(step.partition), step, ready_s)
        times.append((start_s, start_s + step.run_s))
    return times


def _claim_nodes(pool: list[float] | None, step: WorkflowStep, ready_s: float) -> float:
    """The earliest start at or after ``ready_s`` with ``step.nodes`` free nodes in ``pool`` (a heap of
    times each node becomes free), which it then holds until the step ends."""
    if pool is None:
        return ready_s
    if step.nodes > len(pool):
        raise PerfModelError(
            f"DESI workflow: {step.name} needs {step.nodes} {step.partition} nodes, the pool has {len(pool)}"
        )
    claimed = [heapq.heappop(pool) for _ in range(step.nodes)]
    start_s = max(ready_s, claimed[-1])
    for _ in claimed:
        heapq.heappush(pool, start_s + step.run_s)
    return start_s
