"""MLPerf HPC v1.0 time-to-train models (CosmoFlow, DeepCAM, OpenCatalyst) and their validation rows.

time to train = exposed staging + epochs x (steps per epoch x step time + evaluation time), where a step
is data-parallel: a fixed per-step overhead plus local compute (roofline at the kind's calibrated
efficiency), the exposed gradient allreduce and overlapped input reads. Evaluation costs a fixed time per
pass plus ``eval_share`` of a training sample per sample."""

from __future__ import annotations

from pmtwin.machine import load_system
from pmtwin.machine.system import Machine
from pmtwin.perf.node import NodePerf, PerfModelError
from pmtwin.perf.prediction import Prediction, ValidationRow, validation_row
from pmtwin.perf.training_core import (
    BACKWARD_SHARE,
    DpStep,
    activation_bytes,
    check_fits,
    dp_allreduce_s,
    exposed_comm_s,
    gpu_compute_s,
    gpu_node,
    node_read_bytes_s,
    staging_s,
)
from pmtwin.perf.training_params import BenchmarkParams, TrainingParams, load_training

BENCHMARKS = ("cosmoflow", "deepcam", "opencatalyst")

ADAM_STATE_BYTES_PER_PARAM = 16.0
"""Weights, gradients and two optimizer moments in fp32 (the largest of SGD, LAMB and Adam states)."""

PUBLISHED_MIN = {"cosmoflow": 8.02, "deepcam": 2.51, "opencatalyst": 111.86}
"""MLPerf HPC v1.0 LBNL time-to-train, minutes (shared/reference/perlmutter.md section 2)."""

VALIDATION_MACHINE = "perlmutter-2021"
"""The 2021 runs used Perlmutter Phase 1 (Slingshot-10, 2 NICs per GPU node)."""

TITLES = {"cosmoflow": "CosmoFlow", "deepcam": "DeepCAM", "opencatalyst": "OpenCatalyst (OC20)"}


def benchmark_params(params: TrainingParams, benchmark: str) -> BenchmarkParams:
    """The parameters of ``benchmark``; a clear error for an unknown one."""
    try:
        return params.mlperf[benchmark]
    except KeyError:
        raise PerfModelError(
            f"unknown MLPerf HPC benchmark {benchmark!r} (known: {', '.join(sorted(params.mlperf))})"
        ) from None


def predict_mlperf(
    machine: Machine, benchmark: str, nodes: int | None = None, node_type: str | None = None
) -> Prediction:
    """Time to train ``benchmark`` on ``nodes`` nodes (default: the published run's count)."""
    params = load_training()
    bench = benchmark_params(params, benchmark)
    nodes = bench.nodes if nodes is None else nodes
    perf = gpu_node(machine, node_type, nodes)
    gpus = nodes * perf.gpus
    if gpus > bench.global_batch:
        raise PerfModelError(
            f"{benchmark}: the global batch of {bench.global_batch} samples cannot spread over {gpus} GPUs "
            "(at least one sample per GPU)"
        )
    local_batch = bench.global_batch / gpus
    _check_memory(perf, bench, local_batch, benchmark)
    step = _dp_step(perf, params, bench, nodes, local_batch)
    steps_per_epoch = bench.train_samples // bench.global_batch
    train_epoch_s = steps_per_epoch * step.step_s
    eval_epoch_s = _eval_epoch_s(perf, params, bench, gpus)
    staging = _exposed_staging_s(perf, params, bench, nodes, train_epoch_s)
    compute_total = bench.epochs * steps_per_epoch * step.compute_s
    comm_total = bench.epochs * steps_per_epoch * step.exposed_comm_s
    io_wait_step = max(0.0, step.step_s - step.compute_s - step.exposed_comm_s)
    io_wait_total = bench.epochs * steps_per_epoch * io_wait_step
    eval_total = bench.epochs * eval_epoch_s
    run_s = staging + compute_total + comm_total + io_wait_total + eval_total
    return Prediction(
        app="train",
        machine=machine.name,
        node_type=perf.node_type,
        nodes=nodes,
        run_s=run_s,
        power_class="ai_training",
        breakdown={
            "staging_s": staging,
            "compute_s": compute_total,
            "exposed_comm_s": comm_total,
            "io_wait_s": io_wait_total,
            "eval_s": eval_total,
        },
        figures={
            "step_time_s": step.step_s,
            "step_compute_s": step.compute_s,
            "step_allreduce_s": step.allreduce_s,
            "epochs": bench.epochs,
            "steps_per_epoch": float(steps_per_epoch),
            "local_batch": local_batch,
            "samples_per_s": bench.global_batch / step.step_s,
            "epoch_train_s": train_epoch_s,
            "epoch_eval_s": eval_epoch_s,
            "time_to_train_min": run_s / 60.0,
            "node_hours": nodes * run_s / 3600.0,
        },
        inputs={"benchmark": benchmark, "nodes": nodes, "node_type": perf.node_type, "kind": bench.kind},
        notes=(
            "init (before run_start) is not modelled: MLPerf excludes it from time to train",
            f"epochs to converge {bench.epochs:g} (mean of the published runs), not a convergence model",
        ),
    )


