"""The server's and workers' lives: ``serve`` stops on Ctrl-C even while a page follows a run's events,
an open event stream ends when the manager shuts down, and a worker does not outlive its parent."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

import pmtwin.serve.manager
from pmtwin.serve.manager import RunManager
from pmtwin.serve.requests import RunRequest, WorkerJob
from pmtwin.serve.sse import run_events
from pmtwin.serve.store import Store
from tests.serve.helpers import LONG, workers_of

SERVE = (
    "import sys; from pathlib import Path; from pmtwin.serve.app import serve; "
    "serve('127.0.0.1', int(sys.argv[1]), Path(sys.argv[2]), None, 1, 1000)"
)
# Starts a worker in a session of its own (as the server does), waits until it writes its first event
# line, then exits: the worker is left without its parent.
ORPHANING_PARENT = """
import subprocess, sys, time
from pathlib import Path
log = Path(sys.argv[2])
with log.open("wb") as out:
    worker = subprocess.Popen(
        [sys.executable, "-m", "pmtwin.serve.worker", sys.argv[1]],
        stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.DEVNULL, start_new_session=True,
    )
print(worker.pid, flush=True)
deadline = time.monotonic() + 30
while not log.read_bytes() and time.monotonic() < deadline:
    time.sleep(0.05)
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def alive(pid: int) -> bool:
    """Whether a process runs (a zombie left for its new parent to reap does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def wait_until_up(base: str, server: subprocess.Popen[str]) -> httpx.Response:
    deadline = time.monotonic() + 20
    while True:
        try:
            return httpx.get(f"{base}/api/options", timeout=5)
        except httpx.ConnectError:
            assert server.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)


def follow(url: str, lines: list[str]) -> None:
    """Read an event stream until the server ends it (or drops the connection)."""
    try:
        with httpx.stream("GET", url, timeout=60) as response:
            lines.extend(response.iter_lines())
    except httpx.HTTPError as exc:
        lines.append(f"error: {exc!r}")


def test_serve_prints_its_address_and_stops_on_interrupt_during_a_stream(tmp_path: Path) -> None:
    port, store = free_port(), tmp_path / "store"
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-c", SERVE, str(port), str(store)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    lines: list[str] = []
    try:
        assert server.stdout is not None
        assert server.stdout.readline() == f"pmtwin dashboard at {base}/ (store {store})\n"
        options = wait_until_up(base, server)
        run_id = httpx.post(f"{base}/api/runs", json=LONG, timeout=5).json()["id"]
        deadline = time.monotonic() + 30
        while not httpx.get(f"{base}/api/runs/{run_id}/live", timeout=5).json()["points"]:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        reader = threading.Thread(target=follow, args=(f"{base}/api/runs/{run_id}/events", lines))
        reader.start()
        while not lines:  # the page follows the run
            time.sleep(0.05)
        stopping = time.monotonic()
        server.send_signal(signal.SIGINT)
        code = server.wait(timeout=15)
        stopped_s = time.monotonic() - stopping
        reader.join(timeout=5)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    assert options.json()["limits"] == {"max_upload_bytes": 1000, "max_runs": 1, "max_days": 3650.0}
    assert code == 0 and stopped_s < 10  # uvicorn waits 3 s for the stream, then stops the worker
    assert not reader.is_alive() and lines[0] == "event: progress"  # points so far come first
    assert workers_of(store / "runs" / run_id) == []
    saved = json.loads((store / "runs" / run_id / "status.json").read_text())
    assert (saved["state"], saved["error"]) == ("failed", "the server stopped during the run")


def test_a_stream_sends_the_points_so_far_before_the_state_read_with_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page that connects late still sees every point's progress in order: the state (whose progress
    is the latest point's) comes after the points, not ahead of them."""
    fractions = (0.25, 0.5, 0.75)
    said = "".join(
        json.dumps({"event": "progress", "progress": f, "time_s": 60.0 * k, "levels": {}}) + "\n"
        for k, f in enumerate(fractions, start=1)
    )

    def talking_worker(run_dir: Path) -> subprocess.Popen[bytes]:  # three points, then it works on
        script = "import sys, time; sys.stdout.write(sys.argv[1]); sys.stdout.flush(); time.sleep(60)"
        return subprocess.Popen(
            [sys.executable, "-c", script, said],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, start_new_session=True,
        )  # fmt: skip

    monkeypatch.setattr(pmtwin.serve.manager, "start_worker", talking_worker)
    manager = RunManager(Store(tmp_path / "store"), max_runs=1)
    try:
        run_id = manager.submit(RunRequest(), None).id
        deadline = time.monotonic() + 20
        while len(manager.watch(run_id, 0)[1]) < len(fractions):
            assert time.monotonic() < deadline
            time.sleep(0.02)

        async def first_events() -> list[str]:
            stream: AsyncIterator[str] = run_events(manager, run_id)
            return [await anext(stream) for _ in range(len(fractions) + 1)]

        with ThreadPoolExecutor(max_workers=1) as thread:  # see below: Playwright's loop may run here
            events = thread.submit(asyncio.run, asyncio.wait_for(first_events(), timeout=10)).result()
    finally:
        manager.shutdown()
    kinds = [event.split("\n", 1)[0] for event in events]
    data = [json.loads(event.split("data: ", 1)[1]) for event in events]
    assert kinds == ["event: progress"] * len(fractions) + ["event: state"]
    assert [point["progress"] for point in data[:-1]] == list(fractions)
    assert (data[-1]["state"], data[-1]["progress"]) == ("running", fractions[-1])


