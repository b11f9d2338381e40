"""Frame throughput of one node for the DESI pipeline, scaled from the published figures to the node's
devices, and the time of one exposure's job (docs/performance.md, DESI section).

Scaling rules (``desi.toml`` gives the sources):

* GPU node: extraction FPNH = (DGX-A100 FPNH / GPUs the benchmark used) x the node's GPUs, for the A100
  models listed in ``desi.toml``; any other GPU raises ``PerfModelError`` (no figure to scale from).
* CPU node: extraction FPNH = Cori Haswell "cpu-refactor" FPNH x node FP64 peak / Haswell node FP64 peak.
* Whole per-exposure chain (preproc, PSF trace shifts, extraction, sky, standard stars, flux calibration):
  desispec's tilenight budget, 140 FPNH, divided by the partition's timefactor. The chain's time per
  frame minus extraction's is the "other steps" time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pmtwin.machine.system import Machine, NodeType
from pmtwin.perf.desi_params import DesiParams, Pipeline
from pmtwin.perf.node import PerfModelError, node_perf
from pmtwin.perf.params import node_type_of

SECONDS_PER_HOUR = 3600.0
SECONDS_PER_MINUTE = 60.0

GPU_SCIENCE_POWER_CLASS = "gpu_memory_bound"
"""GPU extraction: batched eigen- and Cholesky solves on small matrices plus CPU-side Python steps, far
from the tensor-core peak; the default class of GPU jobs (physics/power_classes.toml)."""
CPU_SCIENCE_POWER_CLASS = "cpu_compute"
"""CPU extraction: NumPy/Numba on every core."""


@dataclass(frozen=True)
class NodeRates:
    """What one node of ``node_type`` does for DESI, in frames per node-hour (FPNH)."""

    node_type: str
    partition: str
    """"gpu" for nodes with GPUs, else "cpu": picks desispec's timefactor."""
    extraction_fpnh: float
    chain_fpnh: float
    """The whole per-exposure chain, extraction included."""
    power_class: str
    scaling: str
    """The rule that gave ``extraction_fpnh``, for the prediction's notes."""

    @property
    def extraction_s_per_frame(self) -> float:
        return SECONDS_PER_HOUR / self.extraction_fpnh

    @property
    def chain_s_per_frame(self) -> float:
        return SECONDS_PER_HOUR / self.chain_fpnh

    @property
    def other_s_per_frame(self) -> float:
        """Preproc, trace shifts, sky, standard stars, flux calibration and I/O: chain minus extraction."""
        return self.chain_s_per_frame - self.extraction_s_per_frame


def node_rates(machine: Machine, node_type: str, params: DesiParams) -> NodeRates:
    """The DESI throughput of one node of ``node_type`` on ``machine``."""
    kind = node_type_of(machine, node_type)
    if kind.gpus_per_node > 0:
        extraction_fpnh, scaling = _gpu_extraction_fpnh(machine, kind, params)
        partition, power_class = "gpu", GPU_SCIENCE_POWER_CLASS
    else:
        extraction_fpnh, scaling = _cpu_extraction_fpnh(machine, kind, params)
        partition, power_class = "cpu", CPU_SCIENCE_POWER_CLASS
    chain_fpnh = params.pipeline.tilenight_fpnh / params.pipeline.timefactor(partition)
    if chain_fpnh > extraction_fpnh:
        raise PerfModelError(
            f"{machine.name}/{node_type}: desispec's chain budget ({chain_fpnh:.1f} FPNH) is faster than "
            f"extraction alone ({extraction_fpnh:.1f} FPNH); the parameters contradict each other"
        )
    return NodeRates(kind.name, partition, extraction_fpnh, chain_fpnh, power_class, scaling)


def _gpu_extraction_fpnh(machine: Machine, kind: NodeType, params: DesiParams) -> tuple[float, str]:
    extraction = params.extraction
    if kind.gpu not in extraction.a100_gpu_models:
        known = ", ".join(extraction.a100_gpu_models)
        raise PerfModelError(
            f"{machine.name}/{kind.name}: no DESI extraction figure for GPU {kind.gpu!r} (known: {known})"
        )
    per_gpu = extraction.a100_frames_per_gpu_hour
    rule = (
        f"DGX-A100 {extraction.dgx_a100_fpnh} FPNH / {extraction.dgx_a100_gpus_used} GPUs used = "
        f"{per_gpu:.2f} frames per GPU-hour x {kind.gpus_per_node} GPUs"
    )
    return per_gpu * kind.gpus_per_node, rule


def _cpu_extraction_fpnh(machine: Machine, kind: NodeType, params: DesiParams) -> tuple[float, str]:
    extraction = params.extraction
    node_tflops = node_perf(machine, kind).cpu_fp64_flops / 1e12
    ratio = node_tflops / extraction.haswell_node_fp64_tflops
    rule = (
        f"Cori Haswell cpu-refactor {extraction.cori_haswell_refactor_fpnh} FPNH x FP64 peak "
        f"{node_tflops:.3f} / {extraction.haswell_node_fp64_tflops} TFLOP/s"
    )
    return extraction.cori_haswell_refactor_fpnh * ratio, rule


def exposure_breakdown_s(rates: NodeRates, pipeline: Pipeline, frames: int, nodes: int) -> dict[str, float]:
    """One exposure's job on ``nodes`` nodes: start-up, then each node runs its share of the frames
    through the chain, whole frames per node (frames are independent)."""
    frames_per_node = math.ceil(frames / nodes)
    return {
        "startup_s": pipeline.job_startup_s,
        "extraction_s": frames_per_node * rates.extraction_s_per_frame,
        "other_steps_s": frames_per_node * rates.other_s_per_frame,
    }


def exposure_budget_min(pipeline: Pipeline, partition: str, frames: int) -> float:
    """desispec's walltime request for a one-exposure tilenight job (an upper bound on its run time)."""
    request_min = int(SECONDS_PER_MINUTE / pipeline.tilenight_fpnh * frames) + pipeline.tilenight_overhead_min
    return max(request_min * pipeline.timefactor(partition), pipeline.min_runtime_min)


def redshift_run_s(pipeline: Pipeline, partition: str) -> float:
    """One tile's Redrock job: desispec's request x timefactor (no measured time is published)."""
    run_min = max(pipeline.redshift_budget_min * pipeline.timefactor(partition), pipeline.min_runtime_min)
    return run_min * SECONDS_PER_MINUTE
