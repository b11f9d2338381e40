"""The power model of docs/power.md sections 1, 2, 4b and 5, checked against numbers worked out by hand
from the device catalog (``machine/devices.toml``) and the power classes (``physics/power_classes.toml``).

Catalog figures used by hand below:

- EPYC-7763: idle 100 W, TDP 280 W (span 180 W).
- A100-SXM4-40GB: idle 50 W, TDP 400 W (span 350 W), caps 100-400 W, clocks 210-1410 MHz.
- A100-SXM4-80GB: caps 100-500 W.
- DDR4-3200: 0.0625 W/GB idle, 0.15625 W/GB active (span 0.09375 W/GB).
- Slingshot-11: 20 W idle, 28 W max (span 8 W); Slingshot-10: 13 W idle, 15.6 W max (span 2.6 W).
"""

from __future__ import annotations

import math
import tomllib
from importlib.resources import files
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pmtwin.machine import Machine, load_system
from pmtwin.machine.devices import GpuSpec
from pmtwin.physics.power import (
    Phase,
    PowerClass,
    PowerModelError,
    check_gpu_cap,
    conversion_efficiency,
    gpu_draw,
    job_power,
    load_power_classes,
    node_draw,
    node_idle_w,
    pue,
    static_power,
)
from pmtwin.physics.validation import TOP500_NOV2021_POWER_KW, validation_rows

TINY_TOML = """
name = "tiny"
description = "two node types for hand-computed power"
source = "tests/physics"

[[node_types]]
name = "g"
count = 5
cpu = "EPYC-7763"
cpus_per_node = 1
gpu = "A100-SXM4-40GB"
gpus_per_node = 4
ddr_gb = 256
nics_per_node = 4
nodes_per_cabinet = 2
memory = "DDR4-3200"
nic = "Slingshot-11"
baseline_w = 40
switches_per_cabinet = 4
source = "test"

[[node_types]]
name = "c"
count = 3
cpu = "EPYC-7763"
cpus_per_node = 2
ddr_gb = 512
nics_per_node = 1
nodes_per_cabinet = 4
memory = "DDR4-3200"
nic = "Slingshot-11"
baseline_w = 40
switches_per_cabinet = 2
source = "test"

[partitions.gpu]
node_types = ["g"]

[partitions.cpu]
node_types = ["c"]

[facility]
switch_w = 250
storage_w = 1000
conversion_efficiency = 0.9
pue_min = 1.1
pue_max = 1.3
free_cooling_max_c = 20.0
pue_max_at_c = 30.0
source = "test"
"""

CLASSES = load_power_classes()
REL = 1e-12


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Machine:
    path = tmp_path_factory.mktemp("machine") / "tiny.toml"
    path.write_text(TINY_TOML, encoding="utf-8")
    return load_system(str(path))


@pytest.fixture(scope="module")
def a100_40() -> GpuSpec:
    return load_system("perlmutter").devices.gpu["A100-SXM4-40GB"]


def cls(name: str) -> PowerClass:
    return CLASSES.classes[name]


def phase(name: str, k: int = 0) -> Phase:
    return CLASSES.classes[name].phases[k]


# -- section 1: node power -------------------------------------------------------------------------


def test_idle_node_power_by_hand(tiny: Machine) -> None:
    # g: baseline 40 + 1 CPU x 100 + 4 GPUs x 50 + 256 GB x 0.0625 + 4 NICs x 20 = 40+100+200+16+80 = 436
    assert node_idle_w(tiny, tiny.node_type("g")) == pytest.approx(436.0, rel=REL)
    # c: 40 + 2 x 100 + 512 x 0.0625 + 1 x 20 = 40+200+32+20 = 292
    assert node_idle_w(tiny, tiny.node_type("c")) == pytest.approx(292.0, rel=REL)


