"""Pools, constraint routing, node ids and cabinets."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pmtwin.machine import Machine, MachineConfigError, Pool, load_devices, load_system


def test_perlmutter_pools(perlmutter: Machine) -> None:
    assert perlmutter.pools() == [
        Pool(name="gpu", partition="gpu", node_type="gpu-40gb", first_node_id=0, node_count=1536),
        Pool(name="gpu:hbm80g", partition="gpu", node_type="gpu-80gb", first_node_id=1536, node_count=256),
        Pool(name="cpu", partition="cpu", node_type="cpu", first_node_id=1792, node_count=3072),
    ]


def test_perlmutter_2021_pools(perlmutter_2021: Machine) -> None:
    assert [(p.name, p.first_node_id, p.node_count) for p in perlmutter_2021.pools()] == [
        ("gpu", 0, 1536),
        ("cpu", 1536, 3072),
    ]


@pytest.mark.parametrize(
    ("partition", "constraint", "pool"),
    [
        ("gpu", "", "gpu"),
        ("gpu", "gpu", "gpu"),
        ("gpu", "hbm40g", "gpu"),
        ("gpu", "gpu&hbm40g", "gpu"),
        ("gpu", "gpu&hbm80g", "gpu:hbm80g"),
        ("gpu", "hbm80g", "gpu:hbm80g"),
        ("gpu", " gpu & hbm80g ", "gpu:hbm80g"),
        ("cpu", "", "cpu"),
        ("cpu", "cpu", "cpu"),
    ],
)
def test_pool_for(perlmutter: Machine, partition: str, constraint: str, pool: str) -> None:
    assert perlmutter.pools()[perlmutter.pool_for(partition, constraint)].name == pool


def test_pool_for_2021_has_no_80gb_nodes(perlmutter_2021: Machine) -> None:
    assert perlmutter_2021.pool_for("gpu", "gpu") == 0
    with pytest.raises(MachineConfigError, match="unknown feature 'hbm80g'.*valid features: gpu, hbm40g"):
        perlmutter_2021.pool_for("gpu", "gpu&hbm80g")


@pytest.mark.parametrize(
    ("partition", "constraint", "message"),
    [
        ("debug", "", "unknown partition 'debug'; valid: gpu, cpu"),
        ("gpu", "cpu", "unknown feature 'cpu' for partition 'gpu'; valid features: gpu, hbm40g, hbm80g"),
        ("cpu", "gpu", "unknown feature 'gpu' for partition 'cpu'; valid features: cpu"),
        ("gpu", "hbm40g&hbm80g", "no node type in partition 'gpu' has all of hbm40g, hbm80g"),
        ("gpu", "hbm40g|hbm80g", "only features joined by '&' are supported"),
    ],
)
def test_pool_for_rejects(perlmutter: Machine, partition: str, constraint: str, message: str) -> None:
    with pytest.raises(MachineConfigError) as info:
        perlmutter.pool_for(partition, constraint)
    assert message in str(info.value)


def test_cabinets(perlmutter: Machine, perlmutter_2021: Machine) -> None:
    """128 nodes per GPU cabinet, 256 per CPU cabinet (ARCH): 14 + 12 today, 12 + 12 = ARCH's 24 in 2021."""
    counts = {t.name: t.cabinet_count for t in perlmutter.node_types}
    assert counts == {"gpu-40gb": 12, "gpu-80gb": 2, "cpu": 12, "login": 1}
    assert perlmutter.cabinet_count == 27
    compute_2021 = [t.cabinet_count for t in perlmutter_2021.node_types if t.name != "login"]
    assert compute_2021 == [12, 12]
    assert sum(compute_2021) == 24


@pytest.mark.parametrize(
    ("node_id", "cabinet"),
    [(0, 0), (127, 0), (128, 1), (1535, 11), (1536, 12), (1791, 13), (1792, 14), (2047, 14), (2048, 15),
     (4863, 25), (4864, 26), (4903, 26)],
)  # fmt: skip
def test_cabinet_of_node(perlmutter: Machine, node_id: int, cabinet: int) -> None:
    assert perlmutter.cabinet_of_node(node_id) == cabinet
    assert perlmutter.node_cabinets()[node_id] == cabinet


