"""The sweep on real parallel executors: local processes and a Dask LocalCluster of 2 workers give the
serial rows; killing a worker mid-sweep loses no point; Ctrl-C stops a Dask sweep cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pmtwin.sweep.executors import ExecutorSpec, open_executor
from pmtwin.sweep.plan import Point, expand, parse_sweep
from pmtwin.sweep.runner import TIMING_COLUMNS, InlineExecutor, run_sweep

SWEEP = {
    "seeds": 2,
    "base": {"days": 2.0},
    "axes": [{"field": "policy", "values": ["fcfs", "easy"]}, {"field": "load_factor", "values": [1.0, 1.3]}],
}
"""Eight points of about 0.1-0.2 s each."""


def points() -> list[Point]:
    return expand(parse_sweep(SWEEP))


def comparable(folder: Path) -> pa.Table:
    return pq.read_table(folder / "results.parquet").drop_columns(list(TIMING_COLUMNS))


@pytest.fixture(scope="module")
def serial(tmp_path_factory: pytest.TempPathFactory) -> pa.Table:
    out = tmp_path_factory.mktemp("serial")
    run_sweep(points(), out, InlineExecutor())
    return comparable(out)


def killer(pids_seen: set[int]) -> Any:
    """An on_row callback that kills the worker of the first finished point once, mid-sweep."""

    def on_row(row: dict[str, Any], finished: int, total: int) -> None:
        pid = int(row["worker"].rsplit(":", 1)[1])
        if not pids_seen and finished < total:
            pids_seen.add(pid)
            os.kill(pid, signal.SIGKILL)

    return on_row


def test_local_processes_give_the_serial_rows(serial: pa.Table, tmp_path: Path) -> None:
    with open_executor(ExecutorSpec(kind="local", workers=2)) as handle:
        outcome = run_sweep(points(), tmp_path, handle.executor, rebuild=handle.rebuild, workers=2)
    assert (outcome.ran, outcome.failed) == (8, 0)
    assert comparable(tmp_path).equals(serial)
    workers = set(pq.read_table(tmp_path / "results.parquet").column("worker").to_pylist())
    assert len(workers) == 2 and os.getpid() not in {int(w.rsplit(":", 1)[1]) for w in workers}


def test_a_killed_local_process_loses_no_point(serial: pa.Table, tmp_path: Path) -> None:
    killed: set[int] = set()
    with open_executor(ExecutorSpec(kind="local", workers=2)) as handle:
        outcome = run_sweep(
            points(), tmp_path, handle.executor, rebuild=handle.rebuild, workers=2, on_row=killer(killed)
        )
    assert killed and outcome.resubmitted >= 1  # the pool broke and its points ran again
    assert (outcome.ran, outcome.failed) == (8, 0)
    assert comparable(tmp_path).equals(serial)


@pytest.fixture(scope="module")
def dask_cluster() -> Any:
    with open_executor(ExecutorSpec(kind="dask-local", workers=2)) as handle:
        yield handle


def test_dask_local_cluster_gives_the_serial_rows(
    dask_cluster: Any, serial: pa.Table, tmp_path: Path
) -> None:
    outcome = run_sweep(points(), tmp_path, dask_cluster.executor, workers=dask_cluster.workers)
    assert (outcome.ran, outcome.failed) == (8, 0)
    assert comparable(tmp_path).equals(serial)
    assert len(set(pq.read_table(tmp_path / "results.parquet").column("worker").to_pylist())) == 2


def busy_worker_killer(client: Any, killed: list[int]) -> Any:
    """An on_row callback that, once, kills a Dask worker that is running a point at that moment."""

    def on_row(row: dict[str, Any], finished: int, total: int) -> None:
        if killed or finished >= total - 2:
            return
        busy = [address for address, keys in client.processing().items() if keys]
        if busy:
            pid = client.run(os.getpid, workers=[busy[0]])[busy[0]]
            killed.append(pid)
            os.kill(pid, signal.SIGKILL)

    return on_row


def test_a_killed_dask_worker_loses_no_point(dask_cluster: Any, serial: pa.Table, tmp_path: Path) -> None:
    killed: list[int] = []
    client = dask_cluster.executor._client  # the executor's Dask client, to find a busy worker
    outcome = run_sweep(
        points(), tmp_path, dask_cluster.executor, workers=dask_cluster.workers,
        on_row=busy_worker_killer(client, killed),
    )  # fmt: skip
    assert killed  # a worker died while it ran a point
    assert (outcome.ran, outcome.failed) == (8, 0)  # Dask's nanny restarted it and the point ran again
    assert comparable(tmp_path).equals(serial)
    ran_on = {
        int(w.rsplit(":", 1)[1]) for w in pq.read_table(tmp_path / "results.parquet")["worker"].to_pylist()
    }
    assert killed[0] not in ran_on or len(ran_on) >= 2


def test_ctrl_c_stops_a_dask_local_sweep_without_worker_tracebacks(tmp_path: Path) -> None:
    """Ctrl-C reaches the whole process group, the cluster's workers too: only the coordinator answers."""
    sweep_file, out = tmp_path / "sweep.toml", tmp_path / "out"
    sweep_file.write_text("seeds = 100\n[base]\ndays = 2.0\n")  # 100 points of about 0.1 s
    pmtwin = Path(sys.executable).with_name("pmtwin")
    command = [str(pmtwin), "sweep", str(sweep_file), "--out", str(out), "--dask-local", "2"]
    sweep = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             start_new_session=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while len(list((out / "rows").glob("*.json"))) < 4:  # the workers are running points
            assert sweep.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        os.killpg(sweep.pid, signal.SIGINT)
        stdout, stderr = sweep.communicate(timeout=60)
    finally:
        if sweep.poll() is None:
            os.killpg(sweep.pid, signal.SIGKILL)
            sweep.wait()
    assert sweep.returncode == 130, stderr
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
    assert "run the same command again to resume" in stderr
    table = pq.read_table(out / "results.parquet").to_pydict()
    assert 4 <= len(table["point_id"]) < 100 and set(table["status"]) == {"ok"}
    assert len(table["point_id"]) == len(list((out / "rows").glob("*.json")))
