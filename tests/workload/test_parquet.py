"""Job tables through Parquet: exact round trips (names included), identical bytes, clear errors."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pmtwin.workload import JobTable, WorkloadFormatError, read_jobs_parquet, read_swf, write_jobs_parquet
from pmtwin.workload.jobs import COLUMN_DTYPES


def assert_same(a: JobTable, b: JobTable) -> None:
    for name in COLUMN_DTYPES:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
        assert getattr(b, name).dtype == COLUMN_DTYPES[name]
    assert (a.partition_names, a.constraint_names) == (b.partition_names, b.constraint_names)


@st.composite
def job_tables(draw: st.DrawFn) -> JobTable:
    n = draw(st.integers(0, 20))

    def column(elements: st.SearchStrategy[float] | st.SearchStrategy[int]) -> list[float] | list[int]:
        return draw(st.lists(elements, min_size=n, max_size=n))

    partitions = tuple(draw(st.lists(st.text(max_size=6), min_size=1, max_size=4, unique=True)))
    constraints = tuple(draw(st.lists(st.text(max_size=6), min_size=1, max_size=3, unique=True)))
    return JobTable(
        job_id=np.array(column(st.integers(-(2**63), 2**63 - 1)), np.int64),
        submit_s=np.array(column(st.floats()), np.float64),
        work_s=np.array(column(st.floats(0, 1e9)), np.float64),
        requested_s=np.array(column(st.floats(0, 1e9)), np.float64),
        size=np.array(column(st.integers(1, 10**6)), np.int64),
        partition=np.array(column(st.integers(0, len(partitions) - 1)), np.int32),
        partition_names=partitions,
        user=np.array(column(st.integers(-1, 10**9)), np.int64),
        group=np.array(column(st.integers(-1, 10**9)), np.int64),
        constraint=np.array(column(st.integers(0, len(constraints) - 1)), np.int32),
        constraint_names=constraints,
        gpus=np.array(column(st.integers(0, 8)), np.int64),
    )


@settings(max_examples=100, deadline=None)
@given(jobs=job_tables())
def test_round_trip_and_identical_bytes(jobs: JobTable) -> None:
    with tempfile.TemporaryDirectory() as folder:
        first, second = Path(folder) / "a.parquet", Path(folder) / "b.parquet"
        write_jobs_parquet(jobs, first)
        write_jobs_parquet(jobs, second)
        assert first.read_bytes() == second.read_bytes()
        assert_same(jobs, read_jobs_parquet(first))


def test_real_trace_round_trip(traces_dir: Path, tmp_path: Path) -> None:
    jobs = read_swf(traces_dir / "KTH-SP2-1996-2.1-cln.swf.gz").jobs
    write_jobs_parquet(jobs, tmp_path / "kth.parquet")
    assert_same(jobs, read_jobs_parquet(tmp_path / "kth.parquet"))
    schema = pq.read_schema(tmp_path / "kth.parquet")
    assert schema.field("partition").type == pa.dictionary(pa.int32(), pa.string())


def test_foreign_parquet_with_plain_strings(tmp_path: Path) -> None:
    table = pa.table(
        {
            "job_id": [2, 1],
            "submit_s": [0.0, 1.0],
            "work_s": [5.0, 6.0],
            "requested_s": [5.0, 9.0],
            "size": [1, 2],
            "partition": ["regular", "debug"],
        }
    )
    pq.write_table(table, tmp_path / "f.parquet")
    jobs = read_jobs_parquet(tmp_path / "f.parquet")
    assert jobs.partition_names == ("debug", "regular")
    assert jobs.partition.tolist() == [1, 0]
    assert jobs.user.tolist() == [-1, -1] and jobs.constraint_names == ("",)


def test_errors(tmp_path: Path) -> None:
    with pytest.raises(WorkloadFormatError, match="absent.parquet: no such file"):
        read_jobs_parquet(tmp_path / "absent.parquet")
    (tmp_path / "text.parquet").write_text("not parquet")
    with pytest.raises(WorkloadFormatError, match="text.parquet: not a readable Parquet file"):
        read_jobs_parquet(tmp_path / "text.parquet")
    pq.write_table(pa.table({"job_id": [1], "size": [None]}), tmp_path / "short.parquet")
    with pytest.raises(WorkloadFormatError, match="short.parquet: no column submit_s, work_s, requested_s"):
        read_jobs_parquet(tmp_path / "short.parquet")
    jobs = JobTable(
        job_id=np.array([1]),
        submit_s=np.array([0.0]),
        work_s=np.array([1.0]),
        requested_s=np.array([1.0]),
        size=np.array([1]),
        partition=np.array([3], np.int32),
    )
    with pytest.raises(ValueError, match="codes outside partition_names"):
        write_jobs_parquet(jobs, tmp_path / "bad.parquet")
