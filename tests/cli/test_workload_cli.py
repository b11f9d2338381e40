"""``pmtwin workload generate|fit|transform`` and ``simulate --workload``."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest

from pmtwin.workload import generate_workload, load_workload_model, read_jobs_parquet, read_swf
from tests.cli._runner import assert_user_error, invoke


def test_generate_writes_the_same_bytes_for_the_same_seed(tmp_path: Path) -> None:
    files = [tmp_path / "a.parquet", tmp_path / "b.parquet"]
    for out in files:
        code, output = invoke("workload", "generate", "--days", "3", "--seed", "4", "--out", str(out))
        assert code == 0, output
    assert files[0].read_bytes() == files[1].read_bytes()
    jobs = read_jobs_parquet(files[0])
    from pmtwin.machine import load_system

    model = load_workload_model("perlmutter")
    expected = generate_workload(model, days=3, seed=4, machine=load_system("perlmutter"))
    assert jobs.submit_s.tobytes() == expected.submit_s.tobytes()
    assert jobs.qos_names == expected.qos_names and jobs.depends is not None


def test_generate_swf_reads_back(tmp_path: Path) -> None:
    out = tmp_path / "w.swf.gz"
    code, output = invoke("workload", "generate", "--days", "2", "--out", str(out), "--json")
    assert code == 0, output
    summary = json.loads(output)
    trace = read_swf(out)
    assert len(trace.jobs) == summary["jobs"] == sum(p["jobs"] for p in summary["partitions"].values())
    assert trace.capacity == 1792 + 3072
    with gzip.open(out, "rt") as text:
        assert "sizes are nodes" in text.read(2000)
    assert set(summary["qos"]) >= {"debug", "regular", "shared", "realtime"}


def test_generate_from_a_model_without_a_machine(tmp_path: Path) -> None:
    model = tmp_path / "m.toml"
    model.write_text(
        '[model]\nname = "m"\n[partitions.batch]\njobs_per_day = 50\nnodes = 16\n'
        "[partitions.batch.classes.a]\nshare = 1\nsize = { values = [1, 4], weights = [1, 1] }\n"
        "runtime_s = { values = [60, 6000], probs = [0, 1], log = true }\n"
    )
    out = tmp_path / "m.swf"
    code, output = invoke("workload", "generate", "--machine", "none", "--model", str(model), "--days", "4",
                          "--out", str(out))  # fmt: skip
    assert code == 0, output
    assert 100 < len(read_swf(out).jobs) < 300


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--out", "x.csv"], ["x.csv", "*.parquet, *.swf or *.swf.gz"]),
        (["--model", "nope.toml", "--out", "x.parquet"], ["nope.toml", "no such workload model"]),
        (["--machine", "nope", "--out", "x.parquet"], ["nope"]),
        (["--machine", "none", "--out", "x.parquet"], ["has no nodes; give a machine"]),
    ],
)
def test_generate_user_errors(tmp_path: Path, args: list[str], fragments: list[str]) -> None:
    code, output = invoke(
        "workload",
        "generate",
        "--days",
        "1",
        *[str(tmp_path / a) if a.startswith(("x.", "nope.")) else a for a in args],
    )
    assert_user_error(code, output, *fragments)


def test_fit_writes_a_model_and_reports_ks_distances(traces_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "kth.toml"
    trace = traces_dir / "KTH-SP2-1996-2.1-cln.swf.gz"
    code, output = invoke("workload", "fit", str(trace), "--out", str(out), "--json")
    assert code == 0, output
    report = json.loads(output)
    model = load_workload_model(out)
    assert model.model.name == "KTH-SP2-1996-2.1-cln"
    assert report["trace_jobs"] == len(read_swf(trace).jobs)
    assert abs(report["generated_jobs"] - report["trace_jobs"]) < 0.05 * report["trace_jobs"]
    for key, limit in {"size": 0.02, "runtime": 0.05, "interarrival": 0.06, "accuracy": 0.03}.items():
        assert report["ks"][key] < limit, (key, report["ks"])
    means = {side: report["marginals"][side]["runtime"]["mean"] for side in ("trace", "generated")}
    assert means["generated"] == pytest.approx(means["trace"], rel=0.05)  # the coupling keeps it
    code, text = invoke("workload", "fit", str(trace), "--out", str(out))
    assert code == 0 and "KS distance" in text


def test_fit_refuses_a_bad_trace(tmp_path: Path) -> None:
    bad = tmp_path / "bad.swf"
    bad.write_text("1 0 -1 x\n")
    code, output = invoke("workload", "fit", str(bad), "--out", str(tmp_path / "m.toml"))
    assert_user_error(code, output, "bad.swf")


def test_transform_applies_a_config_in_order(tmp_path: Path) -> None:
    source = tmp_path / "w.parquet"
    assert invoke("workload", "generate", "--days", "14", "--out", str(source))[0] == 0
    config = tmp_path / "t.toml"
    config.write_text(
        '[[transforms]]\nkind = "scale_load"\nfactor = 2\n'
        '[[transforms]]\nkind = "time_window"\nstart_day = 7\nend_day = 14\n'
    )
    out = tmp_path / "t.parquet"
    code, output = invoke("workload", "transform", str(source), "--config", str(config), "--out", str(out),
                          "--json")  # fmt: skip
    assert code == 0, output
    report = json.loads(output)
    before, after = read_jobs_parquet(source), read_jobs_parquet(out)
    assert report["jobs"] == len(after)
    in_week = np.count_nonzero(before.submit_s >= 7 * 86400)
    assert abs(len(after) - 2 * in_week) < 5 * np.sqrt(in_week)
    assert after.submit_s.min() >= 0 and after.submit_s.max() < 7 * 86400
    assert [r["kind"] for r in report["transforms"]] == ["scale_load", "time_window"]


def test_transform_config_errors_name_the_file_and_field(tmp_path: Path) -> None:
    source = tmp_path / "w.parquet"
    assert invoke("workload", "generate", "--days", "1", "--out", str(source))[0] == 0
    config = tmp_path / "t.toml"
    config.write_text('[[transforms]]\nkind = "scale_load"\nfactor = -1\n')
    code, output = invoke("workload", "transform", str(source), "--config", str(config), "--out",
                          str(tmp_path / "o.parquet"))  # fmt: skip
    assert_user_error(code, output, "t.toml", "transforms[0].factor")


def test_simulate_takes_a_fitted_model(traces_dir: Path, tmp_path: Path) -> None:
    model = tmp_path / "kth.toml"
    trace = traces_dir / "KTH-SP2-1996-2.1-cln.swf.gz"
    code, output = invoke(
        "workload", "fit", str(trace), "--machine", "perlmutter", "--out", str(model), "--json"
    )
    assert code == 0, output
    assert list(load_workload_model(model).partitions) == ["cpu"]
    code, output = invoke(
        "simulate", "--workload", str(model), "--days", "5", "--out", str(tmp_path / "run"), "-q"
    )
    assert code == 0, output
    config = (tmp_path / "run" / "config.toml").read_text()
    assert 'model = "KTH-SP2-1996-2.1-cln"' in config
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert set(summary["pools"]) == {"gpu", "gpu:hbm80g", "cpu"} and summary["jobs"] > 100


def test_transform_rescales_sizes_to_a_smaller_machine(tmp_path: Path) -> None:
    source = tmp_path / "w.parquet"
    assert invoke("workload", "generate", "--days", "3", "--out", str(source))[0] == 0
    config = tmp_path / "half.toml"
    config.write_text(
        '[[transforms]]\nkind = "rescale_sizes"\nfrom_nodes = 3072\nto_nodes = 1536\npartitions = ["cpu"]\n'
    )
    out = tmp_path / "half.parquet"
    code, output = invoke("workload", "transform", str(source), "--config", str(config), "--out", str(out))
    assert code == 0, output
    before, after = read_jobs_parquet(source), read_jobs_parquet(out)
    cpu = np.asarray(before.partition_names)[before.partition] == "cpu"
    np.testing.assert_array_equal(after.size[cpu], np.maximum(1, np.floor(before.size[cpu] / 2 + 0.5)))
    np.testing.assert_array_equal(after.size[~cpu], before.size[~cpu])
    config.write_text('[[transforms]]\nkind = "rescale_sizes"\nfrom_nodes = 3072\n')
    code, output = invoke("workload", "transform", str(source), "--config", str(config), "--out", str(out))
    assert_user_error(code, output, "half.toml", "transforms[0]", "from_nodes with to_nodes")


def test_fit_reads_a_sacct_trace(tmp_path: Path) -> None:
    from tests.cli.test_cli import SACCT_FIXTURE

    out = tmp_path / "s.toml"
    args = ["--out", str(out), "--tz", "America/Los_Angeles", "--json"]
    code, output = invoke("workload", "fit", str(SACCT_FIXTURE), *args)
    assert code == 0, output
    report = json.loads(output)
    assert report["trace_jobs"] > 0 and set(report["ks"]) >= {"size", "runtime", "interarrival", "accuracy"}
    assert load_workload_model(out).partitions


def test_fit_for_a_machine_keeps_a_job_table_s_partitions(tmp_path: Path) -> None:
    source = tmp_path / "w.parquet"
    assert invoke("workload", "generate", "--days", "3", "--out", str(source))[0] == 0
    out = tmp_path / "f.toml"
    code, output = invoke(
        "workload", "fit", str(source), "--machine", "perlmutter", "--out", str(out), "--json"
    )
    assert code == 0, output
    assert set(json.loads(output)["partitions"]) == {"gpu", "cpu"}
    assert set(load_workload_model(out).partitions) == {"gpu", "cpu"}


def test_fit_refuses_a_partition_the_machine_lacks(tmp_path: Path) -> None:
    from tests.cli.test_cli import SACCT_FIXTURE

    code, output = invoke("workload", "fit", str(SACCT_FIXTURE), "--machine", "perlmutter", "--out",
                          str(tmp_path / "m.toml"))  # fmt: skip
    assert_user_error(code, output, "is not one of perlmutter's", "--partition")


def test_transform_of_an_swf_trace_keeps_processors_and_reports_what_the_reader_left_out(
    traces_dir: Path, tmp_path: Path
) -> None:
    config = tmp_path / "w.toml"
    config.write_text('[[transforms]]\nkind = "time_window"\nstart_day = 0\nend_day = 30\n')
    out = tmp_path / "k.swf"
    trace = traces_dir / "KTH-SP2-1996-2.1-cln.swf.gz"
    code, output = invoke("workload", "transform", str(trace), "--config", str(config), "--out", str(out),
                          "--json")  # fmt: skip
    assert code == 0, output
    summary = json.loads(output)
    assert summary["unit"] == "processors" and sum(summary["skipped"].values()) == 9
    assert summary["records"] == summary["jobs_in"] + 9
    header = out.read_text()[:2000]
    assert "sizes are processors" in header and "MaxProcs: 100" in header


def test_generate_reports_desi_nights_and_submit_limit_moves(tmp_path: Path) -> None:
    code, output = invoke(
        "workload", "generate", "--days", "3", "--out", str(tmp_path / "g.parquet"), "--json"
    )
    assert code == 0, output
    summary = json.loads(output)
    assert summary["desi"]["observing_nights"] >= summary["desi"]["nights_cut_at_horizon"] >= 0
    assert set(summary["moved_by_submit_limits"]) == {"debug", "interactive", "premium"}
    code, output = invoke("workload", "generate", "--days", "nan", "--out", str(tmp_path / "g.parquet"))
    assert_user_error(code, output, "--days must be a number in (0, 3650]")
    code, output = invoke("workload", "generate", "--out", str(tmp_path / "no" / "g.parquet"))
    assert_user_error(code, output, "does not exist")


def test_transform_keeps_the_swf_start_and_refuses_an_empty_window(traces_dir: Path, tmp_path: Path) -> None:
    config = tmp_path / "w.toml"
    config.write_text('[[transforms]]\nkind = "time_window"\nstart_day = 7\nend_day = 60\n')
    out = tmp_path / "k.swf"
    trace = traces_dir / "KTH-SP2-1996-2.1-cln.swf.gz"
    assert invoke("workload", "transform", str(trace), "--config", str(config), "--out", str(out))[0] == 0
    assert read_swf(out).unix_start_time == read_swf(trace).unix_start_time + 7 * 86400
    from tests.cli.test_cli import SACCT_FIXTURE

    config.write_text('[[transforms]]\nkind = "time_window"\nstart_day = 0\nend_day = 1\n')
    code, output = invoke("workload", "transform", str(SACCT_FIXTURE), "--config", str(config), "--out",
                          str(tmp_path / "s.parquet"))  # fmt: skip
    assert_user_error(code, output, "time_window) left no jobs", "first_submit")
    code, output = invoke("workload", "fit", str(trace), "--out", str(tmp_path))
    assert_user_error(code, output, "is a folder")
