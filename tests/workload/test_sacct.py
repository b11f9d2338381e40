"""read_sacct on hand-written ``sacct --parsable2`` output: steps, arrays, limits, TRES, time zones,
jobs that never ran, and errors that name the file, line and column."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from pmtwin.workload import SacctTrace, WorkloadFormatError, read_sacct

DATA = Path(__file__).parent / "data"
PERLMUTTER = DATA / "sacct_perlmutter.txt"
HOUR_S = 3600.0
MARCH_1_UTC_S = 1709251200.0  # 2024-03-01T00:00:00Z


def by_id(trace: SacctTrace) -> dict[int, int]:
    return {int(job_id): row for row, job_id in enumerate(trace.jobs.job_id)}


def test_jobs_kept_and_reasons_counted() -> None:
    trace = read_sacct(PERLMUTTER)
    assert trace.jobs.job_id.tolist() == [1010, 1002, 1003, 1001, 1004, 1005]
    assert trace.skipped == {
        "step": 4,
        "pending array": 1,
        "not started": 3,
        "not ended": 1,
        "run<=0": 1,
        "size<=0": 0,
    }
    assert trace.records == 16 == len(trace.jobs) + sum(trace.skipped.values())


def test_columns() -> None:
    trace = read_sacct(PERLMUTTER)
    jobs, row = trace.jobs, by_id(trace)
    r = row[1001]
    assert jobs.submit_s[r] == MARCH_1_UTC_S + 10 * HOUR_S
    assert (jobs.work_s[r], jobs.requested_s[r], jobs.size[r], jobs.gpus[r]) == (3600, 7200, 4, 16)
    assert jobs.partition_names[jobs.partition[r]] == "gpu_ss11"
    assert jobs.constraint_names[jobs.constraint[r]] == "gpu"
    assert trace.user_names[jobs.user[r]] == "alice"
    assert trace.group_names[jobs.group[r]] == "m1234"
    assert trace.qos_names[trace.qos[r]] == "gpu_regular"
    # array task 1002_1 is job 1003 (JobIDRaw); "30:00" is 30 minutes
    assert (jobs.work_s[row[1003]], jobs.requested_s[row[1003]]) == (1800, 1800)
    assert (jobs.size[row[1002]], jobs.requested_s[row[1002]]) == (2, 86400)  # 1-00:00:00
    assert jobs.gpus[row[1004]] == 4  # only typed entries: gres/gpu:a100=4
    assert jobs.requested_s[row[1010]] == 600  # "10": minutes
    assert (jobs.group[row[1010]], jobs.constraint[row[1010]]) == (-1, 0)  # no account, no constraint
    assert jobs.partition_names == ("gpu_ss11", "regular_milan_ss11", "shared")
    assert jobs.constraint_names == ("", "cpu", "gpu", "gpu&hbm80g")
    assert trace.user_names == ("alice", "bob", "carol", "frank")
    assert trace.qos_names == ("gpu_debug", "gpu_regular", "regular_1", "shared")


def test_unlimited_limits_take_the_largest_limit_seen() -> None:
    trace = read_sacct(PERLMUTTER)
    jobs, row = trace.jobs, by_id(trace)
    assert trace.unlimited == 2
    assert jobs.requested_s[row[1004]] == 86400  # UNLIMITED, run 600: the largest limit read
    assert jobs.requested_s[row[1005]] == 100800  # Partition_Limit, run longer than any limit
    assert np.all(jobs.requested_s >= jobs.work_s)


def test_time_zone() -> None:
    utc = read_sacct(PERLMUTTER)
    pacific = read_sacct(PERLMUTTER, tz="America/Los_Angeles")
    np.testing.assert_array_equal(pacific.jobs.submit_s - utc.jobs.submit_s, 8 * HOUR_S)  # PST
    np.testing.assert_array_equal(pacific.jobs.work_s, utc.jobs.work_s)
    with pytest.raises(ValueError, match="unknown time zone 'Mars/Olympus'"):
        read_sacct(PERLMUTTER, tz="Mars/Olympus")


def write(tmp_path: Path, text: str, name: str = "sacct.txt") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_parsable_start_end_timelimitraw_group(tmp_path: Path) -> None:
    text = (
        "JobID|Group|Submit|Start|End|TimelimitRaw|NNodes|ReqTRES|\n"
        "7|physics|2024-11-03T01:30:00|2024-11-03T01:40:00|2024-11-03T03:00:00|120|2|gres/gpu=8|\n"
        "8|physics|2024-07-01T12:00:00|2024-07-01T12:00:00|2024-07-01T12:00:09|UNLIMITED|1||\n"
        "8.batch|physics|2024-07-01T12:00:00|2024-07-01T12:00:00|2024-07-01T12:00:09||1||\n"
    )
    trace = read_sacct(write(tmp_path, text), tz="America/Los_Angeles")
    jobs = trace.jobs
    assert jobs.job_id.tolist() == [8, 7]
    assert jobs.submit_s.tolist() == [1719860400.0, 1730622600.0]  # PDT; 01:30 read as its first occurrence
    # 01:40 PDT to 03:00 PST: 2 h 20 min of real time
    assert jobs.work_s.tolist() == [9.0, 2 * HOUR_S + 20 * 60]
    assert jobs.requested_s.tolist() == [7200.0, 8400.0]
    assert jobs.gpus.tolist() == [0, 8]
    assert trace.group_names == ("physics",)
    assert trace.jobs.partition_names == ("unknown",)
    assert trace.skipped["step"] == 1


def test_no_time_limit_column_means_requested_is_run(tmp_path: Path) -> None:
    trace = read_sacct(write(tmp_path, "JobIDRaw|Submit|ElapsedRaw|NNodes\n5|2024-01-01T00:00:00|42|3\n"))
    assert trace.jobs.requested_s.tolist() == [42.0]
    assert trace.unlimited == 0


def test_gzip_input(tmp_path: Path) -> None:
    path = tmp_path / "sacct.out"
    path.write_bytes(gzip.compress(PERLMUTTER.read_bytes()))
    assert read_sacct(path).jobs.job_id.tolist() == read_sacct(PERLMUTTER).jobs.job_id.tolist()


HEAD = "JobID|JobIDRaw|Submit|Start|End|Elapsed|Timelimit|NNodes|AllocTRES|State\n"
GOOD = "1|1|2024-01-01T00:00:00|2024-01-01T00:00:00|2024-01-01T01:00:00|01:00:00|02:00:00|1||COMPLETED\n"


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (
            "2|2|yesterday|2024-01-01T00:00:00|2024-01-01T01:00:00|01:00:00|02:00:00|1||COMPLETED",
            "column Submit: 'yesterday' is not a time (YYYY-MM-DDTHH:MM:SS)",
        ),
        (
            "2|2|2024-13-01T00:00:00|2024-01-01T00:00:00|2024-01-01T01:00:00|01:00:00|02:00:00|1||COMPLETED",
            "column Submit: '2024-13-01T00:00:00' is not a valid date and time",
        ),
        (
            "2|2|2024-01-01T00:00:00|2024-01-01T00:00:00|2024-01-01T01:00:00|1h|02:00:00|1||COMPLETED",
            "column Elapsed: '1h' is not a duration ([D-]HH:MM:SS)",
        ),
        (
            "2|2|2024-01-01T00:00:00|2024-01-01T00:00:00|2024-01-01T01:00:00|01:00:00|forever|1||COMPLETED",
            "column Timelimit: 'forever' is not a duration ([D-]HH:MM:SS)",
        ),
        (
            "2|2|2024-01-01T00:00:00|2024-01-01T00:00:00|2024-01-01T01:00:00|01:00:00|02:00:00|two||COMPLETED",
            "column NNodes: 'two' is not a whole number",
        ),
        (
            "2|2|2024-01-01T00:00:00|2024-01-01T00:00:00|2024-01-01T01:00:00|01:00:00|02:00:00|1|gres/gpu|COMPLETED",
            "column AllocTRES: 'gres/gpu' in 'gres/gpu' is not a TRES entry (name=count)",
        ),
        (
            "2|2|2024-01-01T00:00:00|2024-01-01T00:00:00|01:00:00|02:00:00|1||COMPLETED",
            "9 columns, the header has 10",
        ),
    ],
)
def test_malformed_line_names_file_line_and_column(tmp_path: Path, bad: str, message: str) -> None:
    path = write(tmp_path, HEAD + GOOD + "\n" + bad + "\n" + GOOD)
    with pytest.raises(WorkloadFormatError) as err:
        read_sacct(path)
    assert str(err.value) == f"{path}:4: {message}"
    trace = read_sacct(path, skip_bad_lines=True)
    assert trace.skipped["malformed"] == 1
    assert len(trace.jobs) == 2


def test_array_task_without_jobidraw_is_an_error(tmp_path: Path) -> None:
    text = "JobID|Submit|Elapsed|NNodes\n12_3|2024-01-01T00:00:00|00:01:00|1\n"
    with pytest.raises(
        WorkloadFormatError, match=r"sacct.txt:2: column JobID: '12_3' has no unique integer id"
    ):
        read_sacct(write(tmp_path, text))


def test_header_must_name_the_needed_columns(tmp_path: Path) -> None:
    with pytest.raises(WorkloadFormatError, match=r"sacct.txt:2: no column JobID, NNodes, ElapsedRaw or"):
        read_sacct(write(tmp_path, "\nUser|Submit|Start\n"))
    with pytest.raises(WorkloadFormatError, match="empty file"):
        read_sacct(write(tmp_path, "\n\n"))
    with pytest.raises(WorkloadFormatError, match="cannot read file"):
        read_sacct(tmp_path / "absent.txt")
