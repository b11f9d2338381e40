"""``pmtwin calibrate``: micro-benchmarks of the local machine, compared with the device catalog.

Measured on the CPU with numpy (GEMM in fp64 and fp32 through its BLAS; STREAM-like copy and triad over
arrays well beyond cache, on all usable cores) and, when PyTorch is importable and sees a CUDA device, on
GPU 0 (GEMM in fp64, fp32 without TF32, tf32, fp16 and bf16; copy and triad in device memory). Each
figure is the best of a few timed repetitions after an untimed warm-up. Where the device matches a
catalog model, the achieved fraction of each catalog peak is the efficiency the performance models can
use. Rates are per second; units are in the names (TF/s = 1e12 FLOP/s, GB/s = 1e9 bytes/s).
"""

from __future__ import annotations

import importlib
import json
import os
import platform
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from time import perf_counter
from types import MappingProxyType
from typing import Any, ClassVar

import numpy as np
from pydantic import ConfigDict, TypeAdapter, ValidationError

from pmtwin._toml import dumps_toml
from pmtwin.machine.devices import CpuSpec, GpuSpec, load_devices
from pmtwin.machine.errors import MachineConfigError, parse_toml, read_config_text
from pmtwin.perf.node import PerfModelError

DEVICES = ("auto", "cpu", "gpu")
"""Accepted ``device`` arguments: ``auto`` measures the GPU when PyTorch sees one."""

CPU_PRECISIONS: Mapping[str, type[np.floating[Any]]] = MappingProxyType(
    {"fp64": np.float64, "fp32": np.float32}
)
"""CPU GEMM precisions -> numpy dtype."""

GPU_PRECISIONS: Mapping[str, tuple[str, int]] = MappingProxyType(
    {
        "fp64": ("float64", 8),
        "fp32": ("float32", 4),
        "tf32": ("float32", 4),
        "fp16": ("float16", 2),
        "bf16": ("bfloat16", 2),
    }
)
"""GPU GEMM precisions -> (torch dtype name, bytes per element). ``tf32`` is fp32 data with TF32 tensor
cores allowed; ``fp32`` runs with them disallowed."""

GPU_GEMM_PEAK_FIELDS: Mapping[str, str] = MappingProxyType(
    {
        "fp64": "fp64_tensor_tflops",
        "fp32": "fp32_tflops",
        "tf32": "tf32_tensor_dense_tflops",
        "fp16": "fp16_tensor_dense_tflops",
        "bf16": "bf16_tensor_dense_tflops",
    }
)
"""GPU GEMM precision -> the GpuSpec peak it is compared with. cuBLAS runs fp64 GEMM on the FP64 tensor
cores where the GPU has them (A100 and later), so fp64 compares with ``fp64_tensor_tflops``."""

_CPU_GEMM_START_N = 256
_CPU_GEMM_MAX_N = 8192
_GPU_GEMM_START_N = 1024
_GPU_GEMM_MAX_N = 16384
_CPU_STREAM_BYTES = 256 * 2**20
_GPU_STREAM_BYTES = 2**30
_QUICK_CPU_STREAM_BYTES = 16 * 2**20
_QUICK_GPU_STREAM_BYTES = 64 * 2**20
_TRIAD_BLOCK = 2**15
"""Elements per block of the CPU triad: its temporary (256 KiB in fp64) stays in cache."""
_TRIAD_SCALAR = 3.0
_MAX_REPEATS = 10
_QUICK_REPEATS = 3

_TOML_HEADER = """\
# Written by pmtwin calibrate: micro-benchmarks of this host.
# gemm_tflops: best of a few n x n matrix products (2 n^3 FLOP each), n in gemm_n.
# *_bandwidth_gbs: STREAM-like copy (2 arrays per element) and triad (3 arrays), bytes over time.
# [*.catalog]: the matching catalog device, its peaks and the fraction achieved (efficiency).

"""

_LOAD_CONFIG = ConfigDict(extra="forbid")
"""Reading a calibration file back: unknown keys are errors (types are checked strictly on load)."""


@dataclass(frozen=True)
class HostInfo:
    """The machine the calibration ran on."""

    __pydantic_config__: ClassVar[ConfigDict] = _LOAD_CONFIG

    cpu_model: str
    logical_cores: int
    usable_cores: int
    """Logical cores this process may run on (its affinity mask): the CPU benchmarks' threads."""
    sockets: int
    numpy_version: str
    python_version: str
    platform: str
    torch_version: str | None = None
    """None: PyTorch was not imported (``device="cpu"``) or is not installed."""


