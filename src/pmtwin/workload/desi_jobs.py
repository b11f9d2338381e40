"""DESI's jobs for generated workloads: the nightly realtime workflow and the yearly reprocessing.

The jobs come from the DESI performance model (docs/performance.md, DESI section): each observing
night is ``desi_night_workflow`` turned into batch jobs, and each year's reprocessing campaign is the
model's year (``predict_desi`` mode ``"year"``) cut into jobs. ``DesiJobsConfig`` (``desi_jobs.toml``,
every figure cited there) says when nights and campaigns happen and how jobs are submitted.

Rules, with t = 0 at local midnight of day 0 and the horizon H = ``days`` x 86,400 s:

Nights (``desi_night_jobs``; ``draw_desi_jobs`` returns their plan too)
  1. Day d (d = 0 .. ceil(days) - 1) takes two uniforms, U[d, 0] and U[d, 1] (``rng.random((n, 2))``,
     so a shorter horizon draws a prefix of a longer one's stream). The night observes iff U[d, 0] <
     ``observing_nights_per_year`` / ``days_per_year``. Its exposure count is the inverse CDF of
     Binomial(``exposures_max``, ``exposures_mean`` / ``exposures_max``) at U[d, 1], at least 1 (the floor
     changes the mean by (1 - p)**max, 3e-27 with the defaults).
  2. An observing night with k exposures is ``desi_night_workflow(machine, exposures=k,
     realtime_nodes=..., node_type=...)``; step i is submitted at floor(d x 86400 + night_start_hour x
     3600 + submit_offset_s[i]). The night is kept only if its last step is submitted before H (a
     night cut by the horizon is dropped whole, so no kept job waits for a missing one);
     the plan (``DesiJobs.plan``) reports the dropped nights. The configuration must let a night of
     ``exposures_max`` exposures end its submissions within 24 h, so nights never overlap.
  3. Every step becomes one job in the realtime QOS: user and account the DESI ids, partition the
     step's, size its nodes, work_s = ceil(run_s), requested_s = limit_s = the limit rule, gpus = nodes
     x GPUs per node of the node type it runs on (0 on CPU nodes), power class the step's, and an
     afterok dependency on each step in ``after`` (the same night, submitted no later).
  4. Science steps run on the config's ``node_type`` (None: the machine's default GPU node type); a
     node type that is not its partition's default gets its features as constraint ("a&b"). Other
     steps run on their partition's default node type.

Reprocessing (``desi_reprocessing_jobs``, ``desi_reprocessing_campaign``)
  5. Year y's campaign is submitted at floor((y x days_per_year + reprocessing_start_day) x 86400 +
     reprocessing_start_hour x 3600), for every y whose submit time is before H (none if H is shorter).
  6. The model's year on N = ``reprocessing_nodes`` nodes: E exposures of ``reprocessing_nights`` x
     ``reprocessing_exposures_per_night``, each s node-seconds, E x s = the model's node-hours x 3600.
     The campaign runs L = N / ``reprocessing_job_nodes`` chains, each of W = ceil(model run_s /
     (``reprocessing_job_target_h`` x 3600)) jobs, so L x W jobs. Job j (wave-major: j = w x L + l)
     processes E // (L x W) exposures, one more for j < E mod (L x W), spread over its nodes: run time
     e_j x s / job_nodes, work_s its ceiling. Job j waits (afterany: a failed batch does not stop the
     campaign) for job j - L of its chain. So the campaign holds at most N nodes, and its node-hours
     equal the model's up to the rounding of each run time up to a whole second.
  7. Jobs are in the regular QOS, on the node type's partition, with the DESI ids.

Both
  8. Time limit = ceil(work_s x ``limit_factor`` / 60 s) x 60 s, capped at the QOS's max_walltime_s
     (0: none); a run time above that maximum, a job larger than the QOS's max_nodes_per_job, or a
     campaign with more jobs than its submit limit raises ``ValueError``, so no job is rejected at
     submission in Slurm mode.
  9. Job ids are 1..n in canonical order (submit time, then step order), with ``combine.renumber``;
     ``qos_names`` is ``slurm_mix.QOS_NAMES``; partition, constraint ("" first) and power-class names
     are those used, in order of first appearance; ``depends`` is always set (empty when nothing waits).

Not rejected but throttled: the realtime QOS's max_running_nodes_per_user (10, the allotment) holds a
night's jobs beyond 10 nodes in use (the five 3-node arcs run three at a time).

Determinism: the same generator state gives identical arrays; reprocessing draws nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Real
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import DTypeLike, NDArray
from pydantic import BaseModel, Field, model_validator

from pmtwin.machine.devices import CONFIG
from pmtwin.machine.errors import parse_toml, read_config_text, validate_config
from pmtwin.machine.system import Machine, NodeType
from pmtwin.perf.desi import predict_desi
from pmtwin.perf.desi_params import DesiParams, load_desi_params
from pmtwin.perf.desi_workflow import WorkflowStep, desi_night_workflow
from pmtwin.perf.params import default_gpu_node_type, node_type_of
from pmtwin.sched.qos import Qos, load_qos
from pmtwin.workload.combine import concat_jobs, renumber
from pmtwin.workload.jobs import AFTERANY, AFTEROK, Dependencies, JobTable
from pmtwin.workload.slurm_mix import QOS_NAMES, REALTIME, REGULAR

CONFIG_FILE = "desi_jobs.toml"
SECONDS_PER_DAY = 86400.0
SECONDS_PER_HOUR = 3600.0
SECONDS_PER_MINUTE = 60.0
HOURS_PER_DAY = 24.0


class DesiJobsConfig(BaseModel):
    """``desi_jobs.toml``: when DESI observes and reprocesses, and how its jobs are submitted (the rules
    are in the module docstring; every value is cited in the file). Load it with
    ``load_desi_jobs_config``, which also takes overrides of any field."""

    model_config = CONFIG

    days_per_year: int = Field(gt=0)
    observing_nights_per_year: float = Field(ge=0)
    exposures_mean: float = Field(ge=1)
    exposures_max: int = Field(ge=1)
    night_start_hour: float = Field(ge=0, lt=HOURS_PER_DAY)
    realtime_nodes: int = Field(ge=1)
    node_type: str | None = None
    limit_factor: float = Field(ge=1)
    user: int = Field(ge=0)
    account: int = Field(ge=0)
    qos_table: str = Field(min_length=1)
    reprocessing_start_day: int = Field(ge=0)
    reprocessing_start_hour: float = Field(ge=0, lt=HOURS_PER_DAY)
    reprocessing_nights: int = Field(ge=1)
    reprocessing_exposures_per_night: int = Field(ge=1)
    reprocessing_nodes: int = Field(ge=1)
    reprocessing_job_nodes: int = Field(ge=1)
    reprocessing_job_target_h: float = Field(gt=0)

    @model_validator(mode="after")
    def _consistent(self) -> DesiJobsConfig:
        if self.observing_nights_per_year > self.days_per_year:
            raise ValueError(
                f"observing_nights_per_year ({self.observing_nights_per_year}) exceeds days_per_year "
                f"({self.days_per_year})"
            )
        if self.exposures_mean > self.exposures_max:
            raise ValueError(
                f"exposures_mean ({self.exposures_mean}) exceeds exposures_max ({self.exposures_max})"
            )
        if self.reprocessing_start_day >= self.days_per_year:
            raise ValueError(
                f"reprocessing_start_day ({self.reprocessing_start_day}) must be a day of the year, "
                f"0..{self.days_per_year - 1}"
            )
        if self.reprocessing_nodes % self.reprocessing_job_nodes:
            raise ValueError(
                f"reprocessing_nodes ({self.reprocessing_nodes}) must be a multiple of "
                f"reprocessing_job_nodes ({self.reprocessing_job_nodes}): the campaign runs whole chains"
            )
        return self

    @property
    def observing_probability(self) -> float:
        """The chance that a day has an observing night: 242 / 365 by default."""
        return self.observing_nights_per_year / self.days_per_year


def load_desi_jobs_config(path: str | Path | None = None, **overrides: Any) -> DesiJobsConfig:
    """The packaged ``desi_jobs.toml`` (or the file at ``path``) with ``overrides`` (field = value)
    applied before validation. Unknown fields, wrong types and inconsistent values raise
    ``MachineConfigError`` (a ``ValueError``) reading ``file: field: message``."""
    if path is None:
        from importlib.resources import files

        text = files("pmtwin.workload").joinpath(CONFIG_FILE).read_text(encoding="utf-8")
        label = CONFIG_FILE
    else:
        text = read_config_text(Path(path))
        label = str(path)
    data = {**parse_toml(text, label), **overrides}
    if overrides:
        label = f"{label} (with overrides {', '.join(sorted(overrides))})"
    return validate_config(DesiJobsConfig, data, label)


# -- shared rules --------------------------------------------------------------------------------------


def time_limit_s(work_s: NDArray[np.float64], limit_factor: float, qos: Qos) -> NDArray[np.float64]:
    """ceil(work_s x ``limit_factor`` / 60 s) x 60 s, capped at the QOS's max_walltime_s (0: none).

    A run time above that maximum raises ``ValueError``: the job could never complete in the QOS."""
    minutes = np.ceil(np.round(work_s * limit_factor / SECONDS_PER_MINUTE, 9))
    limit: NDArray[np.float64] = minutes * SECONDS_PER_MINUTE
    if qos.max_walltime_s > 0:
        if len(work_s) and float(work_s.max()) > qos.max_walltime_s:
            raise ValueError(
                f"DESI jobs: a {float(work_s.max()):.0f} s run exceeds QOS {qos.name!r}'s "
                f"max_walltime_s ({qos.max_walltime_s:.0f} s)"
            )
        limit = np.minimum(limit, qos.max_walltime_s)
    return limit


def _check_sizes(size: NDArray[np.int64], qos: Qos) -> None:
    """Every job within the QOS's max_nodes_per_job (0: none)."""
    if qos.max_nodes_per_job > 0 and len(size) and int(size.max()) > qos.max_nodes_per_job:
        raise ValueError(
            f"DESI jobs: a {int(size.max())}-node job exceeds QOS {qos.name!r}'s max_nodes_per_job "
            f"({qos.max_nodes_per_job})"
        )


