"""Executors of sweeps: local processes, Dask on this machine, a Dask scheduler, Slurm job scripts."""

from __future__ import annotations

import importlib
import logging
import os
import re
import signal
import socket
import sys
import time
from collections.abc import Iterator
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest

from pmtwin.sweep.executors import (
    ExecutorHandle,
    ExecutorSpec,
    SlurmOptions,
    open_executor,
    slurm_job_script,
    worker_name,
)

SCHEDULER_PLACEHOLDER = "tcp://<insert-scheduler-address-here>:8786"
INSTALL_HINT = re.escape("pip install 'pmtwin[dask]'")


def scaled_sum(values: list[int], factor: int) -> int:
    """Defined here so that the workers must import this module to run it."""
    return factor * sum(values)


def append_line(path: str) -> str:
    """Leave a trace of every run, so a test can count how often a task ran."""
    with open(path, "a") as out:
        out.write(f"{os.getpid()}\n")
    return worker_name()


def pid_then_sleep(pid_path: str, sleep_s: float) -> int:
    """Tell the test which process runs this task, then keep it busy."""
    Path(pid_path).write_text(str(os.getpid()))
    time.sleep(sleep_s)
    return os.getpid()


def _started_pid(pid_path: Path) -> int:
    """The pid that ``pid_then_sleep`` wrote, once it has."""
    deadline = time.monotonic() + 30
    while not pid_path.exists() or not pid_path.read_text():
        assert time.monotonic() < deadline, "the task never started"
        time.sleep(0.05)
    return int(pid_path.read_text())


@pytest.fixture(scope="module")
def dask_local() -> Iterator[ExecutorHandle]:
    with open_executor(ExecutorSpec(kind="dask-local", workers=2)) as handle:
        yield handle


@pytest.fixture(scope="module")
def local() -> Iterator[ExecutorHandle]:
    with open_executor(ExecutorSpec(kind="local", workers=2)) as handle:
        yield handle


def test_local_runs_builtins_and_module_functions(local: ExecutorHandle) -> None:
    assert local.workers == 2
    assert local.description == "2 local processes"
    assert local.executor.submit(pow, 2, 10).result(timeout=30) == 1024
    assert local.executor.submit(scaled_sum, [1, 2, 3], factor=7).result(timeout=30) == 42


def test_dask_local_runs_builtins_and_module_functions(dask_local: ExecutorHandle) -> None:
    assert dask_local.workers == 2
    assert dask_local.rebuild is None
    assert dask_local.description.startswith("Dask LocalCluster, 2 workers")
    assert dask_local.executor.submit(pow, 2, 10).result(timeout=30) == 1024
    assert dask_local.executor.submit(scaled_sum, [1, 2, 3], factor=7).result(timeout=30) == 42


def test_worker_name_is_host_and_pid(dask_local: ExecutorHandle) -> None:
    assert worker_name() == f"{socket.gethostname()}:{os.getpid()}"
    remote = dask_local.executor.submit(worker_name).result(timeout=30)
    host, pid = remote.split(":")
    assert host == socket.gethostname()
    assert int(pid) != os.getpid()


def test_local_killed_process_breaks_pool_and_rebuild_recovers() -> None:
    with open_executor(ExecutorSpec(kind="local", workers=1)) as handle:
        old = handle.executor
        pid = old.submit(os.getpid).result(timeout=30)
        assert pid != os.getpid()
        running = old.submit(time.sleep, 20)
        os.kill(pid, signal.SIGKILL)
        with pytest.raises(BrokenProcessPool):
            running.result(timeout=15)
        with pytest.raises(BrokenProcessPool):
            old.submit(pow, 2, 10)
        assert handle.rebuild is not None
        fresh = handle.rebuild()
        assert fresh is handle.executor
        assert fresh is not old
        assert fresh.submit(pow, 2, 10).result(timeout=30) == 1024
        assert fresh.submit(os.getpid).result(timeout=30) != pid


def test_dask_local_runs_the_same_task_every_time(dask_local: ExecutorHandle, tmp_path: Path) -> None:
    log = tmp_path / "runs.txt"
    first = dask_local.executor.submit(append_line, str(log))
    second = dask_local.executor.submit(append_line, str(log))
    first.result(timeout=30)
    second.result(timeout=30)
    assert len(log.read_text().splitlines()) == 2


def test_dask_local_reschedules_the_task_of_a_killed_worker(
    dask_local: ExecutorHandle, tmp_path: Path
) -> None:
    pid_path = tmp_path / "pid.txt"
    future = dask_local.executor.submit(pid_then_sleep, str(pid_path), 3.0)
    killed = _started_pid(pid_path)
    os.kill(killed, signal.SIGKILL)
    # The nanny restarts the worker; the scheduler runs the task again on a live worker.
    assert future.result(timeout=60) != killed
    assert int(pid_path.read_text()) != killed


