"""The headline figures explained from the parts (``pmtwin machine show NAME --headline``;
docs/performance.md section 7): the "nearly four exaflops" of mixed-precision AI performance, FP64 peaks,
and the predicted HPL Rmax with its efficiency."""

from __future__ import annotations

from typing import Any

from pmtwin.machine.summary import peak_flops
from pmtwin.machine.system import Machine
from pmtwin.perf.hpl import predict_hpl
from pmtwin.perf.params import GPU_PARTITION
from pmtwin.perf.validation import published_hpl_run

ANNOUNCED_GPUS = 6159
"""NVIDIA's GPU count in the May 2021 announcement (reference sheet section 1: slashgear; disagrees
with 6,144 = 1,536 x 4)."""
ANNOUNCED_FOR = ("perlmutter-2021", "perlmutter")
"""The packaged systems the May 2021 announcement is about (other machines show no announcement line)."""
ANNOUNCED_AI_EFLOPS = 4.0
""""Nearly four exaflops" of mixed-precision AI performance (reference sheet section 2)."""
DECIMALS = 6


def headline(machine: Machine) -> dict[str, Any]:
    """The headline figures of ``machine``, each with the arithmetic that gives it, as JSON-ready data."""
    peaks = peak_flops(machine)
    gpus = int(peaks["gpu_count"])
    sparse_ef = peaks["gpu_fp16_tensor_sparse_pflops"] / 1000.0
    dense_ef = peaks["gpu_fp16_tensor_dense_pflops"] / 1000.0
    per_gpu_sparse_tf = peaks["gpu_fp16_tensor_sparse_pflops"] * 1000.0 / gpus if gpus else 0.0
    figures: dict[str, Any] = {
        "machine": machine.name,
        "gpu_count": gpus,
        "ai_fp16_sparse_eflops": round(sparse_ef, DECIMALS),
        "ai_fp16_dense_eflops": round(dense_ef, DECIMALS),
        "announced_ai_eflops": ANNOUNCED_AI_EFLOPS,
        "announced_gpu_count": ANNOUNCED_GPUS,
        "announced_gpus_ai_fp16_sparse_eflops": round(ANNOUNCED_GPUS * per_gpu_sparse_tf / 1e6, DECIMALS),
        "gpu_fp64_tensor_pflops": peaks["gpu_fp64_tensor_pflops"],
        "gpu_fp64_pflops": peaks["gpu_fp64_pflops"],
        "cpu_fp64_pflops": round(
            peaks["gpu_node_cpu_fp64_pflops"] + peaks["cpu_node_cpu_fp64_pflops"], DECIMALS
        ),
    }
    figures["hpl"] = _hpl(machine) if gpus and GPU_PARTITION in machine.partitions else None
    figures["explanation"] = _explanation(figures, per_gpu_sparse_tf)
    return figures


def _hpl(machine: Machine) -> dict[str, Any]:
    """HPL on every node of the GPU partition (its node types in order; section 3)."""
    partition = machine.partitions[GPU_PARTITION]
    nodes = sum(machine.node_type(name).count for name in partition.node_types)
    prediction = predict_hpl(machine, None, nodes)
    published = published_hpl_run(machine.name, nodes)
    return {
        "node_types": prediction.inputs["node_types"],
        "nodes": nodes,
        "rmax_pflops": round(prediction.figures["rmax_pflops"], DECIMALS),
        "efficiency_of_fp64_tensor_peak": round(prediction.figures["efficiency_of_rpeak"], DECIMALS),
        "run_min": round(prediction.run_s / 60.0, DECIMALS),
        "published_rmax_pflops": None if published is None else published.rmax_pflops,
        "published_source": None if published is None else published.label,
    }


def _explanation(figures: dict[str, Any], per_gpu_sparse_tf: float) -> list[str]:
    f, tf = figures, f"{per_gpu_sparse_tf:,.0f} TFLOP/s"
    cpu_line = f"FP64 on CPUs: {f['cpu_fp64_pflops']:.1f} PFLOP/s."
    if f["gpu_count"] == 0:
        return [f"{f['machine']} has no GPUs in a batch partition: no AI peak and no GPU HPL.", cpu_line]
    announcement = (
        f"The announcement's 'nearly {ANNOUNCED_AI_EFLOPS:.0f} exaflops' used NVIDIA's"
        f" {ANNOUNCED_GPUS:,} GPUs: {ANNOUNCED_GPUS:,} x {tf}"
        f" = {f['announced_gpus_ai_fp16_sparse_eflops']:.2f} EFLOP/s. Phase 1 had 1,536 x 4 = 6,144"
        " compute GPUs; the other 15 are unexplained (login or service nodes are a guess, and the 40"
        " login GPUs would give 40)."
    )
    lines = [
        f"AI peak: {f['gpu_count']:,} GPUs x {tf} (FP16/BF16 tensor cores with 2:4 sparsity)"
        f" = {f['ai_fp16_sparse_eflops']:.2f} EFLOP/s; dense FP16 gives half,"
        f" {f['ai_fp16_dense_eflops']:.2f} EFLOP/s.",
        *([announcement] if f["machine"] in ANNOUNCED_FOR else []),
        f"FP64: {f['gpu_fp64_tensor_pflops']:.1f} PFLOP/s on GPU tensor cores"
        f" ({f['gpu_fp64_pflops']:.1f} without them), {f['cpu_fp64_pflops']:.1f} PFLOP/s on CPUs.",
    ]
    hpl = f["hpl"]
    if hpl is None:
        lines.append(f"HPL: not predicted (no {GPU_PARTITION!r} partition to run it on).")
    else:
        line = (
            f"HPL (predicted) on all {hpl['nodes']:,} GPU nodes ({_counts(hpl['node_types'])}):"
            f" {hpl['rmax_pflops']:.2f} PFLOP/s, {hpl['efficiency_of_fp64_tensor_peak']:.1%} of their"
            f" FP64 tensor peak, in {hpl['run_min']:.0f} min."
        )
        if hpl["published_rmax_pflops"] is not None:
            line += f" Published: {hpl['published_rmax_pflops']} PFLOP/s ({hpl['published_source']})."
        lines.append(line)
    return lines


def _counts(node_types: dict[str, int]) -> str:
    return ", ".join(f"{count:,} {name}" for name, count in node_types.items())
