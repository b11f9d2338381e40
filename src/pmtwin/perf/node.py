"""What one node of a machine can do (docs/performance.md section 1): compute peaks per precision,
memory bandwidths, NVLink, PCIe and the network, from the machine's device specs and node types, and a
roofline kernel time. Rates are per second, sizes bytes, unless a name says otherwise."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, Field

from pmtwin.machine.devices import CONFIG, GpuSpec
from pmtwin.machine.errors import load_config
from pmtwin.machine.system import Machine, NodeType

LINKS_FILE = "links.toml"
GIB = 2**30
"""Memory capacities are binary: the "40 GB" A100 holds 40 GiB (5 HBM2 stacks of 8 GiB; nvidia-smi
reports 40,960 MiB), a "256 GB" node 8 x 32 GiB DIMMs. Bandwidths are decimal (GB/s = 1e9 B/s)."""

GPU_PRECISION_FIELDS: dict[str, str] = {
    "fp64": "fp64_tflops",
    "fp64_tensor": "fp64_tensor_tflops",
    "fp32": "fp32_tflops",
    "tf32": "tf32_tensor_dense_tflops",
    "fp16": "fp16_tensor_dense_tflops",
    "bf16": "bf16_tensor_dense_tflops",
    "int8": "int8_tensor_dense_tops",
}
"""Precision name -> GpuSpec peak (dense: no 2:4 sparsity; tensor cores where the name says so or
where the precision exists only on them)."""


class PerfModelError(ValueError):
    """A model was asked something the machine or its parameters cannot answer (a message for users)."""


class LinkEfficiency(BaseModel):
    """What software gets from a link: a fraction of its line rate, and a per-message latency."""

    model_config = CONFIG

    latency_us: float = Field(default=0.0, ge=0)
    bandwidth_efficiency: float = Field(gt=0, le=1)
    source: str = Field(min_length=1)


class Links(BaseModel):
    """``links.toml``: the network, NVLink and PCIe."""

    model_config = CONFIG

    network: LinkEfficiency
    nvlink: LinkEfficiency
    pcie: LinkEfficiency


def load_links(path: str | Path | None = None) -> Links:
    """The link parameters: the packaged ``links.toml``, or the file at ``path``."""
    return load_config(Links, "pmtwin.perf", LINKS_FILE, path)


@dataclass(frozen=True)
class Link:
    """An alpha-beta link: a message of n bytes takes ``alpha_s + n / bandwidth_bytes_s``."""

    alpha_s: float
    bandwidth_bytes_s: float

    def time_s(self, n_bytes: float) -> float:
        return self.alpha_s + n_bytes / self.bandwidth_bytes_s


@dataclass(frozen=True)
class NodePerf:
    """One node type's capabilities. GPU figures are per GPU; ``gpu_peak_flops`` is dense, by precision
    (``GPU_PRECISION_FIELDS``). Links are achievable (line rate x efficiency), per direction."""

    machine: str
    node_type: str
    gpus: int
    gpu_model: str | None
    gpu_peak_flops: dict[str, float]
    gpu_memory_bytes: float
    """Per GPU, binary (``GIB`` per catalog GB)."""
    hbm_bytes_s: float
    boost_clock_mhz: float
    cpu_fp64_flops: float
    """All sockets of the node, FP64 at base clock."""
    ddr_bytes: float
    ddr_bytes_s: float
    nvlink: Link | None
    """GPU to GPU inside the node, per GPU and direction; None on nodes with fewer than 2 GPUs."""
    pcie: Link | None
    """GPU to host, per GPU and direction; None without GPUs or without a PCIe figure."""
    network: Link | None
    """The node's injection into the network, all its NICs together; None without a NIC bandwidth."""

    def gpu_flops(self, precision: str) -> float:
        """Dense peak of one GPU in ``precision``; a clear error for an unknown one."""
        try:
            return self.gpu_peak_flops[precision]
        except KeyError:
            known = ", ".join(self.gpu_peak_flops) or "none (no GPUs)"
            raise PerfModelError(
                f"{self.machine}/{self.node_type}: no GPU peak for precision {precision!r} (known: {known})"
            ) from None

    def gpu_kernel_s(self, flops: float, hbm_bytes: float, precision: str, efficiency: float = 1.0) -> float:
        """Roofline time of a kernel on one GPU: the slower of its compute at ``efficiency`` x peak and
        its HBM traffic at the HBM bandwidth."""
        return max(flops / (self.gpu_flops(precision) * efficiency), hbm_bytes / self.hbm_bytes_s)

    def per_gpu_network(self) -> Link:
        """The network share of one GPU when all the node's GPUs send at once."""
        link = self.require_network()
        return Link(link.alpha_s, link.bandwidth_bytes_s / max(self.gpus, 1))

    def require_network(self) -> Link:
        if self.network is None:
            raise PerfModelError(
                f"{self.machine}/{self.node_type}: the node type gives no nic_bandwidth_gbit_s, "
                "so no network model"
            )
        return self.network