def test_active_node_power_by_hand(tiny: Machine) -> None:
    g, c = tiny.node_type("g"), tiny.node_type("c")
    # g, gpu_memory_bound (cpu .15, gpu .55, memory .2, nic .3):
    #   CPU 100 + 180 x .15 = 127; GPUs 4 x (50 + 350 x .55) = 4 x 242.5 = 970;
    #   DDR 256 x (.0625 + .09375 x .2) = 256 x .08125 = 20.8; NICs 4 x (20 + 8 x .3) = 89.6
    #   40 + 127 + 970 + 20.8 + 89.6 = 1247.4
    draw = node_draw(tiny, g, cls("gpu_memory_bound"), None)
    assert draw.power_w == pytest.approx(1247.4, rel=REL)
    assert draw.rate == 1.0
    # g, hpl (cpu .125, memory .2, nic .5 in both phases; GPUs at 400 W for 0.639 of the time and at
    #   50 + 350 x 0.109 = 88.15 W for 0.361: 255.6 + 31.82215 = 287.42215 W):
    #   CPU 100 + 22.5 = 122.5; GPUs 4 x 287.42215 = 1149.6886; DDR 20.8; NICs 4 x 24 = 96
    #   40 + 122.5 + 1149.6886 + 20.8 + 96 = 1428.9886
    assert node_draw(tiny, g, cls("hpl"), None).power_w == pytest.approx(1428.9886, rel=REL)
    # c, cpu_compute (cpu .9, memory .5, nic .3):
    #   CPUs 2 x (100 + 162) = 524; DDR 512 x (.0625 + .046875) = 56; NIC 20 + 2.4 = 22.4
    #   40 + 524 + 56 + 22.4 = 642.4
    draw = node_draw(tiny, c, cls("cpu_compute"), None)
    assert draw.power_w == pytest.approx(642.4, rel=REL)
    assert draw.rate == 1.0
    # c, cpu_memory_bound (cpu .6, memory .9, nic .3):
    #   CPUs 2 x (100 + 108) = 416; DDR 512 x (.0625 + .084375) = 75.2; NIC 22.4 -> 553.6
    assert node_draw(tiny, c, cls("cpu_memory_bound"), None).power_w == pytest.approx(553.6, rel=REL)


def test_all_utilizations_one_is_full_tdp(tiny: Machine) -> None:
    full = PowerClass.model_validate(
        {"cpu": 1, "gpu": 1, "memory": 1, "nic": 1, "gpu_clock_bound": 0, "source": "test"}
    )
    # g: 40 + 280 + 4 x 400 + 256 x 0.15625 + 4 x 28 = 40 + 280 + 1600 + 40 + 112 = 2072
    assert node_draw(tiny, tiny.node_type("g"), full, None).power_w == pytest.approx(2072.0, rel=REL)
    # c: 40 + 2 x 280 + 512 x 0.15625 + 28 = 40 + 560 + 80 + 28 = 708
    assert node_draw(tiny, tiny.node_type("c"), full, None).power_w == pytest.approx(708.0, rel=REL)


def test_static_power_by_hand(tiny: Machine) -> None:
    static = static_power(tiny)
    # nodes: 5 x 436 + 3 x 292 = 2180 + 876 = 3056
    assert static.idle_nodes_w == pytest.approx(3056.0, rel=REL)
    # cabinets: g ceil(5 / 2) = 3 x 4 switches, c ceil(3 / 4) = 1 x 2 switches: 14 x 250 W = 3500
    assert static.switches_w == 3500.0
    assert static.storage_w == 1000.0
    assert static.total_w == pytest.approx(7556.0, rel=REL)
    assert conversion_efficiency(tiny) == 0.9


def test_machine_without_facility_has_no_overheads(tmp_path: Path) -> None:
    path = tmp_path / "bare.toml"
    path.write_text(TINY_TOML.split("[facility]")[0], encoding="utf-8")
    bare = load_system(str(path))
    static = static_power(bare)
    assert (static.idle_nodes_w, static.switches_w, static.storage_w) == pytest.approx((3056.0, 0.0, 0.0))
    assert conversion_efficiency(bare) == 1.0
    assert pue(bare, 35.0).tolist() == [1.0]


def test_pue_ramp(tiny: Machine) -> None:
    # pue_min 1.1 up to 20 C, linear to pue_max 1.3 at 30 C, constant above; pue_min without a temperature
    temps = np.array([-5.0, 10.0, 20.0, 22.5, 25.0, 30.0, 45.0])
    expected = [1.1, 1.1, 1.1, 1.15, 1.2, 1.3, 1.3]
    assert pue(tiny, temps) == pytest.approx(expected, rel=REL)
    assert pue(tiny, None).tolist() == [1.1]
    assert pue(tiny, 25.0) == pytest.approx([1.2], rel=REL)


def test_perlmutter_pue_midway() -> None:
    # 1.05 up to 21 C, 1.08 at 30 C: at 25.5 C, half way
    assert pue(load_system("perlmutter"), 25.5) == pytest.approx([1.065], rel=REL)


