"""The Alibaba GPU cluster trace of 2023 ("openb", ``openb_pod_list_*.csv``) as a JobTable, for replay
onto Perlmutter's GPU nodes.

Each data line is one Kubernetes pod: ``name, cpu_milli, memory_mib, num_gpu, gpu_milli, gpu_spec,
qos, pod_phase, creation_time, deletion_time, scheduled_time`` (times in seconds from the trace start).
A pod that ran becomes one job in partition ``gpu``; the others are counted in ``skipped`` by reason,
tested in this order: ``not started`` (phase ``Pending``, or no ``scheduled_time``), ``run<=0``
(``deletion_time <= scheduled_time``), ``cpu_only`` (no GPU, when ``cpu_pods="skip"``), and
``malformed`` when bad lines are skipped.

- ``job_id``: the pod number (``openb-pod-0017`` is job 17).
- ``submit_s``: ``creation_time``. The run time is ``deletion_time - scheduled_time``, the pod's
  actual run; ``work_s``, ``requested_s`` and ``limit_s`` are all the run time, because the trace has
  no time limits (a replay therefore never kills a job at its limit, and backfill sees exact run times).
- Censoring: a ``Running`` pod whose ``deletion_time`` is the trace end (the largest ``deletion_time``
  in the file) was still running when the trace was cut; it is kept with its recorded interval, a lower
  bound on its run, and counted in ``censored``. A ``Running`` pod deleted before the trace end is
  taken to have ended then. ``Failed`` pods ran until they failed and are kept like ``Succeeded`` ones.
- A pod with at least ``gpus_per_node`` GPUs (4 on Perlmutter) is an exclusive job in QOS ``regular``
  on ceil(num_gpu / gpus_per_node) whole nodes, ``gpus`` = num_gpu, and no per-node ``cores`` or
  ``mem_mb`` request (0): whole nodes give it all their cores and memory.
- Any other GPU pod is a one-node job in QOS ``shared`` (docs/slurm-scheduling.md section 6):
  ``gpus`` = num_gpu. A fractional pod (num_gpu 1, ``gpu_milli`` < 1000: GPU sharing in Kubernetes)
  gets one whole GPU, as Slurm allocates whole GPUs and MPS/MIG sharing is not modelled; it is counted
  in ``fractional``, and ``gpu_milli_requested`` (num_gpu x gpu_milli summed over the jobs) beside
  ``gpu_milli_allocated`` (1000 x gpus summed) shows what whole-GPU allocation costs.
- ``cores`` of a shared job: the requested CPU count, ceil(cpu_milli / 1000), kept as it is (the
  Alibaba nodes' core counts differ from Perlmutter's and no rescaling is faithful to both) but capped
  at ``cores_per_node``; ``mem_mb``: ``memory_mib`` (Slurm's MB are MiB) capped at ``mem_mb_per_node``.
  The capped jobs are counted in ``cores_capped`` and ``mem_capped``. A request of 0 stays 0 (no
  request: an even share of the node by cores).
- A CPU-only pod (num_gpu 0) is skipped (``cpu_pods="skip"``, the default: GPU pods replay onto GPU
  nodes) or becomes a shared job with no GPU on a GPU node (``cpu_pods="shared"``).
- ``gpu_milli`` must fit ``num_gpu``: 0 for a CPU-only pod, 1 to 1000 for one GPU, 1000 for several
  (Kubernetes shares only single GPUs); other values are malformed.
- ``gpu_spec`` (GPU model constraints) and the Kubernetes ``qos`` (LS, BE, Burstable, Guaranteed) have
  no Perlmutter counterpart and are not read; user and group are unknown (-1).

Jobs are in canonical order (submit time, job id).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, NamedTuple, TypeVar

import numpy as np
from numpy.typing import NDArray

from pmtwin.workload._files import read_bytes
from pmtwin.workload.errors import WorkloadFormatError
from pmtwin.workload.jobs import JobTable

NOT_STARTED = "not started"
NO_RUN = "run<=0"
CPU_ONLY = "cpu_only"
MALFORMED = "malformed"
REASONS = (NOT_STARTED, NO_RUN, CPU_ONLY)

CpuPods = Literal["skip", "shared"]
CPU_POD_CHOICES: tuple[CpuPods, ...] = ("skip", "shared")
PARTITION_NAMES = ("gpu",)
QOS_NAMES = ("regular", "shared")
REGULAR, SHARED = 0, 1
MILLI = 1000
PENDING, RUNNING = "Pending", "Running"
PHASES = frozenset({PENDING, RUNNING, "Succeeded", "Failed"})
FIELDS = (
    "name",
    "cpu_milli",
    "memory_mib",
    "num_gpu",
    "gpu_milli",
    "pod_phase",
    "creation_time",
    "deletion_time",
    "scheduled_time",
)
"""The columns the reader uses (the header may hold others, in any order)."""
POD_NUMBER = re.compile(r".*-(\d+)")
SECONDS = re.compile(r"\d+(?:\.\d+)?")
T = TypeVar("T")
NumberT = TypeVar("NumberT", np.int64, np.float64)


@dataclass(frozen=True)
class AlibabaTrace:
    """Pods read as jobs, in canonical order, what was left out, and the facts of the mapping.

    ``records`` counts the data lines, so ``records == len(jobs) + sum(skipped.values())``. The counts
    ``censored``, ``fractional``, ``cores_capped``, ``mem_capped`` and the GPU-milli totals are over the
    jobs kept; ``trace_end_s`` is the largest deletion time read. The node shape and ``cpu_pods`` are
    the options the jobs were mapped with.
    """

    jobs: JobTable
    skipped: dict[str, int]
    records: int
    censored: int
    fractional: int
    gpu_milli_requested: int
    gpu_milli_allocated: int
    cores_capped: int
    mem_capped: int
    trace_end_s: float
    gpus_per_node: int
    cores_per_node: int
    mem_mb_per_node: int
    cpu_pods: CpuPods

    def facts(self) -> dict[str, int | float | str]:
        """What a run's config should record about the trace and its mapping."""
        return {
            "records": self.records,
            "censored_jobs": self.censored,
            "fractional_gpu_jobs": self.fractional,
            "gpu_milli_requested": self.gpu_milli_requested,
            "gpu_milli_allocated": self.gpu_milli_allocated,
            "cores_capped_jobs": self.cores_capped,
            "mem_capped_jobs": self.mem_capped,
            "trace_end_s": self.trace_end_s,
            "gpus_per_node": self.gpus_per_node,
            "cores_per_node": self.cores_per_node,
            "mem_mb_per_node": self.mem_mb_per_node,
            "cpu_pods": self.cpu_pods,
        }


