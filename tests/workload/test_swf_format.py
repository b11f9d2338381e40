"""read_swf and write_swf on small hand-written files: normalisation rules, bad input, gzip, header."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from pmtwin.workload import JobTable, WorkloadFormatError, read_swf, write_swf

HEADER = """\
; Version: 2.2
; Computer: test machine
; MaxNodes: 16 (one partition)
; MaxProcs: 64
;   a note without a key: http://example.org/
; Partition: 1 batch
; Partition: 2 debug
"""


def line(
    job: int,
    submit: int,
    run: float,
    procs: int,
    requested: float = -1,
    *,
    req_procs: int = -1,
    user: int = 1,
    group: int = 2,
    partition: int = 1,
) -> str:
    """One SWF data line (wait 0, status 1, unknown fields -1)."""
    fields = (job, submit, 0, run, procs, -1, -1, req_procs, requested, -1, 1, user, group, -1, -1, partition)
    return " ".join(map(str, fields)) + " -1 -1"


def write(tmp_path: Path, text: str, name: str = "trace.swf") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_normalisation_rules(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        HEADER
        + "\n".join(
            [
                line(1, 10, 100, 4, 50),  # requested < run -> run
                line(2, 5, 100, -1, 200, req_procs=8),  # size from requested processors
                line(3, 5, 0, 4, 100),  # run <= 0: skipped
                line(4, 6, 10, -1, 100),  # size <= 0: skipped
                line(5, 7, 10, 100, -1),  # capped to MaxProcs 64; requested -1 -> run
                line(6, 7, -1, -1, -1),  # run <= 0 counted first
            ]
        )
        + "\n",
    )
    trace = read_swf(path)
    assert trace.skipped == {"run<=0": 2, "size<=0": 1}
    assert (trace.capacity, trace.capacity_source, trace.capped, trace.records) == (64, "MaxProcs", 1, 6)
    jobs = trace.jobs
    assert jobs.job_id.tolist() == [2, 5, 1]  # (submit, id) order
    assert jobs.size.tolist() == [8, 64, 4]
    assert jobs.requested_s.tolist() == [200.0, 10.0, 100.0]
    assert jobs.work_s.tolist() == [100.0, 10.0, 100.0]
    assert jobs.partition_names == ("batch",)
    assert trace.header["MaxNodes"] == "16 (one partition)"
    assert trace.header["Partition"] == "1 batch"
    assert trace.unix_start_time is None


def test_capacity_fallbacks(tmp_path: Path) -> None:
    body = line(1, 0, 10, 300) + "\n" + line(2, 1, 10, 40) + "\n"
    nodes = read_swf(write(tmp_path, "; MaxProcs: -1\n; MaxNodes: 338 (batch partition; 512 total)\n" + body))
    assert (nodes.capacity, nodes.capacity_source, nodes.capped) == (338, "MaxNodes", 0)
    largest = read_swf(write(tmp_path, "; MaxProcs: lots\n" + body))
    assert (largest.capacity, largest.capacity_source) == (300, "largest size")
    override = read_swf(write(tmp_path, body), capacity=32)
    assert (override.capacity, override.capacity_source, override.capped) == (32, "override", 2)
    with pytest.raises(ValueError, match="capacity"):
        read_swf(write(tmp_path, body), capacity=0)


def test_partitions_and_order(tmp_path: Path) -> None:
    body = [
        line(3, 5, 10, 1, partition=7),
        line(1, 5, 10, 1, partition=-1),
        line(2, 5, 10, 1, partition=2),
        line(2, 5, 10, 1, partition=2, user=9),  # same (submit, id): input order kept
    ]
    trace = read_swf(write(tmp_path, HEADER + "\n".join(body)))  # no final newline
    jobs = trace.jobs
    assert jobs.job_id.tolist() == [1, 2, 2, 3]
    assert jobs.user.tolist() == [1, 1, 9, 1]
    assert jobs.partition_names == ("unknown", "debug", "7")
    assert trace.partition_numbers == (-1, 2, 7)
    assert jobs.partition.tolist() == [0, 1, 1, 2]


def test_comments_blank_lines_and_crlf(tmp_path: Path) -> None:
    text = (
        "; Version: 2.2\r\n\r\n"
        + line(1, 0, 10, 2)
        + "\r\n   \n; late comment: ignored\n"
        + line(2, 1, 1.5, 2)
    )
    trace = read_swf(write(tmp_path, text))
    assert trace.jobs.work_s.tolist() == [10.0, 1.5]
    assert trace.header == {"Version": "2.2"}


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("1 0 0 abc 4 -1 -1 4 10 -1 1 1 1 -1 -1 1 -1 -1", "field 4 (run time): 'abc' is not a number"),
        ("1 0 0 10 4 -1 -1 4 10 -1 1 1 1 -1 -1 1 -1", "17 fields, an SWF line has 18"),
        ("1 0 0 10 4 -1 -1 4 10 -1 1 1 1 -1 -1 1 -1 -1 7", "19 fields, an SWF line has 18"),
        (
            "1 0 0 10 2.5 -1 -1 4 10 -1 1 1 1 -1 -1 1 -1 -1",
            "field 5 (allocated processors): '2.5' is not an integer",
        ),
        ("1 0 0 10 4 -1 -1 4 nan -1 1 1 1 -1 -1 1 -1 -1", "field 9 (requested time): 'nan' is not a number"),
        ("1 0 0 1e999 4 -1 -1 4 1 -1 1 1 1 -1 -1 1 -1 -1", "field 4 (run time): '1e999' is out of range"),
        ("1 0 0 10 4 -1 -1 4 1_0 -1 1 1 1 -1 -1 1 -1 -1", "field 9 (requested time): '1_0' is not a number"),
        ("1 0 0 10 4 -1 -1 4 10 -1 1 1 1 -1 -1 1 -1 -1 ; note", "20 fields, an SWF line has 18"),
    ],
)
def test_malformed_line_names_file_line_and_field(tmp_path: Path, bad: str, message: str) -> None:
    path = write(tmp_path, HEADER + line(1, 0, 10, 4) + "\n\n" + bad + "\n" + line(3, 5, 10, 4) + "\n")
    bad_line = HEADER.count("\n") + 3
    with pytest.raises(WorkloadFormatError) as err:
        read_swf(path)
    assert str(err.value) == f"{path}:{bad_line}: {message}"
    assert (err.value.line, err.value.path) == (bad_line, str(path))
    trace = read_swf(path, skip_bad_lines=True)
    assert trace.skipped == {"run<=0": 0, "size<=0": 0, "malformed": 1}
    assert trace.jobs.job_id.tolist() == [1, 3]
    assert trace.records == 3


def test_first_bad_line_is_reported(tmp_path: Path) -> None:
    good = line(1, 0, 10, 4)
    text = "\n".join([good, "x", good, good.replace(" 4 ", " 4.5 ", 1), "y"])
    with pytest.raises(WorkloadFormatError, match=r"trace\.swf:2: 1 fields"):
        read_swf(write(tmp_path, text))
    assert read_swf(write(tmp_path, text), skip_bad_lines=True).skipped["malformed"] == 3


def test_numbers_beyond_the_fast_path_are_exact(tmp_path: Path) -> None:
    fields = [
        "1",
        "0.1234567890123456789",
        "-1",
        "1e3",
        "+4",
        ".5",
        "5.",
        "2",
        "1234567890123456789",
        "-0",
        "1",
        "1",
        "1",
        "-1",
        "-1",
        "1",
        "-1",
        "-1.000000000000000000000000",
    ]
    trace = read_swf(write(tmp_path, " ".join(fields) + "\n"))
    jobs = trace.jobs
    assert jobs.submit_s[0] == float("0.1234567890123456789")
    assert jobs.work_s[0] == 1000.0
    assert jobs.size[0] == 4
    assert jobs.requested_s[0] == 1234567890123456789.0


def test_gzip_detected_by_content_not_extension(tmp_path: Path) -> None:
    text = HEADER + line(1, 0, 10, 4) + "\n"
    packed = tmp_path / "trace.swf"
    packed.write_bytes(gzip.compress(text.encode()))
    plain = write(tmp_path, text, "plain.swf.gz")
    assert read_swf(packed).jobs.job_id.tolist() == read_swf(plain).jobs.job_id.tolist() == [1]


def test_unreadable_files(tmp_path: Path) -> None:
    missing = tmp_path / "absent.swf"
    with pytest.raises(WorkloadFormatError, match="absent.swf: cannot read file"):
        read_swf(missing)
    broken = tmp_path / "broken.swf.gz"
    broken.write_bytes(gzip.compress(b"; Version: 2.2\n" * 100)[:40])
    with pytest.raises(WorkloadFormatError, match="broken.swf.gz: gzip data is truncated"):
        read_swf(broken)
    garbage = tmp_path / "garbage.swf"
    garbage.write_bytes(b"\x1f\x8bnot really gzip")
    with pytest.raises(WorkloadFormatError, match="garbage.swf: not a valid gzip file"):
        read_swf(garbage)


def test_empty_file(tmp_path: Path) -> None:
    trace = read_swf(write(tmp_path, ""))
    assert len(trace.jobs) == 0
    assert (trace.capacity, trace.capacity_source, trace.records) == (1, "largest size", 0)


def test_write_bare_table_and_read_back(tmp_path: Path) -> None:
    jobs = JobTable(
        job_id=np.array([1, 2, 3]),
        submit_s=np.array([0.0, 0.25, 7.0]),
        work_s=np.array([10.0, 1e-7, 3.0]),
        requested_s=np.array([20.0, 1.0, 3.0]),
        size=np.array([2, 4, 1]),
        partition=np.array([1, 0, 2], np.int32),
        partition_names=("unknown", "regular", "1"),
        gpus=np.array([4, 0, 0]),
    )
    path = tmp_path / "out.swf"
    write_swf(jobs, path)
    text = path.read_text()
    assert text.splitlines()[:5] == [
        "; Version: 2.2",
        "; MaxJobs: 3",
        "; MaxRecords: 3",
        "; Partition: 1 regular",
        "; Partition: 2 1",
    ]
    assert text.splitlines()[6] == "2 0.25 -1 0.0000001 4 -1 -1 4 1 -1 -1 -1 -1 -1 -1 -1 -1 -1"
    back = read_swf(path).jobs
    for name in ("job_id", "submit_s", "work_s", "requested_s", "size", "partition", "user", "group"):
        np.testing.assert_array_equal(getattr(back, name), getattr(jobs, name), err_msg=name)
    assert back.partition_names == jobs.partition_names
    assert back.gpus.tolist() == [0, 0, 0]  # SWF has no GPU field


def test_write_rejects_what_swf_cannot_hold(tmp_path: Path) -> None:
    jobs = JobTable(
        job_id=np.array([1]),
        submit_s=np.array([0.0]),
        work_s=np.array([1.0]),
        requested_s=np.array([np.inf]),
        size=np.array([1]),
        partition=np.array([0], np.int32),
    )
    with pytest.raises(ValueError, match="requested_s"):
        write_swf(jobs, tmp_path / "x.swf")
    with pytest.raises(ValueError, match="header item"):
        write_swf(read_swf(write(tmp_path, line(1, 0, 1, 1))), tmp_path / "y.swf", header={"bad key": "x"})


def test_header_partition_item_that_disagrees_is_dropped(tmp_path: Path) -> None:
    trace = read_swf(write(tmp_path, HEADER + line(1, 0, 10, 4, partition=1) + "\n"))
    out = tmp_path / "out.swf"
    write_swf(trace, out, header={**trace.header, "Partition": "1 other"})
    back = read_swf(out)
    assert back.jobs.partition_names == ("batch",)
    assert back.header["Partition"] == "1 batch"


def test_gzip_output_is_deterministic(tmp_path: Path) -> None:
    trace = read_swf(write(tmp_path, HEADER + line(1, 0, 10, 4) + "\n"))
    write_swf(trace, tmp_path / "a.swf.gz")
    write_swf(trace, tmp_path / "b.swf.gz")
    assert (tmp_path / "a.swf.gz").read_bytes() == (tmp_path / "b.swf.gz").read_bytes()
    assert (tmp_path / "a.swf.gz").read_bytes()[:2] == b"\x1f\x8b"