@dataclass(frozen=True)
class CatalogComparison:
    """A measured device against its catalog entry: peaks and the fraction of them achieved."""

    __pydantic_config__: ClassVar[ConfigDict] = _LOAD_CONFIG

    key: str
    """The catalog table name, e.g. ``A100-SXM4-40GB``."""
    model: str
    peak_tflops: Mapping[str, float]
    """Catalog peak by precision, for the cores or the GPU measured (only precisions the catalog has)."""
    peak_memory_bandwidth_gbs: float
    gemm_fraction_of_peak: Mapping[str, float]
    memory_bandwidth_fraction_of_peak: float


@dataclass(frozen=True)
class DeviceCalibration:
    """Measured figures of one device: GEMM rate and size by precision, memory bandwidth."""

    __pydantic_config__: ClassVar[ConfigDict] = _LOAD_CONFIG

    name: str
    """The CPU model string, or the GPU name as CUDA reports it."""
    gemm_tflops: Mapping[str, float]
    gemm_n: Mapping[str, int]
    """Side of the square matrices timed, by precision: one GEMM is 2 n^3 FLOP."""
    copy_bandwidth_gbs: float
    """``a = b``: 2 arrays moved per element (write-allocate traffic not counted, as in STREAM)."""
    triad_bandwidth_gbs: float
    """``a = b + s * c``: 3 arrays moved per element."""
    memory_bandwidth_gbs: float
    """The better of copy and triad."""
    stream_array_bytes: int
    """Size of each of the three arrays of the bandwidth benchmarks."""
    catalog: CatalogComparison | None = None
    """None: the device matches no catalog model."""


@dataclass(frozen=True)
class Calibration:
    """One ``pmtwin calibrate`` run: the host, its CPU, and GPU 0 when one was measured."""

    __pydantic_config__: ClassVar[ConfigDict] = _LOAD_CONFIG

    quick: bool
    """True: small sizes and few repetitions (a smoke run; figures are not representative)."""
    host: HostInfo
    cpu: DeviceCalibration
    gpu: DeviceCalibration | None = None

    def as_json(self) -> dict[str, Any]:
        """Plain JSON-ready data: nested dicts of str, int, float, bool and None."""
        return asdict(self)


@dataclass(frozen=True)
class _Plan:
    """How hard to measure. GEMM: n doubles from ``gemm_start_n`` until one call takes ``min_call_s``
    (or n would pass ``gemm_max_n``); then the best of up to ``max_repeats`` calls, as many as fit in
    ``seconds_per_kernel`` but at least three."""

    gemm_start_n: int
    gemm_max_n: int
    min_call_s: float
    max_repeats: int
    seconds_per_kernel: float
    stream_array_bytes: int


Call = Callable[[], object]


def run_calibration(
    device: str = "auto", *, quick: bool = False, seconds_per_kernel: float = 1.0
) -> Calibration:
    """Benchmark this machine: the CPU always, GPU 0 for ``device="gpu"`` (an error without PyTorch and
    CUDA) or ``"auto"`` (when available). ``quick``: small sizes, well under a second on a 2-core CPU.
    ``seconds_per_kernel``: time budget of each benchmark (one precision's GEMM, one bandwidth test)."""
    if device not in DEVICES:
        raise PerfModelError(f"unknown device {device!r}: expected one of {', '.join(DEVICES)}")
    if not seconds_per_kernel > 0:
        raise PerfModelError(f"seconds_per_kernel must be positive, got {seconds_per_kernel}")
    torch = None if device == "cpu" else _import_torch()
    use_gpu = torch is not None and bool(torch.cuda.is_available())
    if device == "gpu" and not use_gpu:
        raise PerfModelError(_no_gpu_message(torch))
    catalog = load_devices()
    host = _host_info(None if torch is None else str(torch.__version__))
    cpu = _measure_cpu(host, _cpu_plan(quick, seconds_per_kernel), catalog.cpu)
    gpu = _measure_gpu(torch, quick, seconds_per_kernel, catalog.gpu) if use_gpu else None
    return Calibration(quick=quick, host=host, cpu=cpu, gpu=gpu)


