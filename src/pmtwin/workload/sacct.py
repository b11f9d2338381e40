"""Slurm accounting records (``sacct --parsable2`` output) as a JobTable.

One record is one job when it ran to an end. Other records are counted in ``skipped`` by reason:
``step`` (``123.batch``, ``123.0``, ``123.extern``: steps run inside a job), ``pending array`` (a
waiting range ``123_[5-9]``), ``not started`` (PENDING, no Start time, or CANCELLED with no run time),
``not ended`` (RUNNING and the like, or no End time), ``run<=0``, ``size<=0``, and ``malformed`` when
bad lines are skipped.

- ``job_id``: ``JobIDRaw`` when present (the unique integer of an array task ``123_4`` or of a
  heterogeneous job component ``123+1``), else ``JobID``, which must then be a plain integer.
- ``submit_s``: ``Submit`` in seconds since the Unix epoch, its wall-clock time read in ``tz``.
- ``work_s``: ``ElapsedRaw``, else ``Elapsed``, else ``End - Start``.
- ``requested_s``: max(time limit, run time) from ``Timelimit`` (else ``TimelimitRaw``, minutes). An
  unlimited or unset limit (``UNLIMITED``, ``Partition_Limit``, empty) becomes max(run time, the
  largest limit among the jobs read), and such jobs are counted in ``unlimited``. With no time-limit
  column the requested time is the run time.
- ``size``: ``NNodes``; ``gpus``: the GPU count in ``AllocTRES``, else ``ReqTRES``.
- ``partition``, ``constraint`` (``Constraints``): categorical codes; ``user`` (``User``) and
  ``group`` (``Account``, else ``Group``: the account is what Slurm's fair share and limits use) are
  codes into ``user_names`` / ``group_names``, -1 where empty. ``QOS`` has no JobTable column yet: it
  is returned beside the jobs, row for row.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
from numpy.typing import NDArray

from pmtwin.workload import _slurm_text as slurm
from pmtwin.workload._files import read_bytes
from pmtwin.workload._sacct_columns import CellError, Columns
from pmtwin.workload.errors import WorkloadFormatError
from pmtwin.workload.jobs import JobTable

STEP = "step"
PENDING_ARRAY = "pending array"
NOT_STARTED = "not started"
NOT_ENDED = "not ended"
NO_RUN = "run<=0"
NO_SIZE = "size<=0"
MALFORMED = "malformed"
REASONS = (STEP, PENDING_ARRAY, NOT_STARTED, NOT_ENDED, NO_RUN, NO_SIZE)

PENDING_STATES = frozenset({"PENDING", "REQUEUE_HOLD", "REQUEUE_FED"})
UNENDED_STATES = frozenset(
    {"RUNNING", "SUSPENDED", "COMPLETING", "CONFIGURING", "RESIZING", "REQUEUED", "STOPPED"}
)
CANCELLED = "CANCELLED"
UNKNOWN_CATEGORY = "unknown"


@dataclass(frozen=True)
class SacctTrace:
    """Jobs read from sacct output, in canonical order, and what was left out.

    ``records`` counts the data lines, so ``records == len(jobs) + sum(skipped.values())``.
    ``qos`` holds a code into ``qos_names`` for each row of ``jobs``.
    """

    jobs: JobTable
    skipped: dict[str, int]
    records: int
    unlimited: int
    user_names: tuple[str, ...]
    group_names: tuple[str, ...]
    qos: NDArray[np.int32]
    qos_names: tuple[str, ...]


class _Job(NamedTuple):
    job_id: int
    submit_s: float
    run_s: float
    limit_s: float | None
    size: int
    gpus: int
    partition: str
    qos: str
    user: str
    group: str
    constraint: str


def read_sacct(path: str | Path, *, tz: str = "UTC", skip_bad_lines: bool = False) -> SacctTrace:
    """Read ``sacct --parsable2`` (or ``--parsable``) output, plain or gzip, with its header line.

    ``tz`` is the time zone of the timestamps (the zone sacct ran in). A malformed line raises
    ``WorkloadFormatError`` naming the file, line and column, unless ``skip_bad_lines`` is set: then
    it is counted in ``skipped["malformed"]``.
    """
    zone = _zone(tz)
    lines = read_bytes(path).decode("utf-8", errors="replace").split("\n")
    header_index = next((k for k, line in enumerate(lines) if line.strip()), None)
    if header_index is None:
        raise WorkloadFormatError(path, "empty file: expected a sacct --parsable2 header line")
    columns = Columns.from_header(lines[header_index])
    missing = columns.missing()
    if missing:
        detail = f"no column {', '.join(missing)} in the header (add to sacct --format)"
        raise WorkloadFormatError(path, detail, line=header_index + 1)
    jobs: list[_Job] = []
    skipped = dict.fromkeys(REASONS, 0)
    if skip_bad_lines:
        skipped[MALFORMED] = 0
    for k in range(header_index + 1, len(lines)):
        line = lines[k].rstrip("\r")
        if not line.strip():
            continue
        try:
            outcome = _read_record(columns.cells(line), columns, zone)
        except CellError as err:
            if not skip_bad_lines:
                raise WorkloadFormatError(path, str(err), line=k + 1) from None
            outcome = MALFORMED
        if isinstance(outcome, str):
            skipped[outcome] += 1
        else:
            jobs.append(outcome)
    has_limit = columns.has("Timelimit") or columns.has("TimelimitRaw")
    return _assemble(jobs, skipped, has_limit)


def _zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {tz!r} (an IANA name: 'UTC', 'America/Los_Angeles')") from None


def _read_record(cells: list[str], columns: Columns, zone: ZoneInfo) -> _Job | str:
    """The job on one data line, or the reason it is not one."""
    raw_text = columns.get(cells, "JobIDRaw")
    job_text = columns.get(cells, "JobID") or raw_text or ""
    if slurm.is_job_step(job_text) or slurm.is_job_step(raw_text or ""):
        return STEP
    if slurm.is_pending_array(job_text):
        return PENDING_ARRAY
    state = (columns.get(cells, "State") or "").split(" ")[0].rstrip("+").upper()
    if state in PENDING_STATES or columns.get(cells, "Start") in slurm.UNKNOWN_TIMES:
        return NOT_STARTED
    if state in UNENDED_STATES or columns.get(cells, "End") in slurm.UNKNOWN_TIMES:
        return NOT_ENDED
    run_s = _run_s(cells, columns, zone)
    if run_s <= 0:
        return NOT_STARTED if state == CANCELLED else NO_RUN
    size = columns.parse(cells, "NNodes", slurm.parse_count)
    if size <= 0:
        return NO_SIZE
    if raw_text is not None:
        job_id = columns.parse(cells, "JobIDRaw", slurm.parse_count)
    else:
        job_id = columns.parse(cells, "JobID", slurm.parse_job_id)
    return _Job(
        job_id=job_id,
        submit_s=columns.parse(cells, "Submit", lambda text: slurm.parse_time_s(text, zone)),
        run_s=run_s,
        limit_s=_limit_s(cells, columns),
        size=size,
        gpus=_gpus(cells, columns),
        partition=columns.get(cells, "Partition") or UNKNOWN_CATEGORY,
        qos=columns.get(cells, "QOS") or UNKNOWN_CATEGORY,
        user=columns.get(cells, "User") or "",
        group=columns.get(cells, "Account") or columns.get(cells, "Group") or "",
        constraint=columns.get(cells, "Constraints") or "",
    )


def _run_s(cells: list[str], columns: Columns, zone: ZoneInfo) -> float:
    if columns.has("ElapsedRaw"):
        return float(columns.parse(cells, "ElapsedRaw", slurm.parse_count))
    if columns.has("Elapsed"):
        return columns.parse(cells, "Elapsed", slurm.parse_duration_s)
    start_s = columns.parse(cells, "Start", lambda text: slurm.parse_time_s(text, zone))
    return columns.parse(cells, "End", lambda text: slurm.parse_time_s(text, zone)) - start_s


def _limit_s(cells: list[str], columns: Columns) -> float | None:
    if columns.has("Timelimit"):
        return columns.parse(cells, "Timelimit", slurm.parse_limit_s)
    if columns.has("TimelimitRaw"):
        return columns.parse(cells, "TimelimitRaw", slurm.parse_limit_minutes_s)
    return None


def _gpus(cells: list[str], columns: Columns) -> int:
    for name in ("AllocTRES", "ReqTRES"):
        if columns.get(cells, name):
            return columns.parse(cells, name, slurm.parse_tres_gpus)
    return 0


def _assemble(jobs: list[_Job], skipped: dict[str, int], has_limit: bool) -> SacctTrace:
    """Columns from the jobs read, the requested-time rule applied, rows in canonical order."""
    run_s = np.array([job.run_s for job in jobs], np.float64)
    limit_s = np.array([np.nan if job.limit_s is None else job.limit_s for job in jobs], np.float64)
    if has_limit:
        unlimited = np.isnan(limit_s)
        largest_s = float(np.max(limit_s[~unlimited], initial=0.0))
        requested_s = np.maximum(run_s, np.where(unlimited, largest_s, limit_s))
    else:
        unlimited = np.zeros(len(jobs), np.bool_)
        requested_s = run_s
    partition, partition_names = _encode([job.partition for job in jobs], ())
    qos, qos_names = _encode([job.qos for job in jobs], ())
    user, user_names = _encode([job.user for job in jobs], ("",))
    group, group_names = _encode([job.group for job in jobs], ("",))
    constraint, constraint_names = _encode([job.constraint for job in jobs], ("",))
    table = JobTable(
        job_id=np.array([job.job_id for job in jobs], np.int64),
        submit_s=np.array([job.submit_s for job in jobs], np.float64),
        work_s=run_s,
        requested_s=requested_s,
        size=np.array([job.size for job in jobs], np.int64),
        partition=partition.astype(np.int32),
        partition_names=partition_names or (UNKNOWN_CATEGORY,),
        user=user - 1,
        group=group - 1,
        constraint=constraint.astype(np.int32),
        constraint_names=constraint_names,
        gpus=np.array([job.gpus for job in jobs], np.int64),
    )
    order = table.canonical_order()
    return SacctTrace(
        jobs=table.take(order),
        skipped=skipped,
        records=len(jobs) + sum(skipped.values()),
        unlimited=int(unlimited.sum()),
        user_names=user_names[1:],
        group_names=group_names[1:],
        qos=qos[order].astype(np.int32),
        qos_names=qos_names or (UNKNOWN_CATEGORY,),
    )


def _encode(values: list[str], leading: tuple[str, ...]) -> tuple[NDArray[np.int64], tuple[str, ...]]:
    """Codes into ``leading`` followed by the other distinct values, sorted."""
    names = leading + tuple(sorted(set(values).difference(leading)))
    code = {name: k for k, name in enumerate(names)}
    return np.fromiter((code[value] for value in values), np.int64, len(values)), names
