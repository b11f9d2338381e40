"""QOS tables: validated config data, loaded from ``sched/qos/NAME.toml`` (docs/slurm-scheduling.md s. 1).

A QOS (Slurm "quality of service") carries a job's starting priority, its limits, its charge factor and
its preemption rules. Every limit uses 0 for "none". A table lists the QOS of one site and names the
default, the QOS of a job whose trace gives none (a job's QOS name "" means the default).

>>> table = load_qos("perlmutter")
>>> table.get("debug").max_nodes_per_job
8
>>> table.get("").name
'regular'
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, Field, model_validator

from pmtwin.machine.devices import CONFIG
from pmtwin.machine.errors import MachineConfigError, parse_toml, read_config_text, validate_config
from pmtwin.workload.jobs import JobTable

QOS_DIR = "qos"
"""Packaged QOS tables, ``qos/NAME.toml`` next to this module."""


class QosConfigError(ValueError):
    """A QOS file that cannot be read or does not validate, or a QOS name a table does not have.

    The message starts with the file, then the field path, e.g.
    ``perlmutter.toml: qos[2].can_preempt[0]: unknown QOS 'nope'; valid: regular, debug, ...``.
    """


class Qos(BaseModel):
    """One QOS. Limits of 0 mean none; times are seconds; node counts are whole nodes."""

    model_config = CONFIG

    name: str = Field(min_length=1)
    priority: int = Field(default=0, ge=0)
    """Starting priority (NERSC: in minutes of accrued age, which adds +1 per minute)."""
    max_walltime_s: float = Field(default=0.0, ge=0)
    max_nodes_per_job: int = Field(default=0, ge=0)
    max_running_jobs_per_user: int = Field(default=0, ge=0)
    max_running_nodes_per_user: int = Field(default=0, ge=0)
    max_running_jobs_per_account: int = Field(default=0, ge=0)
    max_submitted_jobs_per_user: int = Field(default=0, ge=0)
    charge_factor: float = Field(default=1.0, ge=0)
    shared: bool = False
    """Jobs take part of one node (docs/slurm-scheduling.md section 6)."""
    max_node_fraction: float = Field(default=1.0, gt=0, le=1)
    """For a shared QOS the largest share of a node one job may take; 1 otherwise."""
    preemptible: bool = False
    can_preempt: tuple[str, ...] = Field(default=(), strict=False)
    """Names of the QOS whose running jobs this QOS's jobs may preempt."""
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _fraction_only_when_shared(self) -> Qos:
        if not self.shared and self.max_node_fraction != 1.0:
            raise ValueError(
                f"max_node_fraction {self.max_node_fraction} needs shared = true "
                "(exclusive jobs take whole nodes)"
            )
        return self


class QosTable(BaseModel):
    """A site's QOS, in file order; names unique, the default and every ``can_preempt`` name resolve."""

    model_config = CONFIG

    name: str = Field(min_length=1)
    description: str = ""
    default: str = Field(min_length=1)
    qos: tuple[Qos, ...] = Field(strict=False)
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _references_resolve(self) -> QosTable:
        # Checked here, not by min_length, which would also fire when every entry is invalid.
        if not self.qos:
            raise ValueError("qos: a QOS table needs at least one [[qos]] entry")
        names = self.names
        valid = ", ".join(names)
        for i, qos in enumerate(self.qos):
            if qos.name in names[:i]:
                raise ValueError(f"qos[{i}].name: duplicate QOS {qos.name!r}")
        if self.default not in names:
            raise ValueError(f"default: unknown QOS {self.default!r}; valid: {valid}")
        for i, qos in enumerate(self.qos):
            for k, target in enumerate(qos.can_preempt):
                where = f"qos[{i}].can_preempt[{k}]"
                if target not in names:
                    raise ValueError(f"{where}: unknown QOS {target!r}; valid: {valid}")
                if target == qos.name:
                    raise ValueError(f"{where}: QOS {qos.name!r} cannot preempt itself")
        return self

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(qos.name for qos in self.qos)

    def index(self, name: str) -> int:
        """Position of QOS ``name`` in the table; ``""`` is the default QOS."""
        wanted = name or self.default
        for i, qos in enumerate(self.qos):
            if qos.name == wanted:
                return i
        raise QosConfigError(f"QOS table {self.name!r}: unknown QOS {name!r}; valid: {', '.join(self.names)}")

    def get(self, name: str) -> Qos:
        """QOS ``name``; ``""`` is the default QOS."""
        return self.qos[self.index(name)]


def list_qos_tables() -> list[str]:
    """Names of the packaged QOS tables, sorted."""
    folder = files("pmtwin.sched").joinpath(QOS_DIR)
    return sorted(item.name.removesuffix(".toml") for item in folder.iterdir() if item.name.endswith(".toml"))


def load_qos(name_or_path: str = "perlmutter") -> QosTable:
    """A packaged QOS table by name (``perlmutter``), or the QOS file at a path (``./x.toml``).

    A string that ends in ``.toml`` or contains a path separator is a path. Every problem, from a
    missing file to a TOML syntax error to an invalid field, raises ``QosConfigError`` naming the file
    and the field.
    """
    try:
        if name_or_path.endswith(".toml") or "/" in name_or_path or "\\" in name_or_path:
            label = name_or_path
            text = read_config_text(Path(name_or_path))
        else:
            known = list_qos_tables()
            if name_or_path not in known:
                raise QosConfigError(
                    f"unknown QOS table {name_or_path!r}; packaged tables: {', '.join(known)}"
                )
            label = f"{name_or_path}.toml"
            text = files("pmtwin.sched").joinpath(QOS_DIR, label).read_text(encoding="utf-8")
        return validate_config(QosTable, parse_toml(text, label), label)
    except MachineConfigError as exc:
        # The machine loader's helpers report file and field; only the error class differs.
        raise QosConfigError(str(exc)) from None


def job_qos_index(jobs: JobTable, qos_table: QosTable) -> NDArray[np.intp]:
    """Each job's QOS as a position in ``qos_table`` ("" is the table's default)."""
    if len(jobs) == 0:
        return np.zeros(0, np.intp)
    codes = jobs.qos
    if codes.min() < 0 or codes.max() >= len(jobs.qos_names):
        raise ValueError("job table has a QOS code outside its QOS names")
    lookup = np.zeros(len(jobs.qos_names), np.intp)
    for code in np.unique(codes):  # only names some job uses must resolve
        lookup[code] = qos_table.index(jobs.qos_names[code])
    return lookup[codes]
