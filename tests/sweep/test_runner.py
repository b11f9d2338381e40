"""The sweep loop: rows and table, resuming, failing points, lost workers, broken pools, Ctrl-C."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor, Future
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pmtwin.sweep.plan import Point, expand, parse_sweep
from pmtwin.sweep.runner import TIMING_COLUMNS, InlineExecutor, run_sweep

SMALL = {
    "seeds": 2,
    "base": {"days": 0.2},
    "axes": [{"field": "policy", "values": ["fcfs", "easy"]}, {"field": "load_factor", "values": [1.0, 1.5]}],
}


def points_of(data: dict[str, Any]) -> list[Point]:
    return expand(parse_sweep(data))


def comparable(path: Path) -> pa.Table:
    """The results table without the columns that say where and how fast a point ran."""
    return pq.read_table(path).drop_columns(list(TIMING_COLUMNS))


@pytest.fixture(scope="module")
def serial(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("serial")
    outcome = run_sweep(points_of(SMALL), out, InlineExecutor())
    assert (outcome.points, outcome.ran, outcome.skipped, outcome.failed) == (8, 8, 0, 0)
    return out


def test_rows_table_and_run_directories(serial: Path) -> None:
    table = pq.read_table(serial / "results.parquet")
    assert table.column("index").to_pylist() == list(range(8))
    assert table.column("status").to_pylist() == ["ok"] * 8
    assert table.column_names[:6] == ["point_id", "index", "seed", "policy", "load_factor", "status"]
    for row in table.select(
        ["run_dir", "jobs", "utilization", "wait_mean_h", "energy_facility_mwh"]
    ).to_pylist():
        assert (serial / row["run_dir"] / "summary.json").is_file()
        assert row["jobs"] > 0 and 0 < row["utilization"] < 1 and row["energy_facility_mwh"] > 0
    more_load = table.filter(pa.compute.equal(table.column("load_factor"), 1.5)).column("jobs").to_pylist()
    assert min(more_load) > max(
        table.filter(pa.compute.equal(table.column("load_factor"), 1.0))["jobs"].to_pylist()
    )


def test_a_rerun_skips_finished_points_and_redoes_lost_rows(serial: Path, tmp_path: Path) -> None:
    before = comparable(serial / "results.parquet")
    outcome = run_sweep(points_of(SMALL), serial, InlineExecutor())
    assert (outcome.skipped, outcome.ran) == (8, 0)
    victim = sorted((serial / "rows").glob("*.json"))[3]
    victim.unlink()
    calls: list[tuple[int, int]] = []
    outcome = run_sweep(
        points_of(SMALL), serial, InlineExecutor(),
        on_start=lambda finished, total: calls.append((finished, total)),
        on_row=lambda row, finished, total: calls.append((finished, total)),
    )  # fmt: skip
    assert (outcome.skipped, outcome.ran) == (7, 1)
    assert calls == [(7, 8), (8, 8)]  # a progress bar starts from the points done before
    assert comparable(serial / "results.parquet").equals(before)  # a point is a pure function


def test_a_failing_point_gets_an_error_row_and_the_sweep_goes_on(tmp_path: Path) -> None:
    data = {
        "base": {"days": 0.2, "power": {"power_cap_mw": 4.0}},
        "axes": [{"field": "policy", "values": ["easy", "conservative"]}],
    }
    outcome = run_sweep(points_of(data), tmp_path, InlineExecutor())
    assert (outcome.ran, outcome.failed) == (2, 1)
    rows = pq.read_table(tmp_path / "results.parquet").to_pylist()
    assert [r["status"] for r in rows] == ["ok", "error"]
    assert "conservative" in rows[1]["error"] and rows[1]["utilization"] is None
    assert rows[1]["traceback"]
    again = run_sweep(points_of(data), tmp_path, InlineExecutor())
    assert (again.skipped, again.ran, again.failed) == (1, 1, 1)  # failed points are tried again


class LosingExecutor(Executor):
    """Loses the worker of the first ``losses`` submissions (their futures fail), then runs inline."""

    def __init__(self, losses: int, error: Callable[[], BaseException] = lambda: ConnectionError("gone")):
        self.losses = losses
        self.error = error
        self.submitted = 0

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.submitted += 1
        if self.submitted <= self.losses:
            future: Future[Any] = Future()
            future.set_exception(self.error())
            return future
        return InlineExecutor().submit(fn, *args, **kwargs)


def test_points_of_lost_workers_run_again(serial: Path, tmp_path: Path) -> None:
    executor = LosingExecutor(losses=3)
    outcome = run_sweep(points_of(SMALL), tmp_path, executor, workers=2)
    assert (outcome.ran, outcome.failed, outcome.resubmitted) == (8, 0, 3)
    assert executor.submitted == 11
    assert comparable(tmp_path / "results.parquet").equals(comparable(serial / "results.parquet"))


def test_a_point_whose_worker_is_always_lost_is_recorded(tmp_path: Path) -> None:
    data = {"base": {"days": 0.2}}
    outcome = run_sweep(points_of(data), tmp_path, LosingExecutor(losses=10), max_retries=2)
    assert (outcome.ran, outcome.failed, outcome.resubmitted) == (1, 1, 2)
    (row,) = pq.read_table(tmp_path / "results.parquet").to_pylist()
    assert row["status"] == "error" and row["error"] == "worker lost 3 times: ConnectionError: gone"


def test_a_broken_pool_is_rebuilt_and_its_points_run_again(serial: Path, tmp_path: Path) -> None:
    broken = LosingExecutor(losses=100, error=lambda: BrokenProcessPool("a worker died"))
    rebuilt: list[Executor] = []

    def rebuild() -> Executor:
        rebuilt.append(InlineExecutor())
        return rebuilt[-1]

    outcome = run_sweep(points_of(SMALL), tmp_path, broken, rebuild=rebuild, workers=2)
    assert len(rebuilt) == 1 and broken.submitted == 4  # the first window of 2 x 2, all lost at once
    assert (outcome.ran, outcome.failed, outcome.resubmitted) == (8, 0, 4)
    assert comparable(tmp_path / "results.parquet").equals(comparable(serial / "results.parquet"))
    with pytest.raises(BrokenProcessPool):  # without a way to rebuild, the sweep stops (rows kept)
        run_sweep(points_of(SMALL), tmp_path / "no-rebuild", LosingExecutor(100, broken.error))


def test_ctrl_c_leaves_a_consistent_resumable_table(serial: Path, tmp_path: Path) -> None:
    def interrupt_after_three(row: dict[str, Any], finished: int, total: int) -> None:
        if finished == 3:
            raise KeyboardInterrupt

    outcome = run_sweep(points_of(SMALL), tmp_path, InlineExecutor(), on_row=interrupt_after_three)
    # the fourth point had finished (an inline executor runs at submission): it is kept, not thrown away
    assert outcome.interrupted and outcome.ran == 4
    assert pq.read_table(tmp_path / "results.parquet").column("index").to_pylist() == [0, 1, 2, 3]
    resumed = run_sweep(points_of(SMALL), tmp_path, InlineExecutor())
    assert (resumed.skipped, resumed.ran) == (4, 4)
    assert comparable(tmp_path / "results.parquet").equals(comparable(serial / "results.parquet"))


def poison_seed_one_at_load_one_and_a_half() -> None:
    """A pool initializer: in this worker, the point (seed 1, load factor 1.5) kills its process."""
    import os
    import signal

    import pmtwin.sweep.scenario as scenario

    original = scenario.run_scenario

    def run(chosen: Any, seed: int, out_dir: Path) -> Any:
        if seed == 1 and chosen.load_factor == 1.5:
            os.kill(os.getpid(), signal.SIGKILL)
        return original(chosen, seed, out_dir)

    scenario.run_scenario = run  # type: ignore[assignment]


def test_only_the_point_that_kills_its_worker_fails(serial: Path, tmp_path: Path) -> None:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    def pool() -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            2,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=poison_seed_one_at_load_one_and_a_half,
        )

    pools = [pool()]

    def rebuild() -> Executor:
        pools[-1].shutdown(wait=False, cancel_futures=True)
        pools.append(pool())
        return pools[-1]

    outcome = run_sweep(points_of(SMALL), tmp_path, pools[0], rebuild=rebuild, workers=2, max_retries=2)
    pools[-1].shutdown()
    rows = pq.read_table(tmp_path / "results.parquet").to_pylist()
    poisoned = [r for r in rows if r["seed"] == 1 and r["load_factor"] == 1.5]
    assert len(poisoned) == 2 and all(r["error"].startswith("worker lost 3 times") for r in poisoned)
    assert outcome.failed == 2 and sum(r["status"] == "ok" for r in rows) == 6  # nobody else paid for it
    ok = comparable(tmp_path / "results.parquet").filter(
        pa.compute.equal(pa.array([r["status"] for r in rows]), "ok")
    )
    reference = comparable(serial / "results.parquet")
    assert ok.drop_columns(["error"]).equals(
        reference.filter(pa.compute.equal(pa.array([r["status"] for r in rows]), "ok")).drop_columns(
            ["error"]
        )
    )


class CancellingOnce(Executor):
    """The first submission comes back cancelled (as from a Dask scheduler that went away)."""

    def __init__(self) -> None:
        self.submitted = 0

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.submitted += 1
        if self.submitted == 1:
            future: Future[Any] = Future()
            future.cancel()
            return future
        return InlineExecutor().submit(fn, *args, **kwargs)


def test_a_cancelled_future_is_a_lost_worker(tmp_path: Path) -> None:
    outcome = run_sweep(points_of({"base": {"days": 0.2}, "seeds": 2}), tmp_path, CancellingOnce())
    assert (outcome.ran, outcome.failed, outcome.resubmitted) == (2, 0, 1)


class BrokenOnSubmit(Executor):
    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        raise BrokenProcessPool("a worker died while the coordinator looked away")


def test_a_pool_found_broken_at_submission_is_rebuilt(tmp_path: Path) -> None:
    outcome = run_sweep(points_of(SMALL), tmp_path, BrokenOnSubmit(), rebuild=InlineExecutor, workers=2)
    assert (outcome.ran, outcome.failed) == (8, 0)


def test_equal_points_run_once_and_fill_every_row(tmp_path: Path) -> None:
    data = {"base": {"days": 0.2}, "axes": [{"field": "load_factor", "values": [1.0, 1.0, 1.5]}]}
    outcome = run_sweep(points_of(data), tmp_path, InlineExecutor())
    assert (outcome.points, outcome.ran, outcome.duplicates) == (3, 2, 1)
    rows = pq.read_table(tmp_path / "results.parquet").to_pylist()
    assert [r["index"] for r in rows] == [0, 1, 2] and rows[0]["point_id"] == rows[1]["point_id"]
    assert rows[0]["jobs"] == rows[1]["jobs"] != rows[2]["jobs"]


def test_a_folder_reused_by_another_sweep_file_shows_its_axes(tmp_path: Path) -> None:
    first = {"base": {"days": 0.2}, "axes": [{"field": "load_factor", "values": [1.0]}]}
    second = {"base": {"days": 0.2}, "axes": [{"field": "policy", "values": ["easy", "fcfs"]}]}
    run_sweep(points_of(first), tmp_path, InlineExecutor())
    outcome = run_sweep(points_of(second), tmp_path, InlineExecutor())
    assert (outcome.skipped, outcome.ran) == (1, 1)  # (easy, load 1.0, seed 0) is the same point
    table = pq.read_table(tmp_path / "results.parquet")
    assert table.column("policy").to_pylist() == ["easy", "fcfs"] and "load_factor" not in table.column_names
