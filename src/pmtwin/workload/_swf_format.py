"""SWF (Parallel Workloads Archive, v2.2) text conventions: field names, header lines, one data line.

The compiled scanner reads the common lines; these functions handle the rest in plain Python, one
line at a time, and produce the error text for a line that is not valid SWF.
"""

from __future__ import annotations

import math
import re

FIELD_NAMES = (
    "job number",
    "submit time",
    "wait time",
    "run time",
    "allocated processors",
    "average CPU time",
    "used memory",
    "requested processors",
    "requested time",
    "requested memory",
    "status",
    "user ID",
    "group ID",
    "executable number",
    "queue number",
    "partition number",
    "preceding job number",
    "think time",
)
"""The 18 SWF fields in file order (field k is ``FIELD_NAMES[k - 1]``)."""

JOB = 0
SUBMIT = 1
RUN = 3
ALLOCATED = 4
REQUESTED_PROCS = 7
REQUESTED_TIME = 8
USER = 11
GROUP = 12
PARTITION = 15
"""0-based indexes of the fields the reader uses."""
INTEGER_FIELDS = (JOB, ALLOCATED, REQUESTED_PROCS, USER, GROUP, PARTITION)
"""Fields read into integer columns: their values must be whole numbers."""
LARGEST_EXACT_INTEGER = 2.0**53

NUMBER = re.compile(rb"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
HEADER = re.compile(r"\s*;\s*([A-Z]\w*):(.*)")
HEADER_KEY = re.compile(r"[A-Z]\w*")
PARTITION_DECLARATION = re.compile(r"(-?\d+)\s+(\S.*)")
UNKNOWN_PARTITION = "unknown"


def field_label(index: int) -> str:
    """``field 4 (run time)`` for the 0-based ``index`` 3."""
    return f"field {index + 1} ({FIELD_NAMES[index]})"


def parse_data_line(line: bytes) -> list[float]:
    """The 18 numbers of one data line; ``ValueError`` with the reason when it is not valid SWF
    (another field count, a field that is not a finite number, or a fraction in an integer field)."""
    tokens = line.split()
    if len(tokens) != len(FIELD_NAMES):
        raise ValueError(f"{len(tokens)} fields, an SWF line has {len(FIELD_NAMES)}")
    for index, token in enumerate(tokens):
        if NUMBER.fullmatch(token) is None:
            raise ValueError(f"{field_label(index)}: {_text(token)!r} is not a number")
    values = [float(token) for token in tokens]
    for index, value in enumerate(values):
        if not math.isfinite(value):
            raise ValueError(f"{field_label(index)}: {_text(tokens[index])!r} is out of range")
    for index in INTEGER_FIELDS:
        value = values[index]
        if value != math.floor(value) or abs(value) > LARGEST_EXACT_INTEGER:
            raise ValueError(f"{field_label(index)}: {_text(tokens[index])!r} is not an integer")
    return values


def parse_header(comment_lines: list[str]) -> tuple[dict[str, str], dict[int, str]]:
    """``(header, partitions)`` from the ``;`` comment lines, in file order.

    ``header`` maps each ``; Key: value`` key (a capitalised word) to its first value, stripped;
    ``partitions`` maps each partition number declared in a ``; Partition: N name`` line to its name
    (the first declaration of a number wins).
    """
    header: dict[str, str] = {}
    partitions: dict[int, str] = {}
    for text in comment_lines:
        match = HEADER.fullmatch(text)
        if match is None:
            continue
        key, value = match.group(1), match.group(2).strip()
        header.setdefault(key, value)
        if key == "Partition":
            declared = parse_partition_declaration(value)
            if declared is not None:
                partitions.setdefault(*declared)
    return header, partitions


def parse_partition_declaration(value: str) -> tuple[int, str] | None:
    """``(number, name)`` from a ``Partition`` header value such as ``3  batch``, or None."""
    match = PARTITION_DECLARATION.fullmatch(value.strip())
    if match is None:
        return None
    return int(match.group(1)), match.group(2).strip()


def default_partition_name(number: int) -> str:
    """The name of an undeclared partition number: the number itself, ``unknown`` for -1."""
    return UNKNOWN_PARTITION if number == -1 else str(number)


def header_count(value: str) -> int | None:
    """A positive whole number from the first token of a header value (``338 (batch partition)``)."""
    tokens = value.split()
    if not tokens or NUMBER.fullmatch(tokens[0].encode()) is None:
        return None
    number = float(tokens[0])
    if number <= 0 or number != math.floor(number) or number > LARGEST_EXACT_INTEGER:
        return None
    return int(number)


def _text(token: bytes) -> str:
    return token.decode("utf-8", errors="replace")
