"""Write a job table to a workload file chosen by its name: Parquet (every column) or SWF (18 fields)."""

from __future__ import annotations

from pathlib import Path

from pmtwin.workload.jobs import JobTable

WRITE_SUFFIXES = (".parquet", ".swf", ".swf.gz")


def write_workload(
    jobs: JobTable, path: Path, *, capacity: int | None = None, notes: tuple[str, ...] = ()
) -> str:
    """Write ``jobs`` to ``path`` (.parquet, .swf or .swf.gz) and return the format's name.

    Parquet keeps every column (QOS, constraints, GPUs, shared requests, dependencies, power classes).
    SWF keeps what its 18 fields hold (submit, run and requested time, size, user, group, partition);
    The header's MaxProcs is ``capacity`` (default: the largest job), its Note says that sizes are nodes
    and carries ``notes``.
    """
    name = path.name.lower()
    if name.endswith(".parquet"):
        from pmtwin.workload.parquet_io import write_jobs_parquet

        write_jobs_parquet(jobs, path)
        return "parquet"
    if name.endswith((".swf", ".swf.gz")):
        from pmtwin.workload.swf import write_swf

        nodes = capacity if capacity is not None else int(jobs.size.max()) if len(jobs) else 1
        header = {
            "Version": "2.2",
            "Computer": "pmtwin workload generator",
            "MaxJobs": str(len(jobs)),
            "MaxRecords": str(len(jobs)),
            "MaxProcs": str(nodes),
            "Note": " / ".join(("sizes are nodes, not processors", *notes)),
        }
        write_swf(jobs, path, header=header)
        return "swf"
    raise ValueError(f"{path}: unknown output format; name the file *.parquet, *.swf or *.swf.gz")
