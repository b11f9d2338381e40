"""A pmtwin machine from a Slurm configuration file: its ``NodeName`` and ``PartitionName`` lines.

Syntax read: ``Key=Value`` pairs separated by blanks (double quotes may hold blanks), keys in any case,
``#`` starts a comment (``\\#`` is a literal ``#``), a trailing backslash joins the next line on, and
``NodeName=DEFAULT ...`` / ``PartitionName=DEFAULT ...`` give defaults to the lines after them. ``Include``
lines are not followed: each becomes a note and the import goes on without it. Other lines are ignored,
except ``ClusterName``, the default machine name (else the file name).

Choices, because a pmtwin machine needs what a slurm.conf does not say (``SlurmImport.notes`` lists the
ones a given file relied on):

- Node types: nodes with equal sockets, cores per socket, threads per core, RealMemory, GPU count and
  type, Features and partition form one node type, named after its Features joined by ``-``
  (``gpu-hbm80g``), else after the NodeName prefix (``nid``); a repeated name gets ``-2``, ``-3``. Node
  types, hence node ids, follow the order in which each type's first node is defined.
- ``ddr_gb`` is RealMemory / 1024 (Slurm megabytes are MiB); sockets become ``cpus_per_node``.
- CPU: slurm.conf names no model, so the first catalog CPU with as many cores per socket is taken; with
  none, a placeholder CPU (``generic-12c-12t``: its core and thread counts, every other figure a
  nominal 1) goes into ``Machine.extra_devices``.
- GPU: the catalog GPUs whose name or model contains each word of the Gres type (all of them for an
  untyped ``gpu:4``), kept to the memory size a type word or a feature names (``80gb``, ``hbm80g``) if
  any; the first of them is taken. With none, a placeholder GPU like the placeholder CPU.
- Partitions: a node is in the first partition (file order) that lists it; later overlaps are notes and
  a partition left without nodes is dropped with a note. MaxTime and MaxNodes are recorded, not
  enforced. Within a partition, node types are ordered by number of features, then lowest Weight, then
  file order; the first is where jobs without a constraint run. Two node types with the same Features
  in one partition are an error: no constraint could tell them apart.
- Cabinets and NICs are not in a slurm.conf: one cabinet per node type, ``nics_per_node = 0``.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pmtwin.machine._hostlist import expand_hostlist
from pmtwin.machine.devices import CpuSpec, DeviceCatalog, GpuSpec, load_devices
from pmtwin.machine.errors import MachineConfigError, read_config_text, validate_config
from pmtwin.machine.system import Machine

__all__ = ["SlurmImport", "expand_hostlist", "machine_from_slurm_conf", "system_toml"]

UNLIMITED = ("UNLIMITED", "INFINITE")
MIB_PER_GIB = 1024
MEMORY_HINT = re.compile(r"(?:hbm)?([0-9]+)gb?", re.IGNORECASE)
"""A memory size in a GPU type or node feature: ``hbm80g``, ``80gb``, ``40g``."""
BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class SlurmImport:
    """A machine built from a slurm.conf, and notes on what the import assumed, skipped or dropped."""

    machine: Machine
    notes: tuple[str, ...]


@dataclass(frozen=True)
class _Setting:
    """One ``Key=Value``: the key as written and the line it is on."""

    key: str
    value: str
    line: int


Settings = dict[str, _Setting]
"""A line's settings by lower-case key."""

Extra = dict[str, dict[str, Any]]
"""Placeholder devices by kind ("gpu", "cpu") and name: the data of ``Machine.extra_devices``."""


@dataclass(frozen=True)
class _Conf:
    nodes: list[Settings]
    partitions: list[Settings]
    cluster_name: str | None
    notes: list[str]