def calibration_toml(cal: Calibration) -> str:
    """A device spec file: ``[calibrated]``, ``[calibrated.host]``, ``[calibrated.cpu]`` and
    ``[calibrated.gpu]`` (each with a ``.catalog`` table when the device matched the catalog). No
    timestamp: the text depends on the measurements only."""
    sections: list[tuple[str, Mapping[str, Any]]] = [
        ("calibrated", {"quick": cal.quick}),
        ("calibrated.host", asdict(cal.host)),
    ]
    for kind, measured in (("cpu", cal.cpu), ("gpu", cal.gpu)):
        if measured is not None:
            figures = asdict(measured)
            catalog = figures.pop("catalog")
            sections.append((f"calibrated.{kind}", figures))
            if catalog is not None:
                sections.append((f"calibrated.{kind}.catalog", catalog))
    return _TOML_HEADER + dumps_toml(dict(sections))


def load_calibration(path: str | Path) -> Calibration:
    """A file written from ``calibration_toml``, read back; a malformed one raises ``MachineConfigError``
    naming the file and the field."""
    path = Path(path)
    data = parse_toml(read_config_text(path), str(path))
    if set(data) != {"calibrated"}:
        raise MachineConfigError(f"{path}: expected a single [calibrated] table, found {sorted(data)}")
    try:
        return TypeAdapter(Calibration).validate_json(json.dumps(data["calibrated"]), strict=True)
    except ValidationError as exc:
        problems = (f"calibrated.{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise MachineConfigError("\n".join(f"{path}: {problem}" for problem in problems)) from None


# --- the host ---------------------------------------------------------------------------------------


def _host_info(torch_version: str | None) -> HostInfo:
    cpuinfo = _read_cpuinfo()
    models = _cpuinfo_values(cpuinfo, "model name")
    return HostInfo(
        cpu_model=models[0] if models else (platform.processor() or platform.machine() or "unknown"),
        logical_cores=os.cpu_count() or 1,
        usable_cores=_usable_cores(),
        sockets=max(1, len(set(_cpuinfo_values(cpuinfo, "physical id")))),
        numpy_version=np.__version__,
        python_version=platform.python_version(),
        platform=platform.platform(),
        torch_version=torch_version,
    )


def _read_cpuinfo() -> str:
    """``/proc/cpuinfo``, or nothing where there is none (not Linux)."""
    try:
        return Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _cpuinfo_values(cpuinfo: str, field: str) -> list[str]:
    """The values of ``field`` in every processor block of a ``/proc/cpuinfo`` text."""
    pairs = (line.split(":", 1) for line in cpuinfo.splitlines() if ":" in line)
    return [value.strip() for key, value in pairs if key.strip() == field]


def _usable_cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


# --- timing -----------------------------------------------------------------------------------------


def _no_sync() -> None:
    """The CPU's synchronisation: numpy calls return when their work is done."""


def _seconds(call: Call, sync: Call) -> float:
    """Wall time of one call, synchronised before and after."""
    sync()
    start = perf_counter()
    call()
    sync()
    return perf_counter() - start


def _warm_seconds(call: Call, sync: Call) -> float:
    """Wall time of the second of two calls (the first warms up)."""
    _seconds(call, sync)
    return _seconds(call, sync)


def _best_seconds(call: Call, sync: Call, repeats: int) -> float:
    best_s = min(_seconds(call, sync) for _ in range(repeats))
    if best_s <= 0:
        raise PerfModelError("the timer did not advance during a benchmark: sizes too small to measure")
    return best_s


def _repeats(call_s: float, plan: _Plan) -> int:
    """As many repetitions as fit in the budget, between 3 and ``plan.max_repeats``."""
    fitting = int(plan.seconds_per_kernel / call_s) if call_s > 0 else plan.max_repeats
    return max(3, min(plan.max_repeats, fitting))


def _gemm_tflops(make_call: Callable[[int], Call], sync: Call, plan: _Plan, max_n: int) -> tuple[float, int]:
    """TF/s of an n x n GEMM, and n: the size grows until one call is long enough to time, then the
    best of a few calls counts. Each size's first call is an untimed warm-up: a library's first call of
    a kind can carry its set-up (cuBLAS choosing and loading kernels: on an H100 the first fp32 and fp16
    calls took long enough to stop the growth at n = 1,024, far below the device's rate)."""
    n = plan.gemm_start_n
    call = make_call(n)
    call_s = _warm_seconds(call, sync)
    while call_s < plan.min_call_s and 2 * n <= max_n:
        n *= 2
        call = make_call(n)
        call_s = _warm_seconds(call, sync)
    best_s = _best_seconds(call, sync, _repeats(call_s, plan))
    return 2.0 * n**3 / best_s / 1e12, n


def _bandwidth_gbs(call: Call, sync: Call, bytes_moved: int, repeats: int) -> float:
    """GB/s of a call that moves ``bytes_moved``: one warm-up, then the best of ``repeats``."""
    _seconds(call, sync)
    return bytes_moved / _best_seconds(call, sync, repeats) / 1e9


def _device(
    name: str,
    gemm: Mapping[str, tuple[float, int]],
    copy_triad_gbs: tuple[float, float],
    array_bytes: int,
) -> DeviceCalibration:
    """The figures of one device, not yet compared with the catalog."""
    copy_gbs, triad_gbs = copy_triad_gbs
    return DeviceCalibration(
        name=name,
        gemm_tflops={precision: tflops for precision, (tflops, _) in gemm.items()},
        gemm_n={precision: n for precision, (_, n) in gemm.items()},
        copy_bandwidth_gbs=copy_gbs,
        triad_bandwidth_gbs=triad_gbs,
        memory_bandwidth_gbs=max(copy_gbs, triad_gbs),
        stream_array_bytes=array_bytes,
    )


# --- the catalog ------------------------------------------------------------------------------------


def _match(name: str, models: Mapping[str, str]) -> str | None:
    """The catalog key whose model name appears in ``name`` (the longest such model), if any."""
    found = [key for key, model in models.items() if model in name]
    return max(found, key=lambda key: len(models[key]), default=None)


def _compare(
    key: str, model: str, peak_tflops: Mapping[str, float], peak_gbs: float, measured: DeviceCalibration
) -> CatalogComparison:
    return CatalogComparison(
        key=key,
        model=model,
        peak_tflops=dict(peak_tflops),
        peak_memory_bandwidth_gbs=peak_gbs,
        gemm_fraction_of_peak={
            precision: measured.gemm_tflops[precision] / peak
            for precision, peak in peak_tflops.items()
            if precision in measured.gemm_tflops
        },
        memory_bandwidth_fraction_of_peak=measured.memory_bandwidth_gbs / peak_gbs,
    )


def _cpu_comparison(
    host: HostInfo, measured: DeviceCalibration, catalog: Mapping[str, CpuSpec]
) -> CatalogComparison | None:
    """Against the catalog CPU named in the model string. The FP64 peak is that of the cores this process
    may use (at most all cores of all sockets); memory bandwidth that of all sockets. The catalog has no
    fp32 peak, so fp32 has no fraction."""
    key = _match(host.cpu_model, {key: spec.model for key, spec in catalog.items()})
    if key is None:
        return None
    spec = catalog[key]
    cores = min(host.usable_cores, spec.cores * host.sockets)
    peaks = {"fp64": spec.fp64_tflops / spec.cores * cores}
    return _compare(key, spec.model, peaks, spec.memory_bandwidth_gbs * host.sockets, measured)


def _gpu_comparison(measured: DeviceCalibration, catalog: Mapping[str, GpuSpec]) -> CatalogComparison | None:
    """Against the catalog GPU named in the CUDA device name (peaks: ``GPU_GEMM_PEAK_FIELDS``)."""
    key = _match(measured.name, {key: spec.model for key, spec in catalog.items()})
    if key is None:
        return None
    spec = catalog[key]
    peaks = {precision: float(getattr(spec, field)) for precision, field in GPU_GEMM_PEAK_FIELDS.items()}
    return _compare(key, spec.model, peaks, spec.memory_bandwidth_gbs, measured)


# --- the CPU (numpy) --------------------------------------------------------------------------------


def _cpu_plan(quick: bool, seconds_per_kernel: float) -> _Plan:
    if quick:
        start = _CPU_GEMM_START_N
        return _Plan(start, start, 0.0, _QUICK_REPEATS, seconds_per_kernel, _QUICK_CPU_STREAM_BYTES)
    return _Plan(
        gemm_start_n=_CPU_GEMM_START_N,
        gemm_max_n=_CPU_GEMM_MAX_N,
        min_call_s=seconds_per_kernel / 8,
        max_repeats=_MAX_REPEATS,
        seconds_per_kernel=seconds_per_kernel,
        stream_array_bytes=_CPU_STREAM_BYTES,
    )


def _measure_cpu(host: HostInfo, plan: _Plan, catalog: Mapping[str, CpuSpec]) -> DeviceCalibration:
    gemm = {
        precision: _gemm_tflops(_numpy_gemm(dtype), _no_sync, plan, plan.gemm_max_n)
        for precision, dtype in CPU_PRECISIONS.items()
    }
    stream = _numpy_stream_gbs(plan, host.usable_cores)
    measured = _device(host.cpu_model, gemm, stream, plan.stream_array_bytes)
    return replace(measured, catalog=_cpu_comparison(host, measured, catalog))


def _numpy_gemm(dtype: type[np.floating[Any]]) -> Callable[[int], Call]:
    """n -> a call of ``c = a @ b`` on random n x n matrices of ``dtype`` (numpy's BLAS, all its threads)."""

    def make(n: int) -> Call:
        rng = np.random.default_rng(0)
        a = rng.random((n, n)).astype(dtype)
        b = rng.random((n, n)).astype(dtype)
        c = np.empty((n, n), dtype=dtype)
        return lambda: np.matmul(a, b, out=c)

    return make


def _numpy_stream_gbs(plan: _Plan, threads: int) -> tuple[float, float]:
    """Copy and triad GB/s over three fp64 arrays of ``plan.stream_array_bytes``, split among
    ``threads`` threads (numpy releases the GIL in its loops). The threads first touch their parts, so
    the pages lie near the cores that use them."""
    count = plan.stream_array_bytes // 8
    a, b, c = (np.empty(count) for _ in range(3))
    parts = list(_split(count, threads))
    with ThreadPoolExecutor(max_workers=threads) as pool:

        def parallel(kernel: Callable[[int, int], object]) -> Call:
            return lambda: [future.result() for future in [pool.submit(kernel, lo, hi) for lo, hi in parts]]

        parallel(_fill_kernel((a, b, c)))()
        copy_gbs = _bandwidth_gbs(parallel(_copy_kernel(a, b)), _no_sync, 2 * a.nbytes, plan.max_repeats)
        triad_gbs = _bandwidth_gbs(parallel(_triad_kernel(a, b, c)), _no_sync, 3 * a.nbytes, plan.max_repeats)
    return copy_gbs, triad_gbs


def _split(count: int, parts: int) -> Iterator[tuple[int, int]]:
    """``parts`` contiguous (start, stop) ranges covering ``range(count)``."""
    bounds = [count * part // parts for part in range(parts + 1)]
    return zip(bounds[:-1], bounds[1:], strict=True)


def _fill_kernel(arrays: tuple[np.ndarray[Any, Any], ...]) -> Callable[[int, int], object]:
    """Writes ones to ``[lo:hi]`` of every array (the first touch of its pages)."""

    def fill(lo: int, hi: int) -> None:
        for array in arrays:
            array[lo:hi] = 1.0

    return fill


def _copy_kernel(a: np.ndarray[Any, Any], b: np.ndarray[Any, Any]) -> Callable[[int, int], object]:
    """``a[lo:hi] = b[lo:hi]``: reads one array, writes one."""
    return lambda lo, hi: np.copyto(a[lo:hi], b[lo:hi])


def _triad_kernel(
    a: np.ndarray[Any, Any], b: np.ndarray[Any, Any], c: np.ndarray[Any, Any]
) -> Callable[[int, int], object]:
    """``a[lo:hi] = b[lo:hi] + s * c[lo:hi]`` block by block: ``s * c`` goes to a cache-sized temporary,
    so memory sees two arrays read and one written, as STREAM's fused loop."""

    def triad(lo: int, hi: int) -> None:
        scaled = np.empty(min(_TRIAD_BLOCK, hi - lo))
        for start in range(lo, hi, _TRIAD_BLOCK):
            stop = min(start + _TRIAD_BLOCK, hi)
            block = scaled[: stop - start]
            np.multiply(c[start:stop], _TRIAD_SCALAR, out=block)
            np.add(b[start:stop], block, out=a[start:stop])

    return triad


# --- the GPU (PyTorch) ------------------------------------------------------------------------------


def _import_torch() -> Any:
    """The ``torch`` module, or None where it is not installed (it is an optional dependency)."""
    try:
        return importlib.import_module("torch")
    except ImportError:
        return None


def _no_gpu_message(torch: Any) -> str:
    if torch is None:
        why = "PyTorch is not installed (pip install torch, a CUDA build)"
    else:
        why = f"torch {torch.__version__} is installed but torch.cuda.is_available() is False"
    return f"device 'gpu' needs PyTorch with a CUDA device: {why}; use device 'cpu' or 'auto'"


def _gpu_plan(quick: bool, seconds_per_kernel: float, memory_bytes: int) -> _Plan:
    """GEMM and STREAM sizes; the three STREAM arrays together take at most 3/8 of device memory."""
    if quick:
        start = _GPU_GEMM_START_N
        stream_bytes = min(_QUICK_GPU_STREAM_BYTES, memory_bytes // 8)
        return _Plan(start, start, 0.0, _QUICK_REPEATS, seconds_per_kernel, stream_bytes)
    stream_bytes = min(_GPU_STREAM_BYTES, memory_bytes // 8)
    return _Plan(
        gemm_start_n=_GPU_GEMM_START_N,
        gemm_max_n=_GPU_GEMM_MAX_N,
        min_call_s=seconds_per_kernel / 8,
        max_repeats=_MAX_REPEATS,
        seconds_per_kernel=seconds_per_kernel,
        stream_array_bytes=stream_bytes,
    )


def _fitting_n(plan: _Plan, itemsize: int, memory_bytes: int) -> int:
    """The largest GEMM size of the plan whose three matrices take at most a quarter of device memory."""
    n = plan.gemm_max_n
    while n > plan.gemm_start_n and 3 * n * n * itemsize > memory_bytes // 4:
        n //= 2
    return n


def _measure_gpu(
    torch: Any, quick: bool, seconds_per_kernel: float, catalog: Mapping[str, GpuSpec]
) -> DeviceCalibration:
    """GPU 0: GEMM in every ``GPU_PRECISIONS``, then copy and triad in device memory."""
    name = str(torch.cuda.get_device_name(0))
    memory_bytes = int(torch.cuda.get_device_properties(0).total_memory)
    plan = _gpu_plan(quick, seconds_per_kernel, memory_bytes)
    gemm = {precision: _torch_gemm(torch, precision, plan, memory_bytes) for precision in GPU_PRECISIONS}
    stream = _torch_stream_gbs(torch, plan)
    measured = _device(name, gemm, stream, plan.stream_array_bytes)
    return replace(measured, catalog=_gpu_comparison(measured, catalog))


def _torch_gemm(torch: Any, precision: str, plan: _Plan, memory_bytes: int) -> tuple[float, int]:
    """One precision's GEMM, with TF32 tensor cores allowed for ``tf32`` only; the setting is restored."""
    dtype_name, itemsize = GPU_PRECISIONS[precision]
    matmul_flags = torch.backends.cuda.matmul
    saved = matmul_flags.allow_tf32
    matmul_flags.allow_tf32 = precision == "tf32"
    try:
        make = _torch_square_gemm(torch, getattr(torch, dtype_name))
        return _gemm_tflops(make, torch.cuda.synchronize, plan, _fitting_n(plan, itemsize, memory_bytes))
    finally:
        matmul_flags.allow_tf32 = saved


def _torch_square_gemm(torch: Any, dtype: Any) -> Callable[[int], Call]:
    """n -> a call of ``torch.mm(a, b, out=c)`` on random n x n matrices of ``dtype`` on GPU 0."""

    def make(n: int) -> Call:
        a = torch.randn(n, n, dtype=dtype, device="cuda")
        b = torch.randn(n, n, dtype=dtype, device="cuda")
        c = torch.empty(n, n, dtype=dtype, device="cuda")
        return lambda: torch.mm(a, b, out=c)

    return make


def _torch_stream_gbs(torch: Any, plan: _Plan) -> tuple[float, float]:
    """Copy (``a.copy_(b)``) and triad (``torch.add(b, c, alpha=s, out=a)``, one fused kernel) GB/s over
    three fp32 arrays of ``plan.stream_array_bytes`` in device memory."""
    count = plan.stream_array_bytes // 4
    a, b, c = (torch.ones(count, dtype=torch.float32, device="cuda") for _ in range(3))
    array_bytes = count * int(a.element_size())
    sync = torch.cuda.synchronize
    copy_gbs = _bandwidth_gbs(lambda: a.copy_(b), sync, 2 * array_bytes, plan.max_repeats)
    triad_gbs = _bandwidth_gbs(
        lambda: torch.add(b, c, alpha=_TRIAD_SCALAR, out=a), sync, 3 * array_bytes, plan.max_repeats
    )
    return copy_gbs, triad_gbs