@dataclass(frozen=True)
class _NodeShape:
    gpus: int
    cores: int
    mem_mb: int


class _Pod(NamedTuple):
    job_id: int
    cpu_milli: int
    memory_mib: int
    num_gpu: int
    gpu_milli: int
    phase: str
    creation_s: float
    deletion_s: float
    scheduled_s: float | None


class _FieldError(ValueError):
    """A cell that does not hold what its field should; the message names the field."""


def read_alibaba(
    path: str | Path,
    *,
    skip_bad_lines: bool = False,
    gpus_per_node: int = 4,
    cores_per_node: int = 64,
    mem_mb_per_node: int = 262144,
    cpu_pods: CpuPods = "skip",
) -> AlibabaTrace:
    """Read an ``openb_pod_list_*.csv`` file (plain or gzip) with its header line, mapped onto GPU nodes
    of the given shape (Perlmutter's by default). A malformed line raises ``WorkloadFormatError`` naming
    the file, line and field, unless ``skip_bad_lines`` is set: then it is counted in
    ``skipped["malformed"]``."""
    shape = _NodeShape(gpus_per_node, cores_per_node, mem_mb_per_node)
    for name, value in (("gpus", shape.gpus), ("cores", shape.cores), ("mem_mb", shape.mem_mb)):
        if value <= 0:
            raise ValueError(f"{name}_per_node must be positive, got {value}")
    if cpu_pods not in CPU_POD_CHOICES:
        raise ValueError(f"cpu_pods must be one of {', '.join(CPU_POD_CHOICES)}, got {cpu_pods!r}")
    pods, malformed = _read_pods(path, skip_bad_lines)
    skipped = dict.fromkeys(REASONS, 0)
    if skip_bad_lines:
        skipped[MALFORMED] = malformed
    kept: list[tuple[_Pod, float]] = []
    for pod in pods:
        outcome = _run_s(pod, cpu_pods)
        if isinstance(outcome, str):
            skipped[outcome] += 1
        else:
            kept.append((pod, outcome))
    trace_end_s = max((pod.deletion_s for pod in pods), default=0.0)
    return _assemble(kept, skipped, len(pods) + malformed, trace_end_s, shape, cpu_pods)


