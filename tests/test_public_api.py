"""The flat public API of ``pmtwin`` (pinned), resolved lazily."""

from __future__ import annotations

import subprocess
import sys

import pytest

import pmtwin

PUBLIC = [
    "Engine", "JobTable", "Machine", "RunResult", "Schedule", "SchedulerConfig", "SlurmPools", "SlurmResult",
    "__version__", "generate_workload", "load_workload_model", "load_qos", "load_scheduler", "load_system",
    "machine_from_slurm_conf",
    "read_alibaba", "read_jobs_parquet", "read_sacct", "read_swf", "replay", "run_schedule", "run_slurm",
    "simulate", "PowerOptions", "load_power_classes", "power_overview", "validation_rows", "Prediction",
    "predict", "predict_hpl", "predict_train", "predict_desi", "headline", "read_app_jobs", "run_calibration",
]  # fmt: skip


def test_public_names_are_pinned_and_resolve() -> None:
    assert sorted(pmtwin.__all__) == sorted(PUBLIC)
    for name in PUBLIC:
        assert getattr(pmtwin, name) is not None


def test_unknown_name() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = pmtwin.nope


def test_import_is_cheap() -> None:
    heavy = "('numpy', 'pyarrow', 'pydantic')"
    code = f"import sys, pmtwin; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
