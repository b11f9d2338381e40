"""Server-sent events of one run: every progress point so far and then its state on connect, then new
points and state changes as they come, until the run reaches a terminal state or the server shuts down.

Points always come before the state that was read with them, so a page that moves its progress bar from
this stream alone sees every point's progress in order before the state's (a state read first would carry
the progress of points not yet sent, and hide them).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

from pmtwin.serve.manager import RunManager
from pmtwin.serve.requests import RunInfo

POLL_S = 0.2
KEEP_ALIVE_S = 15.0
"""A comment line this often keeps proxies and browsers from closing a quiet stream."""


def sse_event(event: str, data: Any) -> str:
    """One event in the text/event-stream format."""
    return f"event: {event}\ndata: {json.dumps(data, allow_nan=False)}\n\n"


def _state_key(info: RunInfo) -> tuple[str, str]:
    """What makes a new ``state`` event: the state or the phase changed (progress has its own events)."""
    return info.state, info.phase


async def run_events(manager: RunManager, run_id: str) -> AsyncIterator[str]:
    """The event stream of a run known to ``manager`` (checked by the caller); it ends after the run's
    terminal state, or within ``POLL_S`` of the manager's shutdown (after the state that left)."""
    sent_points = 0
    last_key: tuple[str, str] | None = None
    quiet_since = time.monotonic()
    while True:
        stopping = manager.stopping  # read first: the state read next is then the one shutdown left
        info, points = manager.watch(run_id, sent_points)
        for point in points:
            yield sse_event("progress", point)
        sent_points += len(points)
        if points:
            quiet_since = time.monotonic()
        if _state_key(info) != last_key:  # always on the first pass
            last_key = _state_key(info)
            yield sse_event("state", info.model_dump(mode="json"))
            quiet_since = time.monotonic()
        if info.finished or stopping:
            return
        if time.monotonic() - quiet_since >= KEEP_ALIVE_S:
            yield ": keep-alive\n\n"
            quiet_since = time.monotonic()
        await asyncio.sleep(POLL_S)