def _read_pods(path: str | Path, skip_bad_lines: bool) -> tuple[list[_Pod], int]:
    """The well-formed pods of the file and the number of malformed lines (skipped or raised)."""
    text = read_bytes(path).decode("utf-8", errors="replace")
    rows = csv.reader(io.StringIO(text, newline=""))
    header = next((row for row in rows if row), None)
    if header is None:
        raise WorkloadFormatError(path, "empty file: expected a header line (name,cpu_milli,...)")
    position: dict[str, int] = {}
    for k, name in enumerate(header):
        position.setdefault(name.strip(), k)
    missing = [name for name in FIELDS if name not in position]
    if missing:
        raise WorkloadFormatError(path, f"no column {', '.join(missing)} in the header", line=rows.line_num)
    pods: list[_Pod] = []
    malformed = 0
    for row in rows:
        if not row:
            continue
        try:
            pods.append(_read_pod(row, position, len(header)))
        except _FieldError as err:
            if not skip_bad_lines:
                raise WorkloadFormatError(path, str(err), line=rows.line_num) from None
            malformed += 1
    return pods, malformed


def _read_pod(cells: Sequence[str], position: dict[str, int], width: int) -> _Pod:
    """The pod on one data line; ``_FieldError`` names the field at fault."""
    if len(cells) != width:
        raise _FieldError(f"{len(cells)} fields, the header has {width}")
    row = _Row(cells, position)
    num_gpu = row.parse("num_gpu", _count)
    gpu_milli = row.parse("gpu_milli", _count)
    _check_gpu_milli(num_gpu, gpu_milli)
    phase = row.text("pod_phase")
    if phase not in PHASES:
        raise _FieldError(f"field pod_phase: {phase!r} is not one of {', '.join(sorted(PHASES))}")
    return _Pod(
        job_id=row.parse("name", _pod_number),
        cpu_milli=row.parse("cpu_milli", _count),
        memory_mib=row.parse("memory_mib", _count),
        num_gpu=num_gpu,
        gpu_milli=gpu_milli,
        phase=phase,
        creation_s=row.parse("creation_time", _seconds),
        deletion_s=row.parse("deletion_time", _seconds),
        scheduled_s=row.parse("scheduled_time", _seconds) if row.text("scheduled_time") else None,
    )


@dataclass(frozen=True)
class _Row:
    """The cells of one data line, read by field name."""

    cells: Sequence[str]
    position: dict[str, int]

    def text(self, name: str) -> str:
        return self.cells[self.position[name]].strip()

    def parse(self, name: str, parse: Callable[[str], T]) -> T:
        """``parse`` applied to the cell of field ``name``; errors name the field."""
        text = self.text(name)
        try:
            return parse(text)
        except ValueError as err:
            raise _FieldError(f"field {name}: {text!r} {err}") from None


def _count(text: str) -> int:
    if not (text.isascii() and text.isdigit()):
        raise ValueError("is not a whole number >= 0")
    return int(text)


def _seconds(text: str) -> float:
    if SECONDS.fullmatch(text) is None:
        raise ValueError("is not a time in seconds (a number >= 0)")
    return float(text)