@pytest.mark.parametrize("node_id", [-1, 4904])
def test_cabinet_of_node_out_of_range(perlmutter: Machine, node_id: int) -> None:
    with pytest.raises(ValueError, match="outside 0..4903"):
        perlmutter.cabinet_of_node(node_id)


def check_layout(machine: Machine) -> None:
    """Every compute node is in exactly one pool, every node in one cabinet of one node type."""
    cabinets = machine.node_cabinets()
    assert cabinets.shape == (machine.node_count,)
    assert np.all(np.diff(cabinets) >= 0)
    assert set(np.unique(cabinets)) == set(range(machine.cabinet_count))
    pool_of_node = np.full(machine.node_count, -1)
    for index, pool in enumerate(machine.pools()):
        span = slice(pool.first_node_id, pool.first_node_id + pool.node_count)
        assert np.all(pool_of_node[span] == -1), "pools overlap"
        pool_of_node[span] = index
    type_of_node = np.repeat(np.arange(len(machine.node_types)), [t.count for t in machine.node_types])
    for index, node_type in enumerate(machine.node_types):
        in_pool = pool_of_node[type_of_node == index] >= 0
        assert in_pool.all() == (machine.partition_of(node_type.name) is not None)
        assert in_pool.any() == in_pool.all()
    for cabinet in range(machine.cabinet_count):
        members = type_of_node[cabinets == cabinet]
        assert len(set(members)) == 1
        assert len(members) <= machine.node_types[members[0]].nodes_per_cabinet


@pytest.mark.parametrize("name", ["perlmutter", "perlmutter-2021"])
def test_packaged_layouts(name: str) -> None:
    check_layout(load_system(name))


@given(node_id=st.integers(0, 4903))
def test_node_id_maps_to_one_cabinet_and_at_most_one_pool(perlmutter: Machine, node_id: int) -> None:
    holders = [p for p in perlmutter.pools() if p.first_node_id <= node_id < p.first_node_id + p.node_count]
    assert len(holders) == (0 if node_id >= 4864 else 1)
    assert perlmutter.cabinet_of_node(node_id) == perlmutter.node_cabinets()[node_id]


node_type_shapes = st.lists(
    st.tuples(st.integers(1, 600), st.integers(1, 300), st.booleans()), min_size=1, max_size=5
)


@settings(max_examples=60, deadline=None)
@given(shapes=node_type_shapes)
def test_layout_invariants_on_generated_machines(shapes: list[tuple[int, int, bool]]) -> None:
    """(count, nodes per cabinet, in the batch partition) per node type: the layout invariants hold."""
    node_types = [
        {
            "name": f"t{i}",
            "count": count,
            "cpu": "EPYC-7763",
            "cpus_per_node": 2,
            "ddr_gb": 512,
            "nics_per_node": 1,
            "features": [f"f{i}"],
            "nodes_per_cabinet": per_cabinet,
            "source": "generated",
        }
        for i, (count, per_cabinet, _) in enumerate(shapes)
    ]
    batch = [f"t{i}" for i, (_, _, in_batch) in enumerate(shapes) if in_batch] or ["t0"]
    machine = Machine.model_validate(
        {
            "name": "generated",
            "description": "",
            "source": "generated",
            "node_types": node_types,
            "partitions": {"batch": {"node_types": batch}},
            "devices": load_devices(),
        }
    )
    check_layout(machine)
    assert machine.cabinet_count == sum(-(-count // per) for count, per, _ in shapes)
    for i, name in enumerate(batch):
        pool = machine.pools()[machine.pool_for("batch", f"f{name[1:]}")]
        assert pool.node_type == name
        assert pool.name == ("batch" if i == 0 else f"batch:f{name[1:]}")
