"""The Slurm-mode JobTable columns through Parquet: qos with its names, limit_s, cores, mem_mb, array_id,
array_throttle and dependencies round-trip; older files read with the defaults; errors name the file
and column."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pmtwin.workload import JobTable, WorkloadFormatError, read_jobs_parquet, write_jobs_parquet
from pmtwin.workload.alibaba import read_alibaba
from pmtwin.workload.jobs import AFTERANY, AFTEROK, COLUMN_DTYPES, Dependencies
from tests.conftest import shared_dir

Triple = tuple[int, int, int]


def triples(depends: Dependencies | None) -> list[Triple] | None:
    """The dependencies as sorted (job, on, kind) triples: their order carries no meaning."""
    if depends is None:
        return None
    rows = zip(depends.job_id.tolist(), depends.on_id.tolist(), depends.kind.tolist(), strict=True)
    return sorted(rows)


def assert_same(a: JobTable, b: JobTable) -> None:
    for name, dtype in COLUMN_DTYPES.items():
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
        assert getattr(b, name).dtype == dtype
    assert (a.partition_names, a.constraint_names, a.qos_names) == (
        b.partition_names,
        b.constraint_names,
        b.qos_names,
    )
    assert triples(a.depends) == triples(b.depends)


def table(n: int, **columns: object) -> JobTable:
    base = {
        "job_id": np.arange(1, n + 1),
        "submit_s": np.zeros(n),
        "work_s": np.full(n, 10.0),
        "requested_s": np.full(n, 20.0),
        "size": np.ones(n, np.int64),
        "partition": np.zeros(n, np.int32),
    }
    return JobTable(**{**base, **columns})  # type: ignore[arg-type]


@st.composite
def slurm_tables(draw: st.DrawFn) -> JobTable:
    n = draw(st.integers(0, 12))

    def ints(low: int, high: int) -> list[int]:
        return draw(st.lists(st.integers(low, high), min_size=n, max_size=n))

    qos_names = tuple(draw(st.lists(st.text(max_size=8), min_size=1, max_size=4, unique=True)))
    job_id = ints(-(2**63), 2**63 - 1) if draw(st.booleans()) else ints(1, 4)  # ids may repeat
    depends = None
    if n and draw(st.booleans()):
        entries = draw(
            st.lists(
                st.tuples(st.sampled_from(job_id), st.integers(-(2**63), 2**63 - 1), st.sampled_from([1, 2])),
                max_size=8,
            )
        )
        depends = Dependencies(
            np.array([e[0] for e in entries], np.int64),
            np.array([e[1] for e in entries], np.int64),
            np.array([e[2] for e in entries], np.int8),
        )
    return JobTable(
        job_id=np.array(job_id, np.int64),
        submit_s=np.array(draw(st.lists(st.floats(0, 1e9), min_size=n, max_size=n))),
        work_s=np.ones(n),
        requested_s=np.ones(n),
        size=np.array(ints(1, 1000), np.int64),
        partition=np.zeros(n, np.int32),
        qos=np.array(ints(0, len(qos_names) - 1), np.int32),
        qos_names=qos_names,
        limit_s=np.array(draw(st.lists(st.floats(), min_size=n, max_size=n)), np.float64),
        cores=np.array(ints(0, 256), np.int64),
        mem_mb=np.array(ints(0, 2**40), np.int64),
        array_id=np.array(ints(-1, 2**40), np.int64),
        array_throttle=np.array(ints(0, 100), np.int64),
        depends=depends,
    )


@settings(max_examples=150, deadline=None)
@given(jobs=slurm_tables())
def test_round_trip_and_identical_bytes(jobs: JobTable) -> None:
    with tempfile.TemporaryDirectory() as folder:
        first, second = Path(folder) / "a.parquet", Path(folder) / "b.parquet"
        write_jobs_parquet(jobs, first)
        write_jobs_parquet(jobs, second)
        assert first.read_bytes() == second.read_bytes()
        assert_same(jobs, read_jobs_parquet(first))


def test_depends_column_in_slurm_syntax(tmp_path: Path) -> None:
    depends = Dependencies(
        job_id=np.array([2, 3, 2]), on_id=np.array([1, 1, 9]), kind=np.array([AFTEROK, AFTERANY, AFTERANY])
    )
    jobs = table(3, job_id=np.array([1, 2, 3]), depends=depends)
    write_jobs_parquet(jobs, tmp_path / "d.parquet")
    stored = pq.read_table(tmp_path / "d.parquet")
    assert stored.column("depends").to_pylist() == ["", "afterok:1,afterany:9", "afterany:1"]
    assert triples(read_jobs_parquet(tmp_path / "d.parquet").depends) == [
        (2, 1, AFTEROK),
        (2, 9, AFTERANY),
        (3, 1, AFTERANY),
    ]


def test_depends_none_writes_no_column_and_empty_reads_back_empty(tmp_path: Path) -> None:
    write_jobs_parquet(table(2), tmp_path / "none.parquet")
    assert "depends" not in pq.read_schema(tmp_path / "none.parquet").names
    assert read_jobs_parquet(tmp_path / "none.parquet").depends is None
    empty = Dependencies(np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.int8))
    write_jobs_parquet(table(2, depends=empty), tmp_path / "empty.parquet")
    back = read_jobs_parquet(tmp_path / "empty.parquet").depends
    assert back is not None and len(back.job_id) == 0


def test_foreign_depends_with_several_ids_per_kind(tmp_path: Path) -> None:
    base = {"job_id": [5, 6], "submit_s": [0.0, 1.0], "work_s": [1.0, 1.0], "requested_s": [1.0, 1.0]}
    foreign = pa.table({**base, "size": [1, 1], "depends": ["", "afterok:3:4,afterany:5"]})
    pq.write_table(foreign, tmp_path / "f.parquet")
    jobs = read_jobs_parquet(tmp_path / "f.parquet")
    assert triples(jobs.depends) == [(6, 3, AFTEROK), (6, 4, AFTEROK), (6, 5, AFTERANY)]


def test_file_without_slurm_columns_reads_with_defaults(tmp_path: Path) -> None:
    old = pa.table(
        {
            "job_id": [1, 2],
            "submit_s": [0.0, 5.0],
            "work_s": [3.0, 4.0],
            "requested_s": [10.0, 20.0],
            "size": [1, 8],
            "partition": pa.DictionaryArray.from_arrays(pa.array([0, 0], pa.int32()), ["regular"]),
        }
    )
    metadata = {"version": 1, "partition_names": ["regular"], "constraint_names": [""]}
    pq.write_table(
        old.replace_schema_metadata({b"pmtwin.jobs": json.dumps(metadata).encode()}), tmp_path / "v1.parquet"
    )
    jobs = read_jobs_parquet(tmp_path / "v1.parquet")
    assert jobs.qos.tolist() == [0, 0] and jobs.qos_names == ("",)
    assert jobs.limit_s.tolist() == [10.0, 20.0]  # the requested time
    assert jobs.cores.tolist() == [0, 0] and jobs.mem_mb.tolist() == [0, 0]
    assert jobs.array_id.tolist() == [-1, -1] and jobs.array_throttle.tolist() == [0, 0]
    assert jobs.depends is None


def test_foreign_qos_strings_get_sorted_names(tmp_path: Path) -> None:
    base = {"job_id": [1, 2, 3], "submit_s": [0.0] * 3, "work_s": [1.0] * 3, "requested_s": [1.0] * 3}
    pq.write_table(
        pa.table({**base, "size": [1] * 3, "qos": ["shared", "debug", "shared"]}), tmp_path / "q.parquet"
    )
    jobs = read_jobs_parquet(tmp_path / "q.parquet")
    assert jobs.qos_names == ("debug", "shared") and jobs.qos.tolist() == [1, 0, 1]


def test_real_alibaba_jobs_round_trip(tmp_path: Path) -> None:
    jobs = read_alibaba(shared_dir() / "data" / "alibaba-gpu-2023" / "openb_pod_list_default.csv").jobs
    write_jobs_parquet(jobs, tmp_path / "openb.parquet")
    back = read_jobs_parquet(tmp_path / "openb.parquet")
    assert_same(jobs, back)
    assert back.qos_names == ("regular", "shared")


def write_foreign(path: Path, **extra: pa.Array | list[object]) -> Path:
    base = {"job_id": [1, 2], "submit_s": [0.0, 1.0], "work_s": [1.0, 1.0], "requested_s": [1.0, 1.0]}
    pq.write_table(pa.table({**base, "size": [1, 1], **extra}), path)
    return path


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            {"depends": ["", "afterfoo:1"]},
            "column depends, row 1 \\(job 2\\): 'afterfoo:1' is not afterok:ID",
        ),
        ({"depends": ["afterok:x", ""]}, "column depends, row 0 \\(job 1\\): 'afterok:x' is not"),
        ({"depends": ["afterok", ""]}, "column depends, row 0 \\(job 1\\): 'afterok' is not"),
        ({"depends": [1, 2]}, "column depends is int64, not text"),
        ({"depends": ["", None]}, "column depends has 1 missing values"),
        ({"limit_s": ["soon", "later"]}, "column limit_s is not numeric"),
        ({"cores": [4, None]}, "column cores has 1 missing values"),
        ({"array_throttle": [None, None]}, "column array_throttle has 2 missing values"),
    ],
)
def test_errors_name_file_and_column(tmp_path: Path, extra: dict[str, list[object]], message: str) -> None:
    path = write_foreign(tmp_path / "bad.parquet", **extra)
    with pytest.raises(WorkloadFormatError, match=f"bad.parquet: {message}"):
        read_jobs_parquet(path)


def test_qos_values_outside_stored_names(tmp_path: Path) -> None:
    write_jobs_parquet(table(2, qos=np.array([0, 1], np.int32), qos_names=("a", "b")), tmp_path / "q.parquet")
    stored = pq.read_table(tmp_path / "q.parquet")
    metadata = json.loads(stored.schema.metadata[b"pmtwin.jobs"])
    metadata["qos_names"] = ["a"]
    broken = stored.replace_schema_metadata({b"pmtwin.jobs": json.dumps(metadata).encode()})
    pq.write_table(broken, tmp_path / "broken.parquet")
    with pytest.raises(WorkloadFormatError, match="broken.parquet: column qos has values that are not among"):
        read_jobs_parquet(tmp_path / "broken.parquet")


def test_write_refuses_what_it_cannot_store(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="codes outside qos_names"):
        write_jobs_parquet(table(1, qos=np.array([2], np.int32)), tmp_path / "a.parquet")
    orphan = Dependencies(np.array([7]), np.array([1]), np.array([AFTEROK]))
    with pytest.raises(ValueError, match="depends names job 7, which has no row"):
        write_jobs_parquet(table(2, depends=orphan), tmp_path / "b.parquet")
    assert not (tmp_path / "b.parquet").exists()
