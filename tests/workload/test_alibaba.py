"""read_alibaba: each mapping rule on hand-written pod lists, errors that name the file, line and field,
and the real openb trace checked against counts made here with the csv module."""

from __future__ import annotations

import csv
import gzip
import math
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from pmtwin.workload import WorkloadFormatError
from pmtwin.workload.alibaba import AlibabaTrace, read_alibaba
from tests.conftest import shared_dir

HEADER = (
    "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,"
    "scheduled_time"
)
NO_SKIPS = {"not started": 0, "run<=0": 0, "cpu_only": 0}


def write_pods(folder: Path, *lines: str, header: str = HEADER) -> Path:
    path = folder / "pods.csv"
    path.write_text("\n".join((header, *lines)) + "\n")
    return path


def by_id(trace: AlibabaTrace) -> dict[int, int]:
    return {int(job_id): row for row, job_id in enumerate(trace.jobs.job_id)}


def test_exclusive_pods_take_whole_gpu_nodes(tmp_path: Path) -> None:
    path = write_pods(
        tmp_path,
        "openb-pod-0017,88000,327680,8,1000,,Burstable,Succeeded,100,1100,150",
        "openb-pod-0018,32000,65536,4,1000,V100M32,LS,Failed,200,500,220",
        "openb-pod-0019,8000,1024,6,1000,,BE,Succeeded,300,400,300",
    )
    trace = read_alibaba(path)
    jobs, row = trace.jobs, by_id(trace)
    assert jobs.job_id.tolist() == [17, 18, 19]
    assert jobs.size.tolist() == [2, 1, 2]
    assert jobs.gpus.tolist() == [8, 4, 6]
    assert [jobs.qos_names[code] for code in jobs.qos] == ["regular"] * 3
    assert jobs.cores.tolist() == [0, 0, 0] and jobs.mem_mb.tolist() == [0, 0, 0]
    assert jobs.submit_s[row[17]] == 100.0
    assert jobs.work_s[row[17]] == jobs.requested_s[row[17]] == jobs.limit_s[row[17]] == 950.0
    assert jobs.work_s.tolist() == [950.0, 280.0, 100.0]
    assert jobs.partition_names == ("gpu",) and jobs.partition.tolist() == [0, 0, 0]
    assert jobs.user.tolist() == [-1] * 3 and jobs.group.tolist() == [-1] * 3
    assert trace.skipped == NO_SKIPS and trace.records == 3
    assert (trace.fractional, trace.gpu_milli_requested, trace.gpu_milli_allocated) == (0, 18000, 18000)


def test_small_and_fractional_pods_share_a_node(tmp_path: Path) -> None:
    path = write_pods(
        tmp_path,
        "openb-pod-0001,2500,12288,2,1000,,LS,Running,10,70,20",
        "openb-pod-0002,6000,15258,1,220,,BE,Succeeded,5,50,5",
        "openb-pod-0003,4000,32768,1,1000,,LS,Succeeded,30,90,40",
        "openb-pod-0004,3000,0,3,1000,,LS,Succeeded,30,90,40",
    )
    trace = read_alibaba(path)
    jobs, row = trace.jobs, by_id(trace)
    assert jobs.job_id.tolist() == [2, 1, 3, 4]  # canonical order: submit time, then job id
    assert [jobs.qos_names[code] for code in jobs.qos] == ["shared"] * 4
    assert jobs.size.tolist() == [1, 1, 1, 1]
    assert jobs.gpus[row[2]] == 1  # 220 milli of a GPU gets one whole GPU
    assert jobs.gpus[row[1]] == 2 and jobs.gpus[row[4]] == 3
    assert jobs.cores[row[1]] == 3 and jobs.cores[row[2]] == 6  # ceil(cpu_milli / 1000)
    assert jobs.mem_mb[row[1]] == 12288 and jobs.mem_mb[row[4]] == 0
    assert jobs.work_s[row[1]] == 50.0 and jobs.submit_s[row[1]] == 10.0
    assert trace.fractional == 1
    assert trace.gpu_milli_requested == 2000 + 220 + 1000 + 3000
    assert trace.gpu_milli_allocated == 7000
    assert (trace.cores_capped, trace.mem_capped) == (0, 0)