@dataclass(frozen=True)
class _NodeLine:
    """A NodeName line, defaults applied: its hosts and their hardware."""

    line: int
    pattern: str
    hosts: list[str]
    sockets: int
    cores_per_socket: int
    threads_per_core: int
    real_memory_mb: int | None
    gpus: int
    gpu_type: str | None
    features: tuple[str, ...]
    weight: int

    def hardware(self) -> tuple[object, ...]:
        return (self.sockets, self.cores_per_socket, self.threads_per_core, self.real_memory_mb,
                self.gpus, self.gpu_type, frozenset(self.features))


@dataclass(frozen=True)
class _PartitionLine:
    name: str
    line: int
    hosts: list[str] | None
    """None for ``Nodes=ALL``."""
    default: bool
    max_time_s: int | None
    max_nodes: int | None
    state: str


@dataclass
class _Group:
    """Nodes of one future node type: equal hardware and features, same partition; lowest Weight."""

    first: _NodeLine
    partition: str | None
    weight: int
    lines: list[int] = field(default_factory=list)
    count: int = 0


def machine_from_slurm_conf(path: str | Path, name: str | None = None) -> SlurmImport:
    """The machine that ``path``'s NodeName and PartitionName lines describe (see the module notes).

    ``name`` defaults to the file's ClusterName, else the file name. Every mistake raises
    ``MachineConfigError`` naming the file, the line and the field.
    """
    label = str(path)
    conf = _read_conf(read_config_text(Path(path)), label)
    nodes = [_node_line(settings, label) for settings in conf.nodes]
    if not nodes:
        skipped = f"; Include lines were not followed ({len(conf.notes)})" if conf.notes else ""
        raise MachineConfigError(
            f"{label}: no active NodeName line (commented-out lines do not count){skipped}; "
            "a machine needs its nodes"
        )
    partitions = _partition_lines(conf.partitions, label)
    notes = list(conf.notes)
    groups = _group_nodes(nodes, partitions, label, notes)
    machine_name = name if name is not None else conf.cluster_name or Path(path).name
    data = _machine_data(machine_name, groups, partitions, label, notes)
    machine = validate_config(Machine, data, label)
    return SlurmImport(machine, tuple(dict.fromkeys(notes)))


def system_toml(imported: SlurmImport) -> str:
    """A system file that ``load_system`` reads back to an equal machine; the notes are its comments."""
    machine = imported.machine
    lines = [f"# Written by `pmtwin machine from-slurm`. {_comment(machine.source)}"]
    lines += [f"# note: {_comment(note)}" for note in imported.notes]
    lines += ["", *_pairs({key: getattr(machine, key) for key in ("name", "description", "source")})]
    for node_type in machine.node_types:
        lines += ["", "[[node_types]]", *_pairs(node_type.model_dump(exclude_none=True))]
    for partition_name, partition in machine.partitions.items():
        header = f"[partitions.{_key(partition_name)}]"
        lines += ["", header, *_pairs(partition.model_dump(exclude_none=True))]
    extra = machine.extra_devices
    if extra.gpu or extra.cpu:
        for kind, specs in (("gpu", extra.gpu), ("cpu", extra.cpu)):
            if not specs:
                lines += ["", f"[extra_devices.{kind}]"]
            for device_name, spec in specs.items():
                fields = _pairs(spec.model_dump(exclude_none=True))
                lines += ["", f"[extra_devices.{kind}.{_key(device_name)}]", *fields]
    return "\n".join(lines) + "\n"


# -- reading the file -----------------------------------------------------------------------------


