"""``pmtwin calibrate``: the CPU benchmarks for real (quick sizes), the GPU path against a fake ``torch``
whose kernels take known times on a fake clock, the catalog comparison, and the TOML round trip."""

from __future__ import annotations

import json
import math
import sys
import tomllib
import types
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

from pmtwin.machine.devices import load_devices
from pmtwin.machine.errors import MachineConfigError
from pmtwin.perf import calibrate
from pmtwin.perf.calibrate import (
    Calibration,
    DeviceCalibration,
    HostInfo,
    calibration_toml,
    load_calibration,
    run_calibration,
)
from pmtwin.perf.node import PerfModelError

FAKE_GPU = "NVIDIA A100-SXM4-40GB"
FAKE_GEMM_FLOPS = {
    ("float64", False): 10e12,
    ("float32", False): 20e12,
    ("float32", True): 100e12,
    ("float16", False): 200e12,
    ("bfloat16", False): 250e12,
}
"""The fake GPU's GEMM rate by (dtype, TF32 allowed); any other combination is an error."""
FAKE_BANDWIDTH_BYTES_S = 1.25e12
ITEMSIZE = {"float64": 8, "float32": 4, "float16": 2, "bfloat16": 2}


@dataclass
class FakeGpu:
    """A fake clock that advances only by the work queued on the fake GPU, at ``synchronize``."""

    now_s: float = 0.0
    queued_s: float = 0.0
    gemms: list[tuple[str, bool, int]] = field(default_factory=list)
    """(dtype, TF32 allowed, n) of every GEMM launched."""
    first_call_s: float = 0.0
    """Set-up time added to the first GEMM of each (dtype, TF32 allowed), as cuBLAS's first call of a kind."""

    def launch(self, seconds: float) -> None:
        self.queued_s += seconds

    def synchronize(self) -> None:
        self.now_s += self.queued_s
        self.queued_s = 0.0


@dataclass(frozen=True)
class FakeDtype:
    name: str


@dataclass
class FakeTensor:
    dtype: FakeDtype
    shape: tuple[int, ...]
    gpu: FakeGpu

    def element_size(self) -> int:
        return ITEMSIZE[self.dtype.name]

    def nbytes(self) -> int:
        return math.prod(self.shape) * self.element_size()

    def copy_(self, other: FakeTensor) -> FakeTensor:
        self.gpu.launch((self.nbytes() + other.nbytes()) / FAKE_BANDWIDTH_BYTES_S)
        return self


def fake_torch(gpu: FakeGpu, memory_bytes: int = 40 * 2**30) -> Any:
    """Just the part of ``torch`` the calibration uses."""
    torch: Any = types.ModuleType("torch")
    torch.__version__ = "0.0+fake"
    for name in ITEMSIZE:
        setattr(torch, name, FakeDtype(name))
    matmul_flags = types.SimpleNamespace(allow_tf32=True)
    torch.backends = types.SimpleNamespace(cuda=types.SimpleNamespace(matmul=matmul_flags))
    torch.cuda = types.SimpleNamespace(
        is_available=lambda: True,
        get_device_name=lambda index: FAKE_GPU,
        get_device_properties=lambda index: types.SimpleNamespace(total_memory=memory_bytes),
        synchronize=gpu.synchronize,
    )

    def tensor(*shape: int, dtype: FakeDtype, device: str) -> FakeTensor:
        assert device == "cuda"
        return FakeTensor(dtype, shape, gpu)

    def mm(a: FakeTensor, b: FakeTensor, *, out: FakeTensor) -> FakeTensor:
        n = a.shape[0]
        assert a.shape == b.shape == out.shape == (n, n)
        allow_tf32 = torch.backends.cuda.matmul.allow_tf32
        if all((dtype, tf32) != (a.dtype.name, allow_tf32) for dtype, tf32, _ in gpu.gemms):
            gpu.launch(gpu.first_call_s)
        gpu.gemms.append((a.dtype.name, allow_tf32, n))
        gpu.launch(2 * n**3 / FAKE_GEMM_FLOPS[(a.dtype.name, allow_tf32)])
        return out

    def add(b: FakeTensor, c: FakeTensor, *, alpha: float, out: FakeTensor) -> FakeTensor:
        gpu.launch((b.nbytes() + c.nbytes() + out.nbytes()) / FAKE_BANDWIDTH_BYTES_S)
        return out

    torch.randn = torch.empty = torch.ones = tensor
    torch.mm = mm
    torch.add = add
    return torch


@pytest.fixture(scope="module")
def cpu_calibration() -> Calibration:
    return run_calibration("cpu", quick=True)


