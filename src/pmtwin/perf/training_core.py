"""Building blocks of the training models: GPU compute time of a step (roofline-aware), the exposed
gradient allreduce, input I/O and data staging, and the memory-fit check."""

from __future__ import annotations

from dataclasses import dataclass

from pmtwin.machine.system import Machine
from pmtwin.perf.collectives import allreduce_hierarchical
from pmtwin.perf.node import NodePerf, PerfModelError, node_perf
from pmtwin.perf.params import check_nodes, node_type_of
from pmtwin.perf.training_params import KindParams, SystemParams

BACKWARD_SHARE = 2.0 / 3.0
"""Share of a training step's compute spent in the backward pass (forward 1, backward 2)."""

ACTIVATION_BYTES = {"fp16": 2.0, "bf16": 2.0, "tf32": 4.0, "fp32": 4.0, "fp64": 8.0}
"""Bytes of one activation element by the precision a network trains in."""


def gpu_node(machine: Machine, node_type: str | None, nodes: int) -> NodePerf:
    """The node type asked for, else the first of the machine's GPU partition; it must have GPUs and
    ``nodes`` of them."""
    kind = node_type_of(machine, node_type)
    check_nodes("train", machine, kind, nodes)
    perf = node_perf(machine, kind)
    if perf.gpus == 0:
        raise PerfModelError(f"{machine.name}/{perf.node_type}: training models need GPU nodes")
    return perf


def activation_bytes(precision: str) -> float:
    """Bytes per activation element in ``precision``."""
    try:
        return ACTIVATION_BYTES[precision]
    except KeyError:
        raise PerfModelError(
            f"unknown training precision {precision!r} (known: {', '.join(ACTIVATION_BYTES)})"
        ) from None


def gpu_compute_s(
    perf: NodePerf, kind: KindParams, system: SystemParams, flops: float, act_elements: float, precision: str
) -> float:
    """Roofline time on one GPU of ``flops`` at the kind's tensor-core efficiency, against the HBM traffic
    of ``act_elements`` activation elements each read or written ``hbm_touches`` times."""
    traffic_bytes = act_elements * activation_bytes(precision) * kind.hbm_touches
    return perf.gpu_kernel_s(
        flops, traffic_bytes / system.hbm_efficiency, precision, kind.tensor_efficiency
    )


def dp_allreduce_s(perf: NodePerf, grad_bytes: float, ranks_per_node: int, nodes: int) -> float:
    """Hierarchical allreduce of ``grad_bytes`` over ``nodes`` x ``ranks_per_node`` data-parallel ranks:
    NVLink reduce-scatter, a network allreduce of each rank's shard, NVLink allgather. Every GPU of a node
    runs such an allreduce at once (one per model-parallel rank), so each gets 1 / gpus of the network."""
    if ranks_per_node * nodes <= 1:
        return 0.0
    network = perf.per_gpu_network() if nodes > 1 else None
    intra = perf.nvlink if ranks_per_node > 1 else None
    return allreduce_hierarchical(grad_bytes, ranks_per_node, nodes, intra, network).total_s


def exposed_comm_s(comm_s: float, backward_s: float, overlap: float) -> float:
    """The part of a gradient allreduce not hidden behind backward compute: at most ``overlap`` of it
    hides, and never more than the backward pass lasts."""
    return comm_s - min(comm_s * overlap, backward_s)


def node_read_bytes_s(perf: NodePerf, system: SystemParams, nodes: int) -> float:
    """What one node reads from Lustre when ``nodes`` read at once: the least of its client limit, its
    network injection and its share of the file system's achievable aggregate."""
    aggregate_share = system.lustre_bytes_s * system.lustre_efficiency / nodes
    return min(system.client_read_bytes_s, perf.require_network().bandwidth_bytes_s, aggregate_share)


def staging_s(perf: NodePerf, system: SystemParams, total_bytes: float, nodes: int) -> float:
    """Time for ``nodes`` nodes to copy ``total_bytes`` (split evenly) from Lustre to node-local memory."""
    return total_bytes / nodes / node_read_bytes_s(perf, system, nodes)


def check_fits(perf: NodePerf, need_bytes: float, what: str, reserve: float = 1.0) -> None:
    """Raise a ``PerfModelError`` when ``need_bytes`` exceed the usable memory of one GPU."""
    usable = perf.gpu_memory_bytes * reserve
    if need_bytes > usable:
        raise PerfModelError(
            f"{what} needs {need_bytes / 1e9:.1f} GB per GPU but {perf.machine}/{perf.node_type} GPUs have "
            f"{usable / 1e9:.1f} GB usable: use more GPUs, more model parallelism, "
            "or a larger-memory node type"
        )


@dataclass(frozen=True)
class DpStep:
    """One data-parallel training step, in seconds."""

    compute_s: float
    allreduce_s: float
    exposed_comm_s: float
    io_s: float

    @property
    def step_s(self) -> float:
        """Compute plus the exposed allreduce; input reads overlap them (loader workers prefetch)."""
        return max(self.compute_s + self.exposed_comm_s, self.io_s)
