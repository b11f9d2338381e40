"""The workload model: what ``pmtwin workload generate`` draws from and ``pmtwin workload fit`` writes.

A model is a TOML file (docs/workloads.md specifies it):

- ``[model]``: name and description;
- ``[arrivals]``: a daily profile (24 relative rates, local hours), a weekly profile (7, Monday first),
  and optionally the distribution of gaps between submissions in operational time (mean rescaled to 1;
  absent: exponential, a Poisson process);
- ``[users]``: how many users and accounts, and their Zipf exponents;
- ``[partitions.NAME]``: the partition's rate (``offered_load`` of its nodes, or ``jobs_per_day``), its
  node count when no machine gives it, and ``[partitions.NAME.classes.CLASS]``: job classes, each a
  product of distributions (size, time limit and accuracy = run time / limit, the accuracy optionally
  coupled to the limit; or run time alone), with a QOS, a constraint, power-class weights and a share
  of the partition's jobs;
- ``[desi]``: whether the DESI nightly pipeline and its yearly reprocessing are added.

A distribution is ``{values = [...], weights = [...]}`` (a discrete law) or ``{values = [...], probs =
[...]}`` (a quantile function through the points (probs, values), linear in between, or linear in
log(value) with ``log = true``).
"""

from __future__ import annotations

import math
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any, Self

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from pmtwin.workload.errors import WorkloadFormatError

HOURS_PER_DAY = 24
DAYS_PER_WEEK = 7
MEAN_GRID = 4096
"""Uniforms at which a law is evaluated where a mean has no closed form (midpoints of equal steps)."""
MODEL_NAMES = ("perlmutter",)
"""Models shipped with pmtwin (``src/pmtwin/workload/models/NAME.toml``)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Dist(_Strict):
    """A discrete law (``weights``) or a quantile function (``probs``) over ``values``."""

    values: list[float] = Field(min_length=1)
    weights: list[float] | None = None
    probs: list[float] | None = None
    log: bool = False

    @model_validator(mode="after")
    def _valid(self) -> Self:
        values = self.values
        if not all(math.isfinite(v) for v in values):
            raise ValueError("values must be finite numbers")
        if (self.weights is None) == (self.probs is None):
            raise ValueError("give exactly one of weights (a discrete law) or probs (a quantile function)")
        if self.weights is not None:
            w = self.weights
            if len(w) != len(values):
                raise ValueError(f"weights has {len(w)} entries, values {len(values)}")
            if not all(math.isfinite(x) and x >= 0.0 for x in w) or sum(w) <= 0.0:
                raise ValueError("weights must be non-negative with a positive sum")
            if self.log:
                raise ValueError("log applies to quantile functions (probs), not to weights")
            return self
        p = self.probs or []
        if len(p) != len(values) or len(p) < 2:
            raise ValueError(f"probs needs one entry per value, at least 2; got {len(p)} for {len(values)}")
        if p[0] != 0.0 or p[-1] != 1.0 or any(b < a for a, b in zip(p, p[1:], strict=False)):
            raise ValueError("probs must run from 0 to 1, non-decreasing")
        if any(b < a for a, b in zip(values, values[1:], strict=False)):
            raise ValueError("values of a quantile function must be non-decreasing")
        if self.log and values[0] <= 0.0:
            raise ValueError("log = true needs values > 0")
        return self

    def sample(self, u: NDArray[np.float64]) -> NDArray[np.float64]:
        """The law's value at each uniform ``u`` in [0, 1) (inverse transform)."""
        values = np.asarray(self.values, np.float64)
        if self.weights is not None:
            cdf = np.cumsum(self.weights) / math.fsum(self.weights)
            index = np.minimum(np.searchsorted(cdf, u, side="right"), len(values) - 1)
            out: NDArray[np.float64] = values[index]
            return out
        probs = np.asarray(self.probs, np.float64)
        if self.log:
            return np.exp(np.interp(u, probs, np.log(values)))
        return np.interp(u, probs, values)

    def mean(self) -> float:
        """The law's mean (exact for both forms: trapezoids, or log-linear segments)."""
        values = np.asarray(self.values, np.float64)
        if self.weights is not None:
            return float(np.dot(self.weights, values) / math.fsum(self.weights))
        dp = np.diff(np.asarray(self.probs, np.float64))
        a, b = values[:-1], values[1:]
        if not self.log:
            return float(np.sum(dp * (a + b) / 2.0))
        ratio = np.log(b) - np.log(a)
        flat = np.abs(ratio) < 1e-12
        seg = np.where(flat, a, (b - a) / np.where(flat, 1.0, ratio))
        return float(np.sum(dp * seg))

    def maximum(self) -> float:
        """The largest value the law can take."""
        if self.weights is not None:
            return max(v for v, w in zip(self.values, self.weights, strict=True) if w > 0.0)
        return self.values[-1]

    def minimum(self) -> float:
        """The smallest value the law can take."""
        if self.weights is not None:
            return min(v for v, w in zip(self.values, self.weights, strict=True) if w > 0.0)
        return self.values[0]


