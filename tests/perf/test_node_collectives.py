"""The node roofline and the alpha-beta collectives (docs/performance.md sections 1 and 2)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pmtwin.machine import load_system
from pmtwin.perf.collectives import (
    allgather_ring_s,
    allreduce_hierarchical,
    allreduce_ring_s,
    allreduce_s,
    allreduce_tree_s,
    alltoall_s,
    reduce_scatter_ring_s,
)
from pmtwin.perf.node import Link, PerfModelError, load_links, node_perf

LINK = Link(alpha_s=2e-6, bandwidth_bytes_s=10e9)


def test_gpu_node_figures_come_from_the_catalog_and_the_system() -> None:
    links = load_links()
    perf = node_perf(load_system("perlmutter-2021"), "gpu-40gb", links)
    assert perf.gpus == 4
    assert perf.gpu_flops("fp64_tensor") == 19.5e12
    assert perf.gpu_flops("bf16") == 312e12
    assert perf.hbm_bytes_s == 1555e9
    assert perf.nvlink is not None
    assert perf.nvlink.bandwidth_bytes_s == 300e9 * links.nvlink.bandwidth_efficiency
    # two Slingshot-10 NICs of 100 Gb/s: 25 GB/s line rate per node, a quarter per GPU
    assert perf.network is not None
    assert perf.network.bandwidth_bytes_s == pytest.approx(25e9 * links.network.bandwidth_efficiency)
    assert perf.per_gpu_network().bandwidth_bytes_s == pytest.approx(perf.network.bandwidth_bytes_s / 4)
    today = node_perf(load_system("perlmutter"), "gpu-40gb", links)
    assert today.network is not None  # four Slingshot-11 NICs of 200 Gb/s
    assert today.network.bandwidth_bytes_s == pytest.approx(4 * perf.network.bandwidth_bytes_s)


def test_cpu_node_has_no_gpu_figures() -> None:
    perf = node_perf(load_system("perlmutter"), "cpu")
    assert perf.gpus == 0 and perf.nvlink is None and perf.pcie is None
    assert perf.cpu_fp64_flops == pytest.approx(2 * 64 * 2.45e9 * 16)
    assert perf.ddr_bytes_s == pytest.approx(2 * 204.8e9)
    with pytest.raises(PerfModelError, match="no GPU peak for precision 'fp16'"):
        perf.gpu_flops("fp16")


def test_roofline_is_the_slower_of_compute_and_memory() -> None:
    perf = node_perf(load_system("perlmutter"), "gpu-40gb")
    compute_bound = perf.gpu_kernel_s(19.5e12, 1e9, "fp64_tensor")
    assert compute_bound == pytest.approx(1.0)
    memory_bound = perf.gpu_kernel_s(1e9, 1555e9, "fp64_tensor")
    assert memory_bound == pytest.approx(1.0)
    assert perf.gpu_kernel_s(19.5e12, 0.0, "fp64_tensor", efficiency=0.5) == pytest.approx(2.0)


def test_textbook_formulas() -> None:
    n, p = 1e9, 8
    assert allreduce_ring_s(n, p, LINK) == pytest.approx(14 * 2e-6 + 2 * 7 / 8 * 0.1)
    assert allreduce_tree_s(n, p, LINK) == pytest.approx(6 * (2e-6 + 0.1))
    assert allgather_ring_s(n, p, LINK) == pytest.approx(7 * 2e-6 + 7 / 8 * 0.1)
    assert reduce_scatter_ring_s(n, p, LINK) == allgather_ring_s(n, p, LINK)
    assert alltoall_s(n, p, LINK) == allgather_ring_s(n, p, LINK)
    assert allreduce_s(n, p, LINK) == allreduce_ring_s(n, p, LINK)  # large: ring wins
    assert allreduce_s(8.0, 1024, LINK) == allreduce_tree_s(8.0, 1024, LINK)  # tiny: tree wins
    assert allreduce_ring_s(n, 1, LINK) == 0.0


def test_hierarchical_allreduce_parts() -> None:
    nvlink, network = Link(3e-6, 240e9), Link(2e-6, 5e9)
    parts = allreduce_hierarchical(1e9, 4, 16, nvlink, network)
    assert parts.intra_reduce_scatter_s == parts.intra_allgather_s == reduce_scatter_ring_s(1e9, 4, nvlink)
    assert parts.inter_allreduce_s == allreduce_s(0.25e9, 16, network)
    assert parts.total_s == pytest.approx(2 * parts.intra_allgather_s + parts.inter_allreduce_s)
    with pytest.raises(ValueError, match="network link"):
        allreduce_hierarchical(1e9, 4, 2, nvlink, None)


@given(
    n=st.floats(1.0, 1e11),
    p=st.integers(2, 100_000),
    alpha=st.floats(0.0, 1e-4),
    bandwidth=st.floats(1e6, 1e12),
)
def test_collective_costs_grow_with_size_and_stay_above_the_bandwidth_bound(
    n: float, p: int, alpha: float, bandwidth: float
) -> None:
    link = Link(alpha, bandwidth)
    ring = allreduce_ring_s(n, p, link)
    assert ring >= (p - 1) / p * n / bandwidth  # an allreduce moves at least a reduce-scatter's bytes
    assert allreduce_ring_s(2 * n, p, link) >= ring
    assert allreduce_s(n, p, link) == min(ring, allreduce_tree_s(n, p, link))
    assert math.isfinite(allgather_ring_s(n, p, link))
