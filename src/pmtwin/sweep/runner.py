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
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, BrokenExecutor, CancelledError, Executor, Future, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pmtwin._files import replace_file
from pmtwin.sweep.plan import Point
from pmtwin.sweep.points import base_row, run_point
from pmtwin.sweep.table import TIMING

ROWS_DIR = "rows"
TABLE_NAME = "results.parquet"
TABLE_EVERY_S = 5.0
TIMING_COLUMNS = (*TIMING, "traceback")
"""Columns that differ between two runs of the same point (where and how fast it ran)."""

RowCallback = Callable[[dict[str, Any], int, int], None]
"""Called in the coordinator after each finished point: its row, points finished, points in the plan."""

StartCallback = Callable[[int, int], None]
"""Called once before any point runs: points already finished (done before, or repeating another point
of the plan) and points in the plan."""


@dataclass
class SweepOutcome:
    """What a call of ``run_sweep`` did."""

    points: int
    skipped: int = 0
    duplicates: int = 0
    """Points equal to an earlier one (same scenario and seed): run once, a row each."""
    ran: int = 0
    failed: int = 0
    resubmitted: int = 0
    interrupted: bool = False
    wall_s: float = 0.0
    table: Path | None = None


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
        text = json.dumps(row, sort_keys=True, allow_nan=True)
        replace_file(self.rows_dir / f"{row['point_id']}.json", text.encode())

    def write_table(self, points: Sequence[Point], rows: dict[str, dict[str, Any]]) -> Path:
        """``results.parquet``: the rows of ``points`` that have finished, in plan order."""
        from pmtwin.sweep.table import rows_table, write_table

        ordered = [{**rows[p.point_id], **p.values, "index": p.index} for p in points if p.point_id in rows]
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
    on_start: StartCallback | None = None,
) -> SweepOutcome:
    """Run the points not yet finished in ``sweep_dir`` on ``executor``; see the module doc."""
    began = time.perf_counter()
    loop = _Loop(points, Path(sweep_dir).resolve(), executor, rebuild, max_retries, on_row)
    loop.limit = max(1, workers * in_flight_per_worker)
    if on_start is not None:
        on_start(loop.finished, len(points))
    try:
        loop.run()
    except KeyboardInterrupt:
        loop.interrupt()
    finally:
        loop.outcome.table = loop.store.write_table(points, loop.rows)
        loop.outcome.wall_s = time.perf_counter() - began
    return loop.outcome


class _Loop:
    """The state of one ``run_sweep`` call: points to submit, futures in flight, retries.

    After a process pool broke with several points in flight, nobody knows which one killed its
    worker: those points become suspects and run one at a time, and a retry is counted only against a
    point that breaks the pool on its own.
    """

    def __init__(
        self,
        points: Sequence[Point],
        sweep_dir: Path,
        executor: Executor,
        rebuild: Callable[[], Executor] | None,
        max_retries: int,
        on_row: RowCallback | None,
    ) -> None:
        self.points, self.sweep_dir, self.executor = points, sweep_dir, executor
        self.rebuild, self.max_retries, self.on_row = rebuild, max_retries, on_row
        self.store = RowStore(sweep_dir)
        self.rows = self.store.load()
        self.outcome = SweepOutcome(points=len(points))
        self.todo: deque[Point] = deque()
        self.in_flight: dict[Future[dict[str, Any]], Point] = {}
        self.attempts: dict[str, int] = {}
        self.suspects: set[str] = set()
        self.limit = 1
        seen: set[str] = set()
        for point in points:
            if point.point_id in seen:  # the same scenario and seed again: one run serves both rows
                self.outcome.duplicates += 1
            elif self.rows.get(point.point_id, {}).get("status") == "ok":
                self.outcome.skipped += 1
            else:
                self.todo.append(point)
            seen.add(point.point_id)
        self.finished = self.outcome.skipped + self.outcome.duplicates

    def run(self) -> None:
        last_table = time.monotonic()
        while self.todo or self.in_flight:
            self._fill()
            if not self.in_flight:
                continue
            done, _ = wait(list(self.in_flight), timeout=1.0, return_when=FIRST_COMPLETED)
            # a future cancelled by its executor without notice never counts as done for wait()
            self._collect(done | {f for f in self.in_flight if f.cancelled()})
            if time.monotonic() - last_table > TABLE_EVERY_S:
                self.store.write_table(self.points, self.rows)
                last_table = time.monotonic()

    def interrupt(self) -> None:
        """Ctrl-C: keep what already finished, cancel the rest."""
        self.outcome.interrupted = True
        for future, point in list(self.in_flight.items()):
            if future.done() and not future.cancelled() and future.exception() is None:
                self._record(future.result())
                self.suspects.discard(point.point_id)
            else:
                future.cancel()

    def _fill(self) -> None:
        while self.todo and len(self.in_flight) < (1 if self.suspects else self.limit):
            point = self.todo.popleft()
            try:
                future = self.executor.submit(run_point, point, str(self.sweep_dir))
            except BrokenExecutor as exc:  # a worker died since the last look
                self.todo.appendleft(point)
                self._pool_broke(exc)
                return
            except RuntimeError as exc:  # shut down, or its client closed
                raise ValueError(f"the executor stopped taking work: {exc}") from None
            self.in_flight[future] = point

    def _collect(self, done: set[Future[dict[str, Any]]]) -> None:
        broken = [f for f in done if not f.cancelled() and isinstance(f.exception(), BrokenExecutor)]
        for future in sorted(done, key=lambda f: self.in_flight[f].index):  # plan order among ties
            if future in broken:
                continue
            point = self.in_flight.pop(future)
            error = CancelledError("the executor cancelled it") if future.cancelled() else future.exception()
            if error is None:
                self._record(future.result())
                self.suspects.discard(point.point_id)
            elif not broken:
                self._retry_or_fail(point, error)
            else:  # lost with the pool
                self.in_flight[future] = point
        if broken:
            error = broken[0].exception()
            assert isinstance(error, BrokenExecutor)
            self._pool_broke(error)

    def _pool_broke(self, error: BrokenExecutor) -> None:
        if self.rebuild is None:
            raise error
        lost = sorted(self.in_flight.values(), key=lambda p: p.index)
        self.in_flight.clear()
        self.executor = self.rebuild()
        if len(lost) == 1:  # it was alone: it broke the pool
            self._retry_or_fail(lost[0], error)
            return
        self.suspects.update(p.point_id for p in lost)
        self.outcome.resubmitted += len(lost)
        self.todo.extendleft(reversed(lost))

    def _retry_or_fail(self, point: Point, error: BaseException) -> None:
        row = _lost(point, self.attempts, self.max_retries, error)
        if row is None:
            self.todo.appendleft(point)
            self.outcome.resubmitted += 1
        else:
            self.suspects.discard(point.point_id)
            self._record(row)

    def _record(self, row: dict[str, Any]) -> None:
        self.store.put(row)
        self.rows[row["point_id"]] = row
        self.outcome.ran += 1
        if row["status"] != "ok":
            self.outcome.failed += 1
        self.finished += 1
        if self.on_row is not None:
            self.on_row(row, self.finished, len(self.points))


def _lost(
    point: Point, attempts: dict[str, int], max_retries: int, exc: BaseException
) -> dict[str, Any] | None:
    """None when the point gets another try, else its error row."""
    attempts[point.point_id] = attempts.get(point.point_id, 0) + 1
    if attempts[point.point_id] <= max_retries:
        return None
    row = base_row(point)
    row.update(
        status="error", error=f"worker lost {attempts[point.point_id]} times: {type(exc).__name__}: {exc}"
    )
    return row
