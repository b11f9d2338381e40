"""What the dashboard refuses and what it survives: invalid requests (422), unknown ids and paths that try
to leave the store (404/400), and a restart over runs an earlier server left unfinished. No worker runs
here: the store is written by the test."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from pmtwin.serve.app import create_app
from pmtwin.serve.requests import RunRequest
from tests.serve.helpers import CHART, fake_run, serve_client


@pytest.fixture()
def store(tmp_path: Path) -> Path:
    store = tmp_path / "store"
    fake_run(store, "run-0001", "done")
    fake_run(store, "run-0002", "running")
    fake_run(store, "run-0003", "queued")
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    outside = fake_run(tmp_path / "elsewhere", "run-0009", "done")
    (store / "runs" / "run-0009").symlink_to(outside)  # a linked run directory is not a run
    (store / "runs" / "run-0001" / "linked.png").symlink_to(secret)
    (store / "runs" / "junk").mkdir()
    return store


def test_restart_lists_old_runs_and_fails_unfinished_ones(store: Path) -> None:
    with serve_client(store) as client:
        listed = client.get("/api/runs").json()
        new = client.post("/api/runs", json={"workload": {"kind": "generated", "days": 0.5}}).json()
        client.post(f"/api/runs/{new['id']}/cancel")
    assert [(run["id"], run["state"]) for run in listed] == [
        ("run-0003", "failed"),
        ("run-0002", "failed"),
        ("run-0001", "done"),
    ]
    for run in listed[:2]:
        assert run["error"] == "the server stopped during the run" and run["finished_utc"] is not None
        saved = json.loads((store / "runs" / run["id"] / "status.json").read_text())
        assert saved["state"] == "failed"
    assert new["id"] == "run-0010"  # after the highest name in the store, linked or not


def test_run_files_are_a_fixed_list_inside_the_store(store: Path) -> None:
    with serve_client(store) as client:
        assert client.get("/runs/run-0001/report.html").text == "<html>report</html>"
        assert client.get("/runs/run-0001/summary.json").json() == {"jobs": 1}
        assert client.get("/runs/run-0001/utilization.png").content == CHART
        for url in (
            "/runs/run-0001/request.json", "/runs/run-0001/status.json", "/runs/run-0001/worker.log",
            "/runs/run-0001/linked.png", "/runs/run-0001/Report.html", "/runs/run-0001/missing.png",
            "/runs/run-0001/%2e%2e", "/runs/run-0001/..%2F..%2Fsecret.txt",
            "/runs/run-0001/%2e%2e%2fsecret.txt",
            "/runs/run-0009/report.html", "/runs/run-9999/report.html", "/runs/junk/report.html",
            "/runs/..%2Fruns%2Frun-0001/report.html", "/runs/%2e%2e/report.html", "/runs/run-1/report.html",
            "/static/..%2Fapp.py", "/static/%2e%2e", "/static/.%2e%2Frequests.py", "/static/%2Fetc%2Fpasswd",
            "/api/runs/run-9999", "/api/runs/run-0009", "/api/runs/%2e%2e", "/api/runs/run-9999/events",
            "/api/runs/run-9999/live", "/compare?ids=run-0001,..%2Fsecret",
            "/compare?ids=run-0001,%2Fetc%2Fpasswd",
        ):  # fmt: skip
            response = client.get(url)
            assert response.status_code == 404, (url, response.status_code)
        assert client.post("/api/runs/run-9999/cancel").status_code == 404
        assert client.post("/api/runs/run-0001/cancel").status_code == 409


def test_uploads_never_take_a_path_from_the_request(tmp_path: Path) -> None:
    store = tmp_path / "store"
    with serve_client(store) as client:
        for name in ("../../x.swf", "/tmp/abs/x.swf", "..%2F..%2Fx.swf", "x.swf/../../y.swf"):
            response = client.post("/api/uploads", params={"name": name}, content=b"; nothing\n")
            assert response.status_code == 400, (name, response.text)
        for name in ("..", "x.exe", "", "x.swf.exe"):
            response = client.post("/api/uploads", params={"name": name}, content=b"1\n")
            assert response.status_code == 400 and "unsupported file type" in response.json()["detail"]
    assert sorted(p.name for p in (store / "uploads").iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store"]


@pytest.mark.parametrize(
    "body",
    [
        {"workload": {"kind": "generated", "days": 0}},
        {"workload": {"kind": "generated", "days": 3651}},
        {"workload": {"kind": "generated", "days": 1, "seed": -1}},
        {"workload": {"kind": "generated", "model": "other"}},
        {"workload": {"kind": "generated", "extra": 1}},
        {"workload": {"kind": "trace"}},
        {"workload": {"kind": "trace", "trace_id": "../../etc/passwd"}},
        {"workload": {"kind": "trace", "trace_id": "/etc/passwd"}},
        {"workload": {"kind": "trace", "trace_id": "upload-0001"}},
        {"workload": {"kind": "trace", "trace_id": "tiny.swf"}, "load_factor": 2.0},
        {"workload": {"kind": "other"}},
        {"machine": "../../machine/systems/perlmutter.toml"},
        {"machine": "nowhere"},
        {"policy": "sjf"},
        {"priority": "fair"},
        {"power_cap_mw": 0},
        {"power_cap_mw": 1000.5},
        {"gpu_power_cap_w": -300},
        {"gpu_power_cap_w": 1001},
        {"outdoor_temp_c": "warm"},
        {"outdoor_temp_c": -80.5},
        {"outdoor_temp_c": 70.5},
        {"power_cap_mw": 5, "priority": "fifo"},
        {"power_cap_mw": 5, "policy": "conservative"},
        {"load_factor": 0},
        {"load_factor": 10.5},
        {"label": "x" * 81},
        {"colour": "blue"},
    ],
)
def test_invalid_run_requests_are_refused(tmp_path: Path, body: dict[str, object]) -> None:
    with serve_client(tmp_path / "store") as client:
        response = client.post("/api/runs", json=body)
        assert response.status_code == 422, response.text
        assert isinstance(response.json()["detail"], list)
        assert client.get("/api/runs").json() == []


def test_options_openapi_and_static_files(tmp_path: Path) -> None:
    with serve_client(tmp_path / "store", max_runs=3, max_upload_bytes=1000) as client:
        options = client.get("/api/options").json()
        paths = client.get("/openapi.json").json()["paths"]
        docs = client.get("/docs")
        plotly = client.get("/static/plotly.min.js")
        page = client.get("/")
        metrics = client.get("/metrics")
    assert options == {
        "machines": ["perlmutter", "perlmutter-2021"], "models": ["perlmutter"],
        "policies": ["fcfs", "easy", "conservative"], "priorities": ["fifo", "nersc", "multifactor"],
        "limits": {"max_upload_bytes": 1000, "max_runs": 3, "max_days": 3650.0},
    }  # fmt: skip
    assert {
        "/api/options", "/api/traces", "/api/uploads", "/api/runs", "/api/runs/{run_id}",
        "/api/runs/{run_id}/cancel", "/api/runs/{run_id}/events", "/api/runs/{run_id}/live",
        "/runs/{run_id}/{name}", "/compare", "/metrics", "/", "/static/{name}",
    } <= set(paths)  # fmt: skip
    assert docs.status_code == 200
    assert plotly.status_code == 200 and len(plotly.content) > 1_000_000
    assert plotly.headers["content-type"].split(";")[0] in {"text/javascript", "application/javascript"}
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert metrics.text.splitlines()[:3] == ["# TYPE pmtwin_runs gauge", "# HELP pmtwin_runs Runs by state.",
                                             'pmtwin_runs{state="queued"} 0.0']  # fmt: skip


def test_power_budget_requests_name_the_reason_and_bounds_hold() -> None:
    for other in ({"priority": "nersc"}, {"policy": "conservative"}):
        with pytest.raises(ValidationError) as refused:
            RunRequest.model_validate({"power_cap_mw": 5.0, **other})
        (error,) = refused.value.errors()
        assert error["msg"] == (
            "Value error, power_cap_mw: a power budget works with the fcfs and easy policies of the "
            "canonical engine, not with conservative backfilling or in Slurm mode (priority set); "
            "see docs/power.md 4a"
        )
    for policy in ("fcfs", "easy"):
        assert RunRequest.model_validate({"power_cap_mw": 1000, "policy": policy}).power_cap_mw == 1000
    edges = {"gpu_power_cap_w": 1000, "outdoor_temp_c": -80, "priority": "fifo", "policy": "conservative"}
    assert RunRequest.model_validate(edges).outdoor_temp_c == -80
    assert RunRequest.model_validate({"outdoor_temp_c": 70}).outdoor_temp_c == 70


def test_create_app_refuses_bad_arguments(tmp_path: Path) -> None:
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    store = tmp_path / "store"
    cases: list[tuple[dict[str, Any], str]] = [
        ({"max_runs": 0}, "max_runs must be at least 1, got 0"),
        ({"max_upload_bytes": 0}, "max_upload_bytes must be positive, got 0"),
        ({"traces_dir": a_file}, f"{a_file}: the traces folder is missing or not a folder"),
        ({"traces_dir": tmp_path / "nowhere"}, f"{tmp_path / 'nowhere'}: the traces folder is missing"),
    ]
    for options, message in cases:
        with pytest.raises(ValueError, match=f"^{re.escape(message)}"):
            create_app(store, **options)
    with pytest.raises(ValueError, match=f"^{re.escape(str(a_file))}: the store must be a folder"):
        create_app(a_file)
    assert not store.exists()  # refused before anything was written
