"""Parameters of the DESI pipeline model (``desi.toml``), validated; every figure is cited in that file."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from pmtwin.machine.devices import CONFIG
from pmtwin.machine.errors import load_config

DESI_FILE = "desi.toml"


class Survey(BaseModel):
    """The instrument and the survey: what arrives, how often, and the turnaround it must meet."""

    model_config = CONFIG

    frames_per_exposure: int = Field(gt=0)
    frames_per_night: int = Field(gt=0)
    nights_per_year: int = Field(gt=0)
    exposure_interval_s: float = Field(gt=0)
    science_start_s: float = Field(ge=0)
    turnaround_limit_s: float = Field(gt=0)

    @property
    def exposures_per_night(self) -> int:
        """Whole exposures in a night's frames (1000 // 30 = 33)."""
        return self.frames_per_night // self.frames_per_exposure


class Extraction(BaseModel):
    """Published extraction figures of merit (frames per node-hour) and what scales them to a node."""

    model_config = CONFIG

    edison_fpnh: float = Field(gt=0)
    cori_haswell_fpnh: float = Field(gt=0)
    cori_haswell_refactor_fpnh: float = Field(gt=0)
    dgx_a100_fpnh: float = Field(gt=0)
    dgx_a100_gpus_used: int = Field(gt=0)
    a100_gpu_models: tuple[str, ...] = Field(min_length=1, strict=False)
    haswell_node_fp64_tflops: float = Field(gt=0)

    @property
    def a100_frames_per_gpu_hour(self) -> float:
        """The DGX figure per GPU used: 575.25 / 4."""
        return self.dgx_a100_fpnh / self.dgx_a100_gpus_used


class Pipeline(BaseModel):
    """desispec's own job sizing: throughput budget, time factors, node caps, per-job costs."""

    model_config = CONFIG

    tilenight_fpnh: float = Field(gt=0)
    tilenight_overhead_min: float = Field(ge=0)
    timefactor_gpu: float = Field(gt=0)
    timefactor_cpu: float = Field(gt=0)
    min_runtime_min: float = Field(ge=0)
    science_max_nodes: int = Field(gt=0)
    realtime_nodes: int = Field(gt=0)
    redshift_budget_min: float = Field(gt=0)
    redshift_nodes: int = Field(gt=0)
    job_startup_s: float = Field(ge=0)

    def timefactor(self, partition: str) -> float:
        """desispec's runtime scale for a partition ("gpu" or "cpu")."""
        return self.timefactor_gpu if partition == "gpu" else self.timefactor_cpu


class Calibration(BaseModel):
    """One kind of afternoon calibration job; ``count`` jobs of it, each after all jobs named in ``after``."""

    model_config = CONFIG

    name: str = Field(min_length=1)
    partition: Literal["gpu", "cpu"]
    nodes: int = Field(gt=0)
    run_min: float = Field(gt=0)
    count: int = Field(gt=0)
    after: tuple[str, ...] = Field(default=(), strict=False)
    power_class: str = Field(min_length=1)


class DesiParams(BaseModel):
    """``desi.toml``."""

    model_config = CONFIG

    survey: Survey
    extraction: Extraction
    pipeline: Pipeline
    calibrations: tuple[Calibration, ...] = Field(min_length=1, strict=False)

    @model_validator(mode="after")
    def _calibrations_ordered(self) -> DesiParams:
        seen: set[str] = set()
        for index, calibration in enumerate(self.calibrations):
            for name in calibration.after:
                if name not in seen:
                    raise ValueError(
                        f"calibrations[{index}].after: {name!r} is not a calibration listed before it"
                    )
            seen.add(calibration.name)
        return self


def load_desi_params(path: str | Path | None = None) -> DesiParams:
    """The DESI parameters: the packaged ``desi.toml``, or the file at ``path``."""
    return load_config(DesiParams, "pmtwin.perf", DESI_FILE, path)