def test_dask_local_gives_up_after_allowed_failures(tmp_path: Path) -> None:
    dask = importlib.import_module("dask")
    distributed = importlib.import_module("distributed")
    pid_path = tmp_path / "pid.txt"
    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 0}),
        open_executor(ExecutorSpec(kind="dask-local", workers=1)) as handle,
    ):
        future = handle.executor.submit(pid_then_sleep, str(pid_path), 30.0)
        os.kill(_started_pid(pid_path), signal.SIGKILL)
        with pytest.raises(distributed.KilledWorker):
            future.result(timeout=30)


def test_dask_kind_connects_to_a_running_scheduler() -> None:
    distributed = importlib.import_module("distributed")
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None, silence_logs=logging.ERROR
    ) as cluster:
        address = cluster.scheduler_address
        with open_executor(ExecutorSpec(kind="dask", address=address)) as handle:
            assert handle.workers == 1
            assert handle.rebuild is None
            assert handle.description == f"Dask at {address}, 1 worker threads"
            assert handle.executor.submit(pow, 3, 4).result(timeout=30) == 81


def test_dask_kind_refuses_an_address_nobody_listens_on() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    began = time.monotonic()
    with (
        pytest.raises(ValueError, match=f"cannot reach the Dask scheduler at {address}"),
        open_executor(ExecutorSpec(kind="dask", address=address), connect_timeout_s=2),
    ):
        pass
    assert time.monotonic() - began < 10


def test_slurm_job_script_for_perlmutter() -> None:
    options = SlurmOptions(
        account="m1234",
        qos="debug",
        constraint="cpu",
        walltime="00:30:00",
        jobs=2,
        interface="hsn0",
        extra=("--licenses=scratch",),
    )
    lines = slurm_job_script(options).splitlines()
    header = [line for line in lines if line.startswith("#SBATCH")]
    for directive in ("-A m1234", "-q debug", "-C cpu", "-t 00:30:00", "--licenses=scratch"):
        assert f"#SBATCH {directive}" in header
    assert "#SBATCH --cpus-per-task=128" in header
    assert not any(line.startswith("#SBATCH -p ") for line in header)
    command = lines[-1].split()
    assert command[:3] == [sys.executable, "-m", "distributed.cli.dask_worker"]
    assert command[command.index("--nworkers") + 1] == "128"  # one single-threaded worker per core
    assert command[command.index("--nthreads") + 1] == "1"
    assert command[command.index("--interface") + 1] == "hsn0"


def test_slurm_job_script_matches_the_cluster_script() -> None:
    jobqueue = importlib.import_module("dask_jobqueue")
    options = SlurmOptions(
        account="m1234", qos="debug", cores=8, processes=4, memory="16GB", python="python3"
    )
    with jobqueue.SLURMCluster(
        account="m1234",
        cores=8,
        processes=4,
        memory="16GB",
        walltime="01:00:00",
        python="python3",
        job_extra_directives=["-q debug", "-C cpu"],
        scheduler_options={"dashboard_address": None},
    ) as cluster:
        script = cluster.job_script().replace(cluster.scheduler_address, SCHEDULER_PLACEHOLDER)
        assert slurm_job_script(options) == script


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"jobs": 0}, "jobs"),
        ({"cores": -1}, "cores"),
        ({"processes": 0}, "processes"),
        ({"processes": 256}, "processes"),
        ({"walltime": "30:00"}, "walltime"),
        ({"walltime": "1:75:00"}, "walltime"),
        ({"memory": "lots"}, "memory"),
        ({"qos": "de bug"}, "qos"),
        ({"account": ""}, "account"),
        ({"extra": ("licenses=scratch",)}, "extra"),
    ],
)
def test_invalid_slurm_options_raise(changes: dict[str, object], field: str) -> None:
    with pytest.raises(ValueError, match=f"'{field}'"):
        SlurmOptions(**changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"kind": "threads"}, "executor kind must be one of"),
        ({"kind": "local", "workers": 0}, "'workers' must be a positive integer"),
        ({"kind": "dask"}, "needs 'address'"),
        ({"kind": "local", "address": "tcp://h:8786"}, "'address' is for kind 'dask'"),
        ({"kind": "slurm", "workers": 4}, "'workers' is for kinds local and dask-local"),
        ({"kind": "local", "slurm": SlurmOptions()}, "'slurm' options are for kind 'slurm'"),
    ],
)
def test_invalid_executor_specs_raise(spec: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ExecutorSpec(**spec)  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", ["dask-local", "dask", "slurm"])
def test_missing_dask_says_how_to_install(kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)
    spec = ExecutorSpec(kind=kind, address="tcp://127.0.0.1:8786" if kind == "dask" else None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=f"{kind!r} needs dask: {INSTALL_HINT}"), open_executor(spec):
        pass


def test_missing_dask_jobqueue_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "dask_jobqueue.slurm", None)
    with pytest.raises(ValueError, match=f"needs dask: {INSTALL_HINT}"):
        slurm_job_script(SlurmOptions())
