"""The job table: every workload, read or generated, is one of these (columns, not objects)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

UNKNOWN = -1
"""Integer columns use -1 for 'unknown', as SWF does."""


@dataclass(frozen=True)
class JobTable:
    """A workload: one row per job, numpy columns of equal length.

    Times are seconds (float64; trace values are integers and stay exact). ``work_s`` is the run time
    at the nominal rate 1 (for a trace: the recorded run time); the engine runs a job until its work is
    done. ``size`` is in the unit of the pool the job runs in (processors for an SWF processor pool,
    nodes on a machine model). Categorical columns are int32 codes into a tuple of names.

    Slurm-mode columns (see docs/slurm-scheduling.md): ``qos`` (codes into ``qos_names``; the name ""
    means the QOS table's default), ``group`` doubles as the Slurm account, ``limit_s`` is the time limit
    as submitted (may be below the run time; the Slurm-faithful walltime mode kills there),
    ``cores``/``mem_mb``/``gpus`` are what a job asks of its one node in the shared QOS (0 = no
    request), ``array_id`` groups array tasks (-1: none) whose ``array_throttle`` (0: none) caps how many
    run at once, and ``depends`` lists afterok/afterany dependencies by job id.

    ``power_class`` (codes into ``power_class_names``; "" means the node's default class) names the
    job's power class (docs/power.md).
    """

    job_id: NDArray[np.int64]
    submit_s: NDArray[np.float64]
    work_s: NDArray[np.float64]
    requested_s: NDArray[np.float64]
    size: NDArray[np.int64]
    partition: NDArray[np.int32]
    partition_names: tuple[str, ...] = ("default",)
    user: NDArray[np.int64] = field(default_factory=lambda: np.empty(0, np.int64))
    group: NDArray[np.int64] = field(default_factory=lambda: np.empty(0, np.int64))
    constraint: NDArray[np.int32] = field(default_factory=lambda: np.empty(0, np.int32))
    constraint_names: tuple[str, ...] = ("",)
    gpus: NDArray[np.int64] = field(default_factory=lambda: np.empty(0, np.int64))
    qos: NDArray[np.int32] = field(default_factory=lambda: np.empty(0, np.int32))
    qos_names: tuple[str, ...] = ("",)
    limit_s: NDArray[np.float64] = field(default_factory=lambda: np.empty(0, np.float64))
    cores: NDArray[np.int64] = field(default_factory=lambda: np.empty(0, np.int64))
    mem_mb: NDArray[np.int64] = field(default_factory=lambda: np.empty(0, np.int64))
    array_id: NDArray[np.int64] = field(default_factory=lambda: np.empty(0, np.int64))
    array_throttle: NDArray[np.int64] = field(default_factory=lambda: np.empty(0, np.int64))
    depends: Dependencies | None = None
    power_class: NDArray[np.int32] = field(default_factory=lambda: np.empty(0, np.int32))
    power_class_names: tuple[str, ...] = ("",)

    def __post_init__(self) -> None:
        n = len(self.job_id)
        fill: dict[str, Callable[[], NDArray[Any]]] = {
            "user": lambda: np.full(n, UNKNOWN, np.int64),
            "group": lambda: np.full(n, UNKNOWN, np.int64),
            "constraint": lambda: np.zeros(n, np.int32),
            "gpus": lambda: np.zeros(n, np.int64),
            "qos": lambda: np.zeros(n, np.int32),
            "limit_s": lambda: np.asarray(self.requested_s, np.float64).copy(),
            "cores": lambda: np.zeros(n, np.int64),
            "mem_mb": lambda: np.zeros(n, np.int64),
            "array_id": lambda: np.full(n, UNKNOWN, np.int64),
            "array_throttle": lambda: np.zeros(n, np.int64),
            "power_class": lambda: np.zeros(n, np.int32),
        }
        for name, make in fill.items():
            if len(getattr(self, name)) == 0 and n > 0:
                object.__setattr__(self, name, make())
        for name, dtype in COLUMN_DTYPES.items():
            col = getattr(self, name)
            if col.dtype != dtype:
                object.__setattr__(self, name, np.ascontiguousarray(col, dtype=dtype))
            if len(getattr(self, name)) != n:
                raise ValueError(f"JobTable column {name!r} has {len(col)} rows, expected {n}")

    def __len__(self) -> int:
        return len(self.job_id)

    def take(self, index: NDArray[np.intp]) -> JobTable:
        """The rows at ``index`` (a permutation or a subset), names kept."""
        cols = {name: getattr(self, name)[index] for name in COLUMN_DTYPES}
        return JobTable(
            **cols,
            partition_names=self.partition_names,
            constraint_names=self.constraint_names,
            qos_names=self.qos_names,
            depends=self.depends,
            power_class_names=self.power_class_names,
        )

    def canonical_order(self) -> NDArray[np.intp]:
        """Row order by (submit time, job id), the queue order of the scheduling semantics.

        The sort is stable, so rows with equal submit time and id keep their input order.
        """
        return np.lexsort((self.job_id, self.submit_s)).astype(np.intp)


COLUMN_DTYPES: dict[str, type] = {
    "job_id": np.int64,
    "submit_s": np.float64,
    "work_s": np.float64,
    "requested_s": np.float64,
    "size": np.int64,
    "partition": np.int32,
    "user": np.int64,
    "group": np.int64,
    "constraint": np.int32,
    "gpus": np.int64,
    "qos": np.int32,
    "limit_s": np.float64,
    "cores": np.int64,
    "mem_mb": np.int64,
    "array_id": np.int64,
    "array_throttle": np.int64,
    "power_class": np.int32,
}

AFTEROK = 1
AFTERANY = 2
DEPENDENCY_KINDS = {"afterok": AFTEROK, "afterany": AFTERANY}


@dataclass(frozen=True)
class Dependencies:
    """Job dependencies by job id: job ``job_id[k]`` may start only after job ``on_id[k]`` has ended
    (``kind`` AFTERANY) or has completed within its time limit (AFTEROK)."""

    job_id: NDArray[np.int64]
    on_id: NDArray[np.int64]
    kind: NDArray[np.int8]

    def __post_init__(self) -> None:
        for name, dtype in (("job_id", np.int64), ("on_id", np.int64), ("kind", np.int8)):
            object.__setattr__(self, name, np.ascontiguousarray(getattr(self, name), dtype=dtype))
        if not len(self.job_id) == len(self.on_id) == len(self.kind):
            raise ValueError("Dependencies columns must have equal lengths")
        if np.any((self.kind != AFTEROK) & (self.kind != AFTERANY)):
            raise ValueError("a dependency kind must be AFTEROK (1) or AFTERANY (2)")