class JobClass(_Strict):
    """Jobs of one kind in a partition: every attribute drawn independently of the others, except the
    accuracy, which ``limit_accuracy_coupling`` may tie to the limit.

    Either ``limit_s`` with ``accuracy`` (run time = ceil(limit x accuracy), within [1 s, limit]) or
    ``runtime_s`` alone (the time limit is then the run time)."""

    share: float = Field(gt=0.0)
    qos: str = ""
    constraint: str = ""
    size: Dist
    max_size: int | None = Field(default=None, ge=1)
    limit_s: Dist | None = None
    accuracy: Dist | None = None
    runtime_s: Dist | None = None
    power_classes: dict[str, float] = Field(default_factory=dict)
    limit_accuracy_coupling: float = Field(default=0.0, ge=-1.0, le=1.0)
    """Rank dependence of accuracy on the limit: with probability |c| a job's accuracy takes the same
    uniform as its limit (1 - it when c < 0), else its own; for continuous laws Spearman's rho of the
    pair is then c."""
    submit_limit: int = Field(default=0, ge=0)
    """Per-user submit limit kept by construction (0: none); jobs beyond it go to ``overflow_qos``."""
    submit_window_s: float = Field(default=0.0, ge=0.0)
    overflow_qos: str = "regular"
    cores: Dist | None = None
    """Shared jobs on CPU nodes: cores asked of the one node (memory in proportion)."""
    gpus: Dist | None = None
    """Shared jobs on GPU nodes: GPUs asked of the one node (cores and memory in proportion)."""

    @model_validator(mode="after")
    def _valid(self) -> Self:
        if (self.cores is not None or self.gpus is not None) and self.max_size != 1:
            raise ValueError("a shared class (cores or gpus) needs max_size = 1")
        timed = self.limit_s is not None and self.accuracy is not None
        if timed == (self.runtime_s is not None) or (self.limit_s is None) != (self.accuracy is None):
            raise ValueError("give limit_s with accuracy, or runtime_s alone")
        if self.accuracy is not None and not 0.0 <= self.accuracy.minimum() <= self.accuracy.maximum() <= 1.0:
            raise ValueError("accuracy values must lie in [0, 1]")
        laws = (("size", self.size), ("limit_s", self.limit_s), ("runtime_s", self.runtime_s),
                ("cores", self.cores), ("gpus", self.gpus))  # fmt: skip
        for name, dist in laws:
            if dist is not None and dist.minimum() <= 0.0:
                raise ValueError(f"{name} values must be > 0")
        if self.limit_accuracy_coupling != 0.0:
            if self.limit_s is None:
                raise ValueError("limit_accuracy_coupling needs limit_s and accuracy (not runtime_s)")
            for name, law in (("limit_s", self.limit_s), ("accuracy", self.accuracy)):
                if law is not None and law.weights is not None and law.values != sorted(law.values):
                    raise ValueError(f"limit_accuracy_coupling needs {name} values in increasing order")
        if self.submit_limit > 0 and self.submit_window_s <= 0.0:
            raise ValueError("submit_limit needs submit_window_s > 0 (the time a job stays counted)")
        weights = self.power_classes.values()
        if any(not (math.isfinite(w) and w >= 0.0) for w in weights) or (weights and sum(weights) <= 0.0):
            raise ValueError("power_classes weights must be non-negative with a positive sum")
        return self

    def mean_work_s(self) -> float:
        """Expected run time (to within the rounding of each run time up to whole seconds; the coupled
        part of ``limit_accuracy_coupling`` on a 4,096-point grid)."""
        if self.runtime_s is not None:
            return self.runtime_s.mean()
        assert self.limit_s is not None and self.accuracy is not None
        independent = self.limit_s.mean() * self.accuracy.mean()
        c = self.limit_accuracy_coupling
        if c == 0.0:
            return independent
        grid = (np.arange(MEAN_GRID) + 0.5) / MEAN_GRID
        paired = self.accuracy.sample(grid if c > 0 else 1.0 - grid)
        coupled = float(np.mean(self.limit_s.sample(grid) * paired))
        return (1.0 - abs(c)) * independent + abs(c) * coupled


class PartitionModel(_Strict):
    """One partition's stream of jobs: its rate and its classes."""

    offered_load: float | None = Field(default=None, gt=0.0)
    jobs_per_day: float | None = Field(default=None, gt=0.0)
    nodes: int | None = Field(default=None, ge=1)
    classes: dict[str, JobClass] = Field(min_length=1)

    @model_validator(mode="after")
    def _valid(self) -> Self:
        if (self.offered_load is None) == (self.jobs_per_day is None):
            raise ValueError("give exactly one of offered_load or jobs_per_day")
        return self


