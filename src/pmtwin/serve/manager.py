"""The run manager: a FIFO queue of runs, at most ``max_runs`` worker processes at once, and each run's
live state.

A run is a ``python -m pmtwin.serve.worker RUN_DIR`` process in a process group of its own, so that the
server stays responsive, a crash cannot take it down, and cancelling kills the whole group. One thread per
process reads its event lines (``worker.py``) into the run's ``RunInfo`` and list of progress points. State
changes are written to ``RUN_DIR/status.json``, so a restarted server lists its old runs; those it finds
queued or running could not have finished and are marked failed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pmtwin.serve.requests import Figures, RunInfo, RunRequest, TraceFile, WorkerJob
from pmtwin.serve.store import Store, write_json

KILL_AFTER_S = 2.0
"""A cancelled worker gets SIGTERM, then SIGKILL after this long."""
WAITING_PHASE = "waiting for a slot"
STOPPED_ERROR = "the server stopped during the run"
LOG_TAIL_BYTES = 4096


class RunFinishedError(Exception):
    """The run already reached a terminal state (it cannot be cancelled)."""


@dataclass
class _Run:
    """What the manager keeps of one run (all fields guarded by the manager's lock)."""

    info: RunInfo
    path: Path
    points: list[dict[str, Any]] = field(default_factory=list)
    process: subprocess.Popen[bytes] | None = None
    figures: Figures | None = None
    error: str | None = None


def now_utc() -> str:
    """The current time, ISO 8601 in UTC to the second."""
    return datetime.now(UTC).isoformat(timespec="seconds")


class RunManager:
    """Queues, starts, follows and cancels the server's runs; thread-safe."""

    def __init__(self, store: Store, max_runs: int) -> None:
        if max_runs < 1:
            raise ValueError(f"max_runs must be at least 1, got {max_runs}")
        self.store = store
        self.max_runs = max_runs
        self._lock = threading.Lock()
        self._runs: dict[str, _Run] = {}
        self._queue: deque[str] = deque()
        self._running: set[str] = set()
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        self._load()

    def _load(self) -> None:
        """The runs stored by earlier servers; those left queued or running are marked failed."""
        for run_id, path in self.store.run_dirs():
            try:
                info = RunInfo.model_validate_json((path / "status.json").read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue  # not a run this server wrote completely
            run = _Run(info, path)
            self._runs[run_id] = run
            if not info.finished:
                self._update(run, state="failed", phase="", error=STOPPED_ERROR, finished_utc=now_utc())

    def submit(self, request: RunRequest, trace: TraceFile | None) -> RunInfo:
        """Queue a run (its directory and request written now) and start it if a slot is free."""
        run_id, path = self.store.new_run_dir()
        write_json(path / "request.json", WorkerJob(request=request, trace=trace).model_dump(mode="json"))
        info = RunInfo(
            id=run_id, label=request.label, state="queued", phase=WAITING_PHASE, created_utc=now_utc(),
            request=request,
        )  # fmt: skip
        with self._lock:
            run = _Run(info, path)
            self._runs[run_id] = run
            self._persist(run)
            self._queue.append(run_id)
            self._start_ready()
            return run.info

    def get(self, run_id: str) -> RunInfo:
        """A run's state; ``KeyError`` for an unknown id."""
        with self._lock:
            return self._runs[run_id].info

    def runs(self) -> list[RunInfo]:
        """Every run, newest first."""
        with self._lock:
            infos = [run.info for run in self._runs.values()]
        return sorted(infos, key=lambda info: int(info.id.removeprefix("run-")), reverse=True)

    def watch(self, run_id: str, since: int) -> tuple[RunInfo, list[dict[str, Any]]]:
        """A run's state and its progress points from index ``since`` on; ``KeyError`` for an unknown id."""
        with self._lock:
            run = self._runs[run_id]
            return run.info, run.points[since:]

    def live(self) -> list[tuple[RunInfo, dict[str, Any] | None]]:
        """Every run with its latest progress point (None before the first)."""
        with self._lock:
            return [(run.info, run.points[-1] if run.points else None) for run in self._runs.values()]

    def cancel(self, run_id: str) -> RunInfo:
        """Drop a queued run or kill a running one's process group; ``KeyError`` for an unknown id,
        ``RunFinishedError`` for a finished run."""
        with self._lock:
            run = self._runs[run_id]
            if run.info.finished:
                raise RunFinishedError(f"{run_id} is already {run.info.state}")
            if run_id in self._queue:
                self._queue.remove(run_id)
            process = run.process
            self._update(run, state="cancelled", phase="", finished_utc=now_utc())
            info = run.info
        if process is not None:
            threading.Thread(target=stop_process, args=(process,), daemon=True).start()
        return info

    @property
    def stopping(self) -> bool:
        """Whether ``shutdown`` began; the runs' states read after it says so are final (event streams
        end then)."""
        return self._stopping.is_set()

    def shutdown(self) -> None:
        """Stop every worker (the server is going away): queued and running runs are marked failed."""
        with self._lock:
            processes = [run.process for run in self._runs.values() if run.process is not None]
            for run in self._runs.values():
                if not run.info.finished:
                    self._update(run, state="failed", phase="", error=STOPPED_ERROR, finished_utc=now_utc())
            self._queue.clear()
            threads = list(self._threads)
            self._stopping.set()
        for process in processes:
            stop_process(process)
        for thread in threads:
            thread.join(timeout=KILL_AFTER_S)

    def _start_ready(self) -> None:
        """Start queued runs while slots are free (lock held)."""
        while self._queue and len(self._running) < self.max_runs:
            run = self._runs[self._queue.popleft()]
            try:
                process = start_worker(run.path)
            except OSError as exc:
                self._update(run, state="failed", phase="", error=f"cannot start the run: {exc}",
                             finished_utc=now_utc())  # fmt: skip
                continue
            run.process = process
            self._running.add(run.info.id)
            self._update(run, state="running", phase="starting", started_utc=now_utc())
            thread = threading.Thread(target=self._follow, args=(run, process), daemon=True)
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
            thread.start()

    def _follow(self, run: _Run, process: subprocess.Popen[bytes]) -> None:
        """Read a worker's event lines until it exits, then settle the run and start the next one (the
        slot is given back whatever happens)."""
        assert process.stdout is not None
        try:
            with process.stdout:
                for raw in process.stdout:
                    self._on_line(run, raw)
        finally:
            returncode = process.wait()
            with self._lock:
                run.process = None
                self._running.discard(run.info.id)
                if not run.info.finished:
                    self._settle(run, returncode)
                self._start_ready()

    def _on_line(self, run: _Run, raw: bytes) -> None:
        """One event line of a worker (lines that are not well-formed events are ignored)."""
        try:
            event = json.loads(raw)
            kind = event.pop("event")
            with self._lock:
                if not run.info.finished:
                    self._apply(run, kind, event)
        except (ValueError, AttributeError, KeyError, TypeError):
            return

    def _apply(self, run: _Run, kind: str, event: dict[str, Any]) -> None:
        """An event of a run in progress (lock held)."""
        if kind == "progress":
            progress = float(event["progress"])
            run.points.append(event)
            run.info = run.info.model_copy(update={"progress": progress})
        elif kind == "phase":
            self._update(run, phase=str(event["phase"]))
        elif kind == "done":
            run.figures = Figures.model_validate(event["figures"])
        elif kind == "error":
            run.error = str(event["message"])

    def _settle(self, run: _Run, returncode: int) -> None:
        """The final state of a run whose worker exited (lock held)."""
        if returncode == 0 and run.figures is not None:
            run_id = run.info.id
            links = {"report": f"/runs/{run_id}/report.html", "summary": f"/runs/{run_id}/summary.json"}
            self._update(run, state="done", phase="", progress=1.0, figures=run.figures, links=links,
                         finished_utc=now_utc())  # fmt: skip
            return
        error = run.error or last_log_line(run.path / "worker.log")
        if not error:
            error = f"the run process exited with status {returncode}"
        self._update(run, state="failed", phase="", error=error, finished_utc=now_utc())

    def _update(self, run: _Run, **changes: Any) -> None:
        """Change a run's state and write its status file (lock held, or before threads exist)."""
        run.info = run.info.model_copy(update=changes)
        self._persist(run)

    @staticmethod
    def _persist(run: _Run) -> None:
        write_json(run.path / "status.json", run.info.model_dump(mode="json"))


def start_worker(run_dir: Path) -> subprocess.Popen[bytes]:
    """A worker process for ``run_dir`` in a new process group; its standard error goes to worker.log."""
    env = {**os.environ, "MPLBACKEND": "Agg"}
    with (run_dir / "worker.log").open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "pmtwin.serve.worker", str(run_dir)],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log, env=env, start_new_session=True,
        )  # fmt: skip


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the worker's process group, SIGKILL if it still runs after ``KILL_AFTER_S``."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if process.poll() is not None:
            return
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=KILL_AFTER_S)
            return
        except subprocess.TimeoutExpired:
            continue


def last_log_line(path: Path) -> str:
    """The last non-empty line of a worker's log ('' when there is none)."""
    try:
        with path.open("rb") as log:
            log.seek(max(0, path.stat().st_size - LOG_TAIL_BYTES))
            tail = log.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    lines = [line.strip() for line in tail.splitlines() if line.strip()]
    return lines[-1] if lines else ""
