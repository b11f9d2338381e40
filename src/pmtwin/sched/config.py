"""The scheduler configuration of Slurm mode (docs/slurm-scheduling.md): a frozen, validated value.

Every option's neutral value reproduces the canonical policies exactly; sources are in the spec.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

CONFIG = ConfigDict(extra="forbid", frozen=True)
DAY_S = 86_400.0


class Reservation(BaseModel):
    """Nodes of a pool (``None``: every pool) held from ``start_s`` to ``end_s``; ``nodes`` ``None``
    means all of the pool's nodes."""

    model_config = CONFIG

    name: str = Field(min_length=1)
    start_s: float
    end_s: float
    pool: str | None = None
    nodes: int | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _window(self) -> Reservation:
        if not self.end_s > self.start_s:
            raise ValueError(f"reservation {self.name!r}: end_s must be after start_s")
        return self


class Maintenance(BaseModel):
    """A schedule of whole-system reservations: ``count`` windows of ``duration_s`` every ``period_s``."""

    model_config = CONFIG

    first_start_s: float
    period_s: float = Field(gt=0)
    duration_s: float = Field(gt=0)
    count: int = Field(ge=1, le=100_000)

    @model_validator(mode="after")
    def _fits(self) -> Maintenance:
        if self.duration_s > self.period_s:
            raise ValueError("maintenance duration_s must not exceed period_s")
        return self

    def reservations(self) -> tuple[Reservation, ...]:
        return tuple(
            Reservation(
                name=f"maintenance-{k}",
                start_s=self.first_start_s + k * self.period_s,
                end_s=self.first_start_s + k * self.period_s + self.duration_s,
            )
            for k in range(self.count)
        )


class SchedulerConfig(BaseModel):
    """How a run schedules. The defaults are the canonical semantics (FIFO priority, no limits beyond the
    QOS table's, backfill at every pass, recorded run times)."""

    model_config = CONFIG

    policy: Literal["fcfs", "easy", "conservative"] = "easy"
    priority: Literal["fifo", "nersc", "multifactor"] = "fifo"
    accrue_limit: int | None = Field(default=None, ge=0)
    age_weight: float = Field(default=1000.0, ge=0)
    fairshare_weight: float = Field(default=0.0, ge=0)
    size_weight: float = Field(default=0.0, ge=0)
    qos_weight: float = Field(default=0.0, ge=0)
    partition_weight: float = Field(default=0.0, ge=0)
    max_age_s: float = Field(default=7 * DAY_S, gt=0)
    decay_half_life_s: float = Field(default=7 * DAY_S, gt=0)
    priority_calc_period_s: float = Field(default=0.0, ge=0)
    backfill_window_s: float = Field(default=0.0, ge=0)
    backfill_max_jobs: int = Field(default=0, ge=0)
    backfill_interval_s: float = Field(default=0.0, ge=0)
    walltime: Literal["trace", "kill"] = "trace"
    over_time_limit_s: float = Field(default=0.0, ge=0)
    reservations: tuple[Reservation, ...] = ()
    maintenance: Maintenance | None = None
    preempt_mode: Literal["requeue", "cancel"] = "requeue"
    preempt_grace_s: float = Field(default=0.0, ge=0)
    qos_table: str = "perlmutter"

    @property
    def effective_accrue_limit(self) -> int:
        """Jobs per association that accrue age at once (0: no limit): NERSC's 2 unless set."""
        if self.accrue_limit is not None:
            return self.accrue_limit
        return 2 if self.priority == "nersc" else 0

    def all_reservations(self) -> tuple[Reservation, ...]:
        """Explicit reservations, then the maintenance windows."""
        extra = self.maintenance.reservations() if self.maintenance is not None else ()
        return self.reservations + extra


def load_scheduler(path: str | Path) -> SchedulerConfig:
    """A scheduler configuration from a TOML file: its ``[scheduler]`` table, or the whole file when it
    has none. Mistakes are reported with the file and the field."""
    path = Path(path)
    try:
        data: dict[str, Any] = tomllib.loads(path.read_text())
    except OSError as exc:
        raise ValueError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: not valid TOML: {exc}") from None
    table = data.get("scheduler", data)
    try:
        return SchedulerConfig.model_validate(table)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top level)"
        raise ValueError(f"{path}: [scheduler] {where}: {first['msg']}") from None
