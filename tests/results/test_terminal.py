"""render_summary and duration formatting."""

from __future__ import annotations

import pytest
from rich.console import Console

from pmtwin.results import compute_summary, format_duration_s, render_summary
from tests.results.builders import make_run, tiny_run


def text_of(summary: dict[str, object]) -> str:
    console = Console(record=True, width=160)
    console.print(render_summary(summary, title="tiny"))
    return console.export_text()


def test_render_shows_totals_and_pools() -> None:
    run = tiny_run()
    summary = compute_summary(
        run.jobs,
        run.schedule,
        pool_names=run.pool_names,
        pool_capacity=run.pool_capacity,
        skipped={"run<=0": 2},
    )
    text = text_of(summary)
    assert "tiny" in text
    assert "skipped 2 (run<=0 2)" in text
    assert "88.8 %" in text  # cpu pool: 710 / 800
    assert "29.6 %" in text  # all pools: 710 / 2400
    assert "1.1 min" in text  # p95 wait 65.5 s
    assert "3.3 min" in text  # makespan 200 s
    for name in ("all", "cpu", "gpu"):
        assert name in text


def test_render_empty_run() -> None:
    run = make_run([], [], [], [])
    summary = compute_summary(
        run.jobs, run.schedule, pool_names=run.pool_names, pool_capacity=run.pool_capacity, skipped={}
    )
    assert "skipped 0" in text_of(summary)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "-"),
        (0.0, "0.0 s"),
        (59.94, "59.9 s"),
        (90.0, "1.5 min"),
        (5400.0, "1.5 h"),
        (86400.0 * 3.25, "3.2 d"),
    ],
)
def test_format_duration(seconds: float | None, text: str) -> None:
    assert format_duration_s(seconds) == text