def _science_node_type(machine: Machine, config: DesiJobsConfig) -> NodeType:
    name = config.node_type or default_gpu_node_type(machine)
    return node_type_of(machine, name)


@dataclass(frozen=True)
class _Placement:
    partition: str
    constraint: str
    gpus_per_node: int


def _placement(machine: Machine, partition: str, science: NodeType) -> _Placement:
    """Where a step of ``partition`` runs: on the science node type if the partition holds it (its
    features as constraint unless it is the partition's default), else on the partition's default."""
    if partition not in machine.partitions:
        raise ValueError(
            f"DESI jobs: the workflow's partition {partition!r} is not a partition of {machine.name} "
            f"({', '.join(machine.partitions)})"
        )
    types = machine.partitions[partition].node_types
    if science.name in types:
        constraint = "" if science.name == types[0] else "&".join(science.features)
        return _Placement(partition, constraint, science.gpus_per_node)
    return _Placement(partition, "", machine.node_type(types[0]).gpus_per_node)


class _Names:
    """Category names in order of first appearance, and their codes."""

    def __init__(self, *seed: str) -> None:
        self.codes: dict[str, int] = {name: i for i, name in enumerate(seed)}

    def code(self, name: str) -> int:
        return self.codes.setdefault(name, len(self.codes))

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.codes)


