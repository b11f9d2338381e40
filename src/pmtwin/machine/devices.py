"""The device catalog: GPU and CPU specifications, loaded from ``devices.toml``."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from pmtwin.machine.errors import load_config

CATALOG_FILE = "devices.toml"
"""The packaged catalog, next to this module."""

CONFIG = ConfigDict(frozen=True, extra="forbid", strict=True)
"""Shared by every config model: immutable, no unknown keys, no silent type coercion."""


class GpuSpec(BaseModel):
    """One accelerator: per-precision peaks (tensor figures dense and with 2:4 sparsity), memory, power."""

    model_config = CONFIG

    model: str
    fp64_tflops: float = Field(gt=0)
    fp64_tensor_tflops: float = Field(gt=0)
    fp32_tflops: float = Field(gt=0)
    tf32_tensor_dense_tflops: float = Field(gt=0)
    tf32_tensor_sparse_tflops: float = Field(gt=0)
    fp16_tensor_dense_tflops: float = Field(gt=0)
    fp16_tensor_sparse_tflops: float = Field(gt=0)
    bf16_tensor_dense_tflops: float = Field(gt=0)
    bf16_tensor_sparse_tflops: float = Field(gt=0)
    int8_tensor_dense_tops: float = Field(gt=0)
    int8_tensor_sparse_tops: float = Field(gt=0)
    sm_count: int = Field(gt=0)
    boost_clock_mhz: float = Field(gt=0)
    memory_type: str
    memory_gb: float = Field(gt=0)
    memory_bandwidth_gbs: float = Field(gt=0)
    nvlink_bandwidth_gbs: float = Field(ge=0)
    """NVLink bandwidth of one GPU, both directions of all its links together."""
    pcie_bandwidth_gbs: float | None = Field(default=None, gt=0)
    """Host link bandwidth per direction; None: unknown (host transfers are left out of models)."""
    tdp_w: float = Field(gt=0)
    power_cap_min_w: float = Field(gt=0)
    power_cap_max_w: float = Field(gt=0)
    idle_w: float | None = Field(default=None, gt=0)
    """Power with no work and no context open; None: unknown (no power model for this GPU)."""
    min_clock_mhz: float | None = Field(default=None, gt=0)
    """Lowest SM clock, the floor of the clock under a power cap; None: no floor beyond the model's."""
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _cap_range(self) -> GpuSpec:
        if self.power_cap_min_w > self.power_cap_max_w:
            raise ValueError(
                f"power_cap_min_w ({self.power_cap_min_w}) exceeds power_cap_max_w ({self.power_cap_max_w})"
            )
        if self.idle_w is not None and self.idle_w >= min(self.tdp_w, self.power_cap_min_w):
            raise ValueError(f"idle_w ({self.idle_w}) must be below tdp_w and power_cap_min_w")
        return self


class CpuSpec(BaseModel):
    """One processor socket. Peak FP64 and memory bandwidth are derived, never stated."""

    model_config = CONFIG

    model: str
    cores: int = Field(gt=0)
    threads: int = Field(gt=0)
    base_clock_ghz: float = Field(gt=0)
    boost_clock_ghz: float = Field(gt=0)
    l3_cache_mb: float = Field(gt=0)
    fp64_flop_per_cycle: int = Field(gt=0)
    ddr_channels: int = Field(gt=0)
    ddr_mts: float = Field(gt=0)
    tdp_w: float = Field(gt=0)
    idle_w: float | None = Field(default=None, gt=0)
    """Package power at idle; None: unknown (no power model for this CPU)."""
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _idle_below_tdp(self) -> CpuSpec:
        if self.idle_w is not None and self.idle_w >= self.tdp_w:
            raise ValueError(f"idle_w ({self.idle_w}) must be below tdp_w ({self.tdp_w})")
        return self

    @property
    def fp64_tflops(self) -> float:
        """Peak FP64 per socket at base clock: cores x GHz x FLOP/cycle."""
        return self.cores * self.base_clock_ghz * self.fp64_flop_per_cycle / 1000.0

    @property
    def memory_bandwidth_gbs(self) -> float:
        """Peak DDR bandwidth per socket: channels x MT/s x 8 bytes per transfer."""
        return self.ddr_channels * self.ddr_mts * 8 / 1000.0


class MemorySpec(BaseModel):
    """Node memory (DDR) power per GB installed, idle and at full bandwidth."""

    model_config = CONFIG

    model: str
    idle_w_per_gb: float = Field(ge=0)
    active_w_per_gb: float = Field(ge=0)
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _idle_below_active(self) -> MemorySpec:
        if self.idle_w_per_gb > self.active_w_per_gb:
            raise ValueError("idle_w_per_gb exceeds active_w_per_gb")
        return self


class NicSpec(BaseModel):
    """A network interface: power idle and at full load."""

    model_config = CONFIG

    model: str
    idle_w: float = Field(ge=0)
    max_w: float = Field(ge=0)
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _idle_below_max(self) -> NicSpec:
        if self.idle_w > self.max_w:
            raise ValueError("idle_w exceeds max_w")
        return self


class DeviceCatalog(BaseModel):
    """Devices by name: ``gpu``, ``cpu``, ``memory`` and ``nic`` tables of ``devices.toml``."""

    model_config = CONFIG

    gpu: dict[str, GpuSpec]
    cpu: dict[str, CpuSpec]
    memory: dict[str, MemorySpec] = Field(default_factory=dict)
    nic: dict[str, NicSpec] = Field(default_factory=dict)


def load_devices(path: str | Path | None = None) -> DeviceCatalog:
    """The packaged device catalog, or the one at ``path``."""
    return load_config(DeviceCatalog, "pmtwin.machine", CATALOG_FILE, path)
