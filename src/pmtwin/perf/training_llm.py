"""GPT-style LLM training: how long, how many node-hours, and whether it fits, for a tp x pp x dp layout.

FLOPs per token = 6 N + 6 L s h (Kaplan et al. 2020, arXiv 2001.08361: dense matmuls plus attention);
memory = 16 N / (tp pp) bytes of mixed-precision Adam state plus activations (Korthikanti et al. 2022,
arXiv 2205.05198); step = pipeline of microbatches with its bubble, tensor-parallel allreduces and the
data-parallel gradient allreduce of each shard."""

from __future__ import annotations

import math
from dataclasses import dataclass

from pmtwin.machine.system import Machine
from pmtwin.perf.collectives import allreduce_s
from pmtwin.perf.node import Link, NodePerf, PerfModelError
from pmtwin.perf.prediction import Prediction
from pmtwin.perf.training_core import BACKWARD_SHARE, check_fits, dp_allreduce_s, exposed_comm_s, gpu_node
from pmtwin.perf.training_params import LlmParams, TrainingParams, load_training

TP_ALLREDUCES_PER_LAYER = 4
"""Megatron tensor parallelism: two allreduces of the layer's activations forward, two backward."""

RECOMPUTE_FLOPS_FACTOR = 8.0 / 6.0
"""Full activation recomputation runs the forward pass twice: 8 N instead of 6 N per token."""


@dataclass(frozen=True)
class Layout:
    """A GPT model and its parallel layout."""

    params: float
    tokens: float
    layers: int
    hidden: int
    heads: int
    seq_len: int
    tp: int
    pp: int
    dp: int
    micro_batch: int
    microbatches: int
    recompute: bool

    @property
    def global_batch(self) -> int:
        """Sequences per optimizer step."""
        return self.micro_batch * self.microbatches * self.dp

    def flops_per_token(self) -> float:
        """Model FLOPs of training on one token: 6 N plus the attention score and value products."""
        return 6.0 * self.params + 6.0 * self.layers * self.seq_len * self.hidden


def shape(params: float, llm: LlmParams, layers: int | None, hidden: int | None, tp: int) -> tuple[int, int]:
    """Layers and hidden size: as given, or from N = 12 L h^2 and the default aspect ratio h / L; a derived
    hidden size is a whole number of heads per tensor-parallel rank."""
    unit = llm.head_dim * tp
    if hidden is None and layers is None:
        hidden = _round_to((llm.aspect_ratio * params / 12.0) ** (1.0 / 3.0), unit)
    if hidden is None:
        assert layers is not None
        hidden = _round_to(math.sqrt(params / (12.0 * layers)), unit)
    if layers is None:
        layers = max(1, int(round(params / (12.0 * hidden * hidden))))
    return layers, hidden


def _given(model: dict[str, float | int | bool | None], key: str, default: int) -> int:
    """The model's ``key`` as an int, ``default`` when not given."""
    value = model[key]
    return default if value is None else int(value)


def _round_to(hidden: float, unit: float) -> int:
    return int(max(1, round(hidden / unit)) * unit)


