"""Workloads: jobs as columnar data, readers and writers, generators.

The generator, its models and the writer are imported on first use (they need pydantic), so that
reading a trace, or importing the job table, stays cheap.
"""

import importlib
from typing import Any

from pmtwin.workload.errors import WorkloadFormatError
from pmtwin.workload.jobs import JobTable
from pmtwin.workload.parquet_io import read_jobs_parquet, write_jobs_parquet
from pmtwin.workload.sacct import SacctTrace, read_sacct
from pmtwin.workload.swf import SwfTrace, read_swf, write_swf

_LAZY = {
    "WorkloadModel": "pmtwin.workload.model",
    "generate_workload": "pmtwin.workload.generate",
    "load_workload_model": "pmtwin.workload.model",
    "write_workload": "pmtwin.workload.write",
}

__all__ = [
    "JobTable",
    "SacctTrace",
    "SwfTrace",
    "WorkloadFormatError",
    "WorkloadModel",
    "generate_workload",
    "load_workload_model",
    "read_jobs_parquet",
    "read_sacct",
    "read_swf",
    "write_jobs_parquet",
    "write_swf",
    "write_workload",
]


def __getattr__(name: str) -> Any:
    home = _LAZY.get(name)
    if home is None:
        raise AttributeError(f"module 'pmtwin.workload' has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
