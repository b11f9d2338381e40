"""Derived figures against the reference sheet (shared/reference/perlmutter.md).

Comparisons are exact where the sheet's figure is exact, and to the sheet's printed precision where
the sheet rounds (69.5 PF is 69.5296 PF rounded to 0.1).
"""

from __future__ import annotations

import pytest

from pmtwin.machine import Machine, load_devices, peak_flops


def test_a100_figures() -> None:
    a100 = load_devices().gpu["A100-SXM4-40GB"]
    assert (a100.fp64_tflops, a100.fp64_tensor_tflops, a100.fp32_tflops) == (9.7, 19.5, 19.5)
    assert (a100.tf32_tensor_dense_tflops, a100.tf32_tensor_sparse_tflops) == (156, 312)
    assert (a100.fp16_tensor_dense_tflops, a100.fp16_tensor_sparse_tflops) == (312, 624)
    assert (a100.bf16_tensor_dense_tflops, a100.bf16_tensor_sparse_tflops) == (312, 624)
    assert (a100.int8_tensor_dense_tops, a100.int8_tensor_sparse_tops) == (624, 1248)
    assert a100.memory_bandwidth_gbs == 1555
    assert load_devices().gpu["A100-SXM4-80GB"].memory_bandwidth_gbs == 2039


def test_epyc_7763_derived_figures() -> None:
    """Sheet [D]: 64 x 2.45 GHz x 16 FLOP/cycle = 2.51 TF; 8 x DDR4-3200 x 8 B = 204.8 GB/s."""
    epyc = load_devices().cpu["EPYC-7763"]
    assert epyc.fp64_tflops == pytest.approx(2.5088)
    assert round(epyc.fp64_tflops, 2) == 2.51
    assert epyc.memory_bandwidth_gbs == pytest.approx(204.8)


def test_perlmutter_counts(perlmutter: Machine) -> None:
    peak = peak_flops(perlmutter)
    assert peak["gpu_node_count"] == 1792
    assert peak["cpu_node_count"] == 3072
    assert peak["gpu_count"] == 7168  # sheet: 7,168 compute GPUs (the 40 login GPUs are not counted)
    assert peak["cpu_node_cpu_count"] == 6144


def test_perlmutter_fp64_matches_arch(perlmutter: Machine) -> None:
    """ARCH: GPUs 69.5 PF (tensor 140, sheet [D] 139.8); GPU-node CPUs 4.5; CPU partition 15.4."""
    peak = peak_flops(perlmutter)
    assert peak["gpu_fp64_pflops"] == pytest.approx(7168 * 9.7 / 1000)
    assert round(peak["gpu_fp64_pflops"], 1) == 69.5
    assert round(peak["gpu_fp64_tensor_pflops"], 1) == 139.8
    assert round(peak["gpu_fp64_tensor_pflops"]) == 140
    assert round(peak["gpu_node_cpu_fp64_pflops"], 2) == 4.50
    assert round(peak["cpu_node_cpu_fp64_pflops"], 1) == 15.4


def test_perlmutter_memory_matches_arch(perlmutter: Machine) -> None:
    """ARCH prints 448 TB DDR on GPU nodes, 328 TB HBM, 1,536 TB DDR on CPU nodes.

    HBM: 6,144 x 40 GB + 1,024 x 80 GB = 327,680 GB = 327.68 TB, i.e. ARCH's 328 TB (decimal TB).
    DDR: 1,792 x 256 GB = 458,752 GB and 3,072 x 512 GB = 1,572,864 GB; ARCH's 448 and 1,536 are these
    sums divided by 1,024 (binary units), so ARCH mixes units between its DDR and HBM rows. The twin
    reports the exact GB sums and TB = GB / 1000 throughout.
    """
    peak = peak_flops(perlmutter)
    assert peak["hbm_gb"] == 1536 * 4 * 40 + 256 * 4 * 80 == 327_680
    assert round(peak["hbm_tb"]) == 328
    assert peak["gpu_node_ddr_gb"] / 1024 == 448
    assert peak["cpu_node_ddr_gb"] / 1024 == 1536
    assert peak["gpu_node_ddr_tb"] == pytest.approx(458.752)


def test_perlmutter_2021_headlines(perlmutter_2021: Machine) -> None:
    """6,144 GPUs x 624 TF (FP16 sparse) = 3.83 EF, "nearly four exaflops"; NVIDIA's 6,159 gives 3.84.

    The twin uses 6,144 = 1,536 x 4; the 15 GPUs in NVIDIA's count are unexplained (see the TOML).
    FP64: 6,144 x 9.7 TF = 59.6 PF (heise: ~60 PF).
    """
    peak = peak_flops(perlmutter_2021)
    assert peak["gpu_count"] == 6144
    assert peak["gpu_fp16_tensor_sparse_pflops"] == pytest.approx(6144 * 624 / 1000)
    assert round(peak["gpu_fp16_tensor_sparse_pflops"] / 1000, 2) == 3.83
    assert round((peak["gpu_fp16_tensor_sparse_pflops"] + 15 * 0.624) / 1000, 2) == 3.84
    assert round(peak["gpu_fp16_tensor_dense_pflops"] / 1000, 2) == 1.92
    assert round(peak["gpu_fp64_pflops"], 1) == 59.6


def test_top500_core_count_of_the_2021_machine(perlmutter_2021: Machine) -> None:
    """TOP500 counts 64 CPU cores + 4 x 108 SMs = 496 per GPU node; Nov-2021 lists 761,856 = 1,536 nodes."""
    gpu_node = perlmutter_2021.node_type("gpu-40gb")
    gpu = perlmutter_2021.gpu_spec(gpu_node)
    assert gpu is not None
    cpu_cores = gpu_node.cpus_per_node * perlmutter_2021.cpu_spec(gpu_node).cores
    cores_per_node = cpu_cores + gpu_node.gpus_per_node * gpu.sm_count
    assert cores_per_node == 496
    assert gpu_node.count * cores_per_node == 761_856


def test_tdp_is_devices_times_counts(perlmutter: Machine) -> None:
    peak = peak_flops(perlmutter)
    assert peak["gpu_tdp_kw"] == pytest.approx(7168 * 0.400)
    assert peak["gpu_node_cpu_tdp_kw"] == pytest.approx(1792 * 0.280)
    assert peak["cpu_node_cpu_tdp_kw"] == pytest.approx(6144 * 0.280)


def test_every_precision_scales_with_gpu_count(perlmutter: Machine, perlmutter_2021: Machine) -> None:
    """Both systems use GPUs with the same peaks, so every GPU figure scales by 7,168 / 6,144."""
    today, then = peak_flops(perlmutter), peak_flops(perlmutter_2021)
    for key in (k for k in today if k.startswith("gpu_") and k.endswith(("_pflops", "_pops"))):
        assert today[key] == pytest.approx(then[key] * 7168 / 6144), key
