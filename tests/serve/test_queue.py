"""The run queue: at most ``max_runs`` workers, the rest waiting in order; cancelling queued and running
runs; a failing or crashing worker fails its run, never the server; the live metrics."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from fastapi.testclient import TestClient

from pmtwin.serve.manager import last_log_line
from tests.serve.helpers import LONG, serve_client, submit, wait_for, workers_of

SHORT = {"kind": "generated", "days": 0.5}
OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8"


def wait_for_progress(client: TestClient, run_id: str) -> None:
    deadline = time.monotonic() + 30
    while not client.get(f"/api/runs/{run_id}/live").json()["points"]:
        assert time.monotonic() < deadline, client.get(f"/api/runs/{run_id}").json()
        time.sleep(0.05)


def test_queue_runs_in_order_and_cancels(tmp_path: Path) -> None:
    runs = tmp_path / "store" / "runs"
    with serve_client(tmp_path / "store", max_runs=1) as client:
        first = submit(client, **LONG)
        second, third = submit(client, workload=SHORT), submit(client, workload=SHORT)
        assert first["state"] == "running"
        for waiting in (second, third):
            assert (waiting["state"], waiting["phase"], waiting["started_utc"]) == (
                "queued",
                "waiting for a slot",
                None,
            )
        wait_for_progress(client, "run-0001")
        metrics = client.get("/metrics")
        dropped = client.post("/api/runs/run-0002/cancel")
        assert workers_of(runs / "run-0001") and client.get("/api/runs/run-0003").json()["state"] == "queued"
        killed = client.post("/api/runs/run-0001/cancel")
        done = wait_for(client, "run-0003")
        again = client.post("/api/runs/run-0001/cancel")
        finished = client.post("/api/runs/run-0003/cancel")
        listed = client.get("/api/runs").json()

    assert metrics.headers["content-type"] == OPENMETRICS
    lines = metrics.text.splitlines()
    for expected in ('pmtwin_runs{state="running"} 1.0', 'pmtwin_runs{state="queued"} 2.0', "# EOF"):
        assert expected in lines
    assert any(line.startswith('pmtwin_run_progress_ratio{run="run-0001"} ') for line in lines)
    for family in ("pmtwin_utilization_ratio", "pmtwin_queued_jobs", "pmtwin_running_jobs"):
        for pool in ("cpu", "gpu", "gpu:hbm80g"):
            assert any(line.startswith(f'{family}{{run="run-0001",pool="{pool}"}} ') for line in lines)
    assert not any('run="run-0002"' in line for line in lines)  # only running runs have live figures
    assert dropped.status_code == 200 and dropped.json()["state"] == "cancelled"
    assert dropped.json()["started_utc"] is None and not (runs / "run-0002" / "worker.log").exists()
    assert killed.status_code == 200 and killed.json()["state"] == "cancelled"
    assert done["state"] == "done" and workers_of(runs / "run-0001") == []
    assert again.status_code == 409 and finished.status_code == 409
    assert [(run["id"], run["state"]) for run in listed] == [
        ("run-0003", "done"),
        ("run-0002", "cancelled"),
        ("run-0001", "cancelled"),
    ]
    assert '"state": "cancelled"' in (runs / "run-0001" / "status.json").read_text()


def test_failing_and_crashing_workers_fail_their_runs(tmp_path: Path) -> None:
    runs = tmp_path / "store" / "runs"
    traces_dir = tmp_path / "traces"
    traces_dir.mkdir()
    (traces_dir / "broken.swf").write_text("1 2 3\n")  # built-in traces are read by the run only
    with serve_client(tmp_path / "store", traces_dir=traces_dir, max_runs=2) as client:
        submit(client, workload={"kind": "trace", "trace_id": "broken.swf"})
        submit(client, **LONG)
        refused = wait_for(client, "run-0001")
        wait_for_progress(client, "run-0002")
        (pid,) = workers_of(runs / "run-0002")
        os.kill(pid, signal.SIGKILL)
        crashed = wait_for(client, "run-0002")
        options = client.get("/api/options")

    assert refused["state"] == "failed" and refused["figures"] is None
    assert refused["error"] == f"{traces_dir / 'broken.swf'}:1: 3 fields, an SWF line has 18"
    assert crashed["state"] == "failed" and crashed["error"] == "the run process exited with status -9"
    assert options.status_code == 200


def test_a_silent_crash_is_explained_by_the_last_line_of_the_log(tmp_path: Path) -> None:
    log = tmp_path / "worker.log"
    assert last_log_line(log) == ""
    log.write_text("Traceback (most recent call last):\n  ...\nMemoryError: out of memory\n\n")
    assert last_log_line(log) == "MemoryError: out of memory"
    log.write_bytes(b"x" * 10_000 + b"\nthe end \xff\n")
    assert last_log_line(log) == "the end \ufffd"
