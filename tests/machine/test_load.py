"""Loading the packaged systems and the device catalog; the public names."""

from __future__ import annotations

from pathlib import Path

import pmtwin.machine
from pmtwin.machine import Machine, list_systems, load_devices, load_system


def test_public_names_are_pinned() -> None:
    assert sorted(pmtwin.machine.__all__) == [
        "CpuSpec",
        "DeviceCatalog",
        "GpuSpec",
        "Machine",
        "MachineConfigError",
        "NodeType",
        "Partition",
        "Pool",
        "list_systems",
        "load_devices",
        "load_system",
        "machine_summary",
        "peak_flops",
        "render_machine",
    ]


def test_list_systems() -> None:
    assert list_systems() == ["perlmutter", "perlmutter-2021"]


def test_every_listed_system_loads() -> None:
    for name in list_systems():
        machine = load_system(name)
        assert machine.name == name
        assert machine.description


def test_perlmutter_nodes(perlmutter: Machine) -> None:
    assert [(t.name, t.count) for t in perlmutter.node_types] == [
        ("gpu-40gb", 1536),
        ("gpu-80gb", 256),
        ("cpu", 3072),
        ("login", 40),
    ]
    assert perlmutter.node_count == 4904
    assert perlmutter.partition_node_counts() == {"gpu": 1792, "cpu": 3072}
    assert perlmutter.partition_of("login") is None


def test_perlmutter_2021_nodes(perlmutter_2021: Machine) -> None:
    assert [(t.name, t.count) for t in perlmutter_2021.node_types] == [
        ("gpu-40gb", 1536),
        ("cpu", 3072),
        ("login", 40),
    ]
    assert perlmutter_2021.partition_node_counts() == {"gpu": 1536, "cpu": 3072}


def test_node_devices(perlmutter: Machine) -> None:
    gpu80 = perlmutter.node_type("gpu-80gb")
    spec = perlmutter.gpu_spec(gpu80)
    assert spec is not None and spec.memory_gb == 80
    assert (gpu80.cpus_per_node, gpu80.gpus_per_node, gpu80.ddr_gb) == (1, 4, 256)
    cpu = perlmutter.node_type("cpu")
    assert perlmutter.gpu_spec(cpu) is None
    assert (cpu.cpus_per_node, cpu.ddr_gb) == (2, 512)


def test_a_path_loads_the_same_machine(tmp_path: Path, perlmutter: Machine, perlmutter_toml: str) -> None:
    path = tmp_path / "copy.toml"
    path.write_text(perlmutter_toml, encoding="utf-8")
    assert load_system(str(path)) == perlmutter


def test_device_catalog_has_the_named_devices() -> None:
    catalog = load_devices()
    assert sorted(catalog.gpu) == ["A100-SXM4-40GB", "A100-SXM4-80GB"]
    assert sorted(catalog.cpu) == ["EPYC-7713", "EPYC-7763"]
    assert all(spec.source for spec in catalog.gpu.values())
    assert all(spec.source for spec in catalog.cpu.values())
