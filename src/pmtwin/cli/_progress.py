"""A progress bar over simulated time, shown on a terminal only (and only for runs that take a while)."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pmtwin.runs import ProgressFactory
from pmtwin.sim.engine import LevelsFn, ProgressFn

SHOW_AFTER_S = 0.5
"""Wall time before the bar appears: short runs print no bar at all."""


@contextmanager
def terminal_progress(enabled: bool = True) -> Iterator[ProgressFactory | None]:
    """Yields a progress factory for ``pmtwin.runs`` when standard error is a terminal, else None."""
    if not (enabled and sys.stderr.isatty()):
        yield None
        return
    bar: dict[str, Any] = {}

    def factory(first_s: float, last_s: float) -> ProgressFn:
        began = time.perf_counter()

        def report(t_s: float, _levels: LevelsFn) -> None:
            if "progress" not in bar:
                if time.perf_counter() - began < SHOW_AFTER_S:
                    return
                from rich.progress import Progress

                bar["progress"] = Progress(transient=True)
                bar["progress"].start()
                bar["task"] = bar["progress"].add_task("simulating", total=max(last_s - first_s, 1.0))
            bar["progress"].update(bar["task"], completed=min(t_s, last_s) - first_s)

        return report

    try:
        yield factory
    finally:
        if "progress" in bar:
            bar["progress"].stop()
