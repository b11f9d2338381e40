"""Model parameters given by users (command line, workload files): checked against what a model accepts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pmtwin.machine.system import Machine
from pmtwin.perf.node import PerfModelError

GPU_PARTITION = "gpu"


def check_params(app: str, params: Mapping[str, Any], accepted: Mapping[str, type]) -> dict[str, Any]:
    """``params`` after checking every key is accepted and every value has the accepted type (an int is
    accepted where a float is); a PerfModelError names the first offending key."""
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
        checked[key] = value
    return checked


def default_gpu_node_type(machine: Machine) -> str:
    """The node type GPU jobs run on by default: the first of the ``gpu`` partition."""
    partition = machine.partitions.get(GPU_PARTITION)
    if partition is None:
        raise PerfModelError(f"{machine.name} has no {GPU_PARTITION!r} partition; name a node type")
    return partition.node_types[0]
