"""Finding and loading system files: ``load_system('perlmutter')`` or ``load_system('path/to/x.toml')``."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from pmtwin.machine.devices import load_devices
from pmtwin.machine.errors import MachineConfigError, parse_toml, read_config_text, validate_config
from pmtwin.machine.system import Machine

SYSTEMS_DIR = "systems"
"""Packaged system files, ``systems/NAME.toml`` next to this module."""


def list_systems() -> list[str]:
    """Names of the packaged systems, sorted."""
    folder = files("pmtwin.machine").joinpath(SYSTEMS_DIR)
    return sorted(item.name.removesuffix(".toml") for item in folder.iterdir() if item.name.endswith(".toml"))


def load_system(name_or_path: str) -> Machine:
    """A packaged system by name (``perlmutter``), or the system file at a path (``./x.toml``).

    A string that ends in ``.toml`` or contains a path separator is a path. Every problem, from a
    missing file to a TOML syntax error to an invalid field, raises ``MachineConfigError`` naming the
    file and the field.
    """
    if name_or_path.endswith(".toml") or "/" in name_or_path or "\\" in name_or_path:
        label = name_or_path
        text = read_config_text(Path(name_or_path))
    else:
        known = list_systems()
        if name_or_path not in known:
            raise MachineConfigError(f"unknown system {name_or_path!r}; packaged systems: {', '.join(known)}")
        label = f"{name_or_path}.toml"
        resource = files("pmtwin.machine").joinpath(SYSTEMS_DIR, label)
        text = resource.read_text(encoding="utf-8")
    data = parse_toml(text, label)
    if "devices" in data:
        raise MachineConfigError(f"{label}: devices: device specifications belong in devices.toml")
    return validate_config(Machine, {**data, "devices": load_devices()}, label)
