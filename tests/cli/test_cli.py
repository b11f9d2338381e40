"""The pmtwin command through its runner: run directories, determinism, and errors for user mistakes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from pmtwin.results import RUN_FILES
from tests.cli._runner import invoke

BAD_TRACE = (
    "; MaxProcs: 8\n"
    "1 0 0 10 2 -1 -1 2 20 -1 1 1 1 -1 1 1 -1 -1\n"
    "2 5 0 ten 2 -1 -1 2 20 -1 1 1 1 -1 1 1 -1 -1\n"
)



def test_replay_writes_a_run_directory(traces_dir: Path, tmp_path: Path) -> None:
    code, output = invoke("replay", str(traces_dir / "KTH-SP2-1996-2.1-cln.swf.gz"), "--out", str(tmp_path))
    assert code == 0, output
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted((*RUN_FILES, "report.html"))  # no PNGs
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["jobs"] == 28467
    assert summary["skipped"]["total"] == 9
    assert summary["skipped"]["by_reason"]["run<=0"] == 8
    assert summary["skipped"]["by_reason"]["size<=0"] == 1
    jobs = pq.read_table(tmp_path / "jobs.parquet").to_pydict()
    assert len(jobs["job_id"]) == 28467
    assert all(start >= submit for start, submit in zip(jobs["start_s"], jobs["submit_s"], strict=True))
    assert 'policy = "easy"' in (tmp_path / "config.toml").read_text()


def test_replay_onto_perlmutter_gives_disjoint_node_sets(traces_dir: Path, tmp_path: Path) -> None:
    trace = traces_dir / "KTH-SP2-1996-2.1-cln.swf.gz"
    code, output = invoke("replay", str(trace), "--machine", "perlmutter", "--partition", "cpu",
                          "--out", str(tmp_path), "-q")
    assert code == 0, output
    table = pq.read_table(tmp_path / "jobs.parquet").to_pydict()
    assert set(table["pool"]) == {"cpu"}
    intervals: dict[int, list[tuple[float, float]]] = {}
    for start, end, nodes, size in zip(table["start_s"], table["end_s"], table["nodes"], table["size"],
                                       strict=True):
        assert len(nodes) == size == len(set(nodes))
        for node in nodes:
            intervals.setdefault(node, []).append((start, end))
    for spans in intervals.values():
        spans.sort()
        assert all(a_end <= b_start for (_, a_end), (b_start, _) in zip(spans, spans[1:], strict=False))
    assert min(intervals) >= 1792  # CPU nodes follow the GPU nodes


def test_simulate_is_deterministic(tmp_path: Path) -> None:
    outs = [tmp_path / "a", tmp_path / "b"]
    for out in outs:
        code, output = invoke("simulate", "--days", "2", "--seed", "3", "--out", str(out), "-q")
        assert code == 0, output
    for name in RUN_FILES:
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name
    summary = json.loads((outs[0] / "summary.json").read_text())
    assert set(summary["pools"]) == {"gpu", "gpu:hbm80g", "cpu"}
    assert summary["jobs"] > 1000


def test_simulate_with_no_arguments_runs_the_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, output = invoke("simulate")
    assert code == 0, output
    config = (tmp_path / "runs" / "simulate" / "config.toml").read_text()
    assert 'name = "perlmutter"' in config and "days = 30.0" in config
    table = pq.read_table(tmp_path / "runs" / "simulate" / "jobs.parquet", columns=["pool", "nodes"])
    assert table.num_rows > 50_000
    assert np.all(np.diff(table.column("nodes").combine_chunks().offsets.to_numpy()) > 0)


def test_machine_show_json_has_the_headline_figures() -> None:
    code, output = invoke("machine", "show", "perlmutter-2021", "--json")
    assert code == 0, output
    assert "fp16" in output.lower() and "6144" in output.replace(",", "")
    code, output = invoke("machine", "list")
    assert output.split() == ["perlmutter", "perlmutter-2021"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["replay", "no-such-trace.swf"], "no-such-trace.swf"),
        (["replay", "{kth}", "--policy", "sjf"], "unknown policy 'sjf'"),
        (["replay", "{kth}", "--machine", "frontier"], "frontier"),
        (["replay", "{kth}", "--machine", "perlmutter", "--partition", "bigmem"], "bigmem"),
        (["simulate", "--days", "0"], "days"),
        (["machine", "show", "frontier"], "frontier"),
        (["replay", "{bad}"], "bad.swf:3"),
        (["replay", "{kth}", "--tz", "UTC"], "--tz applies to sacct output only"),
        (["replay", "{kth}", "--partition", "gpu"], "--partition applies to an SWF trace run with --machine"),
        (["replay", "{kth}", "--machine", "perlmutter", "--capacity", "4"], "--capacity sizes the single"),
        (["replay", "{huge}"], "2**53"),
    ],
)
def test_user_mistakes_give_one_error_line(
    args: list[str], expected: str, traces_dir: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.swf"
    bad.write_text(BAD_TRACE)
    huge = tmp_path / "huge.swf"
    huge.write_text("1 10000000000000000 0 10 2 -1 -1 2 20 -1 1 1 1 -1 1 1 -1 -1\n")
    kth = str(traces_dir / "KTH-SP2-1996-2.1-cln.swf.gz")
    filled = [a.replace("{kth}", kth).replace("{bad}", str(bad)).replace("{huge}", str(huge)) for a in args]
    if filled[0] != "machine":
        filled += ["--out", str(tmp_path / "run"), "-q"]
    code, output = invoke(*filled)
    assert code == 2, output
    assert "error:" in output and expected in output
    assert "Traceback" not in output


def test_skip_bad_lines_counts_them(tmp_path: Path) -> None:
    bad = tmp_path / "bad.swf"
    bad.write_text(BAD_TRACE)
    code, output = invoke("replay", str(bad), "--skip-bad-lines", "--out", str(tmp_path / "run"), "-q")
    assert code == 0, output
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["jobs"] == 1
    assert summary["skipped"]["total"] == summary["skipped"]["by_reason"]["malformed"] == 1


SACCT_FIXTURE = Path(__file__).resolve().parents[1] / "workload" / "data" / "sacct_perlmutter.txt"


def test_replay_reads_sacct_output(tmp_path: Path) -> None:
    from pmtwin.workload import read_sacct

    expected = read_sacct(SACCT_FIXTURE)
    code, output = invoke("replay", str(SACCT_FIXTURE), "--out", str(tmp_path), "-q")
    assert code == 0, output
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["jobs"] == len(expected.jobs)
    assert summary["skipped"]["total"] == sum(expected.skipped.values())
    assert list(summary["pools"]) == ["nodes"]
    assert 'format = "sacct"' in (tmp_path / "config.toml").read_text()


def test_replay_routes_a_parquet_job_table_onto_pools(tmp_path: Path) -> None:
    from pmtwin.machine import load_system
    from pmtwin.workload import generate_workload, load_workload_model, write_jobs_parquet

    model = load_workload_model("perlmutter")
    jobs = generate_workload(model, days=0.5, seed=1, machine=load_system("perlmutter"))
    write_jobs_parquet(jobs, tmp_path / "jobs.parquet")
    code, output = invoke("replay", str(tmp_path / "jobs.parquet"), "--machine", "perlmutter",
                          "--out", str(tmp_path / "run"), "-q")
    assert code == 0, output
    table = pq.read_table(tmp_path / "run" / "jobs.parquet").to_pydict()
    routed = {(part, pool) for part, pool in zip(table["partition"], table["pool"], strict=True)}
    assert routed == {("gpu", "gpu"), ("gpu", "gpu:hbm80g"), ("cpu", "cpu")}
    assert len(table["job_id"]) == len(jobs)


def test_replay_with_an_unknown_format_is_a_user_error(tmp_path: Path) -> None:
    code, output = invoke("replay", str(SACCT_FIXTURE), "--format", "csv", "--out", str(tmp_path), "-q")
    assert code == 2 and "unknown trace format 'csv'" in output


def test_a_bad_out_directory_fails_before_simulating(traces_dir: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "afile"
    blocker.write_text("")
    trace = str(traces_dir / "KTH-SP2-1996-2.1-cln.swf.gz")
    for out, expected in ((blocker, "exists and is not a directory"), (blocker / "sub", "Not a directory")):
        code, output = invoke("replay", trace, "--out", str(out), "-q")
        assert code == 2 and expected in output and "Traceback" not in output


def test_an_empty_trace_gives_an_empty_run(tmp_path: Path) -> None:
    empty = tmp_path / "empty.swf"
    empty.write_text("; MaxProcs: 8\n1 0 0 -1 2 -1 -1 2 20 -1 1 1 1 -1 1 1 -1 -1\n")
    code, output = invoke("replay", str(empty), "--out", str(tmp_path / "run"), "-q")
    assert code == 0, output
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["jobs"] == 0 and summary["skipped"]["by_reason"]["run<=0"] == 1
