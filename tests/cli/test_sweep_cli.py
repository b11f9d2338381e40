"""``pmtwin sweep`` through its runner: a run, its report, resuming, the dry run, and user mistakes."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq

from tests.cli._runner import assert_user_error, invoke

SWEEP_TOML = """
name = "cli"
seeds = 2
[base]
days = 0.2
[[axes]]
field = "policy"
values = ["fcfs", "easy"]
"""


def test_sweep_runs_reports_and_resumes(tmp_path: Path) -> None:
    spec = tmp_path / "s.toml"
    spec.write_text(SWEEP_TOML)
    out = tmp_path / "out"
    code, output = invoke("sweep", str(spec), "--out", str(out), "--serial")
    assert code == 0, output
    assert "4 points: 0 already done, 4 run (0 failed" in output
    table = pq.read_table(out / "results.parquet")
    assert table.column("policy").to_pylist() == ["fcfs", "fcfs", "easy", "easy"]
    assert table.column("seed").to_pylist() == [0, 1, 0, 1]
    page = (out / "report" / "report.html").read_text()
    assert "pmtwin sweep cli" in page and "utilization_vs_policy" in page
    assert (out / "report" / "wait_mean_h_vs_policy.png").is_file()
    code, output = invoke("sweep", str(spec), "--out", str(out), "--serial", "--no-report")
    assert code == 0, output
    assert "4 points: 4 already done, 0 run" in output


def test_local_processes_by_default(tmp_path: Path) -> None:
    spec = tmp_path / "s.toml"
    spec.write_text(SWEEP_TOML.replace("seeds = 2", "seeds = 1"))
    code, output = invoke("sweep", str(spec), "--out", str(tmp_path / "o"), "--workers", "2", "--no-report")
    assert code == 0, output
    assert "executor: 2 local processes" in output and "2 points: 0 already done, 2 run" in output


def test_dry_run_lists_the_points(tmp_path: Path) -> None:
    spec = tmp_path / "s.toml"
    spec.write_text(SWEEP_TOML)
    code, output = invoke("sweep", str(spec), "--dry-run")
    assert code == 0, output
    lines = output.strip().splitlines()
    assert lines[-1] == "4 points" and "seed=1 policy=easy" in lines[3]
    assert not (tmp_path / "runs").exists()


def test_sweep_mistakes_are_one_line_errors(tmp_path: Path) -> None:
    spec = tmp_path / "s.toml"
    spec.write_text(SWEEP_TOML.replace('"fcfs", "easy"', '"fcfs", "lifo"'))
    assert_user_error(*invoke("sweep", str(spec), "--dry-run"), "s.toml", "policy = 'lifo'")
    assert_user_error(*invoke("sweep", str(tmp_path / "none.toml")), "none.toml")
    good = tmp_path / "g.toml"
    good.write_text(SWEEP_TOML)
    code, output = invoke("sweep", str(good), "--serial", "--dask-local", "2", "--out", str(tmp_path / "x"))
    assert_user_error(code, output, "choose one of")
    assert_user_error(*invoke("sweep", str(good), "--serial", "--workers", "2"), "--workers")
    assert_user_error(*invoke("sweep", str(good), "--slurm-account", "m1", "--serial"), "--slurm-account")
    afile = tmp_path / "afile"
    afile.write_text("")
    assert_user_error(*invoke("sweep", str(good), "--serial", "--out", str(afile)), "--out", "not a folder")


FAILING_TOML = """
seeds = 2
[base]
days = 0.2
policy = "conservative"
power = { power_cap_mw = 4.0 }
"""
"""A power budget with conservative backfilling: refused when the run starts (docs/power.md 4a)."""


def test_failed_points_give_exit_status_1(tmp_path: Path) -> None:
    spec = tmp_path / "s.toml"
    spec.write_text(FAILING_TOML)
    code, output = invoke("sweep", str(spec), "--serial", "--no-report", "--out", str(tmp_path / "o"))
    assert code == 1, output
    assert "2 run (2 failed" in output and "note: 2 points failed" in output