def _read_conf(text: str, label: str) -> _Conf:
    """NodeName and PartitionName lines with their DEFAULT lines applied, ClusterName, Include notes."""
    nodes: list[Settings] = []
    partitions: list[Settings] = []
    defaults: dict[str, Settings] = {"nodename": {}, "partitionname": {}}
    cluster_name: str | None = None
    notes: list[str] = []
    for line, logical in _logical_lines(text):
        word = re.match(r"\s*([A-Za-z]*)", logical)
        first_word = word.group(1).lower() if word else ""
        if first_word == "include":
            notes.append(f"{label}:{line}: Include not followed: {logical.strip()}")
            continue
        if first_word not in ("clustername", *defaults):
            continue
        settings = _settings(logical, line, label)
        kind, head = next(iter(settings.items()))
        own = {key: value for key, value in settings.items() if key != kind}
        if kind == "clustername":
            cluster_name = head.value or None
        elif head.value.upper() == "DEFAULT":
            defaults[kind] |= own
        else:
            (nodes if kind == "nodename" else partitions).append({**defaults[kind], **own, kind: head})
    return _Conf(nodes, partitions, cluster_name, notes)


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """(first line number, text) of each logical line: comments cut, backslash continuations joined."""
    logical: list[tuple[int, str]] = []
    pending: list[str] = []
    first = 1
    for number, raw in enumerate(text.splitlines(), start=1):
        if not pending:
            first = number
        body = _strip_comment(raw).rstrip()
        if body.endswith("\\"):
            pending.append(body[:-1])
            continue
        logical.append((first, "".join([*pending, body])))
        pending = []
    if pending:
        logical.append((first, "".join(pending)))
    return logical


def _strip_comment(raw: str) -> str:
    match = re.search(r"(?<!\\)#", raw)
    body = raw if match is None else raw[: match.start()]
    return body.replace("\\#", "#")


def _settings(logical: str, line: int, label: str) -> Settings:
    try:
        tokens = shlex.split(logical)
    except ValueError as exc:
        raise MachineConfigError(f"{label}:{line}: {exc} in {logical.strip()!r}") from None
    settings: Settings = {}
    for token in tokens:
        key, equals, value = token.partition("=")
        if not equals or not key:
            raise MachineConfigError(f"{label}:{line}: expected Key=Value, got {token!r}")
        if key.lower() in settings:
            raise MachineConfigError(f"{label}:{line}: {key}: given twice on one line")
        settings[key.lower()] = _Setting(key, value, line)
    return settings


# -- fields ---------------------------------------------------------------------------------------


def _error(label: str, setting: _Setting, message: str) -> MachineConfigError:
    return MachineConfigError(f"{label}:{setting.line}: {setting.key}: {message} (got {setting.value!r})")


def _whole(setting: _Setting, label: str, minimum: int = 1) -> int:
    if not setting.value.isascii() or not setting.value.isdigit() or int(setting.value) < minimum:
        raise _error(label, setting, f"expected a whole number >= {minimum}")
    return int(setting.value)


def _optional_whole(settings: Settings, key: str, label: str) -> int | None:
    return _whole(settings[key], label) if key in settings else None


def _node_line(settings: Settings, label: str) -> _NodeLine:
    name = settings["nodename"]
    sockets, cores, threads = _topology(settings, label)
    gpus, gpu_type = _gres(settings.get("gres"), label)
    features = settings.get("features") or settings.get("availablefeatures")
    weight = settings.get("weight")
    return _NodeLine(
        line=name.line,
        pattern=name.value,
        hosts=_hosts(name, label),
        sockets=sockets,
        cores_per_socket=cores,
        threads_per_core=threads,
        real_memory_mb=_optional_whole(settings, "realmemory", label),
        gpus=gpus,
        gpu_type=gpu_type,
        features=() if features is None else _features(features.value),
        weight=1 if weight is None else _whole(weight, label, minimum=0),
    )


def _hosts(setting: _Setting, label: str) -> list[str]:
    try:
        return expand_hostlist(setting.value)
    except ValueError as exc:
        raise MachineConfigError(f"{label}:{setting.line}: {setting.key}: {exc}") from None


