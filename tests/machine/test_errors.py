"""Bad system and device files: a MachineConfigError naming the file and the field, nothing raw."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pmtwin.machine import MachineConfigError, load_devices, load_system

Variant = Callable[[str, str], Path]


def load_error(path: Path) -> str:
    with pytest.raises(MachineConfigError) as info:
        load_system(str(path))
    error = info.value
    assert isinstance(error, ValueError)
    assert error.__cause__ is None, "no chained pydantic traceback"
    assert error.__context__ is None or error.__suppress_context__
    assert "pydantic" not in str(error)
    assert str(error).startswith(f"{path}: ")
    return str(error)


def test_unknown_node_type_in_partition(variant: Variant) -> None:
    path = variant('node_types = ["gpu-40gb", "gpu-80gb"]', 'node_types = ["gpu-90gb", "gpu-80gb"]')
    message = load_error(path)
    assert message.startswith(f"{path}: partitions.gpu.node_types[0]: unknown node type 'gpu-90gb'")
    assert "valid: gpu-40gb, gpu-80gb, cpu, login" in message


INVALID_FIELDS = [
    # (text in perlmutter.toml, its replacement, expected "field.path: message")
    ("count = 256 ", "count = -256 ", "node_types[1].count: Input should be greater than 0 (got -256)"),
    ("count = 256 ", 'count = "x" ', "node_types[1].count: Input should be a valid integer (got 'x')"),
    ("ddr_gb = 512", "ddr_gb = 512\ncolour = 1", "node_types[2].colour: Extra inputs are not permitted"),
    ('name = "login"', 'name = "cpu"', "node_types[3].name: duplicate node type 'cpu'"),
    ('gpu = "A100-SXM4-80GB"', 'gpu = "A200"', "node_types[1].gpu: unknown GPU 'A200'"),
    ('cpu = "EPYC-7713"', 'cpu = "EPYC-9654"', "node_types[3].cpu: unknown CPU 'EPYC-9654'"),
    (
        "gpus_per_node = 1 ",
        "gpus_per_node = 0 ",
        "node_types[3]: gpu and gpus_per_node must be given together",
    ),
    ('description = "CPU-only nodes"', "node_count = 3", "partitions.cpu.node_count: Extra inputs"),
    (
        'node_types = ["cpu"]',
        'node_types = ["cpu", "gpu-80gb"]',
        "partitions.cpu.node_types[1]: node type 'gpu-80gb' is already in partition 'gpu'",
    ),
    (
        'node_types = ["cpu"]',
        'node_types = ["cpu", "login"]',
        "partitions.cpu.node_types[1]: node type 'login' is in a partition but gives no ddr_gb",
    ),
    (
        'features = ["gpu", "hbm80g"]',
        'features = ["gpu"]',
        "partitions.gpu.node_types[1]: no constraint reaches node type 'gpu-80gb'",
    ),
    ('name = "perlmutter"', 'name = ""', "name: String should have at least 1 character"),
    ("nodes_per_cabinet = 40 ", "", "node_types[3].nodes_per_cabinet: Field required"),
    ("[partitions.cpu]", "[devices.gpu.X]\n[partitions.cpu]", "devices: device specifications belong in"),
]


@pytest.mark.parametrize(("old", "new", "expected"), INVALID_FIELDS)
def test_invalid_field(variant: Variant, old: str, new: str, expected: str) -> None:
    path = variant(old, new)
    assert expected in load_error(path)


def test_every_error_is_reported(variant: Variant, tmp_path: Path) -> None:
    path = variant("count = 256 ", "count = 0 ")
    path.write_text(path.read_text().replace("ddr_gb = 512", "ddr_gb = -1"), encoding="utf-8")
    lines = load_error(path).splitlines()
    assert [line.split(": ")[1] for line in lines] == ["node_types[1].count", "node_types[2].ddr_gb"]


def test_toml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text('name = "broken"\ndescription = \n', encoding="utf-8")
    message = load_error(path)
    assert "invalid TOML" in message
    assert "line 2" in message


def test_missing_file(tmp_path: Path) -> None:
    message = load_error(tmp_path / "absent.toml")
    assert "cannot read config file: No such file or directory" in message


def test_missing_device_catalog(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"
    with pytest.raises(MachineConfigError, match=f"^{path}: cannot read config file"):
        load_devices(path)


def test_unknown_system_name() -> None:
    with pytest.raises(MachineConfigError, match="unknown system 'cori'; packaged systems: perlmutter, "):
        load_system("cori")


def test_bad_device_catalog_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "devices.toml"
    fields = {
        "cores": 0,
        "threads": 2,
        "base_clock_ghz": 2.0,
        "boost_clock_ghz": 3.0,
        "l3_cache_mb": 32,
        "fp64_flop_per_cycle": 16,
        "ddr_channels": 8,
        "ddr_mts": 3200,
        "tdp_w": 100,
    }
    body = "".join(f"{key} = {value}\n" for key, value in fields.items())
    path.write_text(f'[gpu]\n[cpu.X]\nmodel = "X"\nsource = "t"\n{body}', encoding="utf-8")
    with pytest.raises(MachineConfigError) as info:
        load_devices(path)
    assert str(info.value) == f"{path}: cpu.X.cores: Input should be greater than 0 (got 0)"


def test_messages_use_toml_terms(variant: Variant) -> None:
    message = load_error(variant('features = ["cpu"]', 'features = "cpu"'))
    assert "node_types[2].features: Input should be a valid array (got 'cpu')" in message
