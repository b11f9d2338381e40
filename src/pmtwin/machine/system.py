"""A system: node types, partitions, node ids and cabinets, over the device catalog.

Node ids are integers assigned in the order the node types are listed in the system file, contiguous
per node type (Perlmutter: 40 GB GPU nodes, 80 GB GPU nodes, CPU nodes, login nodes). Cabinets are
numbered the same way: each node type starts a new cabinet and fills ``nodes_per_cabinet`` nodes per
cabinet. A partition lists node types; each (partition, node type) pair is one pool, a contiguous range
of identical nodes. The first node type a partition lists is its default: a job whose constraint does
not single out another node type runs there (on Perlmutter a GPU job without ``hbm80g`` runs on the
40 GB nodes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, Field, ValidationError, model_validator

from pmtwin.machine.devices import CONFIG, CpuSpec, DeviceCatalog, GpuSpec
from pmtwin.machine.errors import MachineConfigError


class NodeType(BaseModel):
    """A kind of node: how many, what devices, how much DDR, where it sits, which Slurm features."""

    model_config = CONFIG

    name: str = Field(min_length=1)
    count: int = Field(gt=0)
    cpu: str
    cpus_per_node: int = Field(gt=0)
    gpu: str | None = None
    gpus_per_node: int = Field(default=0, ge=0)
    ddr_gb: float | None = Field(default=None, gt=0)
    nics_per_node: int = Field(ge=0)
    nic_bandwidth_gbit_s: float | None = Field(default=None, gt=0)
    features: tuple[str, ...] = Field(default=(), strict=False)
    nodes_per_cabinet: int = Field(gt=0)
    charge_factor: float = Field(default=1.0, ge=0)
    """Machine charge factor: what one node-hour of this type costs in its allocation's currency
    (NERSC: node-hours x QOS factor x machine charge factor). Optional, 1.0 when not given."""
    memory: str | None = None
    """DDR model in the catalog's ``memory`` table (power per GB); None: not in the power model."""
    nic: str | None = None
    """NIC model in the catalog's ``nic`` table; None: NICs not in the power model."""
    baseline_w: float | None = Field(default=None, ge=0)
    """Node power beyond its CPUs, GPUs, DDR and NICs (board, controllers, regulators); None: unknown."""
    switches_per_cabinet: int = Field(default=0, ge=0)
    """Network switches in each cabinet of this node type (their power is the facility's switch_w)."""
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _gpu_fields_agree(self) -> NodeType:
        if (self.gpu is None) != (self.gpus_per_node == 0):
            raise ValueError("gpu and gpus_per_node must be given together (or neither)")
        return self

    @property
    def cabinet_count(self) -> int:
        return -(-self.count // self.nodes_per_cabinet)


class Facility(BaseModel):
    """What the machine draws beyond its nodes, and the building around it (docs/power.md section 2)."""

    model_config = CONFIG

    switch_w: float = Field(ge=0)
    storage_w: float = Field(ge=0)
    conversion_efficiency: float = Field(gt=0, le=1)
    pue_min: float = Field(ge=1)
    pue_max: float = Field(ge=1)
    free_cooling_max_c: float
    pue_max_at_c: float
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _pue_ramp(self) -> Facility:
        if self.pue_max < self.pue_min:
            raise ValueError(f"pue_max ({self.pue_max}) is below pue_min ({self.pue_min})")
        if self.pue_max_at_c <= self.free_cooling_max_c:
            raise ValueError("pue_max_at_c must be above free_cooling_max_c")
        return self


class Partition(BaseModel):
    """A batch partition: the node types it holds; the first is where jobs go by default."""

    model_config = CONFIG

    node_types: tuple[str, ...] = Field(min_length=1, strict=False)
    description: str = ""
    max_time_s: int | None = Field(default=None, gt=0)
    """Slurm MaxTime, recorded for reference (not enforced by the scheduler); None: unlimited."""
    max_nodes: int | None = Field(default=None, gt=0)
    """Slurm MaxNodes per job, recorded for reference (not enforced); None: unlimited."""


@dataclass(frozen=True)
class Pool:
    """A contiguous range of identical nodes in one partition: the unit the scheduler allocates from."""

    name: str
    partition: str
    node_type: str
    first_node_id: int
    node_count: int


class Machine(BaseModel):
    """A whole system, validated: every name it uses resolves, every node is in at most one partition."""

    model_config = CONFIG

    name: str = Field(min_length=1)
    description: str
    source: str = Field(min_length=1)
    node_types: tuple[NodeType, ...] = Field(min_length=1, strict=False)
    partitions: dict[str, Partition] = Field(min_length=1)
    devices: DeviceCatalog
    facility: Facility | None = None
    """Switches, storage, power conversion and cooling; None: nodes only, no losses, PUE 1."""
    extra_devices: DeviceCatalog = Field(default_factory=lambda: DeviceCatalog(gpu={}, cpu={}))
    """Devices this system defines itself, beyond the catalog (e.g. a CPU a slurm.conf import could not
    match); merged into ``devices``, which is what every lookup reads."""

    @model_validator(mode="before")
    @classmethod
    def _merge_extra_devices(cls, data: Any) -> Any:
        if not isinstance(data, dict) or "extra_devices" not in data or "devices" not in data:
            return data
        try:
            devices = DeviceCatalog.model_validate(data["devices"])
            extra = DeviceCatalog.model_validate(data["extra_devices"])
        except ValidationError:
            return data  # field validation reports it, with the field's path
        return {**data, "devices": merge_catalogs(devices, extra)}

    @model_validator(mode="after")
    def _references_resolve(self) -> Machine:
        _check_node_types(self)
        _check_partitions(self)
        return self

    # -- node types and devices -------------------------------------------------------------------

    def node_type(self, name: str) -> NodeType:
        for node_type in self.node_types:
            if node_type.name == name:
                return node_type
        raise KeyError(name)

    def cpu_spec(self, node_type: NodeType) -> CpuSpec:
        return self.devices.cpu[node_type.cpu]

    def slurm_shape(self, node_type: NodeType) -> tuple[int, int, int]:
        """What one node of a type offers Slurm: CPU cores, GPUs and memory (MiB, as Slurm's RealMemory)."""
        cores = node_type.cpus_per_node * self.cpu_spec(node_type).cores
        return cores, node_type.gpus_per_node, int((node_type.ddr_gb or 0) * 1024)

    def gpu_spec(self, node_type: NodeType) -> GpuSpec | None:
        return None if node_type.gpu is None else self.devices.gpu[node_type.gpu]

    def partition_of(self, node_type: str) -> str | None:
        """The partition holding ``node_type``; None for nodes outside batch partitions (login)."""
        for name, partition in self.partitions.items():
            if node_type in partition.node_types:
                return name
        return None

    # -- node ids and cabinets --------------------------------------------------------------------

    @property
    def node_count(self) -> int:
        """All nodes, login nodes included; node ids run from 0 to ``node_count - 1``."""
        return sum(node_type.count for node_type in self.node_types)

    @property
    def cabinet_count(self) -> int:
        return sum(node_type.cabinet_count for node_type in self.node_types)

    def first_node_id(self, node_type: str) -> int:
        first = 0
        for candidate in self.node_types:
            if candidate.name == node_type:
                return first
            first += candidate.count
        raise KeyError(node_type)

    def partition_node_counts(self) -> dict[str, int]:
        """Nodes per batch partition, in file order."""
        return {
            name: sum(self.node_type(t).count for t in partition.node_types)
            for name, partition in self.partitions.items()
        }

    def node_cabinets(self) -> NDArray[np.int64]:
        """The cabinet (one dragonfly group per compute cabinet) of every node id."""
        blocks = []
        first_cabinet = 0
        for node_type in self.node_types:
            index = np.arange(node_type.count, dtype=np.int64)
            blocks.append(first_cabinet + index // node_type.nodes_per_cabinet)
            first_cabinet += node_type.cabinet_count
        return np.concatenate(blocks)

    def cabinet_of_node(self, node_id: int) -> int:
        if not 0 <= node_id < self.node_count:
            raise ValueError(f"node id {node_id} outside 0..{self.node_count - 1} on {self.name}")
        first_node = first_cabinet = 0
        for node_type in self.node_types:
            if node_id < first_node + node_type.count:
                return first_cabinet + (node_id - first_node) // node_type.nodes_per_cabinet
            first_node += node_type.count
            first_cabinet += node_type.cabinet_count
        raise AssertionError("unreachable: node id checked against node_count")

    # -- pools and routing ------------------------------------------------------------------------

    def pools(self) -> list[Pool]:
        """One pool per (partition, node type), ordered by first node id."""
        pools = []
        for partition_name, partition in self.partitions.items():
            default = self.node_type(partition.node_types[0])
            for type_name in partition.node_types:
                node_type = self.node_type(type_name)
                pools.append(
                    Pool(
                        name=_pool_name(partition_name, node_type, default),
                        partition=partition_name,
                        node_type=type_name,
                        first_node_id=self.first_node_id(type_name),
                        node_count=node_type.count,
                    )
                )
        return sorted(pools, key=lambda pool: pool.first_node_id)

    def pool_for(self, partition: str, constraint: str = "") -> int:
        """Index in ``pools()`` where a job of ``partition`` with Slurm ``constraint`` runs.

        ``constraint`` is a Slurm feature expression joined by ``&`` ("", "gpu", "gpu&hbm80g",
        "hbm40g"). The job runs on the first node type of the partition that has every requested
        feature, so a constraint that singles out no node type selects the partition's default.
        """
        if partition not in self.partitions:
            raise MachineConfigError(
                f"{self.name}: unknown partition {partition!r}; valid: {', '.join(self.partitions)}"
            )
        node_types = [self.node_type(name) for name in self.partitions[partition].node_types]
        valid = sorted({feature for node_type in node_types for feature in node_type.features})
        requested = _parse_constraint(constraint)
        unknown = [feature for feature in requested if feature not in valid]
        if unknown:
            raise MachineConfigError(
                f"{self.name}: constraint {constraint!r}: unknown feature {unknown[0]!r} for partition "
                f"{partition!r}; valid features: {', '.join(valid)} (join them with '&')"
            )
        for node_type in node_types:
            if requested <= set(node_type.features):
                return next(i for i, pool in enumerate(self.pools()) if pool.node_type == node_type.name)
        raise MachineConfigError(
            f"{self.name}: constraint {constraint!r}: no node type in partition {partition!r} has all of "
            f"{', '.join(sorted(requested))}"
        )


def merge_catalogs(devices: DeviceCatalog, extra: DeviceCatalog) -> DeviceCatalog:
    """``devices`` plus ``extra``; a name in both must have the same figures in both."""
    tables = (
        ("gpu", devices.gpu, extra.gpu), ("cpu", devices.cpu, extra.cpu),
        ("memory", devices.memory, extra.memory), ("nic", devices.nic, extra.nic),
    )  # fmt: skip
    for kind, known, added in tables:
        for name, spec in added.items():
            if name in known and known[name] != spec:
                raise ValueError(
                    f"extra_devices.{kind}.{name}: the catalog already has a {kind} named {name!r} "
                    "with other figures; rename it"
                )
    return DeviceCatalog(
        gpu={**devices.gpu, **extra.gpu}, cpu={**devices.cpu, **extra.cpu},
        memory={**devices.memory, **extra.memory}, nic={**devices.nic, **extra.nic},
    )  # fmt: skip


def _parse_constraint(constraint: str) -> set[str]:
    """The features of an ``&``-joined Slurm constraint; other operators are not modelled."""
    if any(operator in constraint for operator in "|[]*,"):
        raise MachineConfigError(
            f"constraint {constraint!r}: only features joined by '&' are supported (e.g. 'gpu&hbm80g')"
        )
    return {feature.strip() for feature in constraint.split("&") if feature.strip()}


def _pool_name(partition: str, node_type: NodeType, default: NodeType) -> str:
    """``gpu`` for the partition's default node type, ``gpu:hbm80g`` for one told apart by hbm80g."""
    if node_type.name == default.name:
        return partition
    distinct = [feature for feature in node_type.features if feature not in default.features]
    return f"{partition}:{'&'.join(distinct)}"


def _check_node_types(machine: Machine) -> None:
    seen: set[str] = set()
    for i, node_type in enumerate(machine.node_types):
        where = f"node_types[{i}]"
        if node_type.name in seen:
            raise ValueError(f"{where}.name: duplicate node type {node_type.name!r}")
        seen.add(node_type.name)
        if node_type.cpu not in machine.devices.cpu:
            known = ", ".join(machine.devices.cpu)
            raise ValueError(f"{where}.cpu: unknown CPU {node_type.cpu!r}; devices.toml has {known}")
        if node_type.gpu is not None and node_type.gpu not in machine.devices.gpu:
            known = ", ".join(machine.devices.gpu)
            raise ValueError(f"{where}.gpu: unknown GPU {node_type.gpu!r}; devices.toml has {known}")
        if node_type.memory is not None and node_type.memory not in machine.devices.memory:
            known = ", ".join(machine.devices.memory)
            raise ValueError(f"{where}.memory: unknown memory {node_type.memory!r}; devices.toml has {known}")
        if node_type.nic is not None and node_type.nic not in machine.devices.nic:
            known = ", ".join(machine.devices.nic)
            raise ValueError(f"{where}.nic: unknown NIC {node_type.nic!r}; devices.toml has {known}")


def _check_partitions(machine: Machine) -> None:
    owner: dict[str, str] = {}
    for partition_name, partition in machine.partitions.items():
        for i, type_name in enumerate(partition.node_types):
            where = f"partitions.{partition_name}.node_types[{i}]"
            if type_name in owner:
                raise ValueError(
                    f"{where}: node type {type_name!r} is already in partition {owner[type_name]!r}"
                )
            owner[type_name] = partition_name
            _check_member(machine, where, type_name, partition.node_types[:i])
    pool_names = [pool.name for pool in machine.pools()]
    for name in pool_names:
        if pool_names.count(name) > 1:
            raise ValueError(f"partitions: two pools named {name!r}; give their node types distinct features")


def _check_member(machine: Machine, where: str, type_name: str, listed_before: tuple[str, ...]) -> None:
    """A partition's node type exists, states its DDR, and some constraint routes jobs to it."""
    names = [node_type.name for node_type in machine.node_types]
    if type_name not in names:
        raise ValueError(f"{where}: unknown node type {type_name!r}; valid: {', '.join(names)}")
    node_type = machine.node_type(type_name)
    if node_type.ddr_gb is None:
        raise ValueError(f"{where}: node type {type_name!r} is in a partition but gives no ddr_gb")
    for other in listed_before:
        if set(node_type.features) <= set(machine.node_type(other).features):
            raise ValueError(
                f"{where}: no constraint reaches node type {type_name!r}: its features "
                f"{list(node_type.features)} are all on {other!r}, listed before it"
            )
