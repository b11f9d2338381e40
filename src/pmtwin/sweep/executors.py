"""Where a sweep's points run: local processes, a Dask cluster on this machine, a running Dask
scheduler, or Dask workers in Slurm jobs (Perlmutter).

Every kind is opened as a ``concurrent.futures.Executor`` so the coordinator has one code path.
Dask is an optional extra (``pip install 'pmtwin[dask]'``): it is imported only when a Dask kind is
opened, and a missing Dask gives a ``ValueError`` that says how to install it.

A lost worker shows differently per kind. A killed local process breaks the whole pool (the pending
futures raise ``BrokenProcessPool``), so ``ExecutorHandle.rebuild`` makes a fresh pool. Dask's nanny
restarts a killed worker and the scheduler runs its task again elsewhere, up to
``distributed.scheduler.allowed-failures`` (3) times; after that the future raises ``KilledWorker``.
"""

from __future__ import annotations

import concurrent.futures
import importlib
import logging
import multiprocessing
import os
import re
import socket
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.util import find_spec
from typing import Any, Literal

KINDS = ("local", "dask-local", "dask", "slurm")
CONNECT_TIMEOUT_S = 10.0
UNKNOWN_WORKERS = 64
"""Worker threads assumed when a scheduler has none yet: it queues what it cannot run at once."""
"""How long ``kind = "dask"`` waits for the scheduler before giving up."""
_INSTALL_HINT = "pip install 'pmtwin[dask]'"
_SCHEDULER_PLACEHOLDER = "tcp://<insert-scheduler-address-here>:8786"
_WALLTIME = re.compile(r"\d{1,3}:[0-5]\d:[0-5]\d")
_MEMORY = re.compile(r"\d+(\.\d+)?\s*[kmgtp]i?b", re.IGNORECASE)
_WORD = re.compile(r"[^\s]+")


@dataclass(frozen=True)
class SlurmOptions:
    """Slurm jobs that each run Dask workers (one node per job by default; Perlmutter CPU defaults)."""

    jobs: int = 1
    account: str | None = None
    qos: str = "regular"
    constraint: str = "cpu"
    walltime: str = "01:00:00"
    cores: int = 128
    memory: str = "480GB"
    processes: int = 128
    interface: str | None = None
    python: str | None = None
    extra: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("jobs", "cores", "processes"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"slurm option {name!r} must be a positive integer, got {value!r}")
        if self.processes > self.cores:
            raise ValueError(
                f"slurm option 'processes' ({self.processes}) must not exceed 'cores' ({self.cores})"
            )
        if not _WALLTIME.fullmatch(self.walltime):
            raise ValueError(f"slurm option 'walltime' must be HH:MM:SS, got {self.walltime!r}")
        if not _MEMORY.fullmatch(self.memory):
            raise ValueError(f"slurm option 'memory' must be a size such as '480GB', got {self.memory!r}")
        for name in ("account", "qos", "constraint", "interface", "python"):
            value = getattr(self, name)
            if value is not None and not _WORD.fullmatch(value):
                raise ValueError(f"slurm option {name!r} must be one word without spaces, got {value!r}")
        for directive in self.extra:
            if not directive.startswith("-"):
                raise ValueError(
                    f"slurm option 'extra' holds #SBATCH options like '--licenses=scratch', got {directive!r}"
                )