def _check_memory(perf: NodePerf, bench: BenchmarkParams, local_batch: float, benchmark: str) -> None:
    state = bench.params * ADAM_STATE_BYTES_PER_PARAM
    saved = local_batch * bench.activation_elements * activation_bytes(bench.precision)
    check_fits(perf, state + saved, f"{benchmark} with {local_batch:g} samples per GPU")


def _dp_step(
    perf: NodePerf, params: TrainingParams, bench: BenchmarkParams, nodes: int, local_batch: float
) -> DpStep:
    kind = params.kinds[bench.kind]
    compute = bench.step_overhead_s + local_batch * gpu_compute_s(
        perf, kind, params.system, bench.train_flops_per_sample, bench.activation_elements, bench.precision
    )
    grad_bytes = bench.params * params.system.grad_bytes_per_param
    allreduce = dp_allreduce_s(perf, grad_bytes, perf.gpus, nodes)
    exposed = exposed_comm_s(allreduce, compute * BACKWARD_SHARE, bench.comm_overlap)
    io = 0.0
    if bench.staging == "none":
        node_bytes = local_batch * perf.gpus * bench.sample_bytes
        io = node_bytes / node_read_bytes_s(perf, params.system, nodes)
    return DpStep(compute, allreduce, exposed, io)


def _eval_epoch_s(perf: NodePerf, params: TrainingParams, bench: BenchmarkParams, gpus: int) -> float:
    kind = params.kinds[bench.kind]
    per_sample = gpu_compute_s(
        perf, kind, params.system, bench.train_flops_per_sample, bench.activation_elements, bench.precision
    )
    return bench.eval_overhead_s + bench.eval_samples / gpus * per_sample * bench.eval_share


def _exposed_staging_s(
    perf: NodePerf, params: TrainingParams, bench: BenchmarkParams, nodes: int, train_epoch_s: float
) -> float:
    if bench.staging == "none":
        return 0.0
    total = (bench.train_samples + bench.eval_samples) * bench.sample_bytes * bench.staging_oversampling
    copy_s = staging_s(perf, params.system, total, nodes)
    if bench.staging == "asynchronous":
        return max(0.0, copy_s - train_epoch_s)
    return copy_s


def training_validation_rows() -> list[ValidationRow]:
    """The three MLPerf HPC v1.0 time-to-train rows on ``perlmutter-2021``, in minutes."""
    machine = load_system(VALIDATION_MACHINE)
    rows = []
    for benchmark in BENCHMARKS:
        prediction = predict_mlperf(machine, benchmark)
        gpus = prediction.nodes * gpu_node(machine, None, prediction.nodes).gpus
        rows.append(
            validation_row(
                f"MLPerf HPC v1.0 {TITLES[benchmark]} time-to-train, {gpus:,} GPUs",
                prediction.figures["time_to_train_min"],
                PUBLISHED_MIN[benchmark],
                "min",
                15.0,
                "shared/reference/perlmutter.md section 2 (LBNL, closed division); model: "
                "docs/performance.md, Deep-learning training",
            )
        )
    return rows