def _topology(settings: Settings, label: str) -> tuple[int, int, int]:
    """(sockets, cores per socket, threads per core); a missing one is inferred from CPUs as Slurm does.

    CPUs alone is one socket of CPUs / ThreadsPerCore cores; nothing at all is Slurm's default, 1 CPU.
    """
    threads = _optional_whole(settings, "threadspercore", label) or 1
    sockets = _optional_whole(settings, "sockets", label)
    cores = _optional_whole(settings, "corespersocket", label)
    cpus_setting = settings.get("cpus") or settings.get("procs")
    if cpus_setting is None:
        return sockets or 1, cores or 1, threads
    cpus = _whole(cpus_setting, label)
    if sockets is None and cores is not None:
        sockets = _divide(cpus_setting, cores * threads, "CoresPerSocket x ThreadsPerCore", label)
    sockets = sockets or 1
    if cores is None:
        cores = _divide(cpus_setting, sockets * threads, "Sockets x ThreadsPerCore", label)
    if cpus not in (sockets * cores * threads, sockets * cores):
        raise _error(
            label, cpus_setting,
            f"disagrees with Sockets x CoresPerSocket x ThreadsPerCore = {sockets * cores * threads}",
        )
    return sockets, cores, threads


def _divide(cpus: _Setting, per: int, fields: str, label: str) -> int:
    """CPUs / ``per``, where ``per`` is the product of ``fields``; not a whole number is an error."""
    if int(cpus.value) % per:
        raise _error(label, cpus, f"not a multiple of {fields} = {per}")
    return int(cpus.value) // per


def _gres(setting: _Setting | None, label: str) -> tuple[int, str | None]:
    """(GPUs per node, GPU type or None) from ``gpu:4``, ``gpu:a100:4``; other resources are ignored."""
    if setting is None:
        return 0, None
    count = 0
    types: set[str | None] = set()
    for entry in re.sub(r"\([^)]*\)", "", setting.value).split(","):
        name, *rest = entry.split(":")
        if name.lower() != "gpu":
            continue
        rest = [part for part in rest if part.lower() != "no_consume"]
        number = rest.pop() if rest and rest[-1].isascii() and rest[-1].isdigit() else "1"
        if len(rest) > 1 or (rest and not rest[0]):
            raise _error(label, setting, f"expected gpu[:TYPE][:COUNT], not {entry!r}")
        count += int(number)
        types.add(rest[0] if rest else None)
    if len(types) > 1:
        raise _error(label, setting, "nodes with several GPU types are not modelled")
    return count, next(iter(types), None)


def _features(value: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(part.strip() for part in value.split(",") if part.strip()))


def _partition_lines(all_settings: list[Settings], label: str) -> list[_PartitionLine]:
    partitions: list[_PartitionLine] = []
    for settings in all_settings:
        name = settings["partitionname"]
        earlier = [p for p in partitions if p.name == name.value]
        if earlier:
            raise _error(label, name, f"partition already defined on line {earlier[0].line}")
        partitions.append(_partition_line(settings, label))
    return partitions


def _partition_line(settings: Settings, label: str) -> _PartitionLine:
    name = settings["partitionname"]
    nodes = settings.get("nodes")
    default = settings.get("default")
    if default is not None and default.value.upper() not in ("YES", "NO"):
        raise _error(label, default, "expected YES or NO")
    max_time = settings.get("maxtime")
    max_nodes = settings.get("maxnodes")
    state = settings.get("state")
    return _PartitionLine(
        name=name.value,
        line=name.line,
        hosts=_partition_hosts(nodes, label),
        default=default is not None and default.value.upper() == "YES",
        max_time_s=None if max_time is None else _slurm_time_s(max_time, label),
        max_nodes=None if max_nodes is None else _max_nodes(max_nodes, label),
        state="UP" if state is None else state.value.upper(),
    )


def _partition_hosts(nodes: _Setting | None, label: str) -> list[str] | None:
    """The hosts of ``Nodes=``: none when absent, None for ALL."""
    if nodes is None:
        return []
    return None if nodes.value.upper() == "ALL" else _hosts(nodes, label)


def _max_nodes(setting: _Setting, label: str) -> int | None:
    return None if setting.value.upper() in UNLIMITED else _whole(setting, label)


