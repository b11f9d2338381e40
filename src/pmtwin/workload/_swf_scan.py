"""The compiled SWF byte scanner: data lines to an (18, n) float64 array in one pass.

Only plain decimal numbers that convert exactly are read here: at most 15 significant digits and 22
decimals, so ``mantissa / 10**decimals`` is one correctly rounded division and equals Python's
``float``. A line with anything else (another field count, an exponent, a character that is not part
of such a number, a fraction in an integer field) is flagged, and ``_swf_format.parse_data_line``
either reads it or names the problem.
"""

from __future__ import annotations

import numba as nb
import numpy as np

SWF_FIELDS = 18
MAX_DIGITS = 15
MAX_DECIMALS = 22
POW10 = np.array([10.0**k for k in range(MAX_DECIMALS + 1)])

NEWLINE = 10
SEMICOLON = 59
MINUS = 45
PLUS = 43
DOT = 46
ZERO = 48
NINE = 57


@nb.njit(cache=True, inline="always")
def _is_space(c):  # type: ignore[no-untyped-def]
    return c == 32 or c == 9 or c == 13 or c == 11 or c == 12


@nb.njit(cache=True, inline="always")
def _skip_spaces(buf, i, n):  # type: ignore[no-untyped-def]
    while i < n and _is_space(buf[i]):
        i += 1
    return i


@nb.njit(cache=True, inline="always")
def _line_end(buf, i, n):  # type: ignore[no-untyped-def]
    while i < n and buf[i] != NEWLINE:
        i += 1
    return i


@nb.njit(cache=True, inline="always")
def _parse_number(buf, i, n):  # type: ignore[no-untyped-def]
    """The number starting at ``buf[i]``: ``(value, index after it, read exactly)``."""
    negative = buf[i] == MINUS
    if negative or buf[i] == PLUS:
        i += 1
    mantissa = 0
    digits = 0
    significant = 0
    decimals = 0
    dot = False
    while i < n:
        c = buf[i]
        if ZERO <= c <= NINE:
            digits += 1
            if significant > 0 or c != ZERO:
                significant += 1
            if significant <= MAX_DIGITS:
                mantissa = mantissa * 10 + (c - ZERO)
            if dot:
                decimals += 1
        elif c == DOT and not dot:
            dot = True
        else:
            break
        i += 1
    if digits == 0 or significant > MAX_DIGITS or decimals > MAX_DECIMALS:
        return 0.0, i, False
    if i < n and buf[i] != NEWLINE and not _is_space(buf[i]):
        return 0.0, i, False
    value = mantissa / POW10[decimals]
    return (-value if negative else value), i, True


@nb.njit(cache=True, inline="always")
def _parse_line(buf, i, n, whole, values, row):  # type: ignore[no-untyped-def]
    """Read the fields of the data line starting at ``buf[i]`` into ``values[:, row]``; a field ``k``
    with ``whole[k]`` set must be a whole number.

    Returns ``(index of the line's end, all 18 fields read exactly)``.
    """
    field = 0
    while True:
        i = _skip_spaces(buf, i, n)
        if i == n or buf[i] == NEWLINE:
            return i, field == SWF_FIELDS
        if field == SWF_FIELDS:
            return _line_end(buf, i, n), False
        value, i, exact = _parse_number(buf, i, n)
        if not exact or (whole[field] and value != np.floor(value)):
            return _line_end(buf, i, n), False
        values[field, row] = value
        field += 1


@nb.njit(cache=True)
def scan_swf(buf, whole):  # type: ignore[no-untyped-def]
    """Scan the bytes of an SWF file; ``whole[k]`` (bool, one per field) marks the fields that must
    be whole numbers.

    Returns ``(values, line_no, line_start, line_end, exact, comment_start, comment_end)``, trimmed:
    per data line its 18 values (a column of ``values``; unspecified where the line was not read
    exactly), its 1-based line number, byte range and whether it was read exactly; per ``;`` comment
    line its byte range. Blank lines are skipped.
    """
    max_lines = 1
    for c in buf:
        max_lines += c == NEWLINE
    values = np.empty((SWF_FIELDS, max_lines), np.float64)
    line_no = np.empty(max_lines, np.int64)
    line_start = np.empty(max_lines, np.int64)
    line_end = np.empty(max_lines, np.int64)
    exact = np.empty(max_lines, np.bool_)
    comment_start = np.empty(max_lines, np.int64)
    comment_end = np.empty(max_lines, np.int64)
    n = buf.size
    pos = 0
    line = 0
    rows = 0
    comments = 0
    while pos < n:
        line += 1
        i = _skip_spaces(buf, pos, n)
        if i < n and buf[i] == SEMICOLON:
            end = _line_end(buf, i, n)
            comment_start[comments] = pos
            comment_end[comments] = end
            comments += 1
        elif i < n and buf[i] != NEWLINE:
            end, exact[rows] = _parse_line(buf, i, n, whole, values, rows)
            line_no[rows] = line
            line_start[rows] = pos
            line_end[rows] = end
            rows += 1
        else:
            end = i
        pos = end + 1
    return (
        values[:, :rows],
        line_no[:rows],
        line_start[:rows],
        line_end[:rows],
        exact[:rows],
        comment_start[:comments],
        comment_end[:comments],
    )