def test_an_open_event_stream_ends_when_the_manager_shuts_down(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def quiet_worker(run_dir: Path) -> subprocess.Popen[bytes]:  # runs, but says nothing
        return subprocess.Popen(
            ["sleep", "60"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, start_new_session=True
        )

    monkeypatch.setattr(pmtwin.serve.manager, "start_worker", quiet_worker)
    manager = RunManager(Store(tmp_path / "store"), max_runs=1)
    run_id = manager.submit(RunRequest(), None).id

    async def follow_until_shutdown() -> tuple[list[str], float]:
        stream: AsyncIterator[str] = run_events(manager, run_id)
        events = [await anext(stream)]
        await asyncio.sleep(0.5)  # the stream waits: nothing happens
        stopping = time.monotonic()
        await asyncio.to_thread(manager.shutdown)
        events += [event async for event in stream]
        return events, time.monotonic() - stopping

    # a thread of its own: another test's event loop (Playwright's) may be running in this one
    with ThreadPoolExecutor(max_workers=1) as thread:
        coroutine = asyncio.wait_for(follow_until_shutdown(), timeout=10)
        events, ended_s = thread.submit(asyncio.run, coroutine).result()
    assert [event.split("\n", 1)[0] for event in events] == ["event: state", "event: state"]
    assert '"state": "running"' in events[0] and '"state": "failed"' in events[1]
    assert manager.stopping and ended_s < 1.5


def test_a_worker_exits_when_its_parent_dies(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    job = WorkerJob(request=RunRequest.model_validate(LONG))
    (run_dir / "request.json").write_text(job.model_dump_json())
    log = tmp_path / "events.jsonl"
    parent = subprocess.Popen(
        [sys.executable, "-c", ORPHANING_PARENT, str(run_dir), str(log)], stdout=subprocess.PIPE, text=True
    )
    assert parent.stdout is not None
    pid = int(parent.stdout.readline())
    try:
        assert parent.wait(timeout=30) == 0
        orphaned = time.monotonic()
        while alive(pid) and time.monotonic() - orphaned < 5:
            time.sleep(0.05)
        assert not alive(pid), "the worker outlived its parent"
    finally:
        if alive(pid):
            os.kill(pid, signal.SIGKILL)
    events = [json.loads(line)["event"] for line in log.read_text().splitlines()]
    assert events[0] == "phase" and set(events) <= {"phase", "progress"}  # stopped mid-run
