"""Draws shared by the workload generator and the Slurm layer: Zipf ranks, and what a shared job asks
of its one node."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def zipf_ranks(rng: np.random.Generator, count: int, population: int, exponent: float) -> NDArray[np.int64]:
    """``count`` ranks in 1..population, rank r with probability ~ r**-exponent."""
    cdf = np.cumsum(np.arange(1, population + 1, dtype=np.float64) ** -exponent)
    index = np.searchsorted(cdf / cdf[-1], rng.random(count), side="right")
    return np.minimum(index, population - 1).astype(np.int64) + 1


def shared_request(
    asked: NDArray[np.int64],
    node_cores: NDArray[np.int64] | int,
    node_gpus: NDArray[np.int64] | int,
    node_mem_mb: NDArray[np.int64] | int,
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """(cores, GPUs, memory in MiB) of shared jobs asking for ``asked`` GPUs on a GPU node (with the cores
    of as many GPUs' share of the node) or ``asked`` cores on a CPU node; memory in proportion to the
    cores. Node figures are per job or one for all."""
    on_gpu = np.asarray(node_gpus) > 0
    cores = np.where(on_gpu, asked * (np.asarray(node_cores) // np.maximum(node_gpus, 1)), asked).astype(
        np.int64
    )
    gpus = np.where(on_gpu, asked, 0).astype(np.int64)
    mem_mb = (cores * np.asarray(node_mem_mb) // np.asarray(node_cores)).astype(np.int64)
    return cores, gpus, mem_mb
