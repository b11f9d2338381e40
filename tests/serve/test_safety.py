"""What the dashboard refuses and what it survives: invalid requests (422), unknown ids and paths that try
to leave the store (404/400), and a restart over runs an earlier server left unfinished. No worker runs
here: the store is written by the test."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from pmtwin.serve.requests import RunInfo, RunRequest
from tests.serve.helpers import serve_client

CHART = b"\x89PNG\r\n\x1a\n chart"


def fake_run(store: Path, run_id: str, state: str) -> Path:
    """A run directory as a server leaves it (status, request, report files)."""
    run_dir = store / "runs" / run_id
    run_dir.mkdir(parents=True)
    info = RunInfo(id=run_id, label="", state=state, created_utc="2025-01-01T00:00:00+00:00",
                   request=RunRequest())  # fmt: skip
    (run_dir / "status.json").write_text(info.model_dump_json())
    (run_dir / "request.json").write_text("{}")
    (run_dir / "report.html").write_text("<html>report</html>")
    (run_dir / "summary.json").write_text('{"jobs": 1}')
    (run_dir / "utilization.png").write_bytes(CHART)
    return run_dir


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
        {"gpu_power_cap_w": -300},
        {"outdoor_temp_c": "warm"},
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


def test_store_rejects_bad_limits(tmp_path: Path) -> None:
    from pmtwin.serve.app import create_app

    with pytest.raises(ValueError, match="max_runs"):
        create_app(tmp_path / "store", max_runs=0)
    with pytest.raises(ValueError, match="max_upload_bytes"):
        create_app(tmp_path / "store", max_upload_bytes=0)


def test_serve_prints_its_address_and_stops_on_interrupt(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code = (
        "import sys; from pathlib import Path; from pmtwin.serve.app import serve; "
        "serve('127.0.0.1', int(sys.argv[1]), Path(sys.argv[2]), None, 1, 1000)"
    )
    server = subprocess.Popen(
        [sys.executable, "-c", code, str(port), str(tmp_path / "store")],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        assert (
            server.stdout.readline()
            == f"pmtwin dashboard at http://127.0.0.1:{port}/ (store {tmp_path / 'store'})\n"
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                options = httpx.get(f"http://127.0.0.1:{port}/api/options", timeout=5)
                break
            except httpx.ConnectError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        assert options.json()["limits"] == {"max_upload_bytes": 1000, "max_runs": 1, "max_days": 3650.0}
    finally:
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=20) == 0