@dataclass
class _Categories:
    partition: _Names
    constraint: _Names
    power_class: _Names


def _categories() -> _Categories:
    return _Categories(_Names(), _Names(""), _Names())


def _table(
    cols: dict[str, NDArray[Any]], depends: Dependencies, names: _Categories, config: DesiJobsConfig
) -> JobTable:
    """A renumbered table of the DESI ids; ``cols`` hold the per-job columns, ids 1..n in row order."""
    n = len(cols["submit_s"])
    return renumber(
        JobTable(
            job_id=np.arange(1, n + 1, dtype=np.int64),
            submit_s=cols["submit_s"],
            work_s=cols["work_s"],
            requested_s=cols["limit_s"],
            limit_s=cols["limit_s"],
            size=cols["size"],
            gpus=cols["gpus"],
            partition=cols["partition"],
            partition_names=names.partition.names,
            constraint=cols["constraint"],
            constraint_names=names.constraint.names,
            qos=cols["qos"],
            qos_names=QOS_NAMES,
            user=np.full(n, config.user, np.int64),
            group=np.full(n, config.account, np.int64),
            power_class=cols["power_class"],
            power_class_names=names.power_class.names,
            depends=depends,
        )
    )


# -- nights ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _NightTemplate:
    """One night's jobs relative to its start: per-step columns and dependencies by step index."""

    offset_s: NDArray[np.float64]
    work_s: NDArray[np.float64]
    limit_s: NDArray[np.float64]
    size: NDArray[np.int64]
    gpus: NDArray[np.int64]
    partition: NDArray[np.int32]
    constraint: NDArray[np.int32]
    power_class: NDArray[np.int32]
    dep_step: NDArray[np.int64]
    dep_on_step: NDArray[np.int64]

    @property
    def last_offset_s(self) -> float:
        return float(self.offset_s.max())


