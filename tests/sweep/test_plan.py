"""Sweep files and their points: grid, zip and random axes, seeds, identities, and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from pmtwin.sweep.plan import expand, load_sweep, parse_sweep, point_key
from pmtwin.sweep.scenario import Scenario

GRID = {
    "name": "g",
    "seeds": 2,
    "base": {"days": 1.0},
    "axes": [
        {"field": "policy", "values": ["fcfs", "easy"]},
        {"zip": {"power.power_cap_mw": ["null", 4.0], "power.gpu_power_cap_w": [250.0, 200.0]}},
    ],
}


def test_grid_times_zip_times_seeds_in_order() -> None:
    points = expand(parse_sweep(GRID))
    assert len(points) == 2 * 2 * 2
    assert [p.index for p in points] == list(range(8))
    assert [(p.values["policy"], p.values["power.power_cap_mw"], p.seed) for p in points] == [
        ("fcfs", None, 0), ("fcfs", None, 1), ("fcfs", 4.0, 0), ("fcfs", 4.0, 1),
        ("easy", None, 0), ("easy", None, 1), ("easy", 4.0, 0), ("easy", 4.0, 1),
    ]  # fmt: skip
    last = points[-1].scenario
    assert last.policy == "easy" and last.power.power_cap_mw == 4.0 and last.power.gpu_power_cap_w == 200.0
    assert last.days == 1.0 and last.machine == "perlmutter"  # base and defaults


def test_point_ids_are_stable_hashes_of_scenario_and_seed() -> None:
    points = expand(parse_sweep(GRID))
    assert len({p.point_id for p in points}) == len(points)
    again = expand(parse_sweep({**GRID, "name": "other"}))
    assert [p.point_id for p in again] == [p.point_id for p in points]  # the name is not part of a point
    assert points[0].point_id == point_key(
        Scenario(days=1.0, policy="fcfs", power={"gpu_power_cap_w": 250.0}), 0
    )


def test_random_axis_is_drawn_from_its_own_seed() -> None:
    data = {
        "axes": [{"samples": 5, "seed": 3, "random": {
            "load_factor": {"uniform": [0.5, 1.5]},
            "power.power_cap_mw": {"loguniform": [3.0, 6.0]},
            "scheduler.backfill_max_jobs": {"integers": [10, 12]},
            "policy": {"choice": ["fcfs", "easy"]},
        }}],
        "base": {"scheduler": {"priority": "nersc"}},
    }  # fmt: skip
    first, second = expand(parse_sweep(data)), expand(parse_sweep(data))
    assert [p.values for p in first] == [p.values for p in second]
    for point in first:
        assert 0.5 <= point.values["load_factor"] < 1.5  # type: ignore[operator]
        assert 3.0 <= point.values["power.power_cap_mw"] < 6.0  # type: ignore[operator]
        assert point.values["scheduler.backfill_max_jobs"] in (10, 11, 12)
        assert point.scenario.scheduler == {"priority": "nersc", "backfill_max_jobs": point.values[
            "scheduler.backfill_max_jobs"]}  # fmt: skip
    other = expand(parse_sweep({**data, "axes": [{**data["axes"][0], "seed": 4}]}))  # type: ignore[dict-item]
    assert [p.values for p in other] != [p.values for p in first]


def test_seeds_as_a_list_or_a_count() -> None:
    assert parse_sweep({"seeds": 3}).seeds == [0, 1, 2]
    assert parse_sweep({"seeds": [7, 9]}).seeds == [7, 9]
    assert len(expand(parse_sweep({}))) == 1  # the base scenario once, seed 0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"axes": [{"field": "polcy", "values": ["easy"]}]}, "polcy: Extra inputs are not permitted"),
        ({"axes": [{"field": "policy", "values": ["lifo"]}]}, "policy = 'lifo'"),
        ({"axes": [{"field": "days", "values": [-1.0]}]}, "days: Input should be greater than 0"),
        ({"axes": [{"zip": {"days": [1.0, 2.0], "policy": ["easy"]}}]}, "same number of values"),
        ({"axes": [{"field": "days"}]}, "give its values"),
        ({"axes": [{"samples": 2, "random": {"days": {"normal": [1, 2]}}}]}, "give one law"),
        ({"axes": [{"samples": 2, "random": {"days": {"uniform": [2, 1]}}}]}, "low < high"),
        (
            {"axes": [{"field": "days", "values": [1.0]}, {"field": "days", "values": [2.0]}]},
            "more than once",
        ),
        ({"seeds": [1, 1]}, "distinct"),
        ({"axes": [{"field": "scheduler.priority", "values": ["fastest"]}]}, "priority"),
        ({"base": {"command": "replay"}}, "a replay needs a trace"),
        ({"report_metrics": ["speed"]}, "report_metrics: unknown speed"),
        ({"colour": "red"}, "colour: Extra inputs are not permitted"),
        ({"name": "../up"}, "it names a folder"),
        ({"axes": [{"field": "", "values": [1]}]}, "is not a field path"),
        ({"axes": [{"field": "days.x", "values": [1]}], "base": {"days": 2}}, "days is not a table"),
        ({"axes": [{"samples": 2, "random": {"days": {"integers": [1.5, 3]}}}]}, "whole numbers"),
        ({"base": {"command": "replay", "trace": "t.swf"}, "seeds": 2}, "a replay draws nothing at random"),
        ({"base": {"command": "replay", "trace": "t.swf", "days": 3}}, "days does not apply"),
        ({"base": {"partition": "cpu"}}, "partition does not apply"),
    ],
)
def test_mistakes_name_the_field(data: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match="sweep.toml") as caught:
        expand(parse_sweep(data, "sweep.toml"), "sweep.toml")
    assert message in str(caught.value)


def test_load_sweep_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("seeds = [")
    with pytest.raises(ValueError, match=str(bad)):
        load_sweep(bad)
    with pytest.raises(ValueError, match="missing.toml"):
        load_sweep(tmp_path / "missing.toml")


def test_the_point_count_is_checked_before_drawing() -> None:
    import time

    began = time.perf_counter()
    with pytest.raises(ValueError, match="100,000,000 points; at most 1,000,000"):
        expand(parse_sweep({"axes": [{"samples": 100_000_000, "random": {"days": {"uniform": [1, 2]}}}]}))
    assert time.perf_counter() - began < 1.0