def canned_cpu(host: HostInfo, plan: object, catalog: object) -> DeviceCalibration:
    """Stands in for the CPU benchmarks, which the fake clock cannot time."""
    return DeviceCalibration(
        name=host.cpu_model,
        gemm_tflops={"fp64": 1.0, "fp32": 2.0},
        gemm_n={"fp64": 256, "fp32": 256},
        copy_bandwidth_gbs=3.0,
        triad_bandwidth_gbs=4.0,
        memory_bandwidth_gbs=4.0,
        stream_array_bytes=2**20,
    )


@pytest.fixture
def fake_gpu(monkeypatch: pytest.MonkeyPatch) -> FakeGpu:
    gpu = FakeGpu()
    monkeypatch.setitem(sys.modules, "torch", fake_torch(gpu))
    monkeypatch.setattr(calibrate, "perf_counter", lambda: gpu.now_s)
    monkeypatch.setattr(calibrate, "_measure_cpu", canned_cpu)
    return gpu


def test_cpu_quick_calibration_gives_positive_finite_figures(cpu_calibration: Calibration) -> None:
    cpu = cpu_calibration.cpu
    figures = [*cpu.gemm_tflops.values(), cpu.copy_bandwidth_gbs, cpu.triad_bandwidth_gbs]
    assert set(cpu.gemm_tflops) == set(cpu.gemm_n) == {"fp64", "fp32"}
    assert all(math.isfinite(value) and value > 0 for value in figures)
    assert cpu.memory_bandwidth_gbs == max(cpu.copy_bandwidth_gbs, cpu.triad_bandwidth_gbs)
    assert cpu_calibration.gpu is None and cpu_calibration.quick
    assert cpu_calibration.host.usable_cores >= 1 and cpu_calibration.host.cpu_model


def test_as_json_is_plain_json(cpu_calibration: Calibration) -> None:
    data = json.loads(json.dumps(cpu_calibration.as_json()))
    assert data["cpu"]["gemm_tflops"]["fp64"] == cpu_calibration.cpu.gemm_tflops["fp64"]
    assert data["host"]["numpy_version"] == cpu_calibration.host.numpy_version


def test_toml_round_trips(cpu_calibration: Calibration, tmp_path: Path) -> None:
    text = calibration_toml(cpu_calibration)
    assert tomllib.loads(text)["calibrated"]["cpu"]["gemm_n"] == dict(cpu_calibration.cpu.gemm_n)
    path = tmp_path / "calibrated.toml"
    path.write_text(text, encoding="utf-8")
    assert load_calibration(path) == cpu_calibration


def test_load_rejects_unknown_fields(cpu_calibration: Calibration, tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(calibration_toml(cpu_calibration).replace("[calibrated.cpu]", "[calibrated.cpu]\nx = 1"))
    with pytest.raises(MachineConfigError, match=r"bad\.toml: calibrated\.cpu\.x"):
        load_calibration(path)


def test_gpu_without_torch_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)  # makes ``import torch`` fail
    with pytest.raises(PerfModelError, match="PyTorch is not installed"):
        run_calibration("gpu", quick=True)


def test_gpu_without_cuda_raises(fake_gpu: FakeGpu) -> None:
    sys.modules["torch"].cuda.is_available = lambda: False
    with pytest.raises(PerfModelError, match="is_available"):
        run_calibration("gpu", quick=True)


def test_unknown_device_raises() -> None:
    with pytest.raises(PerfModelError, match="unknown device 'tpu'"):
        run_calibration("tpu", quick=True)


def test_gpu_gemm_rates_are_flops_over_time(fake_gpu: FakeGpu) -> None:
    gpu = run_calibration("gpu", quick=True).gpu
    assert gpu is not None and gpu.name == FAKE_GPU
    expected = {"fp64": 10.0, "fp32": 20.0, "tf32": 100.0, "fp16": 200.0, "bf16": 250.0}
    assert gpu.gemm_tflops == pytest.approx(expected, rel=1e-12)
    assert set(gpu.gemm_n.values()) == {1024}
    assert {(dtype, tf32) for dtype, tf32, _ in fake_gpu.gemms} == set(FAKE_GEMM_FLOPS)
    assert sys.modules["torch"].backends.cuda.matmul.allow_tf32 is True


def test_gpu_bandwidth_is_bytes_over_time(fake_gpu: FakeGpu) -> None:
    gpu = run_calibration("auto", quick=True).gpu
    assert gpu is not None
    assert gpu.stream_array_bytes == 64 * 2**20
    assert gpu.copy_bandwidth_gbs == pytest.approx(1250.0, rel=1e-12)
    assert gpu.triad_bandwidth_gbs == pytest.approx(1250.0, rel=1e-12)