class _NightTemplates:
    """The night's workflow per exposure count, built once per count and cached."""

    def __init__(self, machine: Machine, config: DesiJobsConfig) -> None:
        self.machine = machine
        self.config = config
        self.params: DesiParams = load_desi_params()
        self.science = _science_node_type(machine, config)
        self.qos = load_qos(config.qos_table).get(QOS_NAMES[REALTIME])
        self.names = _categories()
        self.cache: dict[int, _NightTemplate] = {}
        longest = self.get(config.exposures_max).last_offset_s
        if longest >= SECONDS_PER_DAY:
            raise ValueError(
                f"DESI jobs: a night of exposures_max = {config.exposures_max} exposures submits its last "
                f"job {longest:.0f} s after its start, past the next night's start (86400 s)"
            )

    def get(self, exposures: int) -> _NightTemplate:
        if exposures not in self.cache:
            steps = desi_night_workflow(
                self.machine,
                exposures=exposures,
                realtime_nodes=self.config.realtime_nodes,
                node_type=self.science.name,
                params=self.params,
            )
            self.cache[exposures] = self._template(steps)
        return self.cache[exposures]

    def _template(self, steps: list[WorkflowStep]) -> _NightTemplate:
        places = [_placement(self.machine, step.partition, self.science) for step in steps]
        size = np.array([step.nodes for step in steps], np.int64)
        work_s = np.ceil(np.array([step.run_s for step in steps], np.float64))
        _check_sizes(size, self.qos)
        names = self.names
        return _NightTemplate(
            offset_s=np.array([step.submit_offset_s for step in steps], np.float64),
            work_s=work_s,
            limit_s=time_limit_s(work_s, self.config.limit_factor, self.qos),
            size=size,
            gpus=size * np.array([place.gpus_per_node for place in places], np.int64),
            partition=np.array([names.partition.code(p.partition) for p in places], np.int32),
            constraint=np.array([names.constraint.code(p.constraint) for p in places], np.int32),
            power_class=np.array([names.power_class.code(step.power_class) for step in steps], np.int32),
            dep_step=np.array([i for i, step in enumerate(steps) for _ in step.after], np.int64),
            dep_on_step=np.array([j for step in steps for j in step.after], np.int64),
        )


