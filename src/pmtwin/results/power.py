"""Power series, energy and the summary's ``power`` block of a run (docs/power.md section 3).

Every power level is constant between events, so the series are exact change points and energies are
sums of level x duration. Job power is counted in integer milliwatts (the unit the scheduler's budget
uses), so running sums are exact and a level returns exactly to idle when the last job ends.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from pmtwin.results.charging import sum_by_account
from pmtwin.results.series import LevelSeries, drop_repeats, integrate, levels_at_events
from pmtwin.sim.engine import Schedule
from pmtwin.workload.jobs import JobTable

J_PER_MWH = 3.6e9


@dataclass(frozen=True)
class PowerInputs:
    """What the results need of the power model: per job (rows of the jobs that ran) added power (mW),
    idle power of its nodes (W) and GPU rate; per pool its partition; the machine-wide figures."""

    added_mw: NDArray[np.int64]
    idle_w: NDArray[np.float64]
    rate: NDArray[np.float64]
    partition_of_pool: Sequence[str]
    partition_idle_w: dict[str, float]
    static_dc_w: float
    efficiency: float
    pue_at: PueFn
    settings: dict[str, Any]


class PueFn:
    """PUE as a level series over time: constant, or following an outdoor-temperature series."""

    def __init__(self, time_s: NDArray[np.float64] | None, pue: NDArray[np.float64]) -> None:
        self.time_s = time_s
        self.pue = pue

    def at(self, time_s: NDArray[np.float64]) -> NDArray[np.float64]:
        if self.time_s is None:
            return np.full(len(time_s), float(self.pue[0]))
        index = np.searchsorted(self.time_s, time_s, side="right") - 1
        return self.pue[np.clip(index, 0, len(self.pue) - 1)]  # before the first row: the first level

    def change_points(self, first_s: float, last_s: float) -> NDArray[np.float64]:
        if self.time_s is None:
            return np.empty(0)
        return self.time_s[(self.time_s > first_s) & (self.time_s <= last_s)]


@dataclass(frozen=True)
class PowerOutputs:
    series: LevelSeries
    summary: dict[str, Any]
    columns: dict[str, NDArray[Any]]


def power_outputs(jobs: JobTable, schedule: Schedule, inputs: PowerInputs) -> PowerOutputs:
    """Series ``power_system_w``, ``power_facility_w``, ``power_nodes_w:<partition>``; the summary
    block; per-job ``power_w``, ``energy_j`` and ``gpu_rate``."""
    first_s = float(jobs.submit_s.min()) if len(jobs) else 0.0
    last_s = float(schedule.end_s.max()) if len(jobs) else 0.0
    run_s = schedule.end_s - schedule.start_s
    partitions = list(inputs.partition_idle_w)
    job_partition = np.array([partitions.index(p) for p in inputs.partition_of_pool], np.int16)
    job_partition = job_partition[schedule.pool] if len(jobs) else np.empty(0, np.int16)

    # every start (+power) and end (-power), sorted once by time; each partition takes its own events
    event_s = np.concatenate([schedule.start_s, schedule.end_s])
    order = np.argsort(event_s, kind="stable")
    sorted_s = event_s[order]
    del event_s  # the year-long default workload has two million events: keep one copy of each array
    sorted_mw = np.concatenate([inputs.added_mw, -inputs.added_mw])[order]
    sorted_partition = np.concatenate([job_partition, job_partition])[order]
    del order
    ((times, level_mw),) = levels_at_events(sorted_s, (sorted_mw,), first_s)
    system_w = (inputs.static_dc_w + level_mw / 1000.0) / inputs.efficiency
    extra_times = inputs.pue_at.change_points(first_s, last_s)
    facility_t = np.union1d(times, extra_times) if len(extra_times) else times
    at = np.searchsorted(times, facility_t, side="right") - 1
    facility_w = system_w[at] * inputs.pue_at.at(facility_t)
    facility_t, facility_w = drop_repeats(facility_t, facility_w)
    names: list[str] = ["power_system_w", "power_facility_w"]
    parts_t: list[NDArray[np.float64]] = [times, facility_t]
    parts_v: list[NDArray[np.float64]] = [system_w, facility_w]
    for k, name in enumerate(partitions):
        mine = sorted_partition == k
        ((t_k, mw_k),) = levels_at_events(sorted_s[mine], (sorted_mw[mine],), first_s)
        names.append(f"power_nodes_w:{name}")
        parts_t.append(t_k)
        parts_v.append(inputs.partition_idle_w[name] + mw_k / 1000.0)
    series = LevelSeries.from_parts(names, parts_t, parts_v)

    energy = {name: _energy_j(series, name, first_s, last_s) for name in names}
    span_s = last_s - first_s
    job_energy_j = (inputs.added_mw / 1000.0 + inputs.idle_w) * run_s
    summary: dict[str, Any] = {
        **inputs.settings,
        "idle_system_w": inputs.static_dc_w / inputs.efficiency,
        "mean_system_w": energy["power_system_w"] / span_s if span_s > 0 else None,
        "peak_system_w": float(system_w.max()),
        "peak_facility_w": float(facility_w.max()),
        "energy_system_mwh": energy["power_system_w"] / J_PER_MWH,
        "energy_facility_mwh": energy["power_facility_w"] / J_PER_MWH,
        "energy_jobs_mwh": float(job_energy_j.sum()) / J_PER_MWH,
        "mean_pue": energy["power_facility_w"] / energy["power_system_w"]
        if energy["power_system_w"]
        else None,
        "partitions": {name: _partition_block(series, name, energy, span_s) for name in partitions},
    }
    if len(jobs) and np.any(jobs.group >= 0):
        summary["energy_by_account_mwh"] = sum_by_account(jobs.group, job_energy_j / J_PER_MWH)
    columns = {"power_w": inputs.added_mw / 1000.0, "energy_j": job_energy_j, "gpu_rate": inputs.rate}
    return PowerOutputs(series, summary, columns)


def _partition_block(
    series: LevelSeries, name: str, energy: dict[str, float], span_s: float
) -> dict[str, Any]:
    """A partition's nodes (idle included): energy, mean and peak power."""
    key = f"power_nodes_w:{name}"
    return {
        "energy_nodes_mwh": energy[key] / J_PER_MWH,
        "mean_nodes_w": energy[key] / span_s if span_s > 0 else None,
        "peak_nodes_w": float(series.get(key)[1].max()),
    }


def _energy_j(series: LevelSeries, name: str, first_s: float, last_s: float) -> float:
    time_s, value = series.get(name)
    return integrate(time_s, value, first_s, last_s)