def test_job_power_by_hand(tiny: Machine) -> None:
    # pools: 0 = g, 1 = c. Jobs: (pool, size, fractions of cores/GPUs/memory, class)
    #   1: g, 2 nodes, whole, default (gpu_memory_bound): 2 x (1247.4 - 436) = 1622.8 W
    #   2: c, 3 nodes, whole, default (cpu_compute): 3 x (642.4 - 292) = 1051.2 W
    #   3: g, 1 node, a quarter of everything, hpl: 0.25 x (1428.9886 - 436) = 248.24715 W
    #   4: c, 1 node, whole, cpu_memory_bound: 553.6 - 292 = 261.6 W
    #   5: g, 1 node, half the cores, one GPU, no memory, gpu_memory_bound. Dynamic power of a g node
    #      by component: CPU 180 x 0.15 = 27 W; GPUs 4 x (242.5 - 50) = 770 W; DDR 256 GB x 0.09375 x 0.2
    #      = 4.8 W; NICs 4 x 8 x 0.3 = 9.6 W (they follow the cores): 0.5 x 27 + 0.25 x 770 + 0 + 0.5 x 9.6
    #      = 210.8 W; idle attributed by cores: 0.5 x 436 = 218 W
    node_types = [tiny.node_type("g"), tiny.node_type("c")]
    names = ("", "hpl", "cpu_memory_bound")
    fractions = np.array([[1, 1, 1], [1, 1, 1], [0.25, 0.25, 0.25], [1, 1, 1], [0.5, 0.25, 0.0]])
    power = job_power(
        tiny, node_types, np.array([0, 1, 0, 1, 0], np.int32), np.array([2, 3, 1, 1, 1], np.int64),
        fractions, (np.array([0, 0, 1, 2, 0], np.int32), names), CLASSES, None,
    )  # fmt: skip
    assert power.added_mw.tolist() == [1622800, 1051200, 248248, 261600, 210800]
    assert power.idle_w == pytest.approx([2 * 436.0, 3 * 292.0, 0.25 * 436.0, 292.0, 218.0], rel=REL)
    assert power.rate.tolist() == [1.0, 1.0, 1.0, 1.0, 1.0]
    assert [power.class_names[k] for k in power.class_code] == [
        "gpu_memory_bound", "cpu_compute", "hpl", "cpu_memory_bound", "gpu_memory_bound",
    ]  # fmt: skip
    with pytest.raises(PowerModelError, match="unknown power class 'nope'"):
        job_power(
            tiny, node_types, np.array([0], np.int32), np.array([1], np.int64), np.ones((1, 3)),
            (np.array([0], np.int32), ("nope",)), CLASSES, None,
        )  # fmt: skip


# -- section 4b: GPU caps --------------------------------------------------------------------------


def test_cap_above_natural_power_changes_nothing(a100_40: GpuSpec) -> None:
    # gpu_memory_bound: 50 + 350 x 0.55 = 242.5 W
    for cap in (None, 242.5, 300.0, 400.0):
        draw = gpu_draw(a100_40, phase("gpu_memory_bound"), cap)
        assert draw.power_w == pytest.approx(242.5, rel=REL)
        assert draw.rate == 1.0


def test_cap_by_hand(a100_40: GpuSpec) -> None:
    # gpu_memory_bound under 150 W: phi = ((150 - 50) / (242.5 - 50))^(1/3) = (0.519481)^(1/3) = 0.803877;
    # clock-bound share 0.25: rate = 1 / (0.75 + 0.25 / 0.803877) = 1 / 1.060993 = 0.942514
    draw = gpu_draw(a100_40, phase("gpu_memory_bound"), 150.0)
    phi = (100.0 / 192.5) ** (1 / 3)
    assert draw.power_w == 150.0
    assert draw.rate == pytest.approx(1.0 / (0.75 + 0.25 / phi), rel=REL)
    assert draw.rate == pytest.approx(0.942514, abs=1e-6)


def test_hpl_under_a_cap_slows_its_dgemm_phase_only() -> None:
    # hpl under 200 W: the DGEMM phase (400 W natural, all clock-bound) runs at phi = (150 / 350)^(1/3)
    # and draws 200 W; the waiting phase (88.15 W natural) is below the cap and unchanged. The run
    # stretches to 0.639 / phi + 0.361 of its length; the GPUs' mean power is weighted by the phases'
    # capped durations.
    machine = load_system("perlmutter-2021")
    node = machine.node_type("gpu-40gb")
    draw = node_draw(machine, node, cls("hpl"), 200.0)
    phi = (150.0 / 350.0) ** (1 / 3)
    dgemm_s, wait_s = 0.639 / phi, 0.361
    assert draw.rate == pytest.approx(1.0 / (dgemm_s + wait_s), rel=1e-12)
    mean_gpu_w = (dgemm_s * 200.0 + wait_s * (50.0 + 350.0 * 0.109)) / (dgemm_s + wait_s)
    assert draw.gpu_w == pytest.approx(4 * mean_gpu_w, rel=1e-12)
    # a 300 W cap is above HPL's mean GPU power (287 W) yet still slows it: its DGEMM phase draws 400 W
    assert node_draw(machine, node, cls("hpl"), 300.0).rate < 1.0