def _slurm_time_s(setting: _Setting, label: str) -> int | None:
    """Seconds of a Slurm time: M, M:S, H:M:S, D-H, D-H:M, D-H:M:S; None for UNLIMITED/INFINITE."""
    text = setting.value
    if text.upper() in UNLIMITED:
        return None
    match = re.fullmatch(r"(?:([0-9]+)-)?([0-9]+)(?::([0-9]+))?(?::([0-9]+))?", text)
    if match is None:
        raise _error(label, setting, "expected minutes, M:S, H:M:S, D-H, D-H:M, D-H:M:S or UNLIMITED")
    days, *clock = match.groups()
    numbers = [int(part) for part in clock if part is not None]
    if days is not None or len(numbers) == 3:
        hours, minutes, seconds = [*numbers, 0, 0][:3]  # D-H[:M[:S]] or H:M:S
    else:
        hours, minutes, seconds = 0, numbers[0], [*numbers, 0][1]  # M or M:S
    total_s = ((int(days or 0) * 24 + hours) * 60 + minutes) * 60 + seconds
    if total_s <= 0:
        raise _error(label, setting, "a time limit must be positive")
    return total_s


# -- building the machine -------------------------------------------------------------------------


def _group_nodes(
    nodes: list[_NodeLine], partitions: list[_PartitionLine], label: str, notes: list[str]
) -> list[_Group]:
    """Node types to be: nodes grouped by hardware and partition, in the order of their first node."""
    node_line: dict[str, _NodeLine] = {}
    for node in nodes:
        for host in node.hosts:
            if host in node_line:
                raise MachineConfigError(
                    f"{label}:{node.line}: NodeName: node {host!r} is already defined on line "
                    f"{node_line[host].line}"
                )
            node_line[host] = node
    owner = _partition_owners(node_line, partitions, label, notes)
    groups: dict[tuple[object, ...], _Group] = {}
    for host, node in node_line.items():
        key = (node.hardware(), owner.get(host))
        group = groups.setdefault(key, _Group(node, owner.get(host), node.weight))
        group.count += 1
        group.weight = min(group.weight, node.weight)
        if node.line not in group.lines:
            group.lines.append(node.line)
    return list(groups.values())


def _partition_owners(
    node_line: dict[str, _NodeLine], partitions: list[_PartitionLine], label: str, notes: list[str]
) -> dict[str, str]:
    """The partition of each node: the first that lists it. Overlaps become notes."""
    owner: dict[str, str] = {}
    for partition in partitions:
        hosts = list(node_line) if partition.hosts is None else partition.hosts
        overlap: dict[str, int] = {}
        for host in hosts:
            if host not in node_line:
                raise MachineConfigError(
                    f"{label}:{partition.line}: Nodes: node {host!r} of partition {partition.name!r} is "
                    "not defined by any NodeName line"
                )
            if host in owner and owner[host] != partition.name:
                overlap[owner[host]] = overlap.get(owner[host], 0) + 1
            owner.setdefault(host, partition.name)
        if overlap:
            counts = ", ".join(f"{count:,} in {name!r}" for name, count in overlap.items())
            notes.append(
                f"{label}:{partition.line}: partition {partition.name!r} lists nodes already in an earlier "
                f"partition ({counts}); pmtwin keeps each node in the first partition that lists it"
            )
        if partition.state != "UP":
            notes.append(f"{label}:{partition.line}: partition {partition.name!r} is {partition.state}; "
                         "imported like an UP one")
    return owner


def _machine_data(
    name: str, groups: list[_Group], partitions: list[_PartitionLine], label: str, notes: list[str]
) -> dict[str, Any]:
    """The fields of ``Machine`` (validated by the caller)."""
    catalog = load_devices()
    type_names = _type_names(groups)
    extra: Extra = {"gpu": {}, "cpu": {}}
    node_types = []
    for group, type_name in zip(groups, type_names, strict=True):
        node_types.append(_node_type(group, type_name, catalog, extra, label, notes))
    used = [p for p in partitions if any(g.partition == p.name for g in groups)]
    notes.extend(
        f"{label}:{p.line}: partition {p.name!r} has no nodes of its own; dropped" for p in partitions
        if p not in used
    )
    if not used:
        raise MachineConfigError(f"{label}: no PartitionName line lists a node; a machine needs a partition")
    node_lines = sorted({line for group in groups for line in group.lines})
    return {
        "name": name,
        "description": f"{sum(g.count for g in groups):,} nodes from {Path(label).name}, "
                       f"partitions {', '.join(p.name for p in used)}",
        "source": f"{label}: NodeName {_lines(node_lines)}; PartitionName {_lines([p.line for p in used])}",
        "node_types": node_types,
        "partitions": {p.name: _partition(p, groups, type_names, label) for p in used},
        "devices": catalog,
        "extra_devices": extra,
    }


