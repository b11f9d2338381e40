"""The compiled hot loops (``_cnative.c``), loaded through ctypes.

ctypes releases the GIL during each call, and loading the library costs milliseconds, which keeps
process start-up fast. Arrays are passed as raw pointers: callers hand over C-contiguous arrays of the
dtypes the C code declares (``pointer`` checks them).
"""

from __future__ import annotations

import ctypes
import importlib.util
from functools import cache
from typing import Any

import numpy as np

_F8, _I8, _B1 = np.float64, np.int64, np.int8
ENGINE_FIELDS: tuple[tuple[str, type], ...] = (
    ("submit_s", _F8), ("requested_s", _F8), ("size", _I8), ("pool", _I8), ("work_left", _F8),
    ("rate", _F8), ("last_s", _F8), ("start_s", _F8), ("end_s", _F8), ("status", _B1), ("qnext", _I8),
    ("qprev", _I8), ("node_off", _I8),
    ("capacity", _I8), ("free", _I8), ("qhead", _I8), ("qtail", _I8), ("qlen", _I8), ("dirty", _B1),
    ("run_base", _I8), ("run_end", _I8), ("run_lo", _I8), ("run_hi", _I8), ("node_base", _I8),
    ("node_len", _I8),
    ("run_key", _F8), ("run_job", _I8), ("heap_t", _F8), ("heap_j", _I8), ("heap_len", _I8),
    ("free_nodes", _I8), ("node_ids", _I8), ("prof_t", _F8), ("prof_free", _I8), ("next_submit", _I8),
    ("released", _B1), ("prof_meta", _I8), ("clock_s", _F8),
    ("power_mw", _I8), ("power", _I8), ("power_shadow_s", _F8), ("grun_key", _F8), ("grun_job", _I8),
    ("grun_meta", _I8),
)  # fmt: skip
"""The pointer fields of the C ``State`` struct, in order, with their element types; three int64
counts follow."""


class EngineState(ctypes.Structure):
    _fields_ = [(name, ctypes.c_void_p) for name, _ in ENGINE_FIELDS] + [
        ("n_jobs", ctypes.c_int64),
        ("n_pools", ctypes.c_int64),
        ("assign_nodes", ctypes.c_int64),
    ]


@cache
def library() -> ctypes.CDLL:
    """The compiled library (built by ``pip install``; see pyproject.toml)."""
    spec = importlib.util.find_spec("pmtwin._cnative")
    if spec is None or spec.origin is None:
        raise ImportError("pmtwin's compiled part (pmtwin._cnative) is missing: run pip install -e . again")
    lib = ctypes.CDLL(spec.origin)
    lib.pm_advance.argtypes = [ctypes.POINTER(EngineState), ctypes.c_int, ctypes.c_double]
    lib.pm_advance.restype = ctypes.c_int
    lib.pm_scan_swf.argtypes = (ctypes.c_void_p, ctypes.c_int64) + (ctypes.c_void_p,) * 9
    lib.pm_scan_swf.restype = None
    lib.pm_slurm_advance.argtypes = [ctypes.c_void_p, ctypes.c_double]
    lib.pm_slurm_advance.restype = ctypes.c_int
    return lib


def pointer(array: np.ndarray[Any, Any], dtype: type) -> int:
    """The address of a C-contiguous array of ``dtype`` (anything else is a programming error)."""
    if array.dtype != dtype or not array.flags.c_contiguous:
        raise TypeError(f"expected a C-contiguous {np.dtype(dtype)} array, got {array.dtype}")
    return int(array.ctypes.data)
