"""read_swf on the shared Parallel Workloads Archive traces: golden facts, agreement with a plain
per-line reader, and write/read round trips."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest

from pmtwin.workload import JobTable, SwfTrace, read_swf, write_swf
from pmtwin.workload.jobs import COLUMN_DTYPES
from tests.workload.reference import ReferenceTrace, read_reference

TRACES = (
    "CEA-Curie-2011-2.1-cln.swf.gz",
    "CTC-SP2-1996-3.1-cln.swf.gz",
    "KTH-SP2-1996-2.1-cln.swf.gz",
    "LANL-CM5-1994-4.1-cln.swf.gz",
    "SDSC-BLUE-2000-4.2-cln.swf.gz",
    "SDSC-SP2-1998-4.2-cln.swf.gz",
)


@functools.cache
def trace(path: Path) -> SwfTrace:
    return read_swf(path)


@functools.cache
def reference(path: Path) -> ReferenceTrace:
    return read_reference(path)


def assert_same_tables(a: JobTable, b: JobTable) -> None:
    for name in COLUMN_DTYPES:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert a.partition_names == b.partition_names
    assert a.constraint_names == b.constraint_names


def test_kth_golden(traces_dir: Path) -> None:
    kth = trace(traces_dir / "KTH-SP2-1996-2.1-cln.swf.gz")
    assert (kth.capacity, kth.capacity_source) == (100, "MaxProcs")
    assert kth.records == 28476
    assert kth.skipped == {"run<=0": 8, "size<=0": 1}
    assert len(kth.jobs) == 28467
    assert kth.capped == 0
    assert kth.unix_start_time == 843480031
    assert kth.header["Version"] == "2.2"
    assert kth.jobs.partition_names == ("unknown",)


def test_curie_golden(traces_dir: Path) -> None:
    curie = trace(traces_dir / "CEA-Curie-2011-2.1-cln.swf.gz")
    assert (curie.capacity, curie.capacity_source) == (93312, "MaxProcs")
    assert curie.records == 312826
    assert curie.skipped == {"run<=0": 17286, "size<=0": 0}
    assert len(curie.jobs) == 295540
    assert curie.header["MaxNodes"] == "5544"
    assert curie.header["Partition"] == "1  test"
    # partitions 16 and 32 are both declared "UNKNOWN": one name, one code, SWF number 16
    names = curie.jobs.partition_names
    assert names.count("UNKNOWN") == 1
    assert curie.partition_numbers[names.index("UNKNOWN")] == 16
    assert names[:3] == ("large", "TestIB", "hybrid")


def test_sdsc_blue_golden(traces_dir: Path) -> None:
    blue = trace(traces_dir / "SDSC-BLUE-2000-4.2-cln.swf.gz")
    assert blue.header["MaxProcs"] == "1152"
    assert blue.header["MaxNodes"] == "144"
    assert (blue.capacity, blue.capacity_source) == (1152, "MaxProcs")
    assert blue.skipped == {"run<=0": 10770, "size<=0": 0}


def test_ctc_capacity_from_header_with_comment(traces_dir: Path) -> None:
    # "MaxNodes: 338 (batch partition; 512 total)" and "MaxProcs: 338"
    ctc = read_swf(traces_dir / "CTC-SP2-1996-3.1-cln.swf.gz", capacity=64)
    assert (ctc.capacity, ctc.capacity_source) == (64, "override")
    assert ctc.capped > 0
    assert int(ctc.jobs.size.max()) == 64


@pytest.mark.parametrize("name", TRACES)
def test_matches_plain_reader(traces_dir: Path, name: str) -> None:
    got, want = trace(traces_dir / name), reference(traces_dir / name)
    assert (got.capacity, got.capacity_source) == (want.capacity, want.capacity_source)
    assert got.skipped == want.skipped
    assert (got.capped, got.records) == (want.capped, want.records)
    assert got.header == want.header
    assert got.jobs.partition_names == want.partition_names
    jobs = got.jobs
    for column in ("job_id", "submit_s", "work_s", "requested_s", "size", "user", "group"):
        np.testing.assert_array_equal(
            getattr(jobs, column), [getattr(job, column) for job in want.jobs], err_msg=column
        )
    partitions = [jobs.partition_names[code] for code in jobs.partition]
    assert partitions == [job.partition for job in want.jobs]
    assert records_sum(got) == got.records


def records_sum(trace: SwfTrace) -> int:
    return len(trace.jobs) + sum(trace.skipped.values())


@pytest.mark.parametrize("name", TRACES)
def test_write_read_round_trip(traces_dir: Path, tmp_path: Path, name: str) -> None:
    first = trace(traces_dir / name)
    out = tmp_path / ("trace.swf.gz" if name.startswith("KTH") else "trace.swf")
    write_swf(first, out)
    second = read_swf(out)
    assert_same_tables(first.jobs, second.jobs)
    assert second.header == first.header
    assert second.partition_numbers == first.partition_numbers
    assert (second.capacity, second.capacity_source) == (first.capacity, first.capacity_source)
    assert second.skipped == {"run<=0": 0, "size<=0": 0}
