"""Alpha-beta models of collectives (docs/performance.md section 2).

``n_bytes`` is the size of the full buffer each rank holds (allreduce: the vector reduced; allgather: the
gathered result; reduce-scatter: the input; all-to-all: what one rank sends in total). ``p`` ranks each
talk over a ``Link`` (per-rank latency and bandwidth, per direction). Times in seconds. The formulas are
the textbook ones (Thakur, Rabenseifner and Gropp, IJHPCA 2005; Patarasuk and Yuan, JPDC 2009):

- ring allreduce: 2 (p - 1) alpha + 2 (p - 1) / p * n / B  (reduce-scatter then allgather)
- tree allreduce: 2 ceil(log2 p) (alpha + n / B)  (reduce to a root, broadcast back; unpipelined)
- ring allgather and reduce-scatter: (p - 1) alpha + (p - 1) / p * n / B
- pairwise all-to-all: (p - 1) alpha + (p - 1) / p * n / B
- hierarchical allreduce over nodes of g GPUs: reduce-scatter inside the node over NVLink, a ring
  allreduce of the n / g shard across nodes (each GPU holding 1 / g of the node's network), then an
  allgather inside the node.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pmtwin.perf.node import Link


def allreduce_ring_s(n_bytes: float, p: int, link: Link) -> float:
    if p <= 1:
        return 0.0
    return 2 * (p - 1) * link.alpha_s + 2 * (p - 1) / p * n_bytes / link.bandwidth_bytes_s


def allreduce_tree_s(n_bytes: float, p: int, link: Link) -> float:
    if p <= 1:
        return 0.0
    return 2 * math.ceil(math.log2(p)) * link.time_s(n_bytes)


def allgather_ring_s(n_bytes: float, p: int, link: Link) -> float:
    if p <= 1:
        return 0.0
    return (p - 1) * link.alpha_s + (p - 1) / p * n_bytes / link.bandwidth_bytes_s


def reduce_scatter_ring_s(n_bytes: float, p: int, link: Link) -> float:
    return allgather_ring_s(n_bytes, p, link)


def alltoall_s(n_bytes: float, p: int, link: Link) -> float:
    return allgather_ring_s(n_bytes, p, link)


def allreduce_s(n_bytes: float, p: int, link: Link) -> float:
    """The faster of ring and tree, as NCCL and MPI libraries choose by message size."""
    return min(allreduce_ring_s(n_bytes, p, link), allreduce_tree_s(n_bytes, p, link))


@dataclass(frozen=True)
class HierarchicalAllreduce:
    """A hierarchical allreduce's parts, in seconds."""

    intra_reduce_scatter_s: float
    inter_allreduce_s: float
    intra_allgather_s: float

    @property
    def total_s(self) -> float:
        return self.intra_reduce_scatter_s + self.inter_allreduce_s + self.intra_allgather_s


def allreduce_hierarchical(
    n_bytes: float, gpus_per_node: int, nodes: int, intra: Link | None, inter_per_gpu: Link | None
) -> HierarchicalAllreduce:
    """Allreduce of ``n_bytes`` over ``nodes`` x ``gpus_per_node`` GPUs: NVLink reduce-scatter, network
    allreduce of each GPU's shard (``inter_per_gpu``: one GPU's share of its node's network), NVLink
    allgather. A missing link must not be needed (one GPU per node, or one node)."""
    g = max(gpus_per_node, 1)
    if g > 1 and intra is None:
        raise ValueError("a node with several GPUs needs an NVLink link for a hierarchical allreduce")
    if nodes > 1 and inter_per_gpu is None:
        raise ValueError("several nodes need a network link for a hierarchical allreduce")
    inside = 0.0 if intra is None else reduce_scatter_ring_s(n_bytes, g, intra)
    across = 0.0 if inter_per_gpu is None else allreduce_s(n_bytes / g, nodes, inter_per_gpu)
    return HierarchicalAllreduce(inside, across, inside)
