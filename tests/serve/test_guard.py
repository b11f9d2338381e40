"""What keeps other sites away: requests must name the server's own host (DNS rebinding), and requests that
change something must not come from another origin (cross-site requests); and comparisons render one at
a time. No worker runs here: the store is written by the test."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest

from pmtwin.serve.guard import same_origin, trusted_hosts
from tests.serve.helpers import OCTET, fake_run, serve_client, tiny_swf


def test_requests_must_name_a_host_of_the_server(tmp_path: Path) -> None:
    with serve_client(tmp_path / "store", allowed_hosts=["dash.example.org"]) as client:
        answers = {
            host: client.get("/api/options", headers={"Host": host}).status_code
            for host in (
                "testserver", "localhost:8080", "127.0.0.1:8080", "[::1]:8080", "dash.example.org:8080",
                "DASH.example.org", "evil.example", "127.0.0.1.evil.example", "localhost.:8080", "",
                "[::2]:8080",
            )
        }  # fmt: skip
    assert answers == {
        "testserver": 200, "localhost:8080": 200, "127.0.0.1:8080": 200, "[::1]:8080": 200,
        "dash.example.org:8080": 200, "DASH.example.org": 200, "evil.example": 400,
        "127.0.0.1.evil.example": 400, "localhost.:8080": 400, "": 400, "[::2]:8080": 400,
    }  # fmt: skip


def test_trusted_hosts_add_the_served_address() -> None:
    local = ["localhost", "127.0.0.1", "[::1]", "::1", "testserver"]
    assert trusted_hosts([]) == local
    assert trusted_hosts(["127.0.0.1"]) == local
    assert trusted_hosts(["Dash.Lan"]) == [*local, "dash.lan"]
    assert trusted_hosts(["fe80::1"]) == [*local, "fe80::1", "[fe80::1]"]
    assert trusted_hosts(["[fe80::1]"]) == [*local, "fe80::1", "[fe80::1]"]


def test_same_origin_compares_host_and_port() -> None:
    assert same_origin("http://127.0.0.1:8080", "127.0.0.1:8080")
    assert same_origin("http://LOCALHOST:8080", "localhost:8080")
    assert same_origin("http://[::1]:8080", "[::1]:8080")
    for origin in ("http://127.0.0.1:9090", "http://localhost:8080", "null", "", "http://[::1", "file://"):
        assert not same_origin(origin, "127.0.0.1:8080"), origin


def test_cross_origin_requests_that_change_something_are_refused(tmp_path: Path) -> None:
    store = tmp_path / "store"
    fake_run(store, "run-0001", "done")
    evil = {"Origin": "https://evil.example"}
    with serve_client(store) as client:
        refused = [
            client.post("/api/runs/run-0001/cancel", headers=evil),
            client.post("/api/runs/run-0001/cancel", headers={"Origin": "null"}),
            client.post("/api/runs/run-0001/cancel", headers={"Origin": "http://testserver:8080"}),
            client.post("/api/uploads?name=a.swf", content=tiny_swf(), headers={**OCTET, **evil}),
            client.post("/api/runs", json={"workload": {"kind": "generated", "days": 0.5}}, headers=evil),
            client.delete("/api/runs/run-0001", headers=evil),
        ]
        runs_after = client.get("/api/runs").json()
        uploads_after = sorted(path.name for path in (store / "uploads").iterdir())
        read_elsewhere = client.get("/api/runs/run-0001", headers=evil)
        same_origin_cancel = client.post("/api/runs/run-0001/cancel", headers={"Origin": "http://testserver"})
        no_origin_cancel = client.post("/api/runs/run-0001/cancel")
        same_origin_upload = client.post(
            "/api/uploads?name=a.swf", content=tiny_swf(), headers={**OCTET, "Origin": "http://testserver"}
        )
        no_origin_upload = client.post("/api/uploads?name=b.swf", content=tiny_swf(), headers=OCTET)

    for response in refused:
        assert response.status_code == 403, response.text
        assert response.json()["detail"].startswith("cross-origin request refused (Origin ")
    assert refused[0].json()["detail"] == "cross-origin request refused (Origin 'https://evil.example')"
    assert [run["id"] for run in runs_after] == ["run-0001"] and uploads_after == []
    assert read_elsewhere.status_code == 200  # reading is the browser's same-origin policy's business
    assert same_origin_cancel.status_code == no_origin_cancel.status_code == 409  # a finished run
    assert same_origin_upload.status_code == no_origin_upload.status_code == 201


def test_comparisons_render_one_at_a_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pmtwin.report

    store = tmp_path / "store"
    for run_id in ("run-0001", "run-0002"):
        fake_run(store, run_id, "done")
    inside, most, seen = [0], [0], []
    lock = threading.Lock()

    def fake_comparison(run_dirs: list[Path], out: Path, *, names: list[str]) -> Path:
        with lock:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
            seen.append(out.name)
        time.sleep(0.2)
        out.write_text(f"<html>{' vs '.join(names)} in {[d.name for d in run_dirs]}</html>")
        with lock:
            inside[0] -= 1
        return out

    monkeypatch.setattr(pmtwin.report, "write_comparison", fake_comparison)
    answers: list[httpx.Response] = []
    with serve_client(store) as client:

        def ask() -> None:
            answers.append(client.get("/compare?ids=run-0002,run-0001"))

        threads = [threading.Thread(target=ask) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert {answer.text for answer in answers} == {
        "<html>run-0002 vs run-0001 in ['run-0002', 'run-0001']</html>"
    }
    assert most == [1] and len(set(seen)) == 3  # one at a time, each into a file of its own
    assert list((store / "compare").iterdir()) == []