class Arrivals(_Strict):
    """When jobs are submitted: t = 0 is Monday 00:00 local time."""

    daily_profile: list[float] = Field(default_factory=lambda: [1.0] * HOURS_PER_DAY)
    weekly_profile: list[float] = Field(default_factory=lambda: [1.0] * DAYS_PER_WEEK)
    gaps: Dist | None = None

    @model_validator(mode="after")
    def _valid(self) -> Self:
        for name, profile, size in (("daily_profile", self.daily_profile, HOURS_PER_DAY),
                                    ("weekly_profile", self.weekly_profile, DAYS_PER_WEEK)):  # fmt: skip
            if len(profile) != size:
                raise ValueError(f"{name} needs {size} values, got {len(profile)}")
            if not all(math.isfinite(v) and v >= 0.0 for v in profile) or sum(profile) <= 0.0:
                raise ValueError(f"{name} must be non-negative with a positive sum")
        if self.gaps is not None and (self.gaps.minimum() < 0.0 or self.gaps.mean() <= 0.0):
            raise ValueError("gaps must be >= 0 with a positive mean")
        return self

    def hour_of_week_rate(self) -> NDArray[np.float64]:
        """Relative rate of each of the 168 hours of the week (Monday 00-01 first), mean 1."""
        daily = np.asarray(self.daily_profile, np.float64)
        weekly = np.asarray(self.weekly_profile, np.float64)
        rate = (weekly[:, None] * daily[None, :]).reshape(-1)
        out: NDArray[np.float64] = rate / rate.mean()
        return out


class Users(_Strict):
    """Users draw their jobs from a Zipf law; each user belongs to one account (Zipf over accounts)."""

    count: int = Field(default=1000, ge=1)
    zipf_exponent: float = Field(default=1.0, ge=0.0)
    accounts: int = Field(default=100, ge=1)
    account_zipf_exponent: float = Field(default=1.0, ge=0.0)


class Desi(_Strict):
    """The DESI pipeline's jobs (workload/desi_jobs.py): nightly realtime workflows and reprocessing."""

    nights: bool = False
    reprocessing: bool = False


class ModelInfo(_Strict):
    name: str
    description: str = ""


class WorkloadModel(_Strict):
    """A whole workload model (see the module docstring)."""

    model: ModelInfo
    arrivals: Arrivals = Field(default_factory=Arrivals)
    users: Users = Field(default_factory=Users)
    partitions: dict[str, PartitionModel] = Field(min_length=1)
    desi: Desi = Field(default_factory=Desi)
    transforms: list[dict[str, Any]] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_submit_limit_per_qos(self) -> Self:
        seen: dict[str, tuple[int, float, str]] = {}
        for part in self.partitions.values():
            for job_class in part.classes.values():
                if job_class.submit_limit == 0:
                    continue
                rule = (job_class.submit_limit, job_class.submit_window_s, job_class.overflow_qos)
                if seen.setdefault(job_class.qos, rule) != rule:
                    raise ValueError(
                        f"QOS {job_class.qos!r}: classes disagree on submit_limit, window or overflow"
                    )
        for qos, (_, _, overflow) in seen.items():
            if overflow in seen:
                raise ValueError(
                    f"QOS {qos!r} overflows to {overflow!r}, which has a submit limit itself "
                    "(overflow must go to a QOS without one)"
                )
        return self


def load_workload_model(name_or_path: str | Path) -> WorkloadModel:
    """A shipped model by name (``perlmutter``) or a TOML file; errors name the file and the field."""
    text, source = _model_text(name_or_path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise WorkloadFormatError(source, f"not valid TOML: {exc}") from None
    return parse_model(data, source)


SCALE_LOAD_EXCLUDED_QOS = ("realtime",)
"""A load factor copies jobs, but DESI's realtime nights happen once (docs/workloads.md section 5)."""


def with_load_factor(name_or_path: str, load_factor: float) -> str | WorkloadModel:
    """The model as ``simulate(workload=...)`` takes it: its name when ``load_factor`` is 1, else the model
    with a ``scale_load`` transform appended (resampled, realtime jobs kept once)."""
    if load_factor == 1.0:
        return name_or_path
    model = load_workload_model(name_or_path)
    scale = {"kind": "scale_load", "factor": load_factor, "exclude_qos": list(SCALE_LOAD_EXCLUDED_QOS)}
    return model.model_copy(update={"transforms": [*model.transforms, scale]})


def parse_model(data: dict[str, Any], source: str) -> WorkloadModel:
    """Validate a model's tables; the first problem is reported as ``source: field.path: message``."""
    try:
        model = WorkloadModel.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"]) or "model"
        message = str(error["msg"]).removeprefix("Value error, ")
        raise WorkloadFormatError(source, f"{where}: {message}") from None
    if model.transforms:  # checked now, not after the jobs are drawn
        from pmtwin.workload.transform_config import parse_transforms

        parse_transforms({"transforms": model.transforms}, source)
    return model


def _model_text(name_or_path: str | Path) -> tuple[str, str]:
    if isinstance(name_or_path, str) and name_or_path in MODEL_NAMES:
        ref = resources.files("pmtwin.workload").joinpath("models", f"{name_or_path}.toml")
        return ref.read_text(encoding="utf-8"), f"model {name_or_path!r}"
    path = Path(name_or_path)
    if not path.is_file():
        known = ", ".join(MODEL_NAMES)
        raise WorkloadFormatError(path, f"no such workload model (shipped models: {known}; or a TOML path)")
    try:
        return path.read_text(encoding="utf-8"), str(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise WorkloadFormatError(path, f"cannot read: {exc}") from None
