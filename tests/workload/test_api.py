"""The public names of ``pmtwin.workload`` (pinned), and a light import."""

from __future__ import annotations

import subprocess
import sys

import pytest

import pmtwin.workload


def test_public_names() -> None:
    assert sorted(pmtwin.workload.__all__) == [
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
    assert issubclass(pmtwin.workload.WorkloadFormatError, ValueError)


def test_import_loads_neither_the_compiled_part_nor_pyarrow_nor_pydantic() -> None:
    code = (
        "import sys, pmtwin.workload; "
        "print('pmtwin._native' in sys.modules, 'pyarrow' in sys.modules, 'pydantic' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False", "False"]


def test_lazy_names_resolve() -> None:
    assert pmtwin.workload.generate_workload.__name__ == "generate_workload"
    assert pmtwin.workload.WorkloadModel.__name__ == "WorkloadModel"
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = pmtwin.workload.nope
