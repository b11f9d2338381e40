"""Standard Workload Format (Parallel Workloads Archive, v2.2): read with the replay normalisation of
``scheduling-semantics.md`` ("Units and trace normalisation"), and write.

Reading is one compiled pass over the bytes (``_swf_scan``); lines it cannot read exactly go through
the plain parser in ``_swf_format``, which reads them or names the file, line and field at fault.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from pmtwin.workload import _swf_format as fmt
from pmtwin.workload._files import read_bytes, write_bytes
from pmtwin.workload._swf_normalise import normalise
from pmtwin.workload._swf_write import swf_text, table_partition_numbers
from pmtwin.workload.errors import WorkloadFormatError
from pmtwin.workload.jobs import JobTable

MALFORMED_REASON = "malformed"


@dataclass(frozen=True)
class SwfTrace:
    """An SWF file read for replay.

    ``jobs`` is normalised and in canonical order (submit time, job id; stable). ``header`` holds the
    first value of each ``; Key: value`` comment line. ``capacity`` is the pool size the sizes were
    capped to and ``capacity_source`` where it came from (``override``, ``MaxProcs``, ``MaxNodes`` or
    ``largest size``). ``skipped`` counts the records left out by reason, so ``records`` (data lines
    in the file) is ``len(jobs) + sum(skipped.values())``. ``partition_numbers`` gives the SWF
    partition number of each partition code (the writer uses it to reproduce the file's numbering).
    """

    jobs: JobTable
    header: dict[str, str]
    capacity: int
    capacity_source: str
    skipped: dict[str, int]
    capped: int
    records: int
    unix_start_time: int | None
    partition_numbers: tuple[int, ...]


@dataclass(frozen=True)
class _Lines:
    """The data lines of a file as numbers (one column per line) and the comment lines as text."""

    fields: NDArray[np.float64]
    malformed: int
    comments: list[str]


def read_swf(path: str | Path, *, capacity: int | None = None, skip_bad_lines: bool = False) -> SwfTrace:
    """Read an SWF file (plain or gzip, told apart by its first bytes) and normalise it for replay.

    ``capacity`` overrides the machine size the header gives. A line that is not valid SWF raises
    ``WorkloadFormatError`` naming the file, line and field, unless ``skip_bad_lines`` is set: then it
    is counted in ``skipped["malformed"]``.
    """
    if capacity is not None and capacity <= 0:
        raise ValueError(f"capacity must be a positive number of processors, got {capacity}")
    lines = _read_lines(path, skip_bad_lines)
    header, declared = fmt.parse_header(lines.comments)
    trace = normalise(lines.fields, header, declared, capacity)
    skipped = dict(trace.skipped)
    if skip_bad_lines:
        skipped[MALFORMED_REASON] = lines.malformed
    return SwfTrace(
        jobs=trace.jobs,
        header=header,
        capacity=trace.capacity,
        capacity_source=trace.capacity_source,
        skipped=skipped,
        capped=trace.capped,
        records=lines.fields.shape[1] + lines.malformed,
        unix_start_time=fmt.header_count(header.get("UnixStartTime", "")),
        partition_numbers=trace.partition_numbers,
    )


def _read_lines(path: str | Path, skip_bad_lines: bool) -> _Lines:
    from pmtwin.workload._swf_scan import scan_swf  # compiled code: loaded on first use

    data = read_bytes(path)
    fields, line_no, start, end, exact, comment_start, comment_end = scan_swf(data)
    malformed: list[int] = []
    for row in np.flatnonzero(~exact).tolist():
        try:
            fields[:, row] = fmt.parse_data_line(data[start[row] : end[row]])
        except ValueError as err:
            if not skip_bad_lines:
                raise WorkloadFormatError(path, str(err), line=int(line_no[row])) from None
            malformed.append(row)
    if malformed:
        fields = np.delete(fields, malformed, axis=1)
    comments = [
        data[s:e].decode("utf-8", errors="replace") for s, e in zip(comment_start, comment_end, strict=True)
    ]
    return _Lines(fields, len(malformed), comments)


def write_swf(
    trace_or_jobs: SwfTrace | JobTable, path: str | Path, *, header: dict[str, str] | None = None
) -> None:
    """Write jobs as SWF v2.2 (gzip-compressed when ``path`` ends in ``.gz``).

    ``header`` defaults to the trace's header, or for a bare JobTable to ``Version``, ``MaxJobs`` and
    ``MaxRecords``. Fields the JobTable does not hold are written as -1; the size goes to both the
    allocated and the requested processors fields. SWF has no field for GPUs or constraints, so those
    columns are not written. A trace read by ``read_swf`` (without a capacity override larger than
    the header's) reads back to the same jobs and header.
    """
    if isinstance(trace_or_jobs, SwfTrace):
        jobs = trace_or_jobs.jobs
        numbers = trace_or_jobs.partition_numbers
        default_header = trace_or_jobs.header
    else:
        jobs = trace_or_jobs
        numbers = table_partition_numbers(jobs.partition_names)
        default_header = {"Version": "2.2", "MaxJobs": str(len(jobs)), "MaxRecords": str(len(jobs))}
    text = swf_text(jobs, numbers, default_header if header is None else header)
    write_bytes(path, text.encode("utf-8"))