def test_shared_requests_are_capped_at_the_node(tmp_path: Path) -> None:
    path = write_pods(
        tmp_path,
        "openb-pod-0001,96500,300000,1,1000,,LS,Succeeded,0,10,0",
        "openb-pod-0002,64000,262144,2,1000,,LS,Succeeded,0,10,0",
    )
    trace = read_alibaba(path)
    assert trace.jobs.cores.tolist() == [64, 64]
    assert trace.jobs.mem_mb.tolist() == [262144, 262144]
    assert (trace.cores_capped, trace.mem_capped) == (1, 1)
    small = read_alibaba(path, gpus_per_node=2, cores_per_node=32, mem_mb_per_node=1000)
    assert small.jobs.qos.tolist() == [1, 0]  # 2 GPUs fill a 2-GPU node: exclusive
    assert small.jobs.cores.tolist() == [32, 0] and small.jobs.mem_mb.tolist() == [1000, 0]
    assert (small.cores_capped, small.mem_capped) == (1, 1)
    assert small.facts()["gpus_per_node"] == 2 and small.facts()["mem_mb_per_node"] == 1000


def test_cpu_only_pods_skipped_or_shared(tmp_path: Path) -> None:
    path = write_pods(
        tmp_path,
        "openb-pod-0001,1500,2048,0,0,,BE,Succeeded,0,60,10",
        "openb-pod-0002,1000,2048,1,500,,BE,Succeeded,0,60,10",
    )
    skipped = read_alibaba(path)
    assert skipped.jobs.job_id.tolist() == [2]
    assert skipped.skipped == {**NO_SKIPS, "cpu_only": 1}
    shared = read_alibaba(path, cpu_pods="shared")
    assert shared.jobs.job_id.tolist() == [1, 2] and shared.skipped == NO_SKIPS
    assert shared.jobs.gpus.tolist() == [0, 1] and shared.jobs.cores.tolist() == [2, 1]
    assert shared.jobs.qos.tolist() == [1, 1] and shared.jobs.size.tolist() == [1, 1]
    assert shared.gpu_milli_requested == 500 and shared.gpu_milli_allocated == 1000
    assert shared.facts()["cpu_pods"] == "shared"


def test_pods_that_never_ran_are_counted_by_reason(tmp_path: Path) -> None:
    path = write_pods(
        tmp_path,
        "openb-pod-0001,1000,1024,1,1000,,LS,Pending,0,900,",
        "openb-pod-0002,1000,1024,1,1000,,LS,Pending,0,900,5",
        "openb-pod-0003,1000,1024,1,1000,,LS,Failed,0,900,",
        "openb-pod-0004,1000,1024,1,1000,,LS,Failed,0,40,40",
        "openb-pod-0005,1000,1024,0,0,,LS,Pending,0,900,",
        "openb-pod-0006,1000,1024,1,1000,,LS,Succeeded,0,900,100",
    )
    trace = read_alibaba(path)
    assert trace.jobs.job_id.tolist() == [6]
    assert trace.skipped == {"not started": 4, "run<=0": 1, "cpu_only": 0}
    assert trace.records == 6 == len(trace.jobs) + sum(trace.skipped.values())


