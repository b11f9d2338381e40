"""The HPL model (docs/performance.md section 3) and its validation against TOP500."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pmtwin.machine import load_system
from pmtwin.perf.hpl import hpl_flops, load_hpl_params, predict_hpl, problem_size, process_grid
from pmtwin.perf.node import PerfModelError, load_links
from pmtwin.perf.validation import hpl_rows

PM2021 = load_system("perlmutter-2021")


def reference_run_s(nodes: int, n: int, nb: int, p: int, q: int) -> float:
    """A plain loop over panel steps, written from the module docstring, for perlmutter-2021."""
    hpl, links = load_hpl_params(), load_links()
    gemm = 19.5e12 * 1305 / 1410 * hpl.dgemm_efficiency
    if nodes == 1:
        alpha, bandwidth = links.nvlink.latency_us * 1e-6, 300e9 * links.nvlink.bandwidth_efficiency
    else:
        alpha = links.network.latency_us * 1e-6
        bandwidth = 2 * 12.5e9 / 4 * links.network.bandwidth_efficiency  # two 100 Gb/s NICs, four GPUs
    hops_p = math.ceil(math.log2(p)) if p > 1 else 0
    hops_q = math.ceil(math.log2(q)) if q > 1 else 0
    total = 0.0
    for start in range(0, n, nb):
        m = n - start
        update = 2 * (m / p) * (m / q) * nb / gemm
        panel = hops_p * nb * alpha + hpl.panel_bytes_per_element_column * (m / p) * nb * nb / 1555e9
        bcast = (8 * (m / p) * nb / bandwidth + hops_q * alpha) if q > 1 else 0.0
        swaps = (hpl.row_swap_factor * 8 * nb * (m / q) / bandwidth + 2 * hops_p * alpha) if p > 1 else 0.0
        total += max(update + panel, bcast + swaps)
    return total


@pytest.mark.parametrize(("nodes", "n", "p", "q"), [(1, 2880, 2, 2), (4, 28800, 4, 4), (3, 11520, 2, 6)])
def test_run_time_matches_a_step_by_step_reference(nodes: int, n: int, p: int, q: int) -> None:
    prediction = predict_hpl(PM2021, None, nodes, {"n": n, "block_size": 288, "p": p, "q": q})
    assert prediction.run_s == pytest.approx(reference_run_s(nodes, n, 288, p, q), rel=1e-12)
    rate_pflops = hpl_flops(n) / prediction.run_s / 1e15
    assert prediction.figures["rmax_pflops"] == pytest.approx(rate_pflops, rel=1e-12)
    assert sum(prediction.breakdown.values()) == pytest.approx(prediction.run_s, rel=1e-12)


def test_top500_runs_within_three_percent_with_one_parameter_set() -> None:
    rows = hpl_rows()
    assert [row.published for row in rows] == [64.59, 70.87, 44.12]
    assert "(calibration run)" in rows[1].name and "JUWELS Booster" in rows[2].name
    assert all(row.unit == "PFLOP/s" and row.target_pct == 3.0 for row in rows)
    assert [round(row.predicted, 2) for row in rows] == [65.96, 70.87, 43.49]  # golden values
    assert all(row.within_target for row in rows)


def test_dgemm_efficiency_is_the_calibration_on_november_2021() -> None:
    """hpl.toml's dgemm_efficiency, to its 4 decimals, is the one that gives November 2021's 70.87 PF."""
    hpl = load_hpl_params()

    def rmax(efficiency: float) -> float:
        params = hpl.model_copy(update={"dgemm_efficiency": efficiency})
        return predict_hpl(PM2021, None, 1536, hpl=params).figures["rmax_pflops"]

    low, high = 0.5, 1.0
    for _ in range(50):
        low, high = (low, (low + high) / 2) if rmax((low + high) / 2) > 70.87 else ((low + high) / 2, high)
    assert hpl.dgemm_efficiency == round((low + high) / 2, 4)


def test_the_network_upgrade_barely_moves_hpl() -> None:
    """Two 100 Gb/s NICs per four GPUs already hide HPL's communication behind the GPUs' work (as the
    published runs of Perlmutter and JUWELS Booster, 6.25 and 25 GB/s per GPU, agree within 3%)."""
    then = predict_hpl(PM2021, None, 1536)
    today = predict_hpl(load_system("perlmutter"), "gpu-40gb", 1536)
    assert today.breakdown["network_exposed_s"] == 0.0 < then.breakdown["network_exposed_s"]
    assert 0 < today.figures["rmax_pflops"] / then.figures["rmax_pflops"] - 1 < 0.01


def test_problem_size_and_grid() -> None:
    assert process_grid(5696) == (64, 89)  # 1,424 nodes x 4 GPUs
    assert process_grid(6144) == (64, 96)
    assert process_grid(7) == (1, 7)
    n = problem_size(6144, 40 * 2**30, 0.85, 288)
    assert n % 288 == 0
    assert 8 * n**2 <= 0.85 * 6144 * 40 * 2**30 < 8 * (n + 288) ** 2
    inputs = {"n": n, "block_size": 288, "p": 64, "q": 96, "node_types": {"gpu-40gb": 1536}}
    assert predict_hpl(PM2021, None, 1536).inputs == inputs


def test_figures_are_consistent() -> None:
    nov = predict_hpl(PM2021, None, 1536)
    f = nov.figures
    assert nov.app == "hpl" and nov.power_class == "hpl" and nov.node_type == "gpu-40gb"
    assert f["rpeak_gpu_fp64_tensor_pflops"] == pytest.approx(6144 * 19.5e-3)
    assert f["efficiency_of_rpeak"] == pytest.approx(f["rmax_pflops"] / f["rpeak_gpu_fp64_tensor_pflops"])
    assert 0 < f["efficiency_of_dgemm"] <= 1
    assert f["rmax_tflops_per_gpu"] <= f["dgemm_tflops_per_gpu"]


def test_more_nodes_give_more_rmax() -> None:
    assert predict_hpl(PM2021, None, 1424).figures["rmax_pflops"] < predict_hpl(PM2021, None, 1536).figures[
        "rmax_pflops"
    ]


@settings(max_examples=25, deadline=None)
@given(nodes=st.integers(1, 1536))
def test_rate_never_exceeds_the_dgemm_rate(nodes: int) -> None:
    f = predict_hpl(PM2021, None, nodes).figures
    assert f["rmax_tflops_per_gpu"] <= f["dgemm_tflops_per_gpu"] * (1 + 1e-12)


@pytest.mark.parametrize(
    ("nodes", "params", "message"),
    [
        (0, {}, "nodes must be 1..1536"),
        (1537, {}, "nodes must be 1..1536"),
        (4, {"p": 4}, "give both p and q"),
        (4, {"p": 3, "q": 5}, "p x q must equal the 16 GPUs"),
        (4, {"nb": 4}, "unknown parameter 'nb'"),
        (4, {"n": "big"}, "parameter 'n' must be int"),
        (1, {"n": 10**7}, "does not fit"),
        (1, {"n": 100}, "below the block size"),
        (1, {"block_size": 0}, "'block_size' must be a positive number"),
        (1, {"n": -5}, "'n' must be a positive number"),
    ],
)
def test_bad_requests_name_the_problem(nodes: int, params: dict[str, object], message: str) -> None:
    with pytest.raises(PerfModelError, match=message):
        predict_hpl(PM2021, None, nodes, params)


def test_cpu_nodes_and_unknown_node_types_are_refused() -> None:
    with pytest.raises(PerfModelError, match="has no GPUs"):
        predict_hpl(PM2021, "cpu", 4)
    with pytest.raises(PerfModelError, match=r"no node type 'gpu-80gb' \(known: gpu-40gb, cpu, login\)"):
        predict_hpl(PM2021, "gpu-80gb", 4)


def test_the_gpu_partition_spreads_over_its_node_types() -> None:
    """Today's 1,792 GPU nodes: the 40 GB nodes first, then the 80 GB ones; the matrix is spread evenly,
    so each GPU holds what a 40 GB GPU can (the 80 GB GPUs' extra memory goes unused)."""
    today = load_system("perlmutter")
    whole = predict_hpl(today, None, 1792)
    assert whole.inputs["node_types"] == {"gpu-40gb": 1536, "gpu-80gb": 256}
    assert whole.inputs["n"] == problem_size(7168, 40 * 2**30, 0.85, 288)
    assert whole.figures["rmax_pflops"] > predict_hpl(today, None, 1536).figures["rmax_pflops"]
    assert predict_hpl(today, None, 1536).inputs["node_types"] == {"gpu-40gb": 1536}
    with pytest.raises(PerfModelError, match="nodes must be 1..1792 on the gpu partition"):
        predict_hpl(today, None, 1793)
    with pytest.raises(PerfModelError, match="nodes must be 1..1536 on perlmutter/gpu-40gb"):
        predict_hpl(today, "gpu-40gb", 1792)
