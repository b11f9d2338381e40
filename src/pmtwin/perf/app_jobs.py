"""Jobs driven by application models (docs/performance.md section 6): a TOML workload whose jobs name
an application model and its parameters instead of a run time. Each job's run time and power class
come from the model, for the machine it runs on and its allocation.

```toml
[[jobs]]
app = "hpl"            # hpl | train | desi
nodes = 1536
submit_s = 0           # optional, default 0
count = 1              # optional: this many jobs ...
interval_s = 0         # ... submitted this far apart
node_type = "gpu-40gb" # optional: the model's default node type
requested_s = 3600     # optional: the time limit; default: the prediction x requested_margin, whole minutes
params = { n = 4000000 }
```
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, Field, model_validator

from pmtwin.machine.devices import CONFIG
from pmtwin.machine.errors import parse_toml, read_config_text, validate_config
from pmtwin.machine.system import Machine
from pmtwin.perf.apps import predict
from pmtwin.perf.node import PerfModelError
from pmtwin.perf.prediction import Prediction
from pmtwin.workload.jobs import UNKNOWN, JobTable

DEFAULT_REQUESTED_MARGIN = 1.25
"""[A] A job's default time limit: its predicted run time plus 25%, the margin users add so that a
job slower than expected is not killed (a convention; the model's spread is not known)."""
MINUTE_S = 60.0


class AppJob(BaseModel):
    """One entry of ``[[jobs]]``: ``count`` identical jobs ``interval_s`` apart."""

    model_config = CONFIG

    app: str
    nodes: int = Field(gt=0)
    submit_s: float = Field(default=0.0, ge=0, strict=False)
    count: int = Field(default=1, gt=0)
    interval_s: float = Field(default=0.0, ge=0, strict=False)
    node_type: str | None = None
    requested_s: float | None = Field(default=None, gt=0, strict=False)
    user: int = Field(default=UNKNOWN, ge=UNKNOWN)
    params: dict[str, str | bool | int | float] = Field(default_factory=dict)


class AppJobsFile(BaseModel):
    """A whole file: its jobs and the margin of default time limits."""

    model_config = CONFIG

    jobs: tuple[AppJob, ...] = Field(strict=False)
    requested_margin: float = Field(default=DEFAULT_REQUESTED_MARGIN, ge=1, strict=False)

    @model_validator(mode="after")
    def _some_jobs(self) -> AppJobsFile:
        if not self.jobs:
            raise ValueError("no [[jobs]] entries")
        return self


@dataclass(frozen=True)
class AppJobs:
    """The job table and, per entry of the file, the prediction its jobs carry and their number."""

    jobs: JobTable
    predictions: tuple[Prediction, ...]
    entry_counts: tuple[int, ...]

    def facts(self) -> dict[str, Any]:
        """What a run's config records: jobs per application model."""
        counts: dict[str, int] = {}
        for prediction, count in zip(self.predictions, self.entry_counts, strict=True):
            counts[prediction.app] = counts.get(prediction.app, 0) + count
        return {"records": len(self.jobs), "jobs_per_app": counts}


def read_app_jobs(path: Path, machine: Machine) -> AppJobs:
    """The jobs of the file at ``path``, with run times and power classes predicted on ``machine``.
    Errors name the file and the entry (``jobs[2].params``)."""
    label = str(path)
    spec = validate_config(AppJobsFile, parse_toml(read_config_text(path), label), label)
    predictions = tuple(_predict_entry(label, index, entry, machine) for index, entry in enumerate(spec.jobs))
    counts = tuple(entry.count for entry in spec.jobs)
    return AppJobs(_job_table(spec, predictions, machine), predictions, counts)


def _predict_entry(label: str, index: int, entry: AppJob, machine: Machine) -> Prediction:
    try:
        prediction = predict(entry.app, machine, entry.node_type, entry.nodes, entry.params)
        _partition(prediction, machine)
        if len(prediction.inputs.get("node_types", {})) > 1:
            raise PerfModelError("a job runs on one node type: give node_type, or fewer nodes")
        if prediction.app == "desi" and prediction.inputs.get("mode") == "night":
            raise PerfModelError("a DESI night is a workflow of many jobs: use mode exposure or year")
        return prediction
    except PerfModelError as exc:
        raise PerfModelError(f"{label}: jobs[{index}]: {exc}") from None


def _job_table(spec: AppJobsFile, predictions: tuple[Prediction, ...], machine: Machine) -> JobTable:
    """One row per job: each entry's columns repeated ``count`` times, submit times spaced."""
    entries = spec.jobs
    partition, partition_names = _categories([_partition(p, machine) for p in predictions])
    constraint, constraint_names = _categories([_constraint(p, machine) for p in predictions], "")
    power_class, power_class_names = _categories([p.power_class for p in predictions], "")
    per_entry = {
        "submit_s": np.array([e.submit_s for e in entries]),
        "interval_s": np.array([e.interval_s for e in entries]),
        "work_s": np.array([p.run_s for p in predictions]),
        "requested_s": np.array(
            [_requested_s(e, p, spec.requested_margin) for e, p in zip(entries, predictions, strict=True)]
        ),
        "size": np.array([p.nodes for p in predictions], np.int64),
        "user": np.array([e.user for e in entries], np.int64),
        "partition": partition,
        "constraint": constraint,
        "power_class": power_class,
    }
    counts = np.array([entry.count for entry in entries], np.int64)
    entry_of_job = np.repeat(np.arange(len(entries)), counts)
    nth = np.arange(len(entry_of_job)) - np.repeat(np.cumsum(counts) - counts, counts)
    cols = {name: values[entry_of_job] for name, values in per_entry.items()}
    return JobTable(
        job_id=np.arange(1, len(entry_of_job) + 1, dtype=np.int64),
        submit_s=cols["submit_s"] + nth * cols["interval_s"],
        work_s=cols["work_s"],
        requested_s=cols["requested_s"],
        size=cols["size"],
        user=cols["user"],
        partition=cols["partition"],
        partition_names=partition_names,
        constraint=cols["constraint"],
        constraint_names=constraint_names,
        power_class=cols["power_class"],
        power_class_names=power_class_names,
    )


def _requested_s(entry: AppJob, prediction: Prediction, margin: float) -> float:
    if entry.requested_s is not None:
        return entry.requested_s
    return math.ceil(prediction.run_s * margin / MINUTE_S) * MINUTE_S


def _partition(prediction: Prediction, machine: Machine) -> str:
    partition = machine.partition_of(prediction.node_type)
    if partition is None:
        raise PerfModelError(f"node type {prediction.node_type!r} of {machine.name} is in no batch partition")
    return partition


def _constraint(prediction: Prediction, machine: Machine) -> str:
    """The node type's features, so that the job runs on the node type it was predicted for."""
    return "&".join(machine.node_type(prediction.node_type).features)


def _categories(values: list[str], *always: str) -> tuple[NDArray[np.int32], tuple[str, ...]]:
    """Codes of ``values`` into their sorted distinct names (with ``always`` among them)."""
    names = tuple(sorted({*always, *values}))
    return np.array([names.index(value) for value in values], np.int32), names
