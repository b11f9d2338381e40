"""Traces on the dashboard: uploads checked (size, name, content) and kept under the store, built-in
traces listed, and trace runs of both (one in Slurm mode)."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path

from tests.serve.helpers import TINY_SWF_JOBS, serve_client, submit, tiny_swf, wait_for

OCTET = {"Content-Type": "application/octet-stream"}
SACCT = Path(__file__).parents[1] / "workload" / "data" / "sacct_perlmutter.txt"


def stored(store: Path) -> list[str]:
    """Every file under the store's uploads folder."""
    return sorted(path.name for path in (store / "uploads").iterdir())


def test_uploads_are_checked_before_they_are_kept(tmp_path: Path) -> None:
    store = tmp_path / "store"
    bad = tiny_swf(6).replace("5 300 -1 750", "5 300 -1 7x0")
    with serve_client(store, max_upload_bytes=5000) as client:
        too_big = client.post("/api/uploads?name=big.swf", content=tiny_swf(200), headers=OCTET)

        def chunks() -> Iterator[bytes]:  # no Content-Length: refused as the bytes pass the limit
            for _ in range(100):
                yield b"x" * 100

        too_big_streamed = client.post("/api/uploads?name=big.swf", content=chunks(), headers=OCTET)
        wrong_type = client.post("/api/uploads?name=trace.csv", content=tiny_swf(), headers=OCTET)
        malformed = client.post("/api/uploads?name=my%20bad.swf", content=bad, headers=OCTET)
        assert stored(store) == []
        good = client.post(
            "/api/uploads?name=..%2F..%2Fetc%2FMy%20Trace!.swf", content=tiny_swf(), headers=OCTET
        )
        zipped = client.post("/api/uploads?name=z.swf.gz", content=gzip.compress(tiny_swf(3).encode()))
        sacct = client.post("/api/uploads?name=march.txt", content=SACCT.read_bytes(), headers=OCTET)
        traces = client.get("/api/traces").json()

    assert too_big.status_code == 413 and "5000 bytes" in too_big.json()["detail"]
    assert too_big_streamed.status_code == 413
    assert wrong_type.status_code == 400 and wrong_type.json()["detail"].startswith(
        "trace.csv: unsupported file type"
    )
    assert malformed.status_code == 400
    assert malformed.json()["detail"] == "mybad.swf:8: field 4 (run time): '7x0' is not a number"
    assert good.status_code == 201
    assert good.json() == {
        "id": "upload-0001", "name": "MyTrace.swf", "source": "upload", "format": "swf",
        "jobs": TINY_SWF_JOBS, "skipped": {"run<=0": 0, "size<=0": 0},
    }  # fmt: skip
    assert zipped.status_code == 201 and zipped.json()["jobs"] == 3 and zipped.json()["id"] == "upload-0002"
    assert sacct.status_code == 201 and (sacct.json()["format"], sacct.json()["jobs"]) == ("sacct", 6)
    assert sacct.json()["skipped"]["not started"] == 3
    assert stored(store) == [
        "upload-0001.json", "upload-0001.swf", "upload-0002.json", "upload-0002.swf.gz",
        "upload-0003.json", "upload-0003.txt",
    ]  # fmt: skip
    assert (store / "uploads" / "upload-0001.swf").read_text() == tiny_swf()
    assert traces == [
        {
            "id": "upload-0001",
            "name": "MyTrace.swf",
            "source": "upload",
            "format": "swf",
            "jobs": TINY_SWF_JOBS,
        },
        {"id": "upload-0002", "name": "z.swf.gz", "source": "upload", "format": "swf", "jobs": 3},
        {"id": "upload-0003", "name": "march.txt", "source": "upload", "format": "sacct", "jobs": 6},
    ]


def test_trace_runs_replay_uploads_and_builtin_traces(tmp_path: Path) -> None:
    traces_dir = tmp_path / "traces"
    traces_dir.mkdir()
    (traces_dir / "tiny.swf").write_text(tiny_swf(7))
    (traces_dir / "notes.txt").write_text("not a trace\n")
    store = tmp_path / "store"
    with serve_client(store, traces_dir=traces_dir, max_runs=2) as client:
        bad = client.post("/api/uploads?name=bad.swf", content=b"1 2 3\n", headers=OCTET)
        upload = client.post("/api/uploads?name=up.swf", content=tiny_swf(), headers=OCTET).json()
        traces = client.get("/api/traces").json()
        submit(client, workload={"kind": "trace", "trace_id": upload["id"]}, priority="fifo")
        submit(client, workload={"kind": "trace", "trace_id": "tiny.swf"}, policy="fcfs")
        slurm, builtin = wait_for(client, "run-0001"), wait_for(client, "run-0002")
        points = [client.get(f"/api/runs/{i}/live").json()["points"] for i in ("run-0001", "run-0002")]

    assert bad.status_code == 400 and bad.json()["detail"] == "bad.swf:1: 3 fields, an SWF line has 18"
    assert traces == [
        {"id": "tiny.swf", "name": "tiny.swf", "source": "builtin", "format": "swf", "jobs": None},
        {"id": "upload-0001", "name": "up.swf", "source": "upload", "format": "swf", "jobs": TINY_SWF_JOBS},
    ]
    assert slurm["state"] == builtin["state"] == "done", (slurm, builtin)
    assert slurm["figures"]["jobs"] == TINY_SWF_JOBS and builtin["figures"]["jobs"] == 7
    for run_id, run_points in zip(("run-0001", "run-0002"), points, strict=True):
        summary = json.loads((store / "runs" / run_id / "summary.json").read_text())
        assert list(summary["pools"]) == ["cpu"]  # an SWF trace runs on the machine's cpu partition
        assert run_points and all(list(point["levels"]) == ["cpu"] for point in run_points)
    config = (store / "runs" / "run-0001" / "config.toml").read_text()
    assert 'priority = "fifo"' in config and str(store / "uploads" / "upload-0001.swf") in config
    assert str(traces_dir / "tiny.swf") in (store / "runs" / "run-0002" / "config.toml").read_text()