def test_cap_clock_never_below_the_lowest_clock(a100_40: GpuSpec) -> None:
    # hpl's DGEMM phase capped at 50.5 W: (0.5 / 350)^(1/3) = 0.113 < 210 / 1410 = 0.1489, so phi =
    # 210 / 1410 and the GPU draws above the cap: 50 + 350 x (210 / 1410)^3 = 51.156 W
    draw = gpu_draw(a100_40, phase("hpl", 0), 50.5)
    assert draw.power_w == pytest.approx(50.0 + 350.0 * (210 / 1410) ** 3, rel=1e-12)
    assert draw.power_w > 50.5
    assert draw.rate == pytest.approx(210 / 1410, rel=1e-12)


def test_class_without_clock_bound_share_keeps_rate_one(a100_40: GpuSpec) -> None:
    hungry = Phase(time_share=1.0, cpu=0, gpu=0.9, memory=0, nic=0, gpu_clock_bound=0)
    draw = gpu_draw(a100_40, hungry, 150.0)  # natural 365 W
    assert (draw.power_w, draw.rate) == (150.0, 1.0)
    draw = gpu_draw(a100_40, phase("idle_waiting"), 100.0)  # natural 50 + 350 x 0.109 = 88.15 W < cap
    assert draw.power_w == pytest.approx(88.15, rel=REL)
    assert draw.rate == 1.0


CAPPED_PHASES = sorted(
    (name, k) for name, c in CLASSES.classes.items() for k, p in enumerate(c.phases) if p.gpu_clock_bound > 0
)


@settings(max_examples=100, derandomize=True, database=None, deadline=None)
@given(
    which=st.sampled_from(CAPPED_PHASES),
    caps=st.tuples(st.floats(100.0, 400.0), st.floats(100.0, 400.0)),
)
def test_rate_falls_as_the_cap_falls(which: tuple[str, int], caps: tuple[float, float]) -> None:
    gpu = load_system("perlmutter").devices.gpu["A100-SXM4-40GB"]
    low, high = sorted(caps)
    power_phase = phase(*which)
    natural = 50.0 + 350.0 * power_phase.gpu
    a, b = gpu_draw(gpu, power_phase, low), gpu_draw(gpu, power_phase, high)
    assert a.power_w == pytest.approx(min(low, natural), rel=REL)
    assert b.power_w == pytest.approx(min(high, natural), rel=REL)
    assert 0.0 < a.rate <= b.rate <= 1.0
    if low < natural:
        assert a.rate < 1.0
    if low < high and low < natural:
        assert a.rate < b.rate


def test_node_draw_under_a_cap(tiny: Machine) -> None:
    # g, gpu_memory_bound with 150 W GPUs: 1247.4 - 4 x (242.5 - 150) = 877.4 W, rate as one GPU's
    g = tiny.node_type("g")
    draw = node_draw(tiny, g, cls("gpu_memory_bound"), 150.0)
    assert draw.power_w == pytest.approx(877.4, rel=REL)
    assert draw.rate == pytest.approx(1.0 / (0.75 + 0.25 * (192.5 / 100.0) ** (1 / 3)), rel=REL)
    # a CPU node has no GPU: the cap changes nothing
    c = tiny.node_type("c")
    assert node_draw(tiny, c, cls("cpu_compute"), 150.0) == node_draw(tiny, c, cls("cpu_compute"), None)


# -- the hpl class derivation in power_classes.toml ------------------------------------------------