@pytest.mark.parametrize(
    ("memory_bytes", "seconds_per_kernel", "expected_n"),
    [
        # one call must last seconds_per_kernel / 8 = 0.5 ms: fp64 at 10 TF/s takes 0.2 ms at n = 1024,
        # 1.7 ms at 2048; fp16 at 200 TF/s 0.09 ms at 2048, 0.7 ms at 4096
        (40 * 2**30, 0.004, {"fp64": 2048, "fp32": 2048, "tf32": 4096, "fp16": 4096, "bf16": 4096}),
        # 10 ms calls wanted, but three matrices may take only a quarter of 1 GiB: fp64 n = 2048 (96 MiB,
        # not 384), fp32 and fp16 n = 4096 (192 and 96 MiB, not 768 and 384)
        (2**30, 0.08, {"fp64": 2048, "fp32": 4096, "tf32": 4096, "fp16": 4096, "bf16": 4096}),
    ],
)
@pytest.mark.parametrize("first_call_s", [0.0, 0.5])
def test_gpu_sizes_grow_until_a_call_is_timeable_and_fit_memory(
    monkeypatch: pytest.MonkeyPatch,
    memory_bytes: int,
    seconds_per_kernel: float,
    expected_n: dict[str, int],
    first_call_s: float,
) -> None:
    """Also when each kind's first call carries a set-up time (0.5 s: a whole budget's worth)."""
    gpu = FakeGpu(first_call_s=first_call_s)
    monkeypatch.setitem(sys.modules, "torch", fake_torch(gpu, memory_bytes))
    monkeypatch.setattr(calibrate, "perf_counter", lambda: gpu.now_s)
    monkeypatch.setattr(calibrate, "_measure_cpu", canned_cpu)
    measured = run_calibration("gpu", seconds_per_kernel=seconds_per_kernel).gpu
    assert measured is not None
    assert measured.gemm_n == expected_n
    assert measured.stream_array_bytes == min(2**30, memory_bytes // 8)
    assert measured.gemm_tflops["fp16"] == pytest.approx(200.0, rel=1e-12)
    assert measured.triad_bandwidth_gbs == pytest.approx(1250.0, rel=1e-12)


def test_gpu_compared_with_catalog(fake_gpu: FakeGpu) -> None:
    gpu = run_calibration("gpu", quick=True).gpu
    assert gpu is not None and gpu.catalog is not None
    spec = load_devices().gpu["A100-SXM4-40GB"]
    assert gpu.catalog.key == "A100-SXM4-40GB"
    assert gpu.catalog.peak_tflops["fp64"] == spec.fp64_tensor_tflops
    assert gpu.catalog.gemm_fraction_of_peak["bf16"] == pytest.approx(250.0 / spec.bf16_tensor_dense_tflops)
    assert gpu.catalog.memory_bandwidth_fraction_of_peak == pytest.approx(1250.0 / spec.memory_bandwidth_gbs)


def test_gpu_calibration_round_trips(fake_gpu: FakeGpu, tmp_path: Path) -> None:
    cal = run_calibration("gpu", quick=True)
    path = tmp_path / "calibrated.toml"
    path.write_text(calibration_toml(cal), encoding="utf-8")
    assert "[calibrated.gpu.catalog]" in path.read_text()
    assert load_calibration(path) == cal


def test_cpu_compared_with_catalog_cores_in_use() -> None:
    spec = load_devices().cpu["EPYC-7763"]
    host = HostInfo("AMD EPYC 7763 64-Core Processor", 256, 256, 2, "2", "3.11", "Linux")
    measured = canned_cpu(host, None, None)
    comparison = calibrate._cpu_comparison(host, measured, load_devices().cpu)
    assert comparison is not None and comparison.key == "EPYC-7763"
    assert comparison.peak_tflops == {"fp64": pytest.approx(2 * spec.fp64_tflops)}
    assert comparison.peak_memory_bandwidth_gbs == pytest.approx(2 * spec.memory_bandwidth_gbs)
    assert comparison.gemm_fraction_of_peak["fp64"] == pytest.approx(1.0 / (2 * spec.fp64_tflops))
    half = calibrate._cpu_comparison(replace(host, usable_cores=32), measured, load_devices().cpu)
    assert half is not None and half.peak_tflops["fp64"] == pytest.approx(spec.fp64_tflops / 2)


def test_cpu_without_catalog_model_has_no_comparison() -> None:
    host = HostInfo("AMD EPYC", 2, 2, 1, "2", "3.11", "Linux")
    assert calibrate._cpu_comparison(host, canned_cpu(host, None, None), load_devices().cpu) is None