def _type_names(groups: list[_Group]) -> list[str]:
    """Features joined by '-', else the NodeName prefix; repeats numbered from 2."""
    names: list[str] = []
    for group in groups:
        prefix = re.sub(r"[^A-Za-z_-].*", "", group.first.pattern).strip("-_")
        base = "-".join(group.first.features) or prefix or "node"
        candidate, number = base, 1
        while candidate in names:
            number += 1
            candidate = f"{base}-{number}"
        names.append(candidate)
    return names


def _node_type(
    group: _Group, type_name: str, catalog: DeviceCatalog, extra: Extra, label: str, notes: list[str]
) -> dict[str, Any]:
    node = group.first
    if group.partition is not None and node.real_memory_mb is None:
        raise MachineConfigError(
            f"{label}:{node.line}: RealMemory: missing for nodes of partition {group.partition!r}; "
            "pmtwin needs the memory of partition nodes"
        )
    cpu, cpu_note = _cpu(node, catalog, extra, label)
    notes.append(f"node type {type_name!r}: {cpu_note}")
    data: dict[str, Any] = {
        "name": type_name,
        "count": group.count,
        "cpu": cpu,
        "cpus_per_node": node.sockets,
        "gpus_per_node": node.gpus,
        "nics_per_node": 0,
        "features": list(node.features),
        "nodes_per_cabinet": group.count,
        "source": f"{label}: NodeName {_lines(group.lines)}",
    }
    if node.gpus:
        data["gpu"], gpu_note = _gpu(node, catalog, extra, label)
        notes.append(f"node type {type_name!r}: {gpu_note}")
    if node.real_memory_mb is not None:
        data["ddr_gb"] = node.real_memory_mb / MIB_PER_GIB
    return data


def _cpu(node: _NodeLine, catalog: DeviceCatalog, extra: Extra, label: str) -> tuple[str, str]:
    """(CPU name, note): the first catalog CPU with the node's cores per socket, else a placeholder."""
    cores = node.cores_per_socket
    for name, spec in catalog.cpu.items():
        if spec.cores == cores:
            return name, f"CPU model not given: taken as {name}, the first catalog CPU with {cores} cores"
    threads = cores * node.threads_per_core
    name = f"generic-{cores}c-{threads}t"
    extra["cpu"][name] = CpuSpec(
        model=f"placeholder {cores}-core CPU", cores=cores, threads=threads, base_clock_ghz=1.0,
        boost_clock_ghz=1.0, l3_cache_mb=1.0, fp64_flop_per_cycle=1, ddr_channels=1, ddr_mts=1.0,
        tdp_w=1.0, source=f"placeholder: {label} gives only the core and thread counts; other figures are 1",
    )
    return name, (
        f"no catalog CPU has {cores} cores per socket: placeholder CPU {name!r} with nominal figures "
        "(edit extra_devices in the written TOML)"
    )


