"""A scenario: everything one run of a sweep needs, as one validated value (docs/sweeps.md section 2).

A scenario plus a seed determines its run completely: ``run_scenario`` is a pure function of them (same
inputs, same run directory bytes). Fields are addressed by dotted paths (``power.power_cap_mw``,
``scheduler.priority``), which is how sweep axes name what they vary.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

if TYPE_CHECKING:
    from pmtwin.runs import ProgressFactory, RunResult

FORBID = ConfigDict(extra="forbid", frozen=True)


class PowerSettings(BaseModel):
    """The power model's options (docs/power.md)."""

    model_config = FORBID

    enabled: bool = True
    power_cap_mw: float | None = Field(default=None, gt=0)
    gpu_power_cap_w: float | None = Field(default=None, gt=0)
    outdoor_temp_c: float | None = None
    resolution_s: float | None = Field(default=None, gt=0)


class Scenario(BaseModel):
    """One run: ``simulate`` a machine under a workload model, or ``replay`` a trace."""

    model_config = FORBID

    command: Literal["simulate", "replay"] = "simulate"
    machine: str | None = "perlmutter"
    """A system name or TOML path; a replay without a machine runs on one pool sized by the trace."""
    days: float = Field(default=30.0, gt=0, le=3650.0)
    workload: str = "perlmutter"
    """A shipped workload model's name or a TOML path (simulate)."""
    load_factor: float = Field(default=1.0, gt=0, le=100.0)
    """Offered load relative to the model's (simulate: the ``scale_load`` transform; realtime jobs once)."""
    trace: str | None = None
    """The trace a replay reads (SWF, sacct, Parquet, ...)."""
    trace_format: str = "auto"
    partition: str | None = None
    policy: Literal["fcfs", "easy", "conservative"] = "easy"
    scheduler: dict[str, Any] | None = None
    """Slurm mode: fields of ``SchedulerConfig`` (docs/slurm-scheduling.md); None: the canonical engine."""
    slurm_features: bool = False
    power: PowerSettings = PowerSettings()
    report: Literal["full", "html", "none"] = "none"
    """What each point's run directory gets besides its data (docs/reports.md)."""

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        if self.command == "replay" and self.trace is None:
            raise ValueError("a replay needs a trace")
        if self.command == "simulate" and self.trace is not None:
            raise ValueError("trace applies to command = 'replay'")
        if self.command == "replay" and self.load_factor != 1.0:
            raise ValueError("load_factor applies to command = 'simulate'")
        if self.command == "simulate" and self.machine is None:
            raise ValueError("a simulation needs a machine")
        unused = (
            ("days", "workload", "slurm_features")
            if self.command == "replay"
            else ("partition", "trace_format")
        )
        ignored = sorted(set(unused) & self.model_fields_set)
        if ignored:
            raise ValueError(f"{', '.join(ignored)} does not apply to command = {self.command!r}")
        if self.scheduler is not None:
            from pmtwin.sched.config import SchedulerConfig

            SchedulerConfig.model_validate({**self.scheduler, "policy": self.policy})
        return self


def run_scenario(
    scenario: Scenario, seed: int, out_dir: Path, *, progress: ProgressFactory | None = None
) -> RunResult:
    """Run the scenario with ``seed`` into ``out_dir`` (the library calls behind simulate and replay);
    ``progress`` follows the engine as ``pmtwin.runs`` describes."""
    from pmtwin import runs
    from pmtwin.runs_power import PowerOptions
    from pmtwin.workload.model import with_load_factor

    power = scenario.power
    options = PowerOptions(
        power.enabled, power.power_cap_mw, power.gpu_power_cap_w, power.outdoor_temp_c, power.resolution_s
    )
    scheduler = None
    if scenario.scheduler is not None:
        from pmtwin.sched.config import SchedulerConfig

        scheduler = SchedulerConfig.model_validate({**scenario.scheduler, "policy": scenario.policy})
    if scenario.command == "replay":
        assert scenario.trace is not None
        return runs.replay(
            Path(scenario.trace), out_dir=out_dir, policy=scenario.policy, trace_format=scenario.trace_format,
            machine=scenario.machine, partition=scenario.partition, scheduler=scheduler, power=options,
            report=scenario.report, progress=progress,
        )  # fmt: skip
    assert scenario.machine is not None
    return runs.simulate(
        out_dir=out_dir, machine=scenario.machine, days=scenario.days, seed=seed, policy=scenario.policy,
        scheduler=scheduler, slurm_features=scenario.slurm_features, power=options,
        workload=with_load_factor(scenario.workload, scenario.load_factor), report=scenario.report,
        progress=progress,
    )  # fmt: skip
