"""Running a sweep's points on any ``concurrent.futures.Executor`` (docs/sweeps.md section 3).

The serial, local-process and Dask paths are this one loop; only the executor differs. What makes a
sweep resumable and loss-free:

- each finished point's row is written at once to ``rows/<point_id>.json`` (beside, then renamed), by
  the coordinator; a rerun skips points whose row says ``ok`` and runs the others again;
- ``results.parquet`` is rebuilt from the rows (written beside, then renamed) every few seconds, at the
  end and on Ctrl-C, so it always holds whole rows of finished points;
- a point's own failure comes back as an error row (``run_point`` never raises), so an exception from a
  future means its worker was lost: the point is submitted again, up to ``max_retries`` times, then
  recorded as an error row saying so. A broken process pool is rebuilt (``rebuild``) and everything it
  held is submitted again.
"""

from __future__ import annotations

import json
import os
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, BrokenExecutor, Executor, Future, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pmtwin.sweep.plan import Point
from pmtwin.sweep.points import base_row, run_point

ROWS_DIR = "rows"
TABLE_NAME = "results.parquet"
TABLE_EVERY_S = 5.0
TIMING_COLUMNS = ("wall_s", "simulate_s", "worker", "traceback")
"""Columns that differ between two runs of the same point (where and how fast it ran)."""

RowCallback = Callable[[dict[str, Any], int, int], None]
"""Called in the coordinator after each finished point: its row, points finished, points in the plan."""


@dataclass
class SweepOutcome:
    """What a call of ``run_sweep`` did."""

    points: int
    skipped: int = 0
    ran: int = 0
    failed: int = 0
    resubmitted: int = 0
    interrupted: bool = False
    wall_s: float = 0.0
    table: Path = field(default_factory=Path)


class InlineExecutor(Executor):
    """Runs each submitted call at once, in this process: the serial path, through the same loop."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # as a pool would: the caller sees it on result()
            if isinstance(exc, KeyboardInterrupt):
                raise
            future.set_exception(exc)
        return future


class RowStore:
    """The finished points' rows of a sweep folder (one JSON file each) and the table built from them."""

    def __init__(self, sweep_dir: Path) -> None:
        self.sweep_dir = sweep_dir
        self.rows_dir = sweep_dir / ROWS_DIR
        self.rows_dir.mkdir(parents=True, exist_ok=True)

    def load(self) -> dict[str, dict[str, Any]]:
        """Every stored row by point id (unreadable files are left out: their points run again)."""
        rows: dict[str, dict[str, Any]] = {}
        for path in sorted(self.rows_dir.glob("*.json")):
            try:
                row = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if isinstance(row, dict) and row.get("point_id") == path.stem:
                rows[path.stem] = row
        return rows

    def put(self, row: dict[str, Any]) -> None:
        path = self.rows_dir / f"{row['point_id']}.json"
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(row, sort_keys=True, allow_nan=True), encoding="utf-8")
        os.replace(tmp, path)

    def write_table(self, points: Sequence[Point], rows: dict[str, dict[str, Any]]) -> Path:
        """``results.parquet``: the rows of ``points`` that have finished, in plan order."""
        from pmtwin.sweep.table import rows_table, write_table

        ordered = [{**rows[p.point_id], "index": p.index} for p in points if p.point_id in rows]
        axes = list(dict.fromkeys(name for p in points for name in p.values))
        path = self.sweep_dir / TABLE_NAME
        write_table(rows_table(ordered, axes), path)
        return path


def run_sweep(
    points: Sequence[Point],
    sweep_dir: Path,
    executor: Executor,
    *,
    rebuild: Callable[[], Executor] | None = None,
    max_retries: int = 3,
    in_flight_per_worker: int = 2,
    workers: int = 1,
    on_row: RowCallback | None = None,
) -> SweepOutcome:
    """Run the points not yet finished in ``sweep_dir`` on ``executor``; see the module doc."""
    began = time.perf_counter()
    sweep_dir = Path(sweep_dir).resolve()
    store = RowStore(sweep_dir)
    rows = store.load()
    outcome = SweepOutcome(points=len(points))
    todo: deque[Point] = deque()
    for point in points:
        if rows.get(point.point_id, {}).get("status") == "ok":
            outcome.skipped += 1
        else:
            todo.append(point)
    attempts: dict[str, int] = {}
    in_flight: dict[Future[dict[str, Any]], Point] = {}
    finished = outcome.skipped
    last_table = time.monotonic()
    limit = max(1, workers * in_flight_per_worker)
    try:
        while todo or in_flight:
            while todo and len(in_flight) < limit:
                point = todo.popleft()
                in_flight[executor.submit(run_point, point, str(sweep_dir))] = point
            done, _ = wait(list(in_flight), timeout=1.0, return_when=FIRST_COMPLETED)
            if any(isinstance(f.exception(), BrokenExecutor) for f in done):
                if rebuild is None:
                    raise next(e for f in done if isinstance(e := f.exception(), BrokenExecutor))
                executor = rebuild()
                done = set(in_flight)  # the broken pool's futures are all lost, or finished before
            for future in sorted(done, key=lambda f: in_flight[f].index):  # plan order among ties
                point = in_flight.pop(future)
                error = future.exception()
                if error is None:
                    row = future.result()
                else:  # the worker was lost (killed, cancelled, its pool broken, unreachable)
                    lost = _lost(point, attempts, max_retries, error)
                    if lost is None:
                        todo.appendleft(point)
                        outcome.resubmitted += 1
                        continue
                    row = lost
                finished = _record(store, rows, row, outcome, on_row, finished, len(points))
            if time.monotonic() - last_table > TABLE_EVERY_S:
                store.write_table(points, rows)
                last_table = time.monotonic()
    except KeyboardInterrupt:
        outcome.interrupted = True
        for future in in_flight:
            future.cancel()
    finally:
        outcome.table = store.write_table(points, rows)
        outcome.wall_s = time.perf_counter() - began
    return outcome


def _lost(
    point: Point, attempts: dict[str, int], max_retries: int, exc: BaseException
) -> dict[str, Any] | None:
    """None when the point gets another try, else its error row."""
    attempts[point.point_id] = attempts.get(point.point_id, 0) + 1
    if attempts[point.point_id] <= max_retries:
        return None
    row = base_row(point, str(Path("points") / point.point_id))
    row.update(
        status="error", error=f"worker lost {attempts[point.point_id]} times: {type(exc).__name__}: {exc}"
    )
    return row


def _record(
    store: RowStore,
    rows: dict[str, dict[str, Any]],
    row: dict[str, Any],
    outcome: SweepOutcome,
    on_row: RowCallback | None,
    finished: int,
    total: int,
) -> int:
    store.put(row)
    rows[row["point_id"]] = row
    outcome.ran += 1
    if row["status"] != "ok":
        outcome.failed += 1
    if on_row is not None:
        on_row(row, finished + 1, total)
    return finished + 1
