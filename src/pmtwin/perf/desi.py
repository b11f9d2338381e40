"""The DESI spectroscopic pipeline on a machine (docs/performance.md, DESI section): one exposure's
turnaround, a whole night as a workflow of jobs, and reprocessing a year of data against Cori Haswell
and Edison. Throughputs come from Margala et al. (SciPy 2021) and desispec's own job sizing, scaled to
the node's devices (``desi_rates``); every parameter is cited in ``desi.toml``.

``predict_desi(machine, node_type, nodes, params)`` takes ``params["mode"]``:

* ``"exposure"`` (default): one exposure's job; ``nodes`` is the realtime pool, the job takes
  min(nodes, 5, frames) of them (desispec's cap). Keys: ``frames_per_exposure``.
* ``"night"``: the night's workflow replayed on a realtime pool of ``nodes`` nodes. Keys:
  ``exposures``, ``frames_per_exposure``, ``exposure_interval_s``.
* ``"year"``: every science frame of ``nights`` nights, one-node tilenight jobs spread over ``nodes``
  nodes; Cori Haswell and Edison on ``baseline_nodes`` nodes (default: ``nodes``). Keys: ``nights``,
  ``exposures`` (per night), ``frames_per_exposure``, ``baseline_nodes``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from pmtwin.machine.system import Machine
from pmtwin.perf.desi_params import DesiParams, load_desi_params
from pmtwin.perf.desi_rates import (
    SECONDS_PER_HOUR,
    NodeRates,
    exposure_breakdown_s,
    exposure_budget_min,
    node_rates,
    redshift_run_s,
)
from pmtwin.perf.desi_workflow import (
    WorkflowStep,
    desi_night_workflow,
    replay_workflow,
)
from pmtwin.perf.node import PerfModelError
from pmtwin.perf.params import check_nodes, check_params, node_type_of
from pmtwin.perf.prediction import Prediction

__all__ = ["WorkflowStep", "desi_night_workflow", "predict_desi"]

APP = "desi"
SECONDS_PER_DAY = 86400.0
MODE_KEYS: Mapping[str, Mapping[str, type]] = MappingProxyType(
    {
        "exposure": {"frames_per_exposure": int},
        "night": {"exposures": int, "frames_per_exposure": int, "exposure_interval_s": float},
        "year": {"nights": int, "exposures": int, "frames_per_exposure": int, "baseline_nodes": int},
    }
)
"""The parameters each mode takes besides ``mode``, and their types."""
BUDGET_NOTE = (
    "Run times outside extraction come from desispec's walltime requests (tilenight 140 frames per "
    "node-hour x timefactor; Redrock and calibration requests): upper bounds, so answers lean slow."
)


def predict_desi(
    machine: Machine, node_type: str | None, nodes: int, params: Mapping[str, Any]
) -> Prediction:
    """The DESI pipeline on ``nodes`` nodes of ``node_type`` (None: the default GPU node type); see the
    module docstring for the modes and their keys. Unknown modes and keys, and wrong types, raise
    ``PerfModelError`` naming them."""
    options = _validated(params)
    kind = node_type_of(machine, node_type)
    config = load_desi_params()
    rates = node_rates(machine, kind.name, config)
    check_nodes("DESI", machine, kind, nodes)
    mode = str(options.pop("mode", "exposure"))
    return MODES[mode](machine, rates, nodes, options, config)


def _validated(params: Mapping[str, Any]) -> dict[str, Any]:
    mode = params.get("mode", "exposure")
    if not isinstance(mode, str) or mode not in MODE_KEYS:
        raise PerfModelError(f"DESI: unknown mode {mode!r} (known: {', '.join(MODE_KEYS)})")
    return check_params(f"DESI {mode}", params, {"mode": str, **MODE_KEYS[mode]})


def _prediction(
    machine: Machine,
    rates: NodeRates,
    nodes: int,
    breakdown: dict[str, float],
    figures: dict[str, float],
    inputs: dict[str, Any],
) -> Prediction:
    return Prediction(
        app=APP,
        machine=machine.name,
        node_type=rates.node_type,
        nodes=nodes,
        run_s=sum(breakdown.values()),
        power_class=rates.power_class,
        breakdown=breakdown,
        figures=figures,
        inputs=inputs,
        notes=(f"Extraction scaling: {rates.scaling}.", BUDGET_NOTE),
    )


def _exposure(
    machine: Machine, rates: NodeRates, nodes: int, options: dict[str, Any], config: DesiParams
) -> Prediction:
    frames = int(options.get("frames_per_exposure", config.survey.frames_per_exposure))
    job_nodes = min(nodes, config.pipeline.science_max_nodes, frames)
    breakdown = exposure_breakdown_s(rates, config.pipeline, frames, job_nodes)
    run_s = sum(breakdown.values())
    limit_s = config.survey.turnaround_limit_s
    figures = {
        "turnaround_min": run_s / 60.0,
        "turnaround_limit_min": limit_s / 60.0,
        "turnaround_margin_ratio": limit_s / run_s,
        "job_nodes": float(job_nodes),
        "frames": float(frames),
        "frames_per_node_hour": rates.chain_fpnh,
        "extraction_frames_per_node_hour": rates.extraction_fpnh,
        "node_hours": job_nodes * run_s / SECONDS_PER_HOUR,
        "budget_walltime_min": exposure_budget_min(config.pipeline, rates.partition, frames),
    }
    inputs = {"mode": "exposure", "realtime_nodes": nodes, "frames_per_exposure": frames}
    return _prediction(machine, rates, job_nodes, breakdown, figures, inputs)


def _night(
    machine: Machine, rates: NodeRates, nodes: int, options: dict[str, Any], config: DesiParams
) -> Prediction:
    exposures = int(options.get("exposures", config.survey.exposures_per_night))
    frames = int(options.get("frames_per_exposure", config.survey.frames_per_exposure))
    interval_s = float(options.get("exposure_interval_s", config.survey.exposure_interval_s))
    steps = desi_night_workflow(
        machine, exposures=exposures, realtime_nodes=nodes, node_type=rates.node_type,
        frames_per_exposure=frames, exposure_interval_s=interval_s, params=config,
    )
    times = replay_workflow(steps, {rates.partition: nodes})
    science = [i for i, step in enumerate(steps) if step.name.startswith("tilenight")]
    turnarounds_s = [times[i][1] - steps[i].submit_offset_s for i in science]
    last = science[-1]
    end_s = max(end for _, end in times)
    breakdown = {
        "until_last_exposure_s": steps[last].submit_offset_s,
        "last_exposure_turnaround_s": turnarounds_s[-1],
        "tail_s": end_s - times[last][1],
    }
    figures = {
        "turnaround_min": max(turnarounds_s) / 60.0,
        "turnaround_mean_min": sum(turnarounds_s) / len(turnarounds_s) / 60.0,
        "turnaround_limit_min": config.survey.turnaround_limit_s / 60.0,
        "exposures": float(exposures),
        "frames": float(exposures * frames),
        "frames_per_node_hour": rates.chain_fpnh,
        **_node_hours_by_partition(steps),
        "hours": end_s / SECONDS_PER_HOUR,
    }
    inputs = {"mode": "night", "realtime_nodes": nodes, "exposures": exposures,
              "frames_per_exposure": frames, "exposure_interval_s": interval_s}
    return _prediction(machine, rates, nodes, breakdown, figures, inputs)


def _node_hours_by_partition(steps: list[WorkflowStep]) -> dict[str, float]:
    totals = {"gpu_node_hours": 0.0, "cpu_node_hours": 0.0}
    for step in steps:
        totals[f"{step.partition}_node_hours"] += step.nodes * step.run_s / SECONDS_PER_HOUR
    return totals


def _year(
    machine: Machine, rates: NodeRates, nodes: int, options: dict[str, Any], config: DesiParams
) -> Prediction:
    nights = int(options.get("nights", config.survey.nights_per_year))
    exposures = nights * int(options.get("exposures", config.survey.exposures_per_night))
    frames_per_exposure = int(options.get("frames_per_exposure", config.survey.frames_per_exposure))
    baseline_nodes = int(options.get("baseline_nodes", nodes))
    frames = exposures * frames_per_exposure
    job = exposure_breakdown_s(rates, config.pipeline, frames_per_exposure, 1)
    breakdown = {part: exposures * seconds / nodes for part, seconds in job.items()}
    run_s = sum(breakdown.values())
    figures = {
        "frames": float(frames),
        "frames_per_node_hour": rates.chain_fpnh,
        "node_hours": run_s * nodes / SECONDS_PER_HOUR,
        "days": run_s / SECONDS_PER_DAY,
        "baseline_nodes": float(baseline_nodes),
        **_baseline("cori_haswell", config.extraction.cori_haswell_fpnh, frames, baseline_nodes, run_s),
        **_baseline("edison", config.extraction.edison_fpnh, frames, baseline_nodes, run_s),
        "extraction_speedup_vs_cori_haswell": rates.extraction_fpnh / config.extraction.cori_haswell_fpnh,
        "extraction_speedup_vs_edison": rates.extraction_fpnh / config.extraction.edison_fpnh,
        "redshift_budget_node_hours": exposures * config.pipeline.redshift_nodes
        * redshift_run_s(config.pipeline, rates.partition) / SECONDS_PER_HOUR,
    }
    inputs = {"mode": "year", "nodes": nodes, "nights": nights, "exposures": exposures,
              "frames_per_exposure": frames_per_exposure, "baseline_nodes": baseline_nodes}
    return _prediction(machine, rates, nodes, breakdown, figures, inputs)


def _baseline(name: str, fpnh: float, frames: int, baseline_nodes: int, run_s: float) -> dict[str, float]:
    """An old system's extraction alone (a lower bound on its whole pipeline) at ``baseline_nodes``."""
    node_hours = frames / fpnh
    seconds = node_hours * SECONDS_PER_HOUR / baseline_nodes
    return {
        f"{name}_node_hours": node_hours,
        f"{name}_days": seconds / SECONDS_PER_DAY,
        f"{name}_weeks": seconds / (7 * SECONDS_PER_DAY),
        f"speedup_vs_{name}": seconds / run_s,
    }


ModeModel = Callable[[Machine, NodeRates, int, dict[str, Any], DesiParams], Prediction]
MODES: Mapping[str, ModeModel] = MappingProxyType({"exposure": _exposure, "night": _night, "year": _year})
"""Mode name -> model; every mode takes the node rates and the validated options."""
