"""Generated runs through the dashboard: submitted, followed over server-sent events, their figures,
files and comparison; real worker processes."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from tests.serve.helpers import LONG, PERLMUTTER_POOLS, read_events, serve_client, submit, wait_for

PROGRESS_STEPS = 100


def level_at(series: dict[str, tuple[np.ndarray, np.ndarray]], name: str, t_s: float) -> float:
    """A level series' value at ``t_s`` (a row holds from its time on)."""
    times, values = series[name]
    return float(values[np.searchsorted(times, t_s, side="right") - 1])


def read_series(run_dir: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    table = pq.read_table(run_dir / "series.parquet").to_pydict()
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for name in set(table["series"]):
        rows = [i for i, s in enumerate(table["series"]) if s == name]
        out[name] = (
            np.array([table["time_s"][i] for i in rows]),
            np.array([table["value"][i] for i in rows]),
        )
    return out


def test_generated_run_streams_progress_and_serves_its_files(tmp_path: Path) -> None:
    with serve_client(tmp_path / "store") as client:
        info = submit(client, label="half a day", workload={"kind": "generated", "days": 0.5, "seed": 3})
        assert info["id"] == "run-0001" and info["label"] == "half a day"
        assert info["state"] in {"queued", "running"} and info["figures"] is None and info["links"] == {}
        assert info["request"] == {
            "label": "half a day", "machine": "perlmutter",
            "workload": {"kind": "generated", "model": "perlmutter", "days": 0.5, "seed": 3},
            "policy": "easy", "priority": None, "power_cap_mw": None, "gpu_power_cap_w": None,
            "outdoor_temp_c": None, "load_factor": 1.0,
        }  # fmt: skip
        datetime.fromisoformat(info["created_utc"])
        events = read_events(client, "run-0001")
        done = wait_for(client, "run-0001")
        live = client.get("/api/runs/run-0001/live").json()["points"]
        run_dir = tmp_path / "store" / "runs" / "run-0001"
        report = client.get("/runs/run-0001/report.html")
        summary_served = client.get("/runs/run-0001/summary.json")
        charts = sorted(path.name for path in run_dir.glob("*.png"))
        chart = client.get(f"/runs/run-0001/{charts[0]}")

    assert events[-1] == ("state", done)
    states = [data["state"] for name, data in events if name == "state"]
    assert all(data["id"] == "run-0001" for name, data in events if name == "state")
    assert states[0] in {"queued", "running"} and states[-1] == "done"
    progress = [data for name, data in events if name == "progress"]
    assert progress == live and 10 <= len(progress) < PROGRESS_STEPS
    fractions = [point["progress"] for point in progress]
    assert fractions == sorted(fractions) and fractions[0] > 0 and fractions[-1] < 1

    jobs = pq.read_table(run_dir / "jobs.parquet").to_pydict()
    first_s, last_s = min(jobs["submit_s"]), max(jobs["submit_s"])
    horizon_s = last_s + max(jobs["requested_s"])
    end_s = np.array(jobs["end_s"])
    series = read_series(run_dir)
    for k, point in enumerate(progress, start=1):
        t_s = first_s + (horizon_s - first_s) * k / PROGRESS_STEPS
        assert point["time_s"] == pytest.approx(t_s, rel=1e-12)
        assert point["progress"] == np.count_nonzero(end_s <= t_s) / len(end_s)  # the jobs that ended
        assert set(point["levels"]) == PERLMUTTER_POOLS
        for pool, level in point["levels"].items():
            assert level["utilization"] == pytest.approx(level_at(series, f"utilization:{pool}", t_s))
            assert level["running_jobs"] == level_at(series, f"running_jobs:{pool}", t_s)
            assert level["queued_jobs"] == level_at(series, f"queue_jobs:{pool}", t_s)

    summary = json.loads((run_dir / "summary.json").read_text())
    assert done["figures"] == {
        "jobs": summary["jobs"], "utilization": summary["utilization"],
        "mean_wait_s": summary["wait_s"]["mean"], "energy_mwh": summary["power"]["energy_system_mwh"],
    }  # fmt: skip
    assert done["progress"] == 1.0 and done["phase"] == "" and done["error"] is None
    assert done["links"] == {"report": "/runs/run-0001/report.html", "summary": "/runs/run-0001/summary.json"}
    assert done["started_utc"] is not None and done["finished_utc"] >= done["started_utc"]
    assert json.loads((run_dir / "status.json").read_text()) == done
    assert report.status_code == 200 and report.headers["content-type"].startswith("text/html")
    assert report.text == (run_dir / "report.html").read_text()
    assert summary_served.json() == summary
    assert chart.headers["content-type"] == "image/png" and chart.content.startswith(b"\x89PNG")


def test_load_factor_scales_the_workload_and_runs_compare(tmp_path: Path) -> None:
    workload = {"kind": "generated", "days": 0.5, "seed": 1}
    with serve_client(tmp_path / "store", max_runs=2) as client:
        submit(client, workload=workload, label="base")
        submit(client, workload=workload, load_factor=2.0)
        base, doubled = wait_for(client, "run-0001"), wait_for(client, "run-0002")
        long_run = submit(client, **LONG)
        unfinished = client.get(f"/compare?ids=run-0001,{long_run['id']}")
        client.post(f"/api/runs/{long_run['id']}/cancel")
        compared = client.get("/compare?ids=run-0001,run-0002")
        unknown = client.get("/compare?ids=run-0001,run-0009")
        single = client.get("/compare?ids=run-0001")
        listed = [run["id"] for run in client.get("/api/runs").json()]

    assert base["state"] == doubled["state"] == "done"
    qos = pq.read_table(tmp_path / "store" / "runs" / "run-0001" / "jobs.parquet").column("qos").to_pylist()
    realtime = qos.count("realtime")
    assert doubled["figures"]["jobs"] == 2 * (base["figures"]["jobs"] - realtime) + realtime
    assert unfinished.status_code == 409 and "only finished runs" in unfinished.json()["detail"]
    assert compared.status_code == 200 and compared.headers["content-type"].startswith("text/html")
    assert "run-0001 (base)" in compared.text and "run-0002" in compared.text
    assert "run-0002 (" not in compared.text  # no label: the id alone
    assert list((tmp_path / "store" / "compare").iterdir()) == []  # rendered, sent, deleted
    assert unknown.status_code == 404 and single.status_code == 400
    assert listed == ["run-0003", "run-0002", "run-0001"]
