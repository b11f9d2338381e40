"""Write a job table to a workload file chosen by its name: Parquet (every column) or SWF (18 fields)."""

from __future__ import annotations

from pathlib import Path

from pmtwin.workload.jobs import JobTable

WRITE_SUFFIXES = (".parquet", ".swf", ".swf.gz")


def check_output(path: Path) -> None:
    """A user error unless ``path`` names a format ``write_workload`` writes and ``check_folder``
    passes (checked before any work is done)."""
    if not path.name.lower().endswith(WRITE_SUFFIXES):
        raise ValueError(f"{path}: unknown output format; name the file *.parquet, *.swf or *.swf.gz")
    check_folder(path)


def check_folder(path: Path) -> None:
    """A user error unless ``path`` can be written as a file: not a folder, in a folder that exists."""
    if path.is_dir():
        raise ValueError(f"{path}: is a folder; give a file name")
    if not path.parent.is_dir():
        raise ValueError(f"{path}: the folder {path.parent} does not exist")


def write_workload(
    jobs: JobTable,
    path: Path,
    *,
    capacity: int | None = None,
    unit: str = "nodes",
    notes: tuple[str, ...] = (),
    header: dict[str, str] | None = None,
) -> str:
    """Write ``jobs`` to ``path`` (.parquet, .swf or .swf.gz) and return the format's name.

    Parquet keeps every column (QOS, constraints, GPUs, shared requests, dependencies, power classes).
    SWF keeps what its 18 fields hold (submit, run and requested time, size, user, group, partition).
    The header's MaxProcs is ``capacity`` (default: the largest job); its Note says what the sizes
    count (``unit``: nodes, or an SWF trace's processors) and carries ``notes``; ``header`` adds lines
    (an SWF source's UnixStartTime and time zone, say).
    """
    check_output(path)
    if path.name.lower().endswith(".parquet"):
        from pmtwin.workload.parquet_io import write_jobs_parquet

        write_jobs_parquet(jobs, path)
        return "parquet"
    from pmtwin.workload.swf import write_swf

    largest = int(jobs.size.max()) if len(jobs) else 1
    lines = {
        "Version": "2.2",
        "Computer": "pmtwin",
        "MaxJobs": str(len(jobs)),
        "MaxRecords": str(len(jobs)),
        "MaxProcs": str(capacity if capacity is not None else largest),
        "Note": " / ".join((f"sizes are {unit}", *notes)),
        **(header or {}),
    }
    write_swf(jobs, path, header=lines)
    return "swf"
