"""Dask preload module of ``--dask-local`` workers (``LocalCluster(preload=[...])``).

Ctrl-C in a terminal interrupts every process of its process group, the cluster's worker processes
included. The coordinator handles the interrupt (keeps finished points, cancels the rest, closes the
cluster, which stops its workers), so a worker ignores it rather than printing tracebacks of its own.
"""

from __future__ import annotations

import signal
import threading
from typing import Any


def dask_setup(worker: Any) -> None:
    """Called by Dask in each worker as it starts: in the main thread of a worker process (workers run
    as threads of the coordinator only with ``processes=False``, and then the coordinator answers)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
