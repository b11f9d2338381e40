"""Slurm mode through the command line: neutral options reproduce the canonical schedule, options are
recorded and validated, an Alibaba pod trace replays onto Perlmutter's GPU nodes."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow.parquet as pq

from tests.cli._runner import invoke


def test_neutral_slurm_mode_equals_the_canonical_replay(traces_dir: Path, tmp_path: Path) -> None:
    trace = str(traces_dir / "KTH-SP2-1996-2.1-cln.swf.gz")
    assert invoke("replay", trace, "--out", str(tmp_path / "canon"), "-q")[0] == 0
    code, output = invoke("replay", trace, "--qos-table", "single", "--out", str(tmp_path / "slurm"), "-q")
    assert code == 0, output
    canon = pq.read_table(tmp_path / "canon" / "jobs.parquet").to_pydict()
    slurm = pq.read_table(tmp_path / "slurm" / "jobs.parquet").to_pydict()
    assert slurm["start_s"] == canon["start_s"]
    assert set(slurm["state"]) == {"COMPLETED"}
    summary = json.loads((tmp_path / "slurm" / "summary.json").read_text())
    assert summary["scheduler"]["not_run"]["total"] == 0
    assert "[scheduler]" in (tmp_path / "slurm" / "config.toml").read_text()


def test_nersc_priority_changes_the_order_but_runs_every_job(traces_dir: Path, tmp_path: Path) -> None:
    trace = str(traces_dir / "KTH-SP2-1996-2.1-cln.swf.gz")
    code, output = invoke("replay", trace, "--priority", "nersc", "--qos-table", "single", "--out",
                          str(tmp_path), "-q")  # fmt: skip
    assert code == 0, output
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["jobs"] == 28467
    assert summary["scheduler"]["states"]["COMPLETED"] == 28467


def test_bad_scheduler_options_are_one_line_errors(traces_dir: Path, tmp_path: Path) -> None:
    trace = str(traces_dir / "KTH-SP2-1996-2.1-cln.swf.gz")
    code, output = invoke("replay", trace, "--priority", "oldest", "--out", str(tmp_path))
    assert code == 2
    assert "error: --priority" in output
    bad = tmp_path / "sched.toml"
    bad.write_text("[scheduler]\nbackfill_window_s = -5\n")
    code, output = invoke("replay", trace, "--scheduler", str(bad), "--out", str(tmp_path))
    assert code == 2
    assert f"{bad}: [scheduler] backfill_window_s" in output
    code, output = invoke("replay", trace, "--qos-table", "nosuch", "--out", str(tmp_path))
    assert code == 2 and "error:" in output


def test_alibaba_pods_replay_onto_gpu_nodes(tmp_path: Path) -> None:
    from tests.conftest import shared_dir

    pods = shared_dir() / "data" / "alibaba-gpu-2023" / "openb_pod_list_default.csv"
    code, output = invoke("replay", str(pods), "--machine", "perlmutter", "--out", str(tmp_path), "-q")
    assert code == 0, output
    with pods.open() as f:
        rows = list(csv.DictReader(f))
    started = [r for r in rows if r["scheduled_time"] and int(r["num_gpu"]) > 0]
    summary = json.loads((tmp_path / "summary.json").read_text())
    ran, not_run = summary["jobs"], summary["scheduler"]["not_run"]["total"]
    assert ran + not_run == len(started)
    # pods longer than the regular QOS's 48 h; shared pods asking more than half a node (the shared
    # QOS's 0.5) of a Perlmutter GPU node: 64 cores, 4 GPUs, 256 GiB
    long_pods = [r for r in started if int(r["deletion_time"]) - int(r["scheduled_time"]) > 172_800]

    def share(r: dict[str, str]) -> float:
        cores = min(-(-int(r["cpu_milli"]) // 1000), 64)
        return max(cores / 64, int(r["num_gpu"]) / 4, min(int(r["memory_mib"]), 262_144) / 262_144)

    too_big = [r for r in started if int(r["num_gpu"]) < 4 and share(r) > 0.5 and r not in long_pods]
    assert summary["scheduler"]["not_run"]["by_reason"] == {
        k: v for k, v in {"qos_walltime": len(long_pods), "shared_too_big": len(too_big)}.items() if v
    }
    jobs = pq.read_table(tmp_path / "jobs.parquet").to_pydict()
    assert set(jobs["pool"]) == {"gpu"}
    assert set(jobs["qos"]) <= {"regular", "shared"}
