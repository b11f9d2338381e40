"""The examples run as tests."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_compare_policies(traces_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                          capsys: pytest.CaptureFixture[str]) -> None:
    trace = traces_dir / "KTH-SP2-1996-2.1-cln.swf.gz"
    monkeypatch.setattr(sys, "argv", ["compare_policies.py", str(trace), "--out", str(tmp_path)])
    runpy.run_path(str(EXAMPLES / "compare_policies.py"), run_name="__main__")
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == ["fcfs", "easy", "conservative"]
    # Backfilling cuts the mean wait on KTH by more than an order of magnitude (390,092 s -> 6,858 s).
    waits = {line.split()[0]: float(line.split()[3]) for line in lines}
    assert waits["fcfs"] == pytest.approx(390091.99 / 3600, abs=0.01)
    assert waits["easy"] == pytest.approx(6858.36 / 3600, abs=0.01)
    assert waits["conservative"] == pytest.approx(8067.08 / 3600, abs=0.01)


def test_maintenance_what_if(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "argv", ["maintenance_what_if.py", "--days", "30", "--out", str(tmp_path)])
    runpy.run_path(str(EXAMPLES / "maintenance_what_if.py"), run_name="__main__")
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == ["no-maintenance", "maintenance"]
    wait = {line.split()[0]: float(line.split()[3]) for line in lines}
    utilization = {line.split()[0]: float(line.split()[6]) for line in lines}
    # a 12-hour whole-system drain in the month: longer waits, lower utilization
    assert wait["maintenance"] > wait["no-maintenance"]
    assert utilization["maintenance"] < utilization["no-maintenance"]


def test_power_cap_what_if(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "argv", ["power_cap_what_if.py", "--days", "5", "--out", str(tmp_path)])
    runpy.run_path(str(EXAMPLES / "power_cap_what_if.py"), run_name="__main__")
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == ["uncapped", "budget-4.5MW", "gpu-200W", "both"]
    peak = {line.split()[0]: float(line.split()[line.split().index("peak") + 1]) for line in lines}
    gpu_mwh = {line.split()[0]: float(line.split()[-2].replace(",", "")) for line in lines}
    # the budget holds the peak at 4.5 MW; 200 W GPU caps make the GPU jobs' energy smaller
    assert peak["budget-4.5MW"] <= 4.5 < peak["uncapped"]
    assert peak["both"] <= 4.5
    assert gpu_mwh["gpu-200W"] < gpu_mwh["uncapped"]


def test_network_upgrade_what_if(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "argv", ["network_upgrade_what_if.py", "--out", str(tmp_path)])
    runpy.run_path(str(EXAMPLES / "network_upgrade_what_if.py"), run_name="__main__")
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == [
        "hpl:hpl", "train:cosmoflow", "train:deepcam", "train:llm", "perlmutter-2021", "perlmutter",
    ]  # fmt: skip
    run_h = {line.split()[0]: (float(line.split()[2]), float(line.split()[5])) for line in lines[:4]}
    # every job runs faster with four 200 Gb/s NICs per GPU node than with two 100 Gb/s NICs
    assert all(today < then for then, today in run_h.values())
    makespan = [float(line.split()[2]) for line in lines[4:]]
    assert makespan[1] < makespan[0]


def test_workload_what_if(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "argv", ["workload_what_if.py", "--days", "7", "--out", str(tmp_path)])
    runpy.run_path(str(EXAMPLES / "workload_what_if.py"), run_name="__main__")
    lines = capsys.readouterr().out.splitlines()
    names = ["today", "load+20%", "cpu->gpu 30%"]
    assert [line[:13].strip() for line in lines] == names
    rows = dict(zip(names, lines, strict=True))
    jobs = {name: float(line.split("jobs")[1].split()[0].replace(",", "")) for name, line in rows.items()}
    cpu_util = {name: float(line.split("cpu wait")[1].split()[3]) for name, line in rows.items()}
    # 20% more jobs (DESI's realtime jobs, under 1% of them, are not copied); moving CPU work away
    # leaves the same jobs and less work on the CPU nodes
    assert 1.15 < jobs["load+20%"] / jobs["today"] < 1.25
    assert jobs["cpu->gpu 30%"] == jobs["today"]
    assert cpu_util["cpu->gpu 30%"] < cpu_util["today"]


def test_sweep_example_expands(tmp_path: Path) -> None:
    from pmtwin.sweep.plan import expand, load_sweep

    spec = load_sweep(EXAMPLES / "sweep_power_caps.toml")
    points = expand(spec)
    assert len(points) == 2 * 3 * 4 * 4
    capped = [p for p in points if p.scenario.power.gpu_power_cap_w == 250.0]
    assert len(capped) == 32 and all(p.scenario.power.power_cap_mw == 4.5 for p in capped)
