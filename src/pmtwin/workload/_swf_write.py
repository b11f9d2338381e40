"""SWF v2.2 text from a JobTable: header comment lines, partition declarations, 18 fields a line."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from pmtwin.workload import _swf_format as fmt
from pmtwin.workload.jobs import JobTable

UNKNOWN_FIELD = "-1"
LARGEST_INT64_FLOAT = 2.0**63


def table_partition_numbers(names: tuple[str, ...]) -> tuple[int, ...]:
    """SWF partition numbers for partition names in code order: 1, 2, ...; a first partition named
    ``unknown`` is written as -1, the SWF value for it. Reading assigns codes in number order, so the
    codes come back unchanged."""
    if names and names[0] == fmt.UNKNOWN_PARTITION:
        return (-1, *range(1, len(names)))
    return tuple(range(1, len(names) + 1))


def swf_text(jobs: JobTable, partition_numbers: Sequence[int], header: dict[str, str]) -> str:
    """The whole SWF file: ``header`` lines in order, partition declarations, one line per job."""
    number_of_code = np.asarray(partition_numbers, np.int64)
    names = dict(zip(partition_numbers, jobs.partition_names, strict=True))
    n = len(jobs)
    unknown = [UNKNOWN_FIELD] * n
    size = _integers(jobs.size)
    columns = [
        _integers(jobs.job_id),
        _numbers(jobs.submit_s, "submit_s"),
        unknown,
        _numbers(jobs.work_s, "work_s"),
        size,
        unknown,
        unknown,
        size,
        _numbers(jobs.requested_s, "requested_s"),
        unknown,
        unknown,
        _integers(jobs.user),
        _integers(jobs.group),
        unknown,
        unknown,
        _integers(number_of_code[jobs.partition]),
        unknown,
        unknown,
    ]
    lines = [*_header_lines(header, names), *map(" ".join, zip(*columns, strict=True))]
    return "\n".join(lines) + "\n" if lines else ""


def _header_lines(header: dict[str, str], names: dict[int, str]) -> list[str]:
    """``; Key: value`` lines, and a ``Partition`` line for each partition whose name is not the
    number itself: at the place of the header's own ``Partition`` item, else at the end."""
    declarations = {
        number: name for number, name in names.items() if name != fmt.default_partition_name(number)
    }
    for name in declarations.values():
        if not name or name != name.strip() or "\n" in name:
            raise ValueError(f"partition name {name!r} cannot be written to an SWF header")
    lines: list[str] = []
    for key, value in header.items():
        if fmt.HEADER_KEY.fullmatch(key) is None or "\n" in value or "\r" in value:
            raise ValueError(f"SWF header item {key!r}: {value!r} cannot be written as '; Key: value'")
        if key == "Partition":
            lines.extend(_partition_lines(value, names, declarations))
            declarations = {}
        else:
            lines.append(f"; {key}: {value}")
    lines.extend(f"; Partition: {number} {name}" for number, name in declarations.items())
    return lines


def _partition_lines(value: str, names: dict[int, str], declarations: dict[int, str]) -> list[str]:
    """The header's ``Partition`` value, kept when it agrees with the jobs' names (it then reads back
    as the first value), followed by the declarations it does not already make."""
    declared = fmt.parse_partition_declaration(value)
    if declared is None:
        return [f"; Partition: {value}", *_declaration_lines(declarations)]
    number, name = declared
    if names.get(number, name) != name:
        return _declaration_lines(declarations)
    rest = {n: declared_name for n, declared_name in declarations.items() if n != number}
    return [f"; Partition: {value}", *_declaration_lines(rest)]


def _declaration_lines(declarations: dict[int, str]) -> list[str]:
    return [f"; Partition: {number} {name}" for number, name in declarations.items()]


def _integers(values: NDArray[np.int64]) -> list[str]:
    return list(map(str, values.tolist()))


def _numbers(values: NDArray[np.float64], column: str) -> list[str]:
    """Finite numbers as SWF text: whole numbers as integers, others as the shortest decimal that
    reads back exactly (no exponent)."""
    finite = np.isfinite(values)
    if not finite.all():
        row = int(np.argmin(finite))
        raise ValueError(f"JobTable column {column!r} row {row} is {values[row]}: SWF holds finite numbers")
    whole = values == np.floor(values)
    if whole.all() and (np.abs(values) < LARGEST_INT64_FLOAT).all():
        return _integers(values.astype(np.int64))
    return [
        str(int(v)) if v == math.floor(v) else np.format_float_positional(v, unique=True, trim="-")
        for v in values.tolist()
    ]
