"""Workloads: jobs as columnar data, readers and writers, generators."""

from pmtwin.workload.errors import WorkloadFormatError
from pmtwin.workload.generate import generate_workload
from pmtwin.workload.jobs import JobTable
from pmtwin.workload.model import WorkloadModel, load_workload_model
from pmtwin.workload.parquet_io import read_jobs_parquet, write_jobs_parquet
from pmtwin.workload.sacct import SacctTrace, read_sacct
from pmtwin.workload.swf import SwfTrace, read_swf, write_swf
from pmtwin.workload.write import write_workload

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