@dataclass(frozen=True)
class ExecutorSpec:
    """Which executor runs the points, and its settings."""

    kind: Literal["local", "dask-local", "dask", "slurm"] = "local"
    workers: int | None = None
    """local / dask-local: processes (default: the CPUs this process may use, Slurm's allocation)."""
    address: str | None = None
    """dask: the scheduler's address, e.g. ``tcp://host:8786``."""
    slurm: SlurmOptions | None = None
    """slurm: the jobs (default ``SlurmOptions()``)."""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"executor kind must be one of {', '.join(KINDS)}, got {self.kind!r}")
        if self.workers is not None:
            if self.kind not in ("local", "dask-local"):
                raise ValueError(f"executor 'workers' is for kinds local and dask-local, not {self.kind!r}")
            if isinstance(self.workers, bool) or not isinstance(self.workers, int) or self.workers < 1:
                raise ValueError(f"executor 'workers' must be a positive integer, got {self.workers!r}")
        if self.kind == "dask" and not self.address:
            raise ValueError("executor kind 'dask' needs 'address' (the scheduler, e.g. tcp://host:8786)")
        if self.address is not None and self.kind != "dask":
            raise ValueError(f"executor 'address' is for kind 'dask', not {self.kind!r}")
        if self.slurm is not None and self.kind != "slurm":
            raise ValueError(f"executor 'slurm' options are for kind 'slurm', not {self.kind!r}")


@dataclass
class ExecutorHandle:
    """An open executor and what the coordinator needs to know about it."""

    executor: concurrent.futures.Executor
    rebuild: Callable[[], concurrent.futures.Executor] | None
    """Local processes: shut the (broken) pool down, start a fresh one, store it in ``executor`` and
    return it. None for Dask, which replaces lost workers and reschedules their tasks itself."""
    description: str
    workers: int
    """Worker processes: those started (local kinds), those the scheduler has at start (``dask``, may be
    0), or those the Slurm jobs will start (``slurm``)."""


def worker_name() -> str:
    """``<hostname>:<pid>`` of the process calling it, to tell in result rows where a point ran."""
    return f"{socket.gethostname()}:{os.getpid()}"


@contextmanager
def open_executor(
    spec: ExecutorSpec, *, connect_timeout_s: float = CONNECT_TIMEOUT_S
) -> Iterator[ExecutorHandle]:
    """Start the executor ``spec`` names, yield its handle, and stop it (and its workers) on exit."""
    workers = spec.workers or len(os.sched_getaffinity(0)) or 1
    if spec.kind == "local":
        with _open_local(workers) as handle:
            yield handle
    elif spec.kind == "dask-local":
        with _open_dask_local(workers) as handle:
            yield handle
    elif spec.kind == "dask":
        with _open_dask(str(spec.address), connect_timeout_s) as handle:
            yield handle
    else:
        with _open_slurm(spec.slurm or SlurmOptions()) as handle:
            yield handle


def slurm_job_script(options: SlurmOptions) -> str:
    """The sbatch script that ``kind = "slurm"`` submits per job, built without Slurm or a scheduler.

    It is the script of the same Slurm job the cluster would make (``SLURMCluster.job_script()``), only
    with a placeholder for the scheduler's address; no scheduler is started, so it also works where the
    workers' network interface (``hsn0``) does not exist.
    """
    _require("distributed", "slurm")
    slurm = _require("dask_jobqueue.slurm", "slurm")
    job = slurm.SLURMJob(_SCHEDULER_PLACEHOLDER, name="dummy-name", **_slurm_job_kwargs(options))
    return str(job.job_script())


@contextmanager
def _open_local(workers: int) -> Iterator[ExecutorHandle]:
    """A pool of ``workers`` processes; ``rebuild`` replaces it after a process died."""

    def new_pool() -> concurrent.futures.ProcessPoolExecutor:
        # spawn, not fork: the coordinator runs threads (pool managers, Dask or progress loops), and a
        # forked child inherits their held locks without the threads, which can deadlock it.
        context = multiprocessing.get_context("spawn")
        return concurrent.futures.ProcessPoolExecutor(max_workers=workers, mp_context=context)

    handle = ExecutorHandle(new_pool(), None, f"{workers} local processes", workers)

    def rebuild() -> concurrent.futures.Executor:
        handle.executor.shutdown(wait=False, cancel_futures=True)
        handle.executor = new_pool()
        return handle.executor

    handle.rebuild = rebuild
    try:
        yield handle
    finally:
        handle.executor.shutdown(wait=True, cancel_futures=True)


