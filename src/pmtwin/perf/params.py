"""What users give the models (command line, workload files), checked once for every model: parameters
against what a model accepts, node types against the machine, node counts against the node type."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from pmtwin.machine.system import Machine, NodeType
from pmtwin.perf.node import PerfModelError

GPU_PARTITION = "gpu"


def check_params(app: str, params: Mapping[str, Any], accepted: Mapping[str, type]) -> dict[str, Any]:
    """``params`` after checking every key is accepted and every value has the accepted type (an int is
    accepted where a float is); every number a model takes is a positive, finite quantity. A
    PerfModelError names the first offending key."""
    checked: dict[str, Any] = {}
    for key, value in params.items():
        if key not in accepted:
            known = ", ".join(sorted(accepted)) or "none"
            raise PerfModelError(f"{app}: unknown parameter {key!r} (known: {known})")
        kind = accepted[key]
        ok = isinstance(value, kind) and not (kind is not bool and isinstance(value, bool))
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            ok, value = True, float(value)
        if not ok:
            raise PerfModelError(f"{app}: parameter {key!r} must be {kind.__name__}, not {value!r}")
        if kind in (int, float) and not (math.isfinite(value) and value > 0):
            raise PerfModelError(f"{app}: parameter {key!r} must be a positive number, not {value!r}")
        checked[key] = value
    return checked


def default_gpu_node_type(machine: Machine) -> str:
    """The node type GPU jobs run on by default: the first of the ``gpu`` partition."""
    partition = machine.partitions.get(GPU_PARTITION)
    if partition is None:
        raise PerfModelError(f"{machine.name} has no {GPU_PARTITION!r} partition; name a node type")
    return partition.node_types[0]


def node_type_of(machine: Machine, name: str | None) -> NodeType:
    """The node type ``name`` (None: the default GPU node type); an unknown name lists the known ones."""
    name = default_gpu_node_type(machine) if name is None else name
    try:
        return machine.node_type(name)
    except KeyError:
        known = ", ".join(t.name for t in machine.node_types)
        raise PerfModelError(f"{machine.name}: no node type {name!r} (known: {known})") from None


def check_nodes(app: str, machine: Machine, kind: NodeType, nodes: int) -> None:
    """``nodes`` must be a whole number of nodes the node type has."""
    if isinstance(nodes, bool) or not isinstance(nodes, int) or not 1 <= nodes <= kind.count:
        where = f"{machine.name}/{kind.name}"
        raise PerfModelError(f"{app}: nodes must be 1..{kind.count} on {where}, not {nodes!r}")
