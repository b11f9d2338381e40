"""``pmtwin report``, ``export-metrics`` and the ``--report`` option of simulate and replay."""

from __future__ import annotations

from pathlib import Path

import pytest

from pmtwin.cli.report_cmds import parse_origin
from pmtwin.results import RUN_FILES
from tests.cli._runner import assert_user_error, invoke

CHART_PNGS = (
    "bsld_partition.png", "bsld_qos.png", "energy_account.png", "gantt.png", "power.png", "queue.png",
    "size_wait.png", "utilization.png", "wait_partition.png", "wait_qos.png",
)  # fmt: skip


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cli") / "run"
    code, output = invoke("simulate", "--days", "0.5", "--seed", "2", "--out", str(out), "-q")
    assert code == 0, output
    return out


def test_simulate_writes_the_report_and_pngs_by_default(run_dir: Path) -> None:
    assert sorted(p.name for p in run_dir.iterdir()) == sorted((*RUN_FILES, "report.html", *CHART_PNGS))
    page = (run_dir / "report.html").read_text()
    for png in CHART_PNGS:
        assert f'href="{png}"' in page


def test_report_none_writes_the_data_only(tmp_path: Path) -> None:
    code, output = invoke("simulate", "--days", "0.2", "--report", "none", "--out", str(tmp_path), "-q")
    assert code == 0, output
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(RUN_FILES)


def test_report_command_renders_a_run_again(run_dir: Path, tmp_path: Path) -> None:
    before = (run_dir / "report.html").read_bytes()
    pngs = {name: (run_dir / name).read_bytes() for name in CHART_PNGS}
    code, output = invoke("report", str(run_dir))
    assert code == 0, output
    assert output.startswith(f"wrote {run_dir / 'report.html'} (")
    assert (run_dir / "report.html").read_bytes() == before
    assert {name: (run_dir / name).read_bytes() for name in CHART_PNGS} == pngs  # same bytes


def test_report_compare_writes_one_page(run_dir: Path, tmp_path: Path) -> None:
    other = tmp_path / "fcfs"
    code, output = invoke(
        "simulate",
        "--days",
        "0.5",
        "--seed",
        "2",
        "--policy",
        "fcfs",
        "--report",
        "none",
        "--out",
        str(other),
    )
    assert code == 0, output
    out = tmp_path / "cmp.html"
    code, output = invoke("report", str(run_dir), "--compare", str(other), "--out", str(out))
    assert code == 0, output
    page = out.read_text()
    assert "pmtwin comparison: run vs fcfs" in page and "policy fcfs" in page


def test_report_mistakes_are_one_line_errors(run_dir: Path, tmp_path: Path) -> None:
    assert_user_error(*invoke("report", str(tmp_path / "none")), "not a run directory")
    assert_user_error(*invoke("report", str(run_dir), "--out", str(tmp_path / "x.html")), "--out")
    code, output = invoke("report", str(run_dir), "--compare", str(run_dir), "--no-png")
    assert_user_error(code, output, "--no-png")
    assert_user_error(*invoke("simulate", "--report", "pdf", "--out", str(tmp_path)), "--report 'pdf'")


def test_export_metrics_writes_openmetrics(run_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "m.om"
    code, output = invoke("export-metrics", str(run_dir), "--out", str(out), "--step", "300", "--origin",
                          "2024-01-01T00:00:00Z")  # fmt: skip
    assert code == 0, output
    text = out.read_text()
    assert text.endswith("# EOF\n")
    first = next(line for line in text.splitlines() if line.startswith("pmtwin_utilization_ratio{"))
    # the first sample sits at the run's first submission, counted from the origin
    assert int(first.rsplit(" ", 1)[1]) >= 1704067200
    assert_user_error(*invoke("export-metrics", str(run_dir), "--origin", "soon"), "--origin 'soon'")
    assert_user_error(*invoke("export-metrics", str(tmp_path / "none")))


def test_parse_origin() -> None:
    assert parse_origin("0") == 0.0
    assert parse_origin("1700000000.5") == 1700000000.5
    assert parse_origin("2024-01-01") == 1704067200.0
    assert parse_origin("2024-01-01T01:00:00+01:00") == 1704067200.0
    with pytest.raises(ValueError, match="ISO 8601"):
        parse_origin("noon")
