"""The power commands and options of pmtwin (docs/power.md): ``power``, ``validate``, and the power
options of ``simulate`` and ``replay``, through the runner."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from tests.cli._runner import assert_user_error, invoke

SWF = (
    "; MaxProcs: 8\n"
    "1 0 0 10 2 -1 -1 2 20 -1 1 1 1 -1 1 1 -1 -1\n"
    "2 5 0 20 4 -1 -1 4 30 -1 1 1 1 -1 1 1 -1 -1\n"
)


def test_power_json() -> None:
    code, output = invoke("power", "perlmutter", "--json")
    assert code == 0, output
    overview = json.loads(output)
    assert overview["machine"] == "perlmutter"
    assert 0 < overview["idle_system_w"] < overview["full_load_system_w"]
    # idle: (idle nodes + switches + storage) / 0.92
    static = overview["static_w"]
    assert overview["idle_system_w"] == pytest.approx(sum(static.values()) / 0.92, rel=1e-12)
    assert overview["idle_facility_w"] == pytest.approx(overview["idle_system_w"] * 1.05, rel=1e-12)
    types = {t["name"]: t for t in overview["node_types"]}
    assert set(types) == {"gpu-40gb", "gpu-80gb", "cpu", "login"}
    assert types["gpu-40gb"]["idle_w"] == pytest.approx(436.0, rel=1e-12)  # tests/physics: 40+100+200+16+80
    assert types["cpu"]["classes_w"]["cpu_compute"] == pytest.approx(642.4, rel=1e-12)


def test_power_table() -> None:
    code, output = invoke("power")
    assert code == 0, output
    assert "perlmutter" in output and "gpu_me" in output


def test_power_unknown_machine() -> None:
    assert_user_error(*invoke("power", "no-such-machine"), "no-such-machine")


def test_validate_json() -> None:
    code, output = invoke("validate", "--json")
    assert code == 0, output
    rows = json.loads(output)
    assert isinstance(rows, list) and rows
    for row in rows:
        assert set(row) == {"name", "predicted", "published", "unit", "error_pct", "target_pct", "source"}
    assert any(row["published"] == 2589.0 and row["unit"] == "kW" for row in rows)


def test_validate_table() -> None:
    code, output = invoke("validate")
    assert code == 0, output
    assert "2,589.0" in output


def test_budget_below_idle_is_refused(tmp_path: Path) -> None:
    code, output = invoke("simulate", "--days", "2", "--power-cap-mw", "0.5", "-q", "--out", str(tmp_path))
    assert_user_error(code, output, "--power-cap-mw 0.5", "idle power", "2.201 MW")


def test_gpu_cap_out_of_range_is_refused(tmp_path: Path) -> None:
    code, output = invoke("simulate", "--days", "2", "--gpu-power-cap-w", "50", "-q", "--out", str(tmp_path))
    assert_user_error(code, output, "--gpu-power-cap-w 50", "from 100 to 400 W")


def test_no_power_with_a_power_option_is_refused(tmp_path: Path) -> None:
    code, output = invoke(
        "simulate", "--days", "2", "--no-power", "--power-cap-mw", "3", "-q", "--out", str(tmp_path)
    )
    assert_user_error(code, output, "--no-power cannot be combined")


def test_budget_with_conservative_is_refused(tmp_path: Path) -> None:
    args = ["simulate", "--days", "2", "--power-cap-mw", "3", "--policy", "conservative", "-q"]
    code, output = invoke(*args, "--out", str(tmp_path))
    assert_user_error(code, output, "power budget", "fcfs and easy")


def test_gpu_cap_without_machine_is_refused(tmp_path: Path) -> None:
    trace = tmp_path / "tiny.swf"
    trace.write_text(SWF, encoding="utf-8")
    code, output = invoke(
        "replay", str(trace), "--gpu-power-cap-w", "200", "-q", "--out", str(tmp_path / "run")
    )
    assert_user_error(code, output, "need a machine model")
    # the same trace without the cap replays
    code, output = invoke("replay", str(trace), "-q", "--out", str(tmp_path / "run"))
    assert code == 0, output


def test_simulate_with_resolution_and_outdoor_temperature(tmp_path: Path) -> None:
    args = ["simulate", "--days", "2", "--resolution", "3600", "--outdoor-temp-c", "25", "-q"]
    code, output = invoke(*args, "--out", str(tmp_path))
    assert code == 0, output
    assert output.strip() == str(tmp_path)
    power = json.loads((tmp_path / "summary.json").read_text())["power"]
    # perlmutter: PUE 1.05 up to 21 C, 1.08 at 30 C: at 25 C, 1.05 + 0.03 x 4 / 9
    assert power["mean_pue"] > 1.05
    assert power["mean_pue"] == pytest.approx(1.05 + 0.03 * 4 / 9, rel=1e-9)
    assert power["outdoor_temp_c"] == 25.0 and "resolution_s" not in power
    table = pq.read_table(tmp_path / "series.parquet").to_pydict()
    names = set(table["series"])
    assert {"power_system_w", "power_facility_w", "power_nodes_w:gpu", "power_nodes_w:cpu"} <= names
    time_s = np.array(table["time_s"])
    first = time_s.min()
    assert np.all((time_s - first) % 3600.0 == 0.0)  # every row starts a bin
    assert "resolution_s = 3600.0" in (tmp_path / "config.toml").read_text()
