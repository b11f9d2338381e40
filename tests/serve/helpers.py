"""Helpers of the dashboard server tests: a tiny SWF trace, a client over a fresh store, and waiting for
runs (real worker processes) to finish."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from pmtwin.serve.app import create_app
from pmtwin.serve.requests import RunInfo, RunRequest

TERMINAL = {"done", "failed", "cancelled"}
PERLMUTTER_POOLS = {"cpu", "gpu", "gpu:hbm80g"}
TINY_SWF_JOBS = 12
LONG = {"workload": {"kind": "generated", "days": 30}, "load_factor": 10.0}
"""A run that lasts minutes (ten times the load a machine can take), for tests that cancel or kill it
while it runs; its first progress point comes within a second or two."""

CHART = b"\x89PNG\r\n\x1a\n chart"
OCTET = {"Content-Type": "application/octet-stream"}


def fake_run(store: Path, run_id: str, state: str) -> Path:
    """A run directory as a server leaves it (status, request, report files)."""
    run_dir = store / "runs" / run_id
    run_dir.mkdir(parents=True)
    info = RunInfo(id=run_id, label="", state=state, created_utc="2025-01-01T00:00:00+00:00",
                   request=RunRequest())  # fmt: skip
    (run_dir / "status.json").write_text(info.model_dump_json())
    (run_dir / "request.json").write_text("{}")
    (run_dir / "report.html").write_text("<html>report</html>")
    (run_dir / "summary.json").write_text('{"jobs": 1}')
    (run_dir / "utilization.png").write_bytes(CHART)
    return run_dir


def tiny_swf(jobs: int = TINY_SWF_JOBS) -> str:
    """A valid SWF trace: 128-processor machine, ``jobs`` jobs of 4 to 64 processors, 18 fields a line."""
    lines = ["; Version: 2.2", "; MaxProcs: 128", "; MaxNodes: 128"]
    for i in range(1, jobs + 1):
        submit_s, run_s, procs = 60 * i, 600 + 30 * i, 4 * (1 + i % 16)
        fields = [i, submit_s, -1, run_s, procs, -1, -1, procs, 2 * run_s, -1, 1, 1, 1, -1, 1, -1, -1, -1]
        lines.append(" ".join(str(field) for field in fields))
    return "\n".join(lines) + "\n"


@contextmanager
def serve_client(store: Path, **options: Any) -> Iterator[TestClient]:
    """A test client of a dashboard over ``store`` (its lifespan runs: workers stop at the end)."""
    with TestClient(create_app(store, **options)) as client:
        yield client


def wait_for(
    client: TestClient, run_id: str, states: set[str] = TERMINAL, timeout_s: float = 40.0
) -> dict[str, Any]:
    """Poll a run until its state is one of ``states``; its RunInfo."""
    deadline = time.monotonic() + timeout_s
    while True:
        info: dict[str, Any] = client.get(f"/api/runs/{run_id}").json()
        if info["state"] in states:
            return info
        assert time.monotonic() < deadline, f"{run_id} still {info['state']} after {timeout_s} s: {info}"
        time.sleep(0.05)


def submit(client: TestClient, **request: Any) -> dict[str, Any]:
    """POST a run request; its RunInfo (asserting 202)."""
    response = client.post("/api/runs", json=request)
    assert response.status_code == 202, response.text
    info: dict[str, Any] = response.json()
    return info


def read_events(client: TestClient, run_id: str) -> list[tuple[str, dict[str, Any]]]:
    """Every event of a run's stream, read until the server ends it, as (event, data) pairs."""
    events = []
    with client.stream("GET", f"/api/runs/{run_id}/events") as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-cache"
        name = None
        for line in response.iter_lines():
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: "):
                assert name is not None
                events.append((name, json.loads(line.removeprefix("data: "))))
                name = None
    return events


def workers_of(run_dir: Path) -> list[int]:
    """Process ids of the live worker processes of a run directory."""
    pids = []
    for proc in Path("/proc").iterdir():
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if b"pmtwin.serve.worker" in argv and str(run_dir).encode() in argv and state != "Z":
            pids.append(int(proc.name))
    return pids
