"""Headline figures derived from device specs x counts: peak FLOP/s, memory, device counts, TDP.

Only compute nodes (nodes in a batch partition) count. "GPU nodes" are compute node types with GPUs,
"CPU nodes" those without. Values are rounded to 6 decimals of their unit so that they print and
serialise the same way everywhere.
"""

from __future__ import annotations

from typing import Any

from pmtwin.machine.system import Machine, NodeType

GPU_PRECISIONS: tuple[tuple[str, str], ...] = (
    ("gpu_fp64_pflops", "fp64_tflops"),
    ("gpu_fp64_tensor_pflops", "fp64_tensor_tflops"),
    ("gpu_fp32_pflops", "fp32_tflops"),
    ("gpu_tf32_tensor_dense_pflops", "tf32_tensor_dense_tflops"),
    ("gpu_tf32_tensor_sparse_pflops", "tf32_tensor_sparse_tflops"),
    ("gpu_fp16_tensor_dense_pflops", "fp16_tensor_dense_tflops"),
    ("gpu_fp16_tensor_sparse_pflops", "fp16_tensor_sparse_tflops"),
    ("gpu_bf16_tensor_dense_pflops", "bf16_tensor_dense_tflops"),
    ("gpu_bf16_tensor_sparse_pflops", "bf16_tensor_sparse_tflops"),
    ("gpu_int8_tensor_dense_pops", "int8_tensor_dense_tops"),
    ("gpu_int8_tensor_sparse_pops", "int8_tensor_sparse_tops"),
)
"""(summary key in PFLOP/s or POPS, GpuSpec field in TFLOP/s or TOPS), per precision."""

DECIMALS = 6


def compute_node_types(machine: Machine) -> tuple[list[NodeType], list[NodeType]]:
    """(GPU node types, CPU-only node types) among the nodes in batch partitions, in file order."""
    compute = [t for t in machine.node_types if machine.partition_of(t.name) is not None]
    return [t for t in compute if t.gpus_per_node > 0], [t for t in compute if t.gpus_per_node == 0]


def peak_flops(machine: Machine) -> dict[str, float]:
    """Headline figures of the compute nodes: counts, peak per precision (PF), memory (TB), TDP (kW).

    Memory totals sum the vendors' nominal per-device sizes: ``*_gb`` exactly, ``*_tb`` = GB / 1000.
    """
    gpu_types, cpu_types = compute_node_types(machine)
    figures: dict[str, float] = {
        "gpu_node_count": sum(t.count for t in gpu_types),
        "cpu_node_count": sum(t.count for t in cpu_types),
        "gpu_count": sum(t.count * t.gpus_per_node for t in gpu_types),
        "gpu_node_cpu_count": sum(t.count * t.cpus_per_node for t in gpu_types),
        "cpu_node_cpu_count": sum(t.count * t.cpus_per_node for t in cpu_types),
    }
    for key, field in GPU_PRECISIONS:
        figures[key] = _per_gpu(machine, gpu_types, field) / 1000.0
    figures["gpu_node_cpu_fp64_pflops"] = _cpu_fp64_tflops(machine, gpu_types) / 1000.0
    figures["cpu_node_cpu_fp64_pflops"] = _cpu_fp64_tflops(machine, cpu_types) / 1000.0
    hbm_gb = _per_gpu(machine, gpu_types, "memory_gb")
    gpu_node_ddr_gb = sum(t.count * (t.ddr_gb or 0.0) for t in gpu_types)
    cpu_node_ddr_gb = sum(t.count * (t.ddr_gb or 0.0) for t in cpu_types)
    figures |= {
        "hbm_gb": hbm_gb,
        "hbm_tb": hbm_gb / 1000.0,
        "gpu_node_ddr_gb": gpu_node_ddr_gb,
        "gpu_node_ddr_tb": gpu_node_ddr_gb / 1000.0,
        "cpu_node_ddr_gb": cpu_node_ddr_gb,
        "cpu_node_ddr_tb": cpu_node_ddr_gb / 1000.0,
        "gpu_tdp_kw": _per_gpu(machine, gpu_types, "tdp_w") / 1000.0,
        "gpu_node_cpu_tdp_kw": _per_cpu(machine, gpu_types, "tdp_w") / 1000.0,
        "cpu_node_cpu_tdp_kw": _per_cpu(machine, cpu_types, "tdp_w") / 1000.0,
    }
    return {key: _tidy(value) for key, value in figures.items()}


def machine_summary(machine: Machine) -> dict[str, Any]:
    """The machine as JSON-ready data: node types, partitions, pools, cabinets and ``peak_flops``."""
    return {
        "name": machine.name,
        "description": machine.description,
        "node_count": machine.node_count,
        "cabinet_count": machine.cabinet_count,
        "partitions": machine.partition_node_counts(),
        "node_types": [_node_type_summary(machine, t) for t in machine.node_types],
        "pools": [
            {
                "name": pool.name,
                "partition": pool.partition,
                "node_type": pool.node_type,
                "first_node_id": pool.first_node_id,
                "node_count": pool.node_count,
            }
            for pool in machine.pools()
        ],
        "peak": peak_flops(machine),
    }


def _node_type_summary(machine: Machine, node_type: NodeType) -> dict[str, Any]:
    return {
        "name": node_type.name,
        "partition": machine.partition_of(node_type.name),
        "count": node_type.count,
        "first_node_id": machine.first_node_id(node_type.name),
        "cabinets": node_type.cabinet_count,
        "cpu": machine.cpu_spec(node_type).model,
        "cpus_per_node": node_type.cpus_per_node,
        "gpu": None if node_type.gpu is None else machine.devices.gpu[node_type.gpu].model,
        "gpus_per_node": node_type.gpus_per_node,
        "ddr_gb": node_type.ddr_gb,
        "features": list(node_type.features),
    }


def _per_gpu(machine: Machine, node_types: list[NodeType], field: str) -> float:
    """Sum over ``node_types`` of nodes x GPUs per node x the GPU's ``field``."""
    total = 0.0
    for t in node_types:
        spec = machine.gpu_spec(t)
        if spec is not None:
            total += t.count * t.gpus_per_node * float(getattr(spec, field))
    return total


def _per_cpu(machine: Machine, node_types: list[NodeType], field: str) -> float:
    """Sum over ``node_types`` of nodes x sockets per node x the CPU's ``field``."""
    return sum(t.count * t.cpus_per_node * float(getattr(machine.cpu_spec(t), field)) for t in node_types)


def _cpu_fp64_tflops(machine: Machine, node_types: list[NodeType]) -> float:
    return _per_cpu(machine, node_types, "fp64_tflops")


def _tidy(value: float) -> float:
    """Integers stay integers; other values rounded to ``DECIMALS``."""
    return value if isinstance(value, int) else round(value, DECIMALS)
