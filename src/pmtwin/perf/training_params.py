"""Parameters of the deep-learning training models, loaded from ``training.toml`` (each figure cited
there with its flag)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from pmtwin.machine.devices import CONFIG
from pmtwin.machine.errors import load_config

TRAINING_FILE = "training.toml"

Kind = Literal["cnn3d", "cnn2d", "gnn", "transformer"]
Staging = Literal["synchronous", "asynchronous", "none"]


class SystemParams(BaseModel):
    """File system, memory and overlap figures shared by every model."""

    model_config = CONFIG

    lustre_bytes_s: float = Field(gt=0)
    lustre_efficiency: float = Field(gt=0, le=1)
    client_read_bytes_s: float = Field(gt=0)
    hbm_efficiency: float = Field(gt=0, le=1)
    comm_overlap: float = Field(ge=0, le=1)
    grad_bytes_per_param: float = Field(gt=0)
    source: str = Field(min_length=1)


class KindParams(BaseModel):
    """What one kind of network achieves on a GPU."""

    model_config = CONFIG

    tensor_efficiency: float = Field(gt=0, le=1)
    hbm_touches: float = Field(ge=0)
    source: str = Field(min_length=1)


class BenchmarkParams(BaseModel):
    """One MLPerf HPC benchmark: its network, data set and convergence."""

    model_config = CONFIG

    kind: Kind
    precision: str
    nodes: int = Field(gt=0)
    train_samples: int = Field(gt=0)
    eval_samples: int = Field(ge=0)
    global_batch: int = Field(gt=0)
    epochs: float = Field(gt=0)
    train_flops_per_sample: float = Field(gt=0)
    activation_elements: float = Field(ge=0)
    params: float = Field(gt=0)
    sample_bytes: float = Field(gt=0)
    staging: Staging
    staging_oversampling: float = Field(ge=1)
    comm_overlap: float = Field(ge=0, le=1)
    step_overhead_s: float = Field(ge=0)
    eval_share: float = Field(gt=0)
    eval_overhead_s: float = Field(ge=0)
    source: str = Field(min_length=1)


class LlmParams(BaseModel):
    """Defaults of the GPT-style model."""

    model_config = CONFIG

    precision: str
    state_bytes_per_param: float = Field(gt=0)
    grad_bytes_per_param: float = Field(gt=0)
    aspect_ratio: float = Field(gt=0)
    head_dim: float = Field(gt=0)
    seq_len: int = Field(gt=0)
    global_batch_tokens: int = Field(gt=0)
    micro_batch: int = Field(gt=0)
    memory_reserve: float = Field(gt=0, le=1)
    source: str = Field(min_length=1)


class TrainingParams(BaseModel):
    """``training.toml``."""

    model_config = CONFIG

    system: SystemParams
    kinds: dict[Kind, KindParams]
    mlperf: dict[str, BenchmarkParams]
    llm: LlmParams


def load_training(path: str | Path | None = None) -> TrainingParams:
    """The training parameters: the packaged ``training.toml``, or the file at ``path``."""
    return load_config(TrainingParams, "pmtwin.perf", TRAINING_FILE, path)
