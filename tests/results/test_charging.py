"""Charging (docs/slurm-scheduling.md section 9): hand-computed charges, node shares, pool factors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pmtwin.machine import Machine, MachineConfigError, load_system
from pmtwin.results.charging import compute_charges, job_qos_index, node_share, pool_charge_factors
from pmtwin.sched import QosTable, load_qos
from pmtwin.sched.qos import QosConfigError
from pmtwin.workload.jobs import JobTable

NAN = float("nan")


@pytest.fixture(scope="module")
def qos() -> QosTable:
    return load_qos("perlmutter")


def make_jobs(
    size: list[int], account: list[int], qos_code: list[int], qos_names: tuple[str, ...]
) -> JobTable:
    n = len(size)
    return JobTable(
        job_id=np.arange(1, n + 1, dtype=np.int64),
        submit_s=np.zeros(n),
        work_s=np.full(n, 60.0),
        requested_s=np.full(n, 120.0),
        size=np.asarray(size, np.int64),
        partition=np.zeros(n, np.int32),
        group=np.asarray(account, np.int64),
        qos=np.asarray(qos_code, np.int32),
        qos_names=qos_names,
    )


def test_hand_computed(qos: QosTable) -> None:
    """Six jobs on two pools, "cpu" (factor 1) and "gpu" (factor 2 here, to see the pool factor).

    | job | QOS      | size | run h | share | QOS f | pool f | charge           | account |
    |  1  | (none)   |  4   | 0.5   | 1     | 1     | 1      | 4 x 0.5 = 2      | 10      |
    |  2  | premium  |  2   | 1     | 1     | 2     | 2      | 2 x 2 x 2 = 8    | 10      |
    |  3  | shared   |  1   | 2     | 0.25  | 1     | 1      | 2 x 0.25 = 0.5   | 7       |
    |  4  | overrun  |  8   | 1     | 1     | 0     | 1      | 0                | 7       |
    |  5  | regular  |  3   | never ran (NaN)                 | 0                | -1      |
    |  6  | preempt  | 16   | 3     | 1     | 0.25  | 1      | 16 x 3 / 4 = 12  | 3       |
    """
    names = ("", "premium", "shared", "overrun", "regular", "preempt")
    jobs = make_jobs([4, 2, 1, 8, 3, 16], [10, 10, 7, 7, -1, 3], [0, 1, 2, 3, 4, 5], names)
    charges = compute_charges(
        jobs,
        start_s=[0, 100, 0, 0, NAN, 0],
        end_s=[1800, 3700, 7200, 3600, NAN, 10800],
        share=[1, 1, 0.25, 1, 1, 1],
        pool_of_job=[0, 1, 0, 0, -1, 0],
        qos_table=qos,
        pool_charge_factor=[1.0, 2.0],
        pool_names=("cpu", "gpu"),
    )
    np.testing.assert_allclose(charges.per_job, [2.0, 8.0, 0.5, 0.0, 0.0, 12.0], rtol=1e-15)
    assert charges.by_account == pytest.approx({"-1": 0.0, "3": 12.0, "7": 0.5, "10": 10.0})
    assert list(charges.by_account) == ["-1", "3", "7", "10"], "ascending account id"
    assert list(charges.by_qos) == list(qos.names), "every QOS, in table order"
    assert charges.by_qos == pytest.approx(
        {name: 0.0 for name in qos.names} | {"regular": 2.0, "premium": 8.0, "shared": 0.5, "preempt": 12.0}
    )
    assert charges.by_pool == pytest.approx({"cpu": 14.5, "gpu": 8.0})
    assert charges.total == pytest.approx(22.5)


def test_never_run_jobs_are_free(qos: QosTable) -> None:
    jobs = make_jobs([5, 5, 5], [1, 1, 2], [0, 0, 0], ("",))
    charges = compute_charges(jobs, [NAN, 0, 10], [NAN, NAN, 3610], [1, 1, 1], [0, 0, 0], qos, [1.0])
    np.testing.assert_array_equal(charges.per_job, [0.0, 0.0, 5.0])
    assert charges.by_account == {"1": 0.0, "2": 5.0}
    assert charges.by_pool == {"0": 5.0}


def test_empty_job_table(qos: QosTable) -> None:
    jobs = make_jobs([], [], [], ("",))
    charges = compute_charges(jobs, [], [], [], [], qos, [1.0, 1.0], pool_names=("a", "b"))
    assert charges.per_job.shape == (0,)
    assert charges.by_account == {}
    assert charges.by_pool == {"a": 0.0, "b": 0.0}
    assert charges.total == 0.0


def test_unknown_job_qos(qos: QosTable) -> None:
    jobs = make_jobs([1, 1], [1, 1], [0, 1], ("regular", "gpu_regular"))
    with pytest.raises(QosConfigError, match="unknown QOS 'gpu_regular'; valid: regular, debug"):
        compute_charges(jobs, [0, 0], [1, 1], [1, 1], [0, 0], qos, [1.0])
    unused = make_jobs([1], [1], [0], ("regular", "gpu_regular"))
    assert job_qos_index(unused, qos).tolist() == [0], "a QOS name no job uses need not resolve"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"start_s": [0]}, "start_s has 1 rows, the job table 2"),
        ({"end_s": [5, -1]}, "a job ends before it starts"),
        ({"share": [1, 1.5]}, r"share must be within \[0, 1\]"),
        ({"pool_of_job": [0, 2]}, "pool_of_job holds an index outside the pools given"),
        ({"pool_charge_factor": [-1.0, 1.0]}, "pool charge factors must be finite and >= 0"),
        ({"pool_names": ("only",)}, "1 pool names but 2 pool charge factors"),
    ],
)
def test_invalid_inputs(qos: QosTable, kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {
        "start_s": [0, 0], "end_s": [1, 1], "share": [1, 1], "pool_of_job": [0, 1],
        "pool_charge_factor": [1.0, 1.0],
    }  # fmt: skip
    args.update(kwargs)
    jobs = make_jobs([1, 1], [1, 1], [0, 0], ("",))
    with pytest.raises(ValueError, match=message):
        compute_charges(jobs, qos_table=qos, **args)  # type: ignore[arg-type]


# -- node share -------------------------------------------------------------------------------------


def test_node_share_of_shared_jobs() -> None:
    """CPU node: 256 CPUs, no GPU, 512,000 MB; GPU node: 128 CPUs, 4 GPUs, 256,000 MB."""
    cores = [64, 16, 0, 8, 0, 0, 300, 32]
    gpus = [0, 1, 0, 0, 0, 2, 0, 0]
    mem = [0, 0, 0, 256_000, 0, 0, 0, 0]
    cores_per_node = [256, 128, 256, 256, 128, 256, 256, 256]
    gpus_per_node = [0, 4, 0, 0, 4, 0, 0, 0]
    mem_per_node = [512_000, 256_000, 512_000, 512_000, 256_000, 512_000, 512_000, 512_000]
    shared = [True] * 7 + [False]
    share = node_share(cores, gpus, mem, cores_per_node, gpus_per_node, mem_per_node, shared=shared)
    expected = [
        0.25,  # 64 / 256 CPUs; no other request
        0.25,  # max(16 / 128, 1 / 4 GPUs)
        1 / 256,  # asks nothing: one CPU's share
        0.5,  # max(8 / 256, 256,000 / 512,000 MB)
        1 / 128,  # asks nothing on a GPU node: one CPU's share
        1.0,  # GPUs on a node without GPUs: the whole node (such a job is rejected)
        1.0,  # more CPUs than the node has: capped at the whole node
        1.0,  # exclusive
    ]
    np.testing.assert_allclose(share, expected, rtol=1e-15)
    assert share.dtype == np.float64


def test_node_share_scalar_node_sizes() -> None:
    share = node_share([32, 64], [0, 0], [0, 0], 128, 0, 512_000, shared=np.array([True, False]))
    np.testing.assert_array_equal(share, [0.25, 1.0])


def test_node_share_rejects_negative_requests() -> None:
    with pytest.raises(ValueError, match=">= 0"):
        node_share([-1], [0], [0], 128, 0, 512_000, shared=[True])


# -- pool charge factors ----------------------------------------------------------------------------


def test_perlmutter_pool_factors() -> None:
    machine = load_system("perlmutter")
    names = [pool.name for pool in machine.pools()]
    assert names == ["gpu", "gpu:hbm80g", "cpu"]
    np.testing.assert_array_equal(pool_charge_factors(machine, names), [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(
        pool_charge_factors(load_system("perlmutter-2021"), ["cpu", "gpu"]), [1.0, 1.0]
    )
    with pytest.raises(MachineConfigError, match="unknown pool 'all'; valid: gpu, gpu:hbm80g, cpu"):
        pool_charge_factors(machine, ["all"])


@pytest.fixture
def system_variant(tmp_path: Path) -> Callable[[str, str], Machine]:
    """perlmutter.toml with one exact text replaced, loaded from tmp_path."""
    from importlib.resources import files

    text = files("pmtwin.machine").joinpath("systems", "perlmutter.toml").read_text(encoding="utf-8")

    def load(old: str, new: str) -> Machine:
        assert old in text
        path = tmp_path / "variant.toml"
        path.write_text(text.replace(old, new), encoding="utf-8")
        return load_system(str(path))

    return load


def test_charge_factor_is_optional(system_variant: Callable[[str, str], Machine]) -> None:
    """Systems written before the field existed still load, at factor 1.0."""
    machine = system_variant("charge_factor = 1.0", "")
    assert all("charge_factor" not in node_type.model_fields_set for node_type in machine.node_types)
    np.testing.assert_array_equal(pool_charge_factors(machine, ["gpu", "gpu:hbm80g", "cpu"]), [1.0] * 3)


def test_charge_factor_from_the_node_type(system_variant: Callable[[str, str], Machine]) -> None:
    machine = system_variant(
        "charge_factor = 1.0           # CPU node-hours", "charge_factor = 0.5           # CPU node-hours"
    )
    np.testing.assert_array_equal(pool_charge_factors(machine, ["cpu", "gpu"]), [0.5, 1.0])
    with pytest.raises(
        MachineConfigError, match=r"node_types\[2\].charge_factor: Input should be greater than"
    ):
        system_variant("charge_factor = 1.0           # CPU", "charge_factor = -1            # CPU")


# -- property: the sums agree -----------------------------------------------------------------------


@st.composite
def runs(draw: st.DrawFn) -> tuple[JobTable, dict[str, object]]:
    n = draw(st.integers(0, 30))
    n_pools = draw(st.integers(1, 3))
    names = ("", "regular", "premium", "shared", "overrun", "preempt")
    jobs = make_jobs(
        size=[draw(st.integers(1, 64)) for _ in range(n)],
        account=[draw(st.integers(-1, 5)) for _ in range(n)],
        qos_code=[draw(st.integers(0, len(names) - 1)) for _ in range(n)],
        qos_names=names,
    )
    ran = [draw(st.booleans()) for _ in range(n)]
    start = [draw(st.floats(0, 1e6)) if r else NAN for r in ran]
    end = [s + draw(st.floats(0, 2e5)) if r else NAN for s, r in zip(start, ran, strict=True)]
    args: dict[str, object] = {
        "start_s": start,
        "end_s": end,
        "share": [draw(st.floats(0.01, 1.0)) for _ in range(n)],
        "pool_of_job": [draw(st.integers(0, n_pools - 1)) for _ in range(n)],
        "pool_charge_factor": [draw(st.sampled_from([0.0, 0.5, 1.0, 2.0])) for _ in range(n_pools)],
    }
    return jobs, args


@settings(max_examples=200, deadline=None)
@given(runs())
def test_sums_agree(run: tuple[JobTable, dict[str, object]]) -> None:
    jobs, args = run
    charges = compute_charges(jobs, qos_table=load_qos("perlmutter"), **args)  # type: ignore[arg-type]
    per_job_sum = float(np.sum(charges.per_job))
    for block in (charges.by_account, charges.by_qos, charges.by_pool):
        assert sum(block.values()) == pytest.approx(per_job_sum, rel=1e-12, abs=1e-9)
    assert charges.total == pytest.approx(per_job_sum, rel=1e-12, abs=1e-9)
    assert np.all(charges.per_job >= 0)
    never_ran = ~np.isfinite(np.asarray(args["start_s"], np.float64))
    assert np.all(charges.per_job[never_ran] == 0)
    assert sorted(charges.by_account, key=int) == list(charges.by_account)
    assert set(charges.by_account) == {str(a) for a in jobs.group.tolist()}