def test_hpl_class_derivation() -> None:
    machine = load_system("perlmutter-2021")
    gpu_nodes = machine.node_type("gpu-40gb")
    gpu = machine.gpu_spec(gpu_nodes)
    assert gpu is not None
    gpus = gpu_nodes.count * gpu_nodes.gpus_per_node
    assert gpus == 6144
    # duty = achieved FP64 per GPU / DGEMM rate at 1,305 MHz (GKLF), Rmax 70.87 PF (TOP500 Nov 2021)
    duty = (70.87e15 / gpus) / (gpu.fp64_tensor_tflops * 1e12 * 1305 / gpu.boost_clock_mhz)
    assert duty == pytest.approx((70.87e15 / 6144) / (19.5e12 * 1305 / 1410), rel=REL)
    context_w = 88.0  # idle 50 W + 38 W for an open CUDA context
    assert gpu.idle_w == 50.0 and gpu.tdp_w == 400.0
    u = (duty * gpu.tdp_w + (1 - duty) * context_w - gpu.idle_w) / (gpu.tdp_w - gpu.idle_w)
    raw = tomllib.loads(files("pmtwin.physics").joinpath("power_classes.toml").read_text(encoding="utf-8"))
    dgemm, wait = raw["classes"]["hpl"]["phases"]
    assert round(duty, 3) == dgemm["time_share"] == 0.639
    assert wait["time_share"] == pytest.approx(1 - 0.639, rel=REL)
    assert dgemm["gpu"] == 1.0 and dgemm["gpu_clock_bound"] == 1.0
    assert round((context_w - gpu.idle_w) / (gpu.tdp_w - gpu.idle_w), 3) == wait["gpu"] == 0.109
    assert wait["gpu_clock_bound"] == 0.0
    assert round(u, 3) == round(dgemm["time_share"] * dgemm["gpu"] + wait["time_share"] * wait["gpu"], 3)
    # the idle_waiting class: 38 W of context over the 350 W span
    assert round(38.0 / 350.0, 3) == raw["classes"]["idle_waiting"]["gpu"]


# -- check_gpu_cap -----------------------------------------------------------------------------------


def test_check_gpu_cap_refuses_caps_outside_the_range() -> None:
    machine = load_system("perlmutter")
    forty, eighty, cpu = (machine.node_type(n) for n in ("gpu-40gb", "gpu-80gb", "cpu"))
    for cap in (50.0, 99.9, 400.5, 450.0):
        with pytest.raises(PowerModelError, match=r"A100-SXM4-40GB accepts caps from 100 to 400 W"):
            check_gpu_cap(machine, [forty, cpu], cap)
    for cap in (100.0, 250.0, 400.0):
        check_gpu_cap(machine, [forty, eighty, cpu], cap)
    check_gpu_cap(machine, [eighty], 450.0)  # the 80 GB part accepts up to 500 W
    with pytest.raises(PowerModelError, match=r"from 100 to 500 W"):
        check_gpu_cap(machine, [eighty], 501.0)
    check_gpu_cap(machine, [cpu], 5000.0)  # no GPU: nothing to check but the sign
    for bad in (0.0, -10.0, math.nan, math.inf):
        with pytest.raises(PowerModelError, match="positive number of watts"):
            check_gpu_cap(machine, [cpu], bad)


# -- section 5: HPL validation -----------------------------------------------------------------------


def test_hpl_validation_row() -> None:
    rows = [row.as_json() for row in validation_rows()]
    hpl = next(row for row in rows if row["name"].startswith("HPL power"))
    assert set(hpl) == {"name", "predicted", "published", "unit", "error_pct", "target_pct", "source"}
    assert hpl["published"] == TOP500_NOV2021_POWER_KW == 2589.0
    assert hpl["unit"] == "kW"
    assert hpl["error_pct"] == pytest.approx((hpl["predicted"] - 2589.0) / 2589.0 * 100.0, rel=REL)
    machine = load_system("perlmutter-2021")
    gpu_nodes = machine.node_type("gpu-40gb")
    node_w = node_draw(machine, gpu_nodes, cls("hpl"), None).power_w
    # perlmutter-2021 GPU node (2 Slingshot-10 NICs), hpl:
    #   40 + (100 + 22.5) + 4 x 287.42215 + 256 x 0.08125 + 2 x (13 + 1.3)
    #   = 40 + 122.5 + 1149.6886 + 20.8 + 28.6 = 1361.5886
    assert node_w == pytest.approx(1361.5886, rel=REL)
    assert gpu_nodes.cabinet_count == 12
    # (1536 x 1361.5886 + 12 cabinets x 32 switches x 250 W) / 0.92 = 2,187,400.09 / 0.92 W = 2377.609 kW
    assert hpl["predicted"] == pytest.approx((1536 * node_w + 12 * 32 * 250) / 0.92 / 1000.0, rel=REL)
    assert hpl["predicted"] == pytest.approx(2187400.0896 / 0.92 / 1000.0, rel=1e-9)
    assert hpl["error_pct"] == pytest.approx(-8.165, abs=1e-3)