@dataclass(frozen=True)
class DesiNightPlan:
    """The nights drawn for a horizon: one row per day 0 .. ceil(days) - 1."""

    exposures: NDArray[np.int64]
    """Exposures of the day's night; 0 where the night does not observe."""
    kept: NDArray[np.bool_]
    """Observing nights whose whole workflow is submitted before the horizon (rule 2)."""
    start_s: NDArray[np.float64]
    """Each day's night start, d x 86400 + night_start_hour x 3600."""

    @property
    def observing_nights(self) -> int:
        return int(np.count_nonzero(self.exposures))

    @property
    def cut_nights(self) -> int:
        """Observing nights dropped because their workflow runs past the horizon (0 or 1)."""
        return self.observing_nights - int(np.count_nonzero(self.kept))


def _exposure_cdf(config: DesiJobsConfig) -> NDArray[np.float64]:
    """CDF of Binomial(exposures_max, exposures_mean / exposures_max) at 0 .. exposures_max."""
    n = config.exposures_max
    p = config.exposures_mean / n
    pmf = [math.comb(n, k) * p**k * (1.0 - p) ** (n - k) for k in range(n + 1)]
    return np.cumsum(np.array(pmf, np.float64))


def _draw_nights(days: float, rng: np.random.Generator, config: DesiJobsConfig) -> NDArray[np.int64]:
    """Exposures per day (0: no observation), rule 1."""
    n_days = math.ceil(days)
    u = rng.random((n_days, 2))
    cdf = _exposure_cdf(config)
    drawn = np.minimum(np.searchsorted(cdf, u[:, 1], side="right"), config.exposures_max)
    exposures = np.maximum(drawn, 1).astype(np.int64)
    return np.where(u[:, 0] < config.observing_probability, exposures, 0)


def _check_days(days: float) -> None:
    if isinstance(days, bool) or not isinstance(days, Real) or not math.isfinite(days) or days < 0:
        raise ValueError(f"DESI jobs: days must be a finite number >= 0, got {days!r}")


def _plan(days: float, rng: np.random.Generator, templates: _NightTemplates) -> DesiNightPlan:
    _check_days(days)
    exposures = _draw_nights(days, rng, templates.config)
    start_hour_s = templates.config.night_start_hour * SECONDS_PER_HOUR
    start_s: NDArray[np.float64] = (
        np.arange(len(exposures), dtype=np.float64) * SECONDS_PER_DAY + start_hour_s
    )
    horizon_s = days * SECONDS_PER_DAY
    kept = np.zeros(len(exposures), np.bool_)
    for day in np.flatnonzero(exposures):
        last_s = math.floor(start_s[day] + templates.get(int(exposures[day])).last_offset_s)
        kept[day] = last_s < horizon_s
    return DesiNightPlan(exposures=exposures, kept=kept, start_s=start_s)


def desi_night_jobs(
    machine: Machine, *, days: float, rng: np.random.Generator, config: DesiJobsConfig | None = None
) -> JobTable:
    """Every kept observing night in [0, ``days``) as realtime jobs (rules 1-4, 8-9)."""
    config = load_desi_jobs_config() if config is None else config
    return _night_jobs(machine, days, rng, config)[0]


def _night_jobs(
    machine: Machine, days: float, rng: np.random.Generator, config: DesiJobsConfig
) -> tuple[JobTable, DesiNightPlan]:
    """The nights' jobs and the plan they were built from."""
    templates = _NightTemplates(machine, config)
    plan = _plan(days, rng, templates)
    nights = [(plan.start_s[d], templates.get(int(plan.exposures[d]))) for d in np.flatnonzero(plan.kept)]
    return _night_table(nights, templates.names, config), plan


