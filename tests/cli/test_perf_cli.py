"""The performance commands of pmtwin (docs/performance.md): ``predict``, ``machine show --headline``,
``calibrate``, and the HPL rows of ``validate``, through the runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pmtwin.machine import load_system
from pmtwin.perf.hpl import predict_hpl
from tests.cli._runner import assert_user_error, invoke


def test_predict_hpl_json_has_rmax() -> None:
    code, output = invoke("predict", "hpl", "--machine", "perlmutter-2021", "--nodes", "1536", "--json")
    assert code == 0, output
    data = json.loads(output)
    expected = predict_hpl(load_system("perlmutter-2021"), None, 1536)
    assert data["rmax_pflops"] == expected.figures["rmax_pflops"]
    assert {key: data[key] for key in expected.figures} == expected.figures
    assert data["run_s"] == expected.run_s and data["nodes"] == 1536 and data["app"] == "hpl"
    assert set(data["breakdown"]) == {"update_s", "panel_s", "network_exposed_s"}


def test_predict_hpl_defaults_to_every_node_and_takes_parameters() -> None:
    code, output = invoke("predict", "hpl", "--json", "--set", "block_size=384")
    assert code == 0, output
    data = json.loads(output)
    assert data["machine"] == "perlmutter" and data["nodes"] == 1536 and data["inputs"]["block_size"] == 384


def test_predict_hpl_table() -> None:
    code, output = invoke("predict", "hpl", "--machine", "perlmutter-2021", "--nodes", "16")
    assert code == 0, output
    assert "rmax_pflops" in output and "network_exposed_s" in output


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (("predict", "hpl", "--set", "nb=2"), ("unknown parameter 'nb'",)),
        (("predict", "hpl", "--set", "n"), ("--set 'n'", "KEY=VALUE")),
        (("predict", "hpl", "--machine", "nowhere"), ("nowhere",)),
        (("predict", "hpl", "--nodes", "5000"), ("nodes must be 1..1792 on the gpu partition",)),
        (("predict", "hpl", "--node-type", "cpu"), ("has no GPUs",)),
    ],
)
def test_predict_user_errors(args: tuple[str, ...], fragments: tuple[str, ...]) -> None:
    assert_user_error(*invoke(*args), *fragments)


def test_headline_explains_four_exaflops() -> None:
    code, output = invoke("machine", "show", "perlmutter-2021", "--headline")
    assert code == 0, output
    assert "6,144 GPUs x 624 TFLOP/s" in output and "3.83 EFLOP/s" in output
    assert "6,159 x 624 TFLOP/s = 3.84 EFLOP/s" in output and "15 are unexplained" in output
    assert "Published: 70.87 PFLOP/s" in output
    code, output = invoke("machine", "show", "perlmutter-2021", "--headline", "--json")
    data = json.loads(output)
    assert data["gpu_count"] == 6144 and data["announced_gpu_count"] == 6159
    assert data["ai_fp16_sparse_eflops"] == pytest.approx(6144 * 624e-6)
    assert data["ai_fp16_dense_eflops"] == pytest.approx(6144 * 312e-6)
    assert data["announced_gpus_ai_fp16_sparse_eflops"] == pytest.approx(6159 * 624e-6)
    hpl = data["hpl"]
    assert hpl["nodes"] == 1536 and hpl["published_rmax_pflops"] == 70.87
    expected = predict_hpl(load_system("perlmutter-2021"), None, 1536).figures["rmax_pflops"]
    assert hpl["rmax_pflops"] == pytest.approx(expected)


def test_headline_today_counts_every_gpu() -> None:
    code, output = invoke("machine", "show", "perlmutter", "--headline", "--json")
    assert code == 0, output
    data = json.loads(output)
    assert data["gpu_count"] == 7168 and data["hpl"]["nodes"] == 1792
    assert data["hpl"]["node_types"] == {"gpu-40gb": 1536, "gpu-80gb": 256}
    assert data["hpl"]["rmax_pflops"] == pytest.approx(
        predict_hpl(load_system("perlmutter"), None, 1792).figures["rmax_pflops"]
    )
    assert data["hpl"]["published_rmax_pflops"] is None


def test_validate_lists_the_hpl_runs() -> None:
    code, output = invoke("validate", "--json")
    assert code == 0, output
    rows = {row["name"]: row for row in json.loads(output)}
    hpl = [row for name, row in rows.items() if name.startswith("HPL Rmax")]
    assert [row["published"] for row in hpl] == [64.59, 70.87, 44.12]
    assert all(abs(row["error_pct"]) <= row["target_pct"] == 3.0 for row in hpl)


def test_replay_of_application_jobs(tmp_path: Path) -> None:
    jobs = tmp_path / "hpl.toml"
    jobs.write_text('[[jobs]]\napp = "hpl"\nnodes = 128\ncount = 2\n', encoding="utf-8")
    out = str(tmp_path / "r")
    code, output = invoke("replay", str(jobs), "--machine", "perlmutter", "--out", out, "--quiet")
    assert code == 0, output
    assert (tmp_path / "r" / "jobs.parquet").exists()
    assert_user_error(*invoke("replay", str(jobs), "--out", str(tmp_path / "r2")), "give --machine")


def test_headline_of_a_machine_without_gpus(tmp_path: Path) -> None:
    system = tmp_path / "cpu-only.toml"
    system.write_text(
        'name = "cpu-only"\ndescription = "CPU nodes"\nsource = "test"\n[[node_types]]\nname = "cpu"\n'
        'count = 16\ncpu = "EPYC-7763"\ncpus_per_node = 2\nddr_gb = 512\nnics_per_node = 1\n'
        'nodes_per_cabinet = 16\n'
        'source = "test"\n[partitions.cpu]\nnode_types = ["cpu"]\n',
        encoding="utf-8",
    )
    code, output = invoke("machine", "show", str(system), "--headline")
    assert code == 0, output
    assert "no GPUs in a batch partition" in output and "EFLOP/s" not in output
    assert_user_error(*invoke("predict", "hpl", "--machine", str(system)), "no 'gpu' partition")


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (("predict", "train", "--model", "bogus"), ("unknown train model 'bogus'",)),
        (("predict", "train", "--model", "llm"), ("missing parameter(s) params_b, tokens_b",)),
        (("predict", "train", "--model", "deepcam", "--node-type", "gpu-80gb"), ("nodes must be 1..256",)),
        (("predict", "train", "--model", "llm", "--nodes", "4", "--set", "params_b=inf"),
         ("'params_b' must be a positive number",)),
        (("predict", "desi", "--set", "nights=3"), ("DESI exposure: unknown parameter 'nights'",)),
        (("calibrate", "--device", "tpu"), ("tpu",)),
    ],
)
def test_model_user_errors(args: tuple[str, ...], fragments: tuple[str, ...]) -> None:
    assert_user_error(*invoke(*args), *fragments)


def test_headline_of_another_gpu_machine(tmp_path: Path) -> None:
    """GPU nodes in a partition not called gpu: peaks yes, no announcement line (it is Perlmutter's), and
    HPL needs a node type named."""
    system = tmp_path / "accel.toml"
    system.write_text(
        'name = "accel"\ndescription = "GPUs elsewhere"\nsource = "test"\n[[node_types]]\nname = "a100"\n'
        'count = 8\ncpu = "EPYC-7763"\ncpus_per_node = 1\ngpu = "A100-SXM4-40GB"\ngpus_per_node = 4\n'
        'ddr_gb = 256\nnics_per_node = 4\nnic_bandwidth_gbit_s = 200\nnodes_per_cabinet = 8\n'
        'source = "test"\n[partitions.accel]\nnode_types = ["a100"]\n',
        encoding="utf-8",
    )
    code, output = invoke("machine", "show", str(system), "--headline")
    assert code == 0, output
    assert "32 GPUs x 624 TFLOP/s" in output and "6,159" not in output and "HPL: not predicted" in output
    code, output = invoke("predict", "hpl", "--machine", str(system), "--node-type", "a100", "--json")
    assert code == 0 and json.loads(output)["nodes"] == 8


def test_llm_without_nodes_asks_for_nodes_before_predicting() -> None:
    """No --nodes: the missing count is the error, not a memory-fit failure on some default count."""
    args = ("predict", "train", "--model", "llm", "--set", "params_b=70", "--set", "tokens_b=1")
    assert_user_error(*invoke(*args), "give the number of nodes")
