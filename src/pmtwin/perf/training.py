"""Deep-learning training performance models (docs/performance.md, "Deep-learning training"): MLPerf HPC
v1.0 time to train (``predict_mlperf``), GPT-style LLM training (``predict_llm``), one entry point for jobs
driven by models (``predict_train``) and the validation rows (``training_validation_rows``).

Parameters live in ``training.toml`` (``load_training``), each cited with its flag."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pmtwin.machine.system import Machine
from pmtwin.perf.node import PerfModelError
from pmtwin.perf.params import check_params
from pmtwin.perf.prediction import Prediction
from pmtwin.perf.training_llm import predict_llm
from pmtwin.perf.training_mlperf import BENCHMARKS, predict_mlperf, training_validation_rows
from pmtwin.perf.training_params import load_training

__all__ = [
    "load_training",
    "predict_llm",
    "predict_mlperf",
    "predict_train",
    "train_model",
    "training_validation_rows",
]

LLM_KEYS: dict[str, type] = {
    "params_b": float,
    "tokens_b": float,
    "tp": int,
    "pp": int,
    "layers": int,
    "hidden": int,
    "seq_len": int,
    "global_batch": int,
    "micro_batch": int,
    "recompute": bool,
}
"""Keys of an ``llm`` job's parameters and the types a TOML or JSON file may give them."""

LLM_REQUIRED = ("params_b", "tokens_b")
MODELS = (*BENCHMARKS, "llm")


def predict_train(
    machine: Machine, node_type: str | None, nodes: int, params: Mapping[str, Any]
) -> Prediction:
    """A training job from a model description: ``params["model"]`` is one of the MLPerf benchmarks or
    ``"llm"``; the other keys are ``predict_llm``'s keyword arguments (none for the benchmarks)."""
    model, kwargs = train_model(params)
    if model in BENCHMARKS:
        return predict_mlperf(machine, model, nodes=nodes, node_type=node_type)
    return predict_llm(machine, nodes=nodes, node_type=node_type, **kwargs)


def train_model(params: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The model ``params`` names and its checked keyword arguments; a missing or unknown model, or a
    parameter it does not take, raises PerfModelError."""
    model = params.get("model")
    if model is None:
        raise PerfModelError(f"train: give params.model, one of {', '.join(MODELS)}")
    rest = {key: value for key, value in params.items() if key != "model"}
    if model in BENCHMARKS:
        if rest:
            raise PerfModelError(f"train model {model!r} takes no parameters, got: {', '.join(sorted(rest))}")
        return str(model), {}
    if model == "llm":
        return model, _llm_kwargs(rest)
    raise PerfModelError(f"unknown train model {model!r} (known: {', '.join(MODELS)})")


def _llm_kwargs(rest: Mapping[str, Any]) -> dict[str, Any]:
    kwargs = check_params("llm", rest, LLM_KEYS)
    missing = [key for key in LLM_REQUIRED if key not in kwargs]
    if missing:
        raise PerfModelError(f"llm: missing parameter(s) {', '.join(missing)}")
    return kwargs