def _night_table(
    nights: list[tuple[float, _NightTemplate]], names: _Categories, config: DesiJobsConfig
) -> JobTable:
    """The nights' jobs, ids 1..n in (night, step) order before renumbering."""
    counts = np.array([len(t.offset_s) for _, t in nights], np.int64)
    first_id = np.cumsum(counts) - counts + 1
    cols: dict[str, NDArray[Any]] = {
        name: _concat([getattr(t, name) for _, t in nights], dtype) for name, dtype in _NIGHT_COLUMNS.items()
    }
    cols["submit_s"] = np.floor(_concat([start + t.offset_s for start, t in nights], np.float64))
    cols["qos"] = np.full(len(cols["submit_s"]), REALTIME, np.int32)
    dep_job = _concat([t.dep_step + first for (_, t), first in zip(nights, first_id, strict=True)], np.int64)
    dep_on = _concat(
        [t.dep_on_step + first for (_, t), first in zip(nights, first_id, strict=True)], np.int64
    )
    depends = Dependencies(dep_job, dep_on, np.full(len(dep_job), AFTEROK, np.int8))
    return _table(cols, depends, names, config)


def _concat(parts: list[NDArray[Any]], dtype: DTypeLike) -> NDArray[Any]:
    return np.concatenate(parts).astype(dtype, copy=False) if parts else np.zeros(0, dtype)


_NIGHT_COLUMNS: dict[str, type] = {
    "work_s": np.float64,
    "limit_s": np.float64,
    "size": np.int64,
    "gpus": np.int64,
    "partition": np.int32,
    "constraint": np.int32,
    "power_class": np.int32,
}
"""The per-step columns a night template carries into the table, and their dtypes."""


# -- reprocessing ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DesiCampaign:
    """One year's reprocessing campaign as jobs (rule 6), with the model figures it is sized from."""

    node_type: str
    partition: str
    constraint: str
    power_class: str
    gpus_per_node: int
    exposures: int
    """E, the exposures of the reprocessed year."""
    model_node_hours: float
    """The model's node-hours for the year (``predict_desi`` mode "year" figure ``node_hours``)."""
    model_run_s: float
    """The model's wall time on ``reprocessing_nodes`` nodes, one chain's total run time."""
    chains: int
    waves: int
    job_nodes: int
    exposures_per_job: NDArray[np.int64]
    run_s: NDArray[np.float64]
    """Each job's exact run time (its ``work_s`` is the ceiling), wave-major order."""

    @property
    def jobs(self) -> int:
        return len(self.run_s)