def test_running_pods_at_the_trace_end_are_censored(tmp_path: Path) -> None:
    ran = (
        "openb-pod-0001,1000,1024,1,1000,,LS,Running,0,5000,100",
        "openb-pod-0002,1000,1024,1,1000,,LS,Running,0,4000,100",
        "openb-pod-0003,1000,1024,1,1000,,LS,Succeeded,0,5000,100",
        "openb-pod-0004,1000,1024,1,1000,,LS,Running,0,5000,200",
    )
    trace = read_alibaba(write_pods(tmp_path, *ran))
    assert trace.trace_end_s == 5000.0
    assert trace.censored == 2  # pods 1 and 4: Running and deleted at the trace end
    assert trace.jobs.work_s.tolist() == [4900.0, 3900.0, 4900.0, 4800.0]  # the recorded interval
    assert trace.facts()["censored_jobs"] == 2
    later = read_alibaba(write_pods(tmp_path, *ran, "openb-pod-0005,1000,1024,1,1000,,LS,Pending,0,6000,"))
    assert later.trace_end_s == 6000.0  # the largest deletion time read, skipped pods included
    assert later.censored == 0


def test_columns_by_name_in_any_order(tmp_path: Path) -> None:
    header = (
        "scheduled_time,deletion_time,creation_time,pod_phase,num_gpu,gpu_milli,memory_mib,cpu_milli,name"
    )
    path = write_pods(tmp_path, "", "7,19,3,Succeeded,1,400,2048,1200,openb-pod-0042", header=header)
    trace = read_alibaba(path)
    assert trace.jobs.job_id.tolist() == [42]
    assert (trace.jobs.submit_s[0], trace.jobs.work_s[0], trace.jobs.cores[0]) == (3.0, 12.0, 2)
    assert trace.fractional == 1


def test_gzip(tmp_path: Path) -> None:
    path = tmp_path / "pods.csv.gz"
    path.write_bytes(gzip.compress(f"{HEADER}\nopenb-pod-0001,1000,1024,1,1000,,LS,Failed,0,9,1\n".encode()))
    assert read_alibaba(path).jobs.work_s.tolist() == [8.0]


def test_empty_list_of_pods(tmp_path: Path) -> None:
    trace = read_alibaba(write_pods(tmp_path))
    assert len(trace.jobs) == 0 and trace.records == 0 and trace.trace_end_s == 0.0
    assert trace.jobs.qos_names == ("regular", "shared")


GOOD = "openb-pod-0001,1000,1024,1,1000,,LS,Succeeded,0,9,1"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("openb-pod-x,1000,1024,1,1000,,LS,Succeeded,0,9,1", "field name: 'openb-pod-x' does not end in"),
        ("openb-pod-0002,1.5,1024,1,1000,,LS,Succeeded,0,9,1", "field cpu_milli: '1.5' is not a whole"),
        ("openb-pod-0002,1000,-1,1,1000,,LS,Succeeded,0,9,1", "field memory_mib: '-1' is not a whole"),
        ("openb-pod-0002,1000,1024,,1000,,LS,Succeeded,0,9,1", "field num_gpu: '' is not a whole"),
        ("openb-pod-0002,1000,1024,1,0,,LS,Succeeded,0,9,1", "field gpu_milli: 0 is not a share of one"),
        ("openb-pod-0002,1000,1024,1,1001,,LS,Succeeded,0,9,1", "field gpu_milli: 1001 is not a share"),
        ("openb-pod-0002,1000,1024,2,500,,LS,Succeeded,0,9,1", "field gpu_milli: 500 for 2 GPUs"),
        ("openb-pod-0002,1000,1024,0,300,,LS,Succeeded,0,9,1", "field gpu_milli: 300 for a pod with no GPU"),
        ("openb-pod-0002,1000,1024,1,1000,,LS,Done,0,9,1", "field pod_phase: 'Done' is not one of"),
        ("openb-pod-0002,1000,1024,1,1000,,LS,Succeeded,nan,9,1", "field creation_time: 'nan' is not a time"),
        ("openb-pod-0002,1000,1024,1,1000,,LS,Succeeded,0,,1", "field deletion_time: '' is not a time"),
        ("openb-pod-0002,1000,1024,1,1000,,LS,Succeeded,0,9,-1", "field scheduled_time: '-1' is not a time"),
        ("openb-pod-0002,1000,1024,1,1000,,LS,Succeeded,0,9", "10 fields, the header has 11"),
    ],
)
def test_bad_line_names_file_line_and_field(tmp_path: Path, line: str, message: str) -> None:
    path = write_pods(tmp_path, GOOD, line, GOOD.replace("0001", "0003"))
    with pytest.raises(WorkloadFormatError, match=f"pods.csv:3: {message}"):
        read_alibaba(path)
    trace = read_alibaba(path, skip_bad_lines=True)
    assert trace.jobs.job_id.tolist() == [1, 3]
    assert trace.skipped == {**NO_SKIPS, "malformed": 1} and trace.records == 3