def make_layout(
    perf: NodePerf, llm: LlmParams, nodes: int, model: dict[str, float | int | bool | None]
) -> Layout:
    """Check and complete a layout; an impossible one raises ``PerfModelError`` naming the problem."""
    for key, value in model.items():
        if not isinstance(value, bool | None) and not (math.isfinite(value) and value > 0):
            raise PerfModelError(f"llm: {key} must be a positive number, not {value!r}")
    params, tokens = float(model["params_b"] or 0) * 1e9, float(model["tokens_b"] or 0) * 1e9
    tp, pp = _given(model, "tp", 1), _given(model, "pp", 1)
    gpus = nodes * perf.gpus
    if gpus % (tp * pp):
        raise PerfModelError(f"llm: tp x pp = {tp} x {pp} does not divide {gpus} GPUs ({nodes} nodes)")
    dp = gpus // (tp * pp)
    layers, hidden = shape(params, llm, _opt_int(model["layers"]), _opt_int(model["hidden"]), tp)
    if model["layers"] is None:  # a derived depth: the nearest multiple of the pipeline stages
        layers = max(pp, int(round(layers / pp)) * pp)
    if hidden % llm.head_dim:
        raise PerfModelError(f"llm: hidden = {hidden} is not a multiple of the head size {llm.head_dim:g}")
    heads = int(hidden // llm.head_dim)
    if layers % pp:
        raise PerfModelError(f"llm: {layers} layers do not divide over pp = {pp} pipeline stages")
    if heads % tp:
        raise PerfModelError(f"llm: {heads} attention heads do not divide over tp = {tp} ranks")
    seq_len = _given(model, "seq_len", llm.seq_len)
    micro = _given(model, "micro_batch", llm.micro_batch)
    sequences = _given(model, "global_batch", max(1, llm.global_batch_tokens // seq_len))
    if sequences % (dp * micro):
        raise PerfModelError(
            f"llm: global batch {sequences} is not a multiple of dp x micro_batch = {dp * micro}"
        )
    return Layout(
        params, tokens, layers, hidden, heads, seq_len, tp, pp, dp, micro,
        sequences // (dp * micro), bool(model["recompute"]),
    )  # fmt: skip


def _opt_int(value: float | int | bool | None) -> int | None:
    return None if value is None else int(value)


def memory_per_gpu_bytes(layout: Layout, llm: LlmParams) -> tuple[float, float]:
    """(model state, activations) per GPU. Activations per layer and microbatch (no sequence parallelism):
    s b h (10 + 24 / tp + 5 a s / (h tp)) bytes, or 2 s b h with full recomputation; the first pipeline
    stage keeps pp microbatches in flight (1F1B), i.e. all L layers' worth."""
    state = layout.params * llm.state_bytes_per_param / (layout.tp * layout.pp)
    sbh = layout.seq_len * layout.micro_batch * layout.hidden
    if layout.recompute:
        per_layer = 2.0 * sbh
    else:
        attention = 5.0 * layout.heads * layout.seq_len / (layout.hidden * layout.tp)
        per_layer = sbh * (10.0 + 24.0 / layout.tp + attention)
    in_flight = min(layout.pp, layout.microbatches)
    return state, per_layer * layout.layers / layout.pp * in_flight


def _tp_link(perf: NodePerf, tp: int) -> Link:
    if tp <= perf.gpus and perf.nvlink is not None:
        return perf.nvlink
    return perf.per_gpu_network()


def step_parts(perf: NodePerf, config: TrainingParams, layout: Layout) -> dict[str, float]:
    """Seconds of one optimizer step: pipelined compute (with bubble), TP and PP communication, and the
    DP allreduce, which can hide only behind the last microbatch's backward pass."""
    llm, efficiency = config.llm, config.kinds["transformer"].tensor_efficiency
    tokens_mb = layout.seq_len * layout.micro_batch
    flops_mb = tokens_mb * layout.flops_per_token() * (RECOMPUTE_FLOPS_FACTOR if layout.recompute else 1.0)
    compute_mb = flops_mb / (layout.tp * layout.pp) / (perf.gpu_flops(llm.precision) * efficiency)
    act_bytes = tokens_mb * layout.hidden * 2.0
    tp_mb = TP_ALLREDUCES_PER_LAYER * layout.layers / layout.pp * allreduce_s(
        act_bytes, layout.tp, _tp_link(perf, layout.tp)
    )
    pp_mb = 2.0 * perf.per_gpu_network().time_s(act_bytes) if layout.pp > 1 else 0.0
    compute = layout.microbatches * compute_mb
    bubble = (layout.pp - 1) * (compute_mb + tp_mb + pp_mb)
    grad_bytes = layout.params / (layout.tp * layout.pp) * llm.grad_bytes_per_param
    ranks_per_node = max(1, perf.gpus // (layout.tp * layout.pp))
    nodes = max(1, layout.dp // ranks_per_node)
    allreduce = dp_allreduce_s(perf, grad_bytes, ranks_per_node, nodes)
    exposed = exposed_comm_s(allreduce, compute_mb * BACKWARD_SHARE, config.system.comm_overlap)
    return {
        "compute_s": compute,
        "bubble_s": bubble,
        "tp_comm_s": layout.microbatches * tp_mb,
        "pp_comm_s": layout.microbatches * pp_mb,
        "dp_comm_s": exposed,
    }


def predict_llm(
    machine: Machine,
    *,
    params_b: float,
    tokens_b: float,
    nodes: int,
    tp: int = 1,
    pp: int = 1,
    layers: int | None = None,
    hidden: int | None = None,
    seq_len: int | None = None,
    global_batch: int | None = None,
    micro_batch: int | None = None,
    recompute: bool = False,
    node_type: str | None = None,
) -> Prediction:
    """Train a GPT of ``params_b`` billion parameters on ``tokens_b`` billion tokens over ``nodes`` nodes
    with ``tp`` x ``pp`` x dp parallelism (dp fills the rest); ``global_batch`` in sequences."""
    config = load_training()
    perf = gpu_node(machine, node_type, nodes)
    model: dict[str, float | int | bool | None] = {
        "params_b": params_b, "tokens_b": tokens_b, "tp": tp, "pp": pp, "layers": layers, "hidden": hidden,
        "seq_len": seq_len, "global_batch": global_batch, "micro_batch": micro_batch, "recompute": recompute,
    }  # fmt: skip
    layout = make_layout(perf, config.llm, nodes, model)
    return _prediction(machine, perf, config, nodes, layout)


def _prediction(
    machine: Machine, perf: NodePerf, config: TrainingParams, nodes: int, layout: Layout
) -> Prediction:
    state, activations = memory_per_gpu_bytes(layout, config.llm)
    check_fits(perf, state + activations, f"llm {layout.params / 1e9:g}B with tp={layout.tp} pp={layout.pp}",
               config.llm.memory_reserve)  # fmt: skip
    parts = step_parts(perf, config, layout)
    step_s = sum(parts.values())
    steps = layout.tokens / (layout.global_batch * layout.seq_len)
    run_s = steps * step_s
    gpus = nodes * perf.gpus
    total_flops = layout.tokens * layout.flops_per_token()
    return Prediction(
        app="train",
        machine=machine.name,
        node_type=perf.node_type,
        nodes=nodes,
        run_s=run_s,
        power_class="ai_training",
        breakdown={name: value * steps for name, value in parts.items()},
        figures={
            "step_time_s": step_s,
            "steps": steps,
            "days": run_s / 86400.0,
            "node_hours": nodes * run_s / 3600.0,
            "total_flops": total_flops,
            "mfu": total_flops / run_s / (gpus * perf.gpu_flops(config.llm.precision)),
            "memory_per_gpu_gb": (state + activations) / 1e9,
            "state_per_gpu_gb": state / 1e9,
            "activations_per_gpu_gb": activations / 1e9,
            "bubble_fraction": (layout.pp - 1) / (layout.microbatches + layout.pp - 1),
            "tokens_per_s": layout.global_batch * layout.seq_len / step_s,
        },
        inputs={
            "params_b": layout.params / 1e9, "tokens_b": layout.tokens / 1e9, "layers": layout.layers,
            "hidden": layout.hidden, "heads": layout.heads, "seq_len": layout.seq_len, "tp": layout.tp,
            "pp": layout.pp, "dp": layout.dp, "micro_batch": layout.micro_batch,
            "microbatches": layout.microbatches, "global_batch": layout.global_batch,
            "recompute": layout.recompute, "precision": config.llm.precision,
        },  # fmt: skip
        notes=("model FLOPs 6 N + 6 L s h per token; mfu counts model FLOPs only (not recomputation)",),
    )