@contextmanager
def _open_dask_local(workers: int) -> Iterator[ExecutorHandle]:
    """A Dask LocalCluster of ``workers`` single-threaded processes (each watched by a nanny)."""
    distributed = _require("distributed", "dask-local")
    dask = _require("dask", "dask-local")
    with (
        # Dask's nannies set MALLOC_TRIM_THRESHOLD_ in their workers, which turns off glibc's adaptive
        # mmap threshold: every large numpy array is then mapped and unmapped anew, and a point runs
        # about 45% slower (measured: 0.63 s against 0.44 s per 30-day point). Unset it for our workers.
        dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}),
        distributed.LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",  # a free port: the scheduler serves HTTP even without a dashboard
            silence_logs=logging.ERROR,
            preload=["pmtwin.sweep.dask_worker"],  # workers leave Ctrl-C to the coordinator
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        dashboard_url = _dashboard_url(client)
        description = f"Dask LocalCluster, {workers} workers"
        if dashboard_url:
            description += f" (dashboard {dashboard_url})"
        with _dask_handle(client, description, workers) as handle:
            yield handle


@contextmanager
def _open_dask(address: str, timeout_s: float) -> Iterator[ExecutorHandle]:
    """A client of the Dask scheduler at ``address``, started elsewhere with its own workers."""
    distributed = _require("distributed", "dask")
    try:
        client = distributed.Client(address, timeout=timeout_s)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ValueError(f"cannot reach the Dask scheduler at {address}: {exc}") from exc
    with client:
        workers = sum(client.nthreads().values()) or UNKNOWN_WORKERS
        with _dask_handle(client, f"Dask at {address}, {workers} worker threads", workers) as handle:
            yield handle


@contextmanager
def _open_slurm(options: SlurmOptions) -> Iterator[ExecutorHandle]:
    """A Dask scheduler here and ``options.jobs`` Slurm jobs of workers, cancelled on exit."""
    distributed = _require("distributed", "slurm")
    jobqueue = _require("dask_jobqueue", "slurm")
    with jobqueue.SLURMCluster(**_slurm_job_kwargs(options)) as cluster:
        cluster.scale(jobs=options.jobs)
        with distributed.Client(cluster) as client:
            workers = options.jobs * options.processes
            dashboard_url = _dashboard_url(client)
            description = (
                f"Dask SLURMCluster, {options.jobs} jobs x {options.processes} workers "
                f"(scheduler {cluster.scheduler_address}"
                + (f", dashboard {dashboard_url})" if dashboard_url else ")")
            )
            with _dask_handle(client, description, workers) as handle:
                yield handle


@contextmanager
def _dask_handle(client: Any, description: str, workers: int) -> Iterator[ExecutorHandle]:
    """The executor of ``client``; on exit the tasks still queued or running are cancelled.

    ``pure=False`` gives every submission its own key: Dask would otherwise hand back the first
    result for a second submission of the same point instead of running it again.
    """
    executor = client.get_executor(pure=False)
    try:
        yield ExecutorHandle(executor, None, description, workers)
    finally:
        executor.shutdown(wait=False)


def _dashboard_url(client: Any) -> str | None:
    """The dashboard's URL, or None without bokeh (Dask then still gives a link, but to no dashboard)."""
    if find_spec("bokeh") is None:
        return None
    return str(client.dashboard_link)


def _slurm_job_kwargs(options: SlurmOptions) -> dict[str, Any]:
    """``SLURMCluster`` / ``SLURMJob`` keywords for ``options`` (QOS and constraint as directives:
    Perlmutter has no partitions to pick)."""
    return {
        "account": options.account,
        "cores": options.cores,
        "memory": options.memory,
        "processes": options.processes,
        "walltime": options.walltime,
        "interface": options.interface,
        "python": options.python or sys.executable,
        "job_extra_directives": [f"-q {options.qos}", f"-C {options.constraint}", *options.extra],
    }


def _require(module: str, kind: str) -> Any:
    """Import ``module`` of the optional Dask extra, or say how to install it.

    Imported by name, untyped: Dask's own annotations are partial and it need not be installed.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ValueError(f"executor kind {kind!r} needs dask: {_INSTALL_HINT}") from exc
