"""What the dashboard's API exchanges: the run request a page sends, the run's public state, and the job
file a worker process reads.

Every field a request carries is checked here (ranges, known names), so that nothing taken from a request
can name a file: the machine is one of the packaged systems and a trace is an id the server looks up.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from pmtwin.runs import MAX_DAYS

RunState = Literal["queued", "running", "done", "failed", "cancelled"]
TERMINAL_STATES: frozenset[str] = frozenset({"done", "failed", "cancelled"})
POLICIES = ("fcfs", "easy", "conservative")
PRIORITIES = ("fifo", "nersc", "multifactor")
MODELS = ("perlmutter",)
MAX_LOAD_FACTOR = 10.0
MAX_POWER_CAP_MW = 1000.0
"""Far above any real system (Perlmutter draws some 6 MW): a bound, not a model of the machine."""
MAX_GPU_POWER_CAP_W = 1000.0
OUTDOOR_TEMP_RANGE_C = (-80.0, 70.0)
"""Outdoor temperatures ever recorded on Earth lie within this range."""
POWER_BUDGET_REFUSED = (
    "power_cap_mw: a power budget works with the fcfs and easy policies of the canonical engine, not with "
    "conservative backfilling or in Slurm mode (priority set); see docs/power.md 4a"
)
TRACE_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$"
"""Built-in traces are named by their file name, uploads by ``upload-NNNN``."""

STRICT = ConfigDict(extra="forbid", allow_inf_nan=False)


class GeneratedWorkload(BaseModel):
    """A workload drawn from a workload model for ``days`` with ``seed``."""

    model_config = STRICT

    kind: Literal["generated"] = "generated"
    model: Literal["perlmutter"] = "perlmutter"
    days: float = Field(default=2.0, gt=0, le=MAX_DAYS)
    seed: int = Field(default=0, ge=0, lt=2**63)


class TraceWorkload(BaseModel):
    """A trace the server knows (``GET /api/traces``), replayed."""

    model_config = STRICT

    kind: Literal["trace"]
    trace_id: str = Field(pattern=TRACE_ID_PATTERN)


Workload = Annotated[GeneratedWorkload | TraceWorkload, Field(discriminator="kind")]


class RunRequest(BaseModel):
    """A run as the page asks for it (the API contract's RunRequest)."""

    model_config = STRICT

    label: str = Field(default="", max_length=80)
    machine: str = "perlmutter"
    workload: Workload = Field(default_factory=GeneratedWorkload)
    policy: Literal["fcfs", "easy", "conservative"] = "easy"
    priority: Literal["fifo", "nersc", "multifactor"] | None = None
    power_cap_mw: float | None = Field(default=None, gt=0, le=MAX_POWER_CAP_MW)
    gpu_power_cap_w: float | None = Field(default=None, gt=0, le=MAX_GPU_POWER_CAP_W)
    outdoor_temp_c: float | None = Field(default=None, ge=OUTDOOR_TEMP_RANGE_C[0], le=OUTDOOR_TEMP_RANGE_C[1])
    load_factor: float = Field(default=1.0, gt=0, le=MAX_LOAD_FACTOR)

    @field_validator("machine")
    @classmethod
    def _packaged_machine(cls, name: str) -> str:
        """Only packaged systems: a path here would let a request read any file."""
        from pmtwin.machine import list_systems

        known = list_systems()
        if name not in known:
            raise ValueError(f"unknown machine {name!r}; choose one of {', '.join(known)}")
        return name

    @model_validator(mode="after")
    def _load_factor_on_generated(self) -> RunRequest:
        if self.load_factor != 1.0 and self.workload.kind != "generated":
            raise ValueError("load_factor scales a generated workload; a trace is replayed as recorded")
        return self

    @model_validator(mode="after")
    def _power_budget_where_it_works(self) -> RunRequest:
        """Refused here rather than failing in the worker a moment later (the run would not start)."""
        if self.power_cap_mw is not None and (self.priority is not None or self.policy == "conservative"):
            raise ValueError(POWER_BUDGET_REFUSED)
        return self


class Figures(BaseModel):
    """The headline figures of a finished run (from its summary.json)."""

    jobs: int
    utilization: float
    mean_wait_s: float
    energy_mwh: float | None


class RunInfo(BaseModel):
    """A run's public state (the API contract's RunInfo); also what ``status.json`` holds."""

    id: str
    label: str
    state: RunState
    phase: str = ""
    progress: float = 0.0
    created_utc: str
    started_utc: str | None = None
    finished_utc: str | None = None
    error: str | None = None
    request: RunRequest
    figures: Figures | None = None
    links: dict[str, str] = Field(default_factory=dict)

    @property
    def finished(self) -> bool:
        """Whether the run reached a terminal state."""
        return self.state in TERMINAL_STATES


TraceFormat = Literal["swf", "sacct", "parquet"]
"""The trace formats the dashboard replays (Alibaba pods and application-model jobs are CLI-only)."""


class TraceFile(BaseModel):
    """A trace resolved for a worker: where it lies (inside the store or the traces folder) and its format."""

    path: str
    format: TraceFormat


class WorkerJob(BaseModel):
    """What ``RUN_DIR/request.json`` holds: the request, and the trace file a trace run replays."""

    request: RunRequest
    trace: TraceFile | None = None


class TraceInfo(BaseModel):
    """One entry of ``GET /api/traces`` (and, with ``skipped``, the answer to an upload)."""

    id: str
    name: str
    source: Literal["builtin", "upload"]
    format: TraceFormat
    jobs: int | None
    skipped: dict[str, int] = Field(default_factory=dict)

    def listed(self) -> dict[str, Any]:
        """The entry as ``GET /api/traces`` lists it (no skip counts)."""
        return self.model_dump(exclude={"skipped"})