def _gpu(node: _NodeLine, catalog: DeviceCatalog, extra: Extra, label: str) -> tuple[str, str]:
    """(GPU name, note): a catalog GPU matching the Gres type and memory hints, else a placeholder.

    Each word of the type (``a100_80gb``: a100) must be in the catalog name or model; memory sizes in
    the type or the features (80gb, hbm80g) must equal the GPU's memory.
    """
    gpu_type = node.gpu_type
    tokens = [token for token in re.split(r"[-_:. ]", gpu_type or "") if token]
    words = [_normalise(token) for token in tokens if not MEMORY_HINT.fullmatch(token)]
    candidates = [
        name for name, spec in catalog.gpu.items()
        if all(word in _normalise(name) or word in _normalise(spec.model) for word in words)
    ]
    hints = [*tokens, *node.features]
    sizes_gb = {int(match.group(1)) for token in hints if (match := MEMORY_HINT.fullmatch(token))}
    if sizes_gb:
        candidates = [n for n in candidates if catalog.gpu[n].memory_gb in sizes_gb]
    evidence = f"Gres type {gpu_type!r}" if gpu_type else "an untyped Gres"
    if sizes_gb:
        evidence += f" and memory {', '.join(f'{size} GB' for size in sorted(sizes_gb))}"
    if candidates:
        others = f" (also matching: {', '.join(candidates[1:])})" if len(candidates) > 1 else ""
        return candidates[0], f"GPU taken as {candidates[0]}, the first catalog GPU for {evidence}{others}"
    name = f"generic-{re.sub(r'[^A-Za-z0-9_-]+', '-', gpu_type or 'gpu')}"
    extra["gpu"][name] = _placeholder_gpu(gpu_type, label)
    return name, (
        f"no catalog GPU matches {evidence}: placeholder GPU {name!r} with nominal figures "
        "(edit extra_devices in the written TOML)"
    )


def _placeholder_gpu(gpu_type: str | None, label: str) -> GpuSpec:
    """A GPU with every figure a nominal 1: slurm.conf gives only a count and maybe a type name."""
    figures = {name: 1.0 for name, info in GpuSpec.model_fields.items() if info.annotation is float}
    return GpuSpec(
        **figures,
        model=f"placeholder GPU {gpu_type}" if gpu_type else "placeholder GPU",
        sm_count=1,
        memory_type="unknown",
        source=f"placeholder: {label} gives only the GPU count and type; every figure is 1",
    )


def _normalise(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _partition(
    partition: _PartitionLine, groups: list[_Group], type_names: list[str], label: str
) -> dict[str, Any]:
    """The partition's node types, fewest features first, then lowest Weight, then file order."""
    members = sorted(
        (i for i, group in enumerate(groups) if group.partition == partition.name),
        key=lambda i: (len(groups[i].first.features), groups[i].weight, i),
    )
    for position, i in enumerate(members):
        for j in members[:position]:
            if set(groups[i].first.features) == set(groups[j].first.features):
                raise MachineConfigError(
                    f"{label}:{groups[j].lines[0]} and line {groups[i].lines[0]}: Features: nodes of "
                    f"partition {partition.name!r} differ in hardware but have the same features "
                    f"{list(groups[i].first.features)}; pmtwin routes jobs by feature: give them distinct "
                    "Features"
                )
    default = ", the default partition" if partition.default else ""
    data: dict[str, Any] = {
        "node_types": [type_names[i] for i in members],
        "description": f"{label} line {partition.line}{default}",
    }
    if partition.max_time_s is not None:
        data["max_time_s"] = partition.max_time_s
    if partition.max_nodes is not None:
        data["max_nodes"] = partition.max_nodes
    return data


def _lines(numbers: list[int]) -> str:
    return ("line " if len(numbers) == 1 else "lines ") + ", ".join(str(n) for n in numbers)


# -- writing TOML ---------------------------------------------------------------------------------


def _pairs(table: dict[str, Any]) -> list[str]:
    """``key = value`` lines; a JSON string, number, boolean or string array is valid TOML as written."""
    return [f"{_key(key)} = {_value(value)}" for key, value in table.items()]


def _key(key: str) -> str:
    return key if BARE_KEY.fullmatch(key) else _value(key)


def _value(value: Any) -> str:
    return json.dumps(list(value) if isinstance(value, tuple) else value, ensure_ascii=False).replace(
        "\x7f", "\\u007f"
    )


def _comment(text: str) -> str:
    return " ".join(text.split())
