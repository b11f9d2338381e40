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

    def __post_init__(self) -> None:
        n = len(self.job_id)
        fill: dict[str, Callable[[], NDArray[Any]]] = {
            "user": lambda: np.full(n, UNKNOWN, np.int64),
            "group": lambda: np.full(n, UNKNOWN, np.int64),
            "constraint": lambda: np.zeros(n, np.int32),
            "gpus": lambda: np.zeros(n, np.int64),
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
            **cols, partition_names=self.partition_names, constraint_names=self.constraint_names
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
}