def node_perf(machine: Machine, node_type: str | NodeType, links: Links | None = None) -> NodePerf:
    """The capabilities of ``node_type`` of ``machine`` (a name or the NodeType itself)."""
    links = load_links() if links is None else links
    kind = machine.node_type(node_type) if isinstance(node_type, str) else node_type
    gpu = machine.gpu_spec(kind)
    cpu = machine.cpu_spec(kind)
    return NodePerf(
        machine=machine.name,
        node_type=kind.name,
        gpus=kind.gpus_per_node,
        gpu_model=None if gpu is None else gpu.model,
        gpu_peak_flops={} if gpu is None else _gpu_peaks(gpu),
        gpu_memory_bytes=0.0 if gpu is None else gpu.memory_gb * GIB,
        hbm_bytes_s=0.0 if gpu is None else gpu.memory_bandwidth_gbs * 1e9,
        boost_clock_mhz=0.0 if gpu is None else gpu.boost_clock_mhz,
        cpu_fp64_flops=kind.cpus_per_node * cpu.fp64_tflops * 1e12,
        ddr_bytes=(kind.ddr_gb or 0.0) * GIB,
        ddr_bytes_s=kind.cpus_per_node * cpu.memory_bandwidth_gbs * 1e9,
        nvlink=_nvlink(gpu, kind, links),
        pcie=_pcie(gpu, links),
        network=_network(kind, links),
    )


def _gpu_peaks(gpu: GpuSpec) -> dict[str, float]:
    return {name: float(getattr(gpu, field)) * 1e12 for name, field in GPU_PRECISION_FIELDS.items()}


def _nvlink(gpu: GpuSpec | None, kind: NodeType, links: Links) -> Link | None:
    if gpu is None or kind.gpus_per_node < 2 or gpu.nvlink_bandwidth_gbs <= 0:
        return None
    per_direction = gpu.nvlink_bandwidth_gbs / 2 * 1e9
    return Link(links.nvlink.latency_us * 1e-6, per_direction * links.nvlink.bandwidth_efficiency)


def _pcie(gpu: GpuSpec | None, links: Links) -> Link | None:
    if gpu is None or gpu.pcie_bandwidth_gbs is None:
        return None
    return Link(links.pcie.latency_us * 1e-6, gpu.pcie_bandwidth_gbs * 1e9 * links.pcie.bandwidth_efficiency)


def _network(kind: NodeType, links: Links) -> Link | None:
    if kind.nic_bandwidth_gbit_s is None or kind.nics_per_node == 0:
        return None
    line_rate = kind.nics_per_node * kind.nic_bandwidth_gbit_s * 1e9 / 8
    return Link(links.network.latency_us * 1e-6, line_rate * links.network.bandwidth_efficiency)