def desi_reprocessing_campaign(machine: Machine, config: DesiJobsConfig | None = None) -> DesiCampaign:
    """The campaign's jobs from the model's year on ``reprocessing_nodes`` nodes (rule 6)."""
    config = load_desi_jobs_config() if config is None else config
    science = _science_node_type(machine, config)
    options = {
        "mode": "year",
        "nights": config.reprocessing_nights,
        "exposures": config.reprocessing_exposures_per_night,
    }
    prediction = predict_desi(machine, science.name, config.reprocessing_nodes, options)
    exposures = int(prediction.inputs["exposures"])
    node_s_per_exposure = prediction.figures["node_hours"] * SECONDS_PER_HOUR / exposures
    chains = config.reprocessing_nodes // config.reprocessing_job_nodes
    waves = math.ceil(prediction.run_s / (config.reprocessing_job_target_h * SECONDS_PER_HOUR))
    jobs = chains * waves
    per_job = np.full(jobs, exposures // jobs, np.int64) + (np.arange(jobs) < exposures % jobs)
    partition = machine.partition_of(science.name)
    if partition is None:
        raise ValueError(f"DESI jobs: node type {science.name!r} of {machine.name} is in no batch partition")
    place = _placement(machine, partition, science)
    return DesiCampaign(
        node_type=science.name,
        partition=partition,
        constraint=place.constraint,
        power_class=prediction.power_class,
        gpus_per_node=place.gpus_per_node,
        exposures=exposures,
        model_node_hours=prediction.figures["node_hours"],
        model_run_s=prediction.run_s,
        chains=chains,
        waves=waves,
        job_nodes=config.reprocessing_job_nodes,
        exposures_per_job=per_job,
        run_s=per_job * node_s_per_exposure / config.reprocessing_job_nodes,
    )


def _campaign_starts_s(days: float, config: DesiJobsConfig) -> list[float]:
    """Submit times of the campaigns before the horizon (rule 5)."""
    horizon_s = days * SECONDS_PER_DAY
    starts: list[float] = []
    for year in range(math.ceil(days / config.days_per_year) + 1):
        day = year * config.days_per_year + config.reprocessing_start_day
        start_s = math.floor(day * SECONDS_PER_DAY + config.reprocessing_start_hour * SECONDS_PER_HOUR)
        if start_s < horizon_s:
            starts.append(float(start_s))
    return starts


def desi_reprocessing_jobs(
    machine: Machine, *, days: float, config: DesiJobsConfig | None = None
) -> JobTable:
    """Each year's reprocessing campaign submitted before the horizon, as regular jobs (rules 5-9)."""
    _check_days(days)
    config = load_desi_jobs_config() if config is None else config
    campaign = desi_reprocessing_campaign(machine, config)
    qos = load_qos(config.qos_table).get(QOS_NAMES[REGULAR])
    work_s = np.ceil(campaign.run_s)
    limit_s = time_limit_s(work_s, config.limit_factor, qos)
    size = np.full(campaign.jobs, campaign.job_nodes, np.int64)
    _check_sizes(size, qos)
    if 0 < qos.max_submitted_jobs_per_user < campaign.jobs:
        raise ValueError(
            f"DESI jobs: the campaign's {campaign.jobs} jobs exceed QOS {qos.name!r}'s "
            f"max_submitted_jobs_per_user ({qos.max_submitted_jobs_per_user}); "
            "raise reprocessing_job_target_h"
        )
    starts = _campaign_starts_s(days, config)
    names = _categories()
    n = campaign.jobs * len(starts)
    cols: dict[str, NDArray[Any]] = {
        "submit_s": np.repeat(np.array(starts, np.float64), campaign.jobs),
        "work_s": np.tile(work_s, len(starts)),
        "limit_s": np.tile(limit_s, len(starts)),
        "size": np.tile(size, len(starts)),
        "gpus": np.full(n, campaign.job_nodes * campaign.gpus_per_node, np.int64),
        "partition": np.full(n, names.partition.code(campaign.partition), np.int32),
        "constraint": np.full(n, names.constraint.code(campaign.constraint), np.int32),
        "power_class": np.full(n, names.power_class.code(campaign.power_class), np.int32),
        "qos": np.full(n, REGULAR, np.int32),
    }
    return _table(cols, _chain_dependencies(campaign, len(starts)), names, config)


def _chain_dependencies(campaign: DesiCampaign, campaigns: int) -> Dependencies:
    """Job j of a campaign waits (afterany) for job j - chains; ids 1..n in campaign, then job order."""
    later = np.arange(campaign.chains, campaign.jobs, dtype=np.int64)
    offsets = np.repeat(np.arange(campaigns, dtype=np.int64) * campaign.jobs, len(later))
    job = np.tile(later, campaigns) + offsets + 1
    return Dependencies(job, job - campaign.chains, np.full(len(job), AFTERANY, np.int8))


# -- both ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DesiJobs:
    """DESI's jobs, and the nights drawn for them (None when the nights are switched off)."""

    jobs: JobTable
    plan: DesiNightPlan | None


def draw_desi_jobs(
    machine: Machine,
    *,
    days: float,
    rng: np.random.Generator,
    config: DesiJobsConfig | None = None,
    nights: bool = True,
    reprocessing: bool = True,
) -> DesiJobs:
    """The nights' realtime jobs and the reprocessing campaigns (each unless switched off) together, ids
    1..n in canonical order, with the nights' plan (observing nights, nights cut at the horizon)."""
    config = load_desi_jobs_config() if config is None else config
    tables, plan = [], None
    if nights:
        night_table, plan = _night_jobs(machine, days, rng, config)
        tables.append(night_table)
    if reprocessing:
        tables.append(desi_reprocessing_jobs(machine, days=days, config=config))
    if not tables:
        raise ValueError("desi_jobs: switch on the nights, the reprocessing or both")
    return DesiJobs(concat_jobs(tables), plan)