def _pod_number(text: str) -> int:
    match = POD_NUMBER.fullmatch(text)
    if match is None:
        raise ValueError("does not end in a pod number (openb-pod-0017)")
    return int(match.group(1))


def _check_gpu_milli(num_gpu: int, gpu_milli: int) -> None:
    """GPU sharing (a fraction of a GPU) is for one-GPU pods; a CPU-only pod asks for no GPU milli."""
    if num_gpu == 0 and gpu_milli != 0:
        raise _FieldError(f"field gpu_milli: {gpu_milli} for a pod with no GPU (num_gpu 0)")
    if num_gpu == 1 and not 1 <= gpu_milli <= MILLI:
        raise _FieldError(f"field gpu_milli: {gpu_milli} is not a share of one GPU (1 to {MILLI})")
    if num_gpu > 1 and gpu_milli != MILLI:
        raise _FieldError(f"field gpu_milli: {gpu_milli} for {num_gpu} GPUs (whole GPUs: {MILLI})")


def _run_s(pod: _Pod, cpu_pods: CpuPods) -> float | str:
    """The pod's run time as a job, or the reason it is not one."""
    if pod.phase == PENDING or pod.scheduled_s is None:
        return NOT_STARTED
    if pod.deletion_s <= pod.scheduled_s:
        return NO_RUN
    if pod.num_gpu == 0 and cpu_pods == "skip":
        return CPU_ONLY
    return pod.deletion_s - pod.scheduled_s


def _assemble(
    kept: list[tuple[_Pod, float]],
    skipped: dict[str, int],
    records: int,
    trace_end_s: float,
    shape: _NodeShape,
    cpu_pods: CpuPods,
) -> AlibabaTrace:
    """The job columns of the pods kept (with their run times), in canonical order, and the facts of
    the mapping."""
    pods = [pod for pod, _ in kept]
    num_gpu = _column(pods, "num_gpu", np.int64)
    gpu_milli = _column(pods, "gpu_milli", np.int64)
    run_s = np.array([seconds for _, seconds in kept], np.float64)
    exclusive = num_gpu >= shape.gpus
    cores_asked = -(-_column(pods, "cpu_milli", np.int64) // MILLI)
    mem_asked = _column(pods, "memory_mib", np.int64)
    table = JobTable(
        job_id=_column(pods, "job_id", np.int64),
        submit_s=_column(pods, "creation_s", np.float64),
        work_s=run_s,
        requested_s=run_s,
        size=np.where(exclusive, -(-num_gpu // shape.gpus), 1),
        partition=np.zeros(len(pods), np.int32),
        partition_names=PARTITION_NAMES,
        gpus=num_gpu,
        qos=np.where(exclusive, REGULAR, SHARED).astype(np.int32),
        qos_names=QOS_NAMES,
        limit_s=run_s,
        cores=np.where(exclusive, 0, np.minimum(cores_asked, shape.cores)),
        mem_mb=np.where(exclusive, 0, np.minimum(mem_asked, shape.mem_mb)),
    )
    censored = [pod.phase == RUNNING and pod.deletion_s == trace_end_s for pod in pods]
    return AlibabaTrace(
        jobs=table.take(table.canonical_order()),
        skipped=skipped,
        records=records,
        censored=sum(censored),
        fractional=int(np.count_nonzero((num_gpu == 1) & (gpu_milli < MILLI))),
        gpu_milli_requested=int(np.sum(num_gpu * gpu_milli)),
        gpu_milli_allocated=int(np.sum(num_gpu)) * MILLI,
        cores_capped=int(np.count_nonzero(~exclusive & (cores_asked > shape.cores))),
        mem_capped=int(np.count_nonzero(~exclusive & (mem_asked > shape.mem_mb))),
        trace_end_s=trace_end_s,
        gpus_per_node=shape.gpus,
        cores_per_node=shape.cores,
        mem_mb_per_node=shape.mem_mb,
        cpu_pods=cpu_pods,
    )


def _column(pods: list[_Pod], name: str, dtype: type[NumberT]) -> NDArray[NumberT]:
    return np.array([getattr(pod, name) for pod in pods], dtype)
