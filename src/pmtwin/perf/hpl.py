"""HPL on GPU nodes (docs/performance.md section 3): problem size from GPU memory, a P x Q grid of GPUs,
and a step-by-step model of the right-looking LU factorisation with one panel of lookahead.

Step j factorises panel j (columns j NB .. (j+1) NB) and updates the trailing matrix of order
m = N - j NB. Per GPU, with mp = m / P rows and mq = m / Q columns of it:

- update: 2 mp mq NB FLOP of DGEMM at the sustained rate;
- panel: NB pivot searches, each an allreduce down the process column (ceil(log2 P) latencies), plus
  the memory-bound factorisation (``panel_bytes_per_element_column`` x mp NB^2 bytes of HBM traffic);
- broadcast of the factorised panel (8 mp NB bytes) along the process row;
- row swaps and the U broadcast (``row_swap_factor`` x 8 NB mq bytes) down the process column.

The GPU does the update and the panel one after the other (both need its SMs); the network moves
the broadcast and the swaps meanwhile (lookahead and a split update let NVIDIA's HPL overlap them with
the GPU's work). So a step takes max(update + panel, broadcast + swaps): the network costs time only
where it is slower than the GPU. Communication inside one node goes over NVLink; across nodes each
GPU has 1 / (GPUs per node) of its node's network.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, Field

from pmtwin.machine.devices import CONFIG
from pmtwin.machine.errors import load_config
from pmtwin.machine.system import Machine, NodeType
from pmtwin.perf.node import Link, NodePerf, PerfModelError, node_perf
from pmtwin.perf.params import check_nodes, check_params, node_type_of
from pmtwin.perf.prediction import Prediction

HPL_FILE = "hpl.toml"
FP64_BYTES = 8
HPL_PRECISION = "fp64_tensor"


class HplParams(BaseModel):
    """``hpl.toml``: the HPL model's parameters (each cited or reasoned there)."""

    model_config = CONFIG

    block_size: int = Field(gt=0)
    memory_fraction: float = Field(gt=0, le=1)
    sustained_clock_mhz: float = Field(gt=0)
    dgemm_efficiency: float = Field(gt=0, le=1)
    panel_bytes_per_element_column: float = Field(ge=0)
    row_swap_factor: float = Field(ge=0)
    source: str = Field(min_length=1)


def load_hpl_params(path: str | Path | None = None) -> HplParams:
    """The packaged ``hpl.toml``, or the file at ``path``."""
    return load_config(HplParams, "pmtwin.perf", HPL_FILE, path)


def hpl_flops(n: int) -> float:
    """The operation count HPL reports its rate with: 2/3 N^3 + 3/2 N^2."""
    return 2.0 / 3.0 * float(n) ** 3 + 1.5 * float(n) ** 2


def process_grid(gpus: int) -> tuple[int, int]:
    """P x Q = ``gpus`` with P <= Q and P the largest divisor of ``gpus`` not above its square root."""
    p = math.isqrt(gpus)
    while gpus % p:
        p -= 1
    return p, gpus // p


def problem_size(gpus: int, gpu_memory_bytes: float, memory_fraction: float, block_size: int) -> int:
    """The largest multiple of NB whose N x N FP64 matrix fits in ``memory_fraction`` of all GPUs' memory."""
    n = math.isqrt(int(memory_fraction * gpus * gpu_memory_bytes / FP64_BYTES))
    return n - n % block_size


def predict_hpl(
    machine: Machine,
    node_type: str | None,
    nodes: int,
    params: Mapping[str, Any] | None = None,
    hpl: HplParams | None = None,
) -> Prediction:
    """HPL on ``nodes`` nodes of ``node_type``. With ``node_type`` None, the GPU partition's nodes: its
    default node type first, then its other node types in order when ``nodes`` needs them (the matrix
    is spread evenly, so the smallest GPU memory and the slowest links set the pace). ``params`` may set
    ``n`` (problem size), ``block_size``, ``p`` and ``q`` (grid; both or neither)."""
    hpl = load_hpl_params() if hpl is None else hpl
    given = check_params("hpl", params or {}, {"n": int, "block_size": int, "p": int, "q": int})
    kind = node_type_of(machine, node_type)
    perf, used = _nodes_used(machine, kind, nodes, spread=node_type is None)
    gpus = nodes * perf.gpus
    nb = int(given.get("block_size", hpl.block_size))
    p, q = _grid(gpus, given)
    n = int(given.get("n", problem_size(gpus, perf.gpu_memory_bytes, hpl.memory_fraction, nb)))
    if n < nb:
        raise PerfModelError(f"hpl: problem size n = {n} is below the block size {nb}")
    if FP64_BYTES * float(n) ** 2 > gpus * perf.gpu_memory_bytes:
        raise PerfModelError(f"hpl: an n = {n} matrix does not fit in the memory of {gpus} GPUs")
    parts = _step_times(perf, nodes, n, nb, p, q, hpl)
    run_s = sum(parts.values())
    rate_flops = hpl_flops(n) / run_s
    gemm_flops_per_gpu = _gemm_rate_flops(perf, hpl)
    rpeak_flops = gpus * perf.gpu_flops(HPL_PRECISION)
    return Prediction(
        app="hpl",
        machine=machine.name,
        node_type=kind.name,
        nodes=nodes,
        run_s=run_s,
        power_class="hpl",
        breakdown=parts,
        figures={
            "rmax_pflops": rate_flops / 1e15,
            "rpeak_gpu_fp64_tensor_pflops": rpeak_flops / 1e15,
            "efficiency_of_rpeak": rate_flops / rpeak_flops,
            "efficiency_of_dgemm": rate_flops / (gpus * gemm_flops_per_gpu),
            "dgemm_tflops_per_gpu": gemm_flops_per_gpu / 1e12,
            "rmax_tflops_per_gpu": rate_flops / gpus / 1e12,
            "n": float(n),
            "gpus": float(gpus),
            "run_min": run_s / 60.0,
        },
        inputs={"n": n, "block_size": nb, "p": p, "q": q, "node_types": used},
        notes=(
            "Rpeak here is the GPUs' FP64 tensor peak at boost clock; TOP500 states its own Rpeak.",
            "The CPUs of the GPU nodes do not compute (NVIDIA's HPL runs on the GPUs).",
        ),
    )


