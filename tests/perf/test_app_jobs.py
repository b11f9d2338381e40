"""Jobs driven by application models (docs/performance.md section 6): a TOML workload whose run times
and power classes come from the models, replayed on a machine."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from pmtwin.machine import load_system
from pmtwin.machine.errors import MachineConfigError
from pmtwin.perf.app_jobs import read_app_jobs
from pmtwin.perf.hpl import predict_hpl
from pmtwin.perf.node import PerfModelError
from pmtwin.runs import replay

HPL_JOBS = """
[[jobs]]
app = "hpl"
nodes = 1536

[[jobs]]
app = "hpl"
nodes = 64
count = 3
submit_s = 100
interval_s = 600
node_type = "gpu-80gb"
requested_s = 900
user = 7
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "jobs.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_run_times_and_classes_come_from_the_model(tmp_path: Path) -> None:
    machine = load_system("perlmutter")
    loaded = read_app_jobs(write(tmp_path, HPL_JOBS), machine)
    jobs = loaded.jobs
    big = predict_hpl(machine, None, 1536).run_s
    small = predict_hpl(machine, "gpu-80gb", 64).run_s
    assert list(jobs.job_id) == [1, 2, 3, 4]
    assert list(jobs.submit_s) == [0.0, 100.0, 700.0, 1300.0]
    assert list(jobs.work_s) == [big, small, small, small]
    assert jobs.requested_s[0] == np.ceil(big * 1.25 / 60) * 60  # default margin, whole minutes
    assert list(jobs.requested_s[1:]) == [900.0] * 3
    assert list(jobs.size) == [1536, 64, 64, 64]
    assert list(jobs.user) == [-1, 7, 7, 7]
    assert {jobs.power_class_names[c] for c in jobs.power_class} == {"hpl"}
    constraints = [jobs.constraint_names[c] for c in jobs.constraint]
    assert constraints == ["gpu&hbm40g"] + ["gpu&hbm80g"] * 3
    assert loaded.facts() == {"records": 4, "jobs_per_app": {"hpl": 4}}


def test_replay_puts_each_job_on_its_node_type(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = replay(write(tmp_path, HPL_JOBS), out_dir=out, machine="perlmutter")
    table = pq.read_table(out / "jobs.parquet").to_pydict()
    assert table["pool"] == ["gpu", "gpu:hbm80g", "gpu:hbm80g", "gpu:hbm80g"]
    assert table["end_s"][0] == pytest.approx(predict_hpl(load_system("perlmutter"), None, 1536).run_s)
    assert result.summary["power"]["peak_system_w"] > result.summary["power"]["idle_system_w"]
    config = (out / "config.toml").read_text(encoding="utf-8")
    assert 'format = "apps"' in config
    assert json.loads(json.dumps(result.summary))["jobs"] == 4


def test_machine_changes_the_run_time(tmp_path: Path) -> None:
    path = write(tmp_path, '[[jobs]]\napp = "hpl"\nnodes = 512\n')
    then = read_app_jobs(path, load_system("perlmutter-2021")).jobs.work_s[0]
    today = read_app_jobs(path, load_system("perlmutter")).jobs.work_s[0]
    assert today < then  # the same GPUs with a four times faster network


@pytest.mark.parametrize(
    ("text", "error", "fragment"),
    [
        ('[[jobs]]\napp = "hpl"\nnodes = 0\n', MachineConfigError, "jobs[0].nodes"),
        ('[[jobs]]\napp = "hpl"\nnodes = 4\ncolour = 1\n', MachineConfigError, "jobs[0].colour"),
        ('[[jobs]]\napp = "nbody"\nnodes = 4\n', PerfModelError, "jobs[0]: unknown application model"),
        (
            '[[jobs]]\napp = "hpl"\nnodes = 4\n[[jobs]]\napp = "hpl"\nnodes = 4\nparams = { nb = 1 }\n',
            PerfModelError,
            "jobs[1]: hpl: unknown parameter 'nb'",
        ),
        ('[[jobs]]\napp = "hpl"\nnodes = 4\nnode_type = "login"\n', PerfModelError, "jobs[0]"),
        ("jobs = []\n", MachineConfigError, "no [[jobs]] entries"),
        ('[[jobs]]\napp = "train"\nnodes = 4\n', PerfModelError, "jobs[0]: train: give params.model"),
        (
            '[[jobs]]\napp = "desi"\nnodes = 10\nparams = { mode = "night" }\n',
            PerfModelError,
            "jobs[0]: a DESI night is a workflow of many jobs",
        ),
        ('[[jobs]]\napp = "hpl"\nnodes = 4\nnode_type = "gpu-9"\n', PerfModelError, "no node type 'gpu-9'"),
        ('[[jobs]]\napp = "hpl"\nnodes = 1792\n', PerfModelError, "jobs[0]: a job runs on one node type"),
    ],
)
def test_bad_entries_name_file_and_entry(
    tmp_path: Path, text: str, error: type[Exception], fragment: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(error) as caught:
        read_app_jobs(path, load_system("perlmutter"))
    assert str(path) in str(caught.value) and fragment in str(caught.value)


def test_replay_needs_a_machine(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="give --machine"):
        replay(write(tmp_path, HPL_JOBS), out_dir=tmp_path / "run")


def test_a_job_holds_the_nodes_its_model_used(tmp_path: Path) -> None:
    # a DESI exposure on the 10-node realtime pool runs as one 5-node job (desispec's cap)
    path = write(tmp_path, '[[jobs]]\napp = "desi"\nnodes = 10\ncount = 2\ninterval_s = 900\n')
    jobs = read_app_jobs(path, load_system("perlmutter")).jobs
    assert list(jobs.size) == [5, 5]
    assert {jobs.power_class_names[c] for c in jobs.power_class} == {"gpu_memory_bound"}
