"""machine_summary (backs ``pmtwin machine show --json``) and render_machine."""

from __future__ import annotations

import json

from rich.console import Console

from pmtwin.machine import Machine, load_system, machine_summary, peak_flops, render_machine

PEAK_KEYS = [
    "gpu_node_count",
    "cpu_node_count",
    "gpu_count",
    "gpu_node_cpu_count",
    "cpu_node_cpu_count",
    "gpu_fp64_pflops",
    "gpu_fp64_tensor_pflops",
    "gpu_fp32_pflops",
    "gpu_tf32_tensor_dense_pflops",
    "gpu_tf32_tensor_sparse_pflops",
    "gpu_fp16_tensor_dense_pflops",
    "gpu_fp16_tensor_sparse_pflops",
    "gpu_bf16_tensor_dense_pflops",
    "gpu_bf16_tensor_sparse_pflops",
    "gpu_int8_tensor_dense_pops",
    "gpu_int8_tensor_sparse_pops",
    "gpu_node_cpu_fp64_pflops",
    "cpu_node_cpu_fp64_pflops",
    "hbm_gb",
    "hbm_tb",
    "gpu_node_ddr_gb",
    "gpu_node_ddr_tb",
    "cpu_node_ddr_gb",
    "cpu_node_ddr_tb",
    "gpu_tdp_kw",
    "gpu_node_cpu_tdp_kw",
    "cpu_node_cpu_tdp_kw",
]


def test_peak_keys_are_stable(perlmutter: Machine) -> None:
    assert list(peak_flops(perlmutter)) == PEAK_KEYS


def test_summary_is_json_and_stable(perlmutter: Machine) -> None:
    text = json.dumps(machine_summary(perlmutter))
    assert json.dumps(machine_summary(load_system("perlmutter"))) == text
    assert json.loads(text) == machine_summary(perlmutter)


def test_summary_content(perlmutter: Machine) -> None:
    summary = machine_summary(perlmutter)
    assert list(summary) == ["name", "description", "node_count", "cabinet_count", "partitions", "node_types",
                             "pools", "peak"]  # fmt: skip
    assert (summary["name"], summary["node_count"], summary["cabinet_count"]) == ("perlmutter", 4904, 27)
    assert summary["partitions"] == {"gpu": 1792, "cpu": 3072}
    assert [p["name"] for p in summary["pools"]] == ["gpu", "gpu:hbm80g", "cpu"]
    login = summary["node_types"][3]
    assert login == {
        "name": "login",
        "partition": None,
        "count": 40,
        "first_node_id": 4864,
        "cabinets": 1,
        "cpu": "AMD EPYC 7713",
        "cpus_per_node": 2,
        "gpu": "NVIDIA A100-SXM4-40GB",
        "gpus_per_node": 1,
        "ddr_gb": None,
        "features": [],
    }
    assert summary["peak"] == peak_flops(perlmutter)


def test_render_shows_nodes_and_peaks(perlmutter: Machine) -> None:
    console = Console(record=True, width=140)
    console.print(render_machine(perlmutter))
    text = console.export_text()
    for expected in ("gpu-80gb", "1536-1791", "4,904 nodes in 27 cabinets", "69.5", "139.8", "4.5", "15.4",
                     "327.7", "4,472.8"):  # fmt: skip
        assert expected in text, expected
