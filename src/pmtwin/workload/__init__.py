"""Workloads: jobs as columnar data, readers and writers, generators."""

from pmtwin.workload.errors import WorkloadFormatError
from pmtwin.workload.jobs import JobTable
from pmtwin.workload.parquet_io import read_jobs_parquet, write_jobs_parquet
from pmtwin.workload.sacct import SacctTrace, read_sacct
from pmtwin.workload.swf import SwfTrace, read_swf, write_swf
from pmtwin.workload.synthetic import DEFAULT_MIX, DefaultMix, default_workload

__all__ = [
    "DEFAULT_MIX",
    "DefaultMix",
    "JobTable",
    "SacctTrace",
    "SwfTrace",
    "WorkloadFormatError",
    "default_workload",
    "read_jobs_parquet",
    "read_sacct",
    "read_swf",
    "write_jobs_parquet",
    "write_swf",
]