def _nodes_used(
    machine: Machine, kind: NodeType, nodes: int, spread: bool
) -> tuple[NodePerf, dict[str, int]]:
    """The node model HPL runs at and the nodes it takes per node type: ``kind`` alone, or, with
    ``spread`` and more nodes than ``kind`` has, the GPU node types of its partition in order."""
    partition = machine.partition_of(kind.name)
    names = machine.partitions[partition].node_types if spread and partition is not None else (kind.name,)
    kinds = [machine.node_type(name) for name in names]
    if nodes <= kind.count or len(kinds) == 1:
        check_nodes("hpl", machine, kind, nodes)
        kinds = [kind]
    total = sum(k.count for k in kinds)
    if not 1 <= nodes <= total:
        raise PerfModelError(f"hpl: nodes must be 1..{total} on the {partition} partition of {machine.name}")
    used: dict[str, int] = {}
    for k in kinds:
        used[k.name] = min(k.count, nodes - sum(used.values()))
    perfs = [node_perf(machine, k) for k in kinds if used[k.name] > 0]
    return _slowest(machine, perfs), {name: count for name, count in used.items() if count > 0}


def _slowest(machine: Machine, perfs: list[NodePerf]) -> NodePerf:
    """One node model for nodes of several types: the same GPUs required, the least memory, HBM
    bandwidth and network of them."""
    first = perfs[0]
    if first.gpus == 0:
        raise PerfModelError(f"hpl: {machine.name}/{first.node_type} has no GPUs (the model is GPU HPL)")
    for other in perfs[1:]:
        if (other.gpus, other.gpu_flops(HPL_PRECISION)) != (first.gpus, first.gpu_flops(HPL_PRECISION)):
            raise PerfModelError(
                f"hpl: {first.node_type} and {other.node_type} differ in GPUs; run HPL on one node type"
            )
    networks = [p.network for p in perfs if p.network is not None]
    slowest = min(networks, key=lambda link: link.bandwidth_bytes_s) if len(networks) == len(perfs) else None
    return replace(
        first,
        gpu_memory_bytes=min(p.gpu_memory_bytes for p in perfs),
        hbm_bytes_s=min(p.hbm_bytes_s for p in perfs),
        network=slowest,
    )


def _grid(gpus: int, given: Mapping[str, Any]) -> tuple[int, int]:
    if ("p" in given) != ("q" in given):
        raise PerfModelError("hpl: give both p and q, or neither")
    if "p" not in given:
        return process_grid(gpus)
    p, q = int(given["p"]), int(given["q"])
    if p < 1 or q < 1 or p * q != gpus:
        raise PerfModelError(f"hpl: p x q must equal the {gpus} GPUs of the run, not {p} x {q}")
    return p, q


def _gemm_rate_flops(perf: NodePerf, hpl: HplParams) -> float:
    clock = min(hpl.sustained_clock_mhz, perf.boost_clock_mhz) / perf.boost_clock_mhz
    return perf.gpu_flops(HPL_PRECISION) * clock * hpl.dgemm_efficiency


def _step_times(
    perf: NodePerf, nodes: int, n: int, nb: int, p: int, q: int, hpl: HplParams
) -> dict[str, float]:
    """Seconds spent, summed over all panel steps: the GPU's update and panel, and the network time
    the GPU's work does not hide."""
    link = _link(perf, nodes)
    m = n - np.arange(0, n, nb, dtype=np.float64)
    mp, mq = m / p, m / q
    update_s = 2.0 * mp * mq * nb / _gemm_rate_flops(perf, hpl)
    panel_bytes = hpl.panel_bytes_per_element_column * mp * nb * nb
    panel_s = _hops(p) * nb * link.alpha_s + panel_bytes / perf.hbm_bytes_s
    bcast_s = _transfer_s(FP64_BYTES * mp * nb, q, link)
    swap_s = 2 * _transfer_s(hpl.row_swap_factor / 2 * FP64_BYTES * nb * mq, p, link)
    exposed_s = np.maximum(update_s + panel_s, bcast_s + swap_s) - (update_s + panel_s)
    return {
        "update_s": float(update_s.sum()),
        "panel_s": float(panel_s.sum()),
        "network_exposed_s": float(exposed_s.sum()),
    }


def _hops(ranks: int) -> int:
    """Latency steps of a tree over ``ranks`` ranks (0 for one rank)."""
    return math.ceil(math.log2(ranks)) if ranks > 1 else 0


def _transfer_s(n_bytes: NDArray[np.float64], ranks: int, link: Link) -> NDArray[np.float64]:
    """A pipelined broadcast of ``n_bytes`` among ``ranks``: one message time plus a tree's latencies;
    nothing to send among one rank."""
    if ranks == 1:
        return np.zeros_like(n_bytes)
    return n_bytes / link.bandwidth_bytes_s + _hops(ranks) * link.alpha_s


def _link(perf: NodePerf, nodes: int) -> Link:
    if nodes == 1:
        if perf.nvlink is None:
            return Link(0.0, math.inf)
        return perf.nvlink
    return perf.per_gpu_network()
