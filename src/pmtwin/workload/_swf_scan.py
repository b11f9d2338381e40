"""The SWF byte scanner (compiled, in ``_cnative.c``): data lines to an (18, n) float64 array in one pass.

Only plain decimal numbers that convert exactly are read there: at most 15 significant digits and 22
decimals, so ``mantissa / 10**decimals`` is one correctly rounded division and equals Python's
``float``. A line with anything else (another field count, an exponent, a character that is not part
of such a number, a fraction in a whole-number field) is flagged, and ``_swf_format.parse_data_line``
either reads it or names the problem.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from pmtwin import _native
from pmtwin.workload import _swf_format as fmt

SWF_FIELDS = len(fmt.FIELD_NAMES)  # 18, as the C scanner expects

ScanResult = tuple[
    NDArray[np.float64],  # values, (18, data lines)
    NDArray[np.int64],  # 1-based line number of each data line
    NDArray[np.int64],  # byte where each data line starts
    NDArray[np.int64],  # byte where each data line ends
    NDArray[np.bool_],  # whether each data line was read exactly
    NDArray[np.int64],  # byte where each comment line starts
    NDArray[np.int64],  # byte where each comment line ends
]


def scan_swf(data: bytes) -> ScanResult:
    """Scan the bytes of an SWF file (see the module doc); blank lines are skipped."""
    buf = np.frombuffer(data, np.uint8)
    max_lines = data.count(b"\n") + 1
    whole = np.isin(np.arange(SWF_FIELDS), fmt.INTEGER_FIELDS).astype(np.uint8)
    values = np.empty((max_lines, SWF_FIELDS), np.float64)
    ints = np.empty((5, max_lines), np.int64)  # line no, line start, line end, comment start, comment end
    exact = np.empty(max_lines, np.uint8)
    counts = np.zeros(2, np.int64)
    _native.library().pm_scan_swf(
        buf.ctypes.data if len(buf) else None, len(buf), _native.pointer(whole, np.uint8),
        _native.pointer(values, np.float64), ints[0].ctypes.data, ints[1].ctypes.data, ints[2].ctypes.data,
        _native.pointer(exact, np.uint8), ints[3].ctypes.data, ints[4].ctypes.data,
        _native.pointer(counts, np.int64),
    )
    rows, comments = int(counts[0]), int(counts[1])
    return (
        values[:rows].T,
        ints[0, :rows],
        ints[1, :rows],
        ints[2, :rows],
        exact[:rows].astype(bool),
        ints[3, :comments],
        ints[4, :comments],
    )
