"""One dashboard run in a process of its own: ``python -m pmtwin.serve.worker RUN_DIR``.

Reads ``RUN_DIR/request.json`` (a ``WorkerJob``), runs the simulation or replay into ``RUN_DIR``, writes
the report there and tells the server how it goes with one JSON object per line on standard output:
``{"event": "phase", "phase": ...}``, ``{"event": "progress", "progress": f, "time_s": t, "levels":
{pool: {"utilization", "queued_jobs", "running_jobs"}}}``, then ``{"event": "done", "figures": {...}}``
or ``{"event": "error", "message": ...}`` (exit status 1). Tracebacks go to standard error.

A worker runs in a session of its own (the server kills its whole process group to cancel it), so it
would not notice the server dying; a watchdog thread ends it (exit status 3) within ``PARENT_POLL_S`` of
its parent process going away.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pmtwin.serve.requests import Figures, WorkerJob

if TYPE_CHECKING:
    from pmtwin.runs import ProgressFactory, RunResult
    from pmtwin.sim.engine import LevelsFn, PoolLevels, ProgressFn

PARENT_POLL_S = 0.5
ORPHAN_EXIT_STATUS = 3


def emit(event: str, **fields: Any) -> None:
    """One event line on standard output, flushed at once (the server reads it as it comes)."""
    sys.stdout.write(json.dumps({"event": event, **fields}, allow_nan=False) + "\n")
    sys.stdout.flush()


def levels_json(levels: PoolLevels) -> dict[str, dict[str, float | int]]:
    """Each pool's utilization (busy units / capacity), queued and running jobs."""
    out: dict[str, dict[str, float | int]] = {}
    for i, name in enumerate(levels.names):
        capacity = int(levels.capacity[i])
        busy = int(levels.busy_units[i])
        out[name] = {
            "utilization": busy / capacity if capacity > 0 else 0.0,
            "queued_jobs": int(levels.queued_jobs[i]),
            "running_jobs": int(levels.running_jobs[i]),
        }
    return out


def watch_parent() -> None:
    """Start a daemon thread that exits the process at once when its parent process is gone (the
    parent id changes when the process is handed to another one)."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL_S)
        os._exit(ORPHAN_EXIT_STATUS)

    threading.Thread(target=watch, name="parent-watchdog", daemon=True).start()


def progress_events(first_s: float, last_s: float) -> ProgressFn:
    """A ``ProgressFactory``: progress is the share of the run's jobs that have ended (of all pools), in
    [0, 1] and never decreasing. (The submit span ``first_s``..``last_s`` says little: the last jobs are
    submitted long before the run ends.)"""
    done = 0.0

    def report(t_s: float, read_levels: LevelsFn) -> None:
        nonlocal done
        levels = read_levels()
        if levels.total_jobs > 0:
            done = max(done, min(levels.finished_jobs / levels.total_jobs, 1.0))
        emit("progress", progress=done, time_s=t_s, levels=levels_json(levels))

    return report


def execute(job: WorkerJob, run_dir: Path, progress: ProgressFactory) -> RunResult:
    """Run the request into ``run_dir`` as ``pmtwin simulate`` / ``pmtwin replay --machine`` would: as the
    scenario it describes (the report is written after the run, as a phase of its own)."""
    from pmtwin.sweep.scenario import Scenario, run_scenario

    request = job.request
    common: dict[str, Any] = {
        "machine": request.machine,
        "policy": request.policy,
        "scheduler": None if request.priority is None else {"priority": request.priority},
        "power": {
            "power_cap_mw": request.power_cap_mw,
            "gpu_power_cap_w": request.gpu_power_cap_w,
            "outdoor_temp_c": request.outdoor_temp_c,
        },
    }
    if job.trace is not None:
        replay = Scenario(command="replay", trace=job.trace.path, trace_format=job.trace.format, **common)
        return run_scenario(replay, 0, run_dir, progress=progress)
    assert request.workload.kind == "generated"
    simulation = Scenario(
        days=request.workload.days, workload=request.workload.model, load_factor=request.load_factor, **common
    )
    return run_scenario(simulation, request.workload.seed, run_dir, progress=progress)


def figures(summary: dict[str, Any]) -> Figures:
    """The headline figures of a run's summary (an empty run has no waits: mean 0)."""
    from pmtwin.results.metrics import summary_figure

    energy_mwh = summary_figure(summary, ("power", "energy_system_mwh"))
    return Figures(
        jobs=int(summary["jobs"]),
        utilization=float(summary_figure(summary, ("utilization",)) or 0.0),
        mean_wait_s=float(summary_figure(summary, ("wait_s", "mean")) or 0.0),
        energy_mwh=None if energy_mwh is None else float(energy_mwh),
    )


def main(argv: list[str]) -> int:
    """Run the job of ``argv[0]`` (a run directory): 0 when done, 1 when it failed (an error line says
    why)."""
    if len(argv) != 1:
        sys.stderr.write("usage: python -m pmtwin.serve.worker RUN_DIR\n")
        return 2
    run_dir = Path(argv[0])
    try:
        job = WorkerJob.model_validate_json((run_dir / "request.json").read_text(encoding="utf-8"))
        emit("phase", phase="simulating")
        result = execute(job, run_dir, progress_events)
        emit("phase", phase="writing report")
        from pmtwin.report import write_report

        write_report(run_dir, pngs=True)
    except ValueError as exc:  # a user's mistake: the message says what and where
        emit("error", message=str(exc))
        return 1
    except Exception as exc:
        traceback.print_exc()
        emit("error", message=f"{type(exc).__name__}: {exc}")
        return 1
    emit("done", figures=figures(result.summary).model_dump())
    return 0


if __name__ == "__main__":
    watch_parent()
    sys.exit(main(sys.argv[1:]))