def test_file_errors_and_options(tmp_path: Path) -> None:
    with pytest.raises(WorkloadFormatError, match="absent.csv: cannot read file"):
        read_alibaba(tmp_path / "absent.csv")
    (tmp_path / "empty.csv").write_text("\n\n")
    with pytest.raises(WorkloadFormatError, match="empty.csv: empty file"):
        read_alibaba(tmp_path / "empty.csv")
    short = write_pods(tmp_path, header="\nname,cpu_milli,num_gpu,pod_phase")
    with pytest.raises(
        WorkloadFormatError, match="pods.csv:2: no column memory_mib, gpu_milli, creation_time"
    ):
        read_alibaba(short)
    good = write_pods(tmp_path, GOOD)
    with pytest.raises(ValueError, match="gpus_per_node must be positive, got 0"):
        read_alibaba(good, gpus_per_node=0)
    with pytest.raises(ValueError, match="cpu_pods must be one of skip, shared"):
        read_alibaba(good, cpu_pods="drop")  # type: ignore[arg-type]


def test_real_openb_trace_against_csv_counts() -> None:
    path = shared_dir() / "data" / "alibaba-gpu-2023" / "openb_pod_list_default.csv"
    with path.open(newline="") as handle:
        pods = list(csv.DictReader(handle))
    end_s = max(int(pod["deletion_time"]) for pod in pods)
    reasons: Counter[str] = Counter()
    kept = []
    for pod in pods:
        if pod["pod_phase"] == "Pending" or pod["scheduled_time"] == "":
            reasons["not started"] += 1
        elif int(pod["deletion_time"]) <= int(pod["scheduled_time"]):
            reasons["run<=0"] += 1
        elif pod["num_gpu"] == "0":
            reasons["cpu_only"] += 1
        else:
            kept.append(pod)
    trace = read_alibaba(path)
    assert trace.records == len(pods) == 8152
    assert trace.skipped == {reason: reasons[reason] for reason in ("not started", "run<=0", "cpu_only")}
    assert len(trace.jobs) == len(kept) == 6203
    gpus = [int(pod["num_gpu"]) for pod in kept]
    assert int(trace.jobs.gpus.sum()) == sum(gpus) == 6571
    assert int(trace.jobs.size.sum()) == sum(math.ceil(n / 4) if n >= 4 else 1 for n in gpus)
    assert int(np.count_nonzero(trace.jobs.qos == 0)) == sum(n >= 4 for n in gpus)
    fractional = [pod for pod in kept if pod["num_gpu"] == "1" and int(pod["gpu_milli"]) < 1000]
    assert trace.fractional == len(fractional) == 2573
    assert trace.gpu_milli_requested == sum(int(pod["num_gpu"]) * int(pod["gpu_milli"]) for pod in kept)
    censored = [pod for pod in kept if pod["pod_phase"] == "Running" and int(pod["deletion_time"]) == end_s]
    assert trace.censored == len(censored) == 32
    run_s = {
        int(p["name"].rsplit("-", 1)[1]): int(p["deletion_time"]) - int(p["scheduled_time"]) for p in kept
    }
    assert dict(zip(trace.jobs.job_id.tolist(), trace.jobs.work_s.tolist(), strict=True)) == run_s
    assert np.all(np.diff(trace.jobs.submit_s) >= 0)
