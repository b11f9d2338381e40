"""What-if transforms of a job table (src/pmtwin/workload/transforms.py): exact small cases, invariants
over random tables with arrays and dependencies, determinism, and the TOML configuration's errors."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pmtwin.workload.errors import WorkloadFormatError
from pmtwin.workload.jobs import AFTERANY, AFTEROK, COLUMN_DTYPES, Dependencies, JobTable
from pmtwin.workload.transform_config import (
    RescaleSizesSpec,
    ScaleLoadSpec,
    ShiftToGpuSpec,
    ShuffleSpec,
    TimeWindowSpec,
    TransformSpec,
    apply_transforms,
    load_transforms,
    parse_transforms,
)
from pmtwin.workload.transforms import (
    SHAPE_COLUMNS,
    rescale_sizes,
    scale_load,
    shift_to_gpu,
    shuffle,
    time_window,
)

DAY = 86_400.0
WEEK = 7 * DAY
PARTITIONS = ("gpu", "cpu")
GPU, CPU = 0, 1
PROPERTY = settings(max_examples=100, deadline=None, derandomize=True)


def make(
    submit_s: list[float],
    work_s: list[float] | None = None,
    *,
    size: list[int] | None = None,
    partition: list[int] | None = None,
    depends: list[tuple[int, int]] | None = None,
    array_id: list[int] | None = None,
    job_id: list[int] | None = None,
    **columns: Any,
) -> JobTable:
    """A small table: ids 1..n unless given, work 1..n unless given, requested = work + 10, size 1, CPU."""
    n = len(submit_s)
    work = np.array(work_s if work_s is not None else range(1, n + 1), float)
    deps = None
    if depends is not None:
        deps = Dependencies(
            np.array([d[0] for d in depends], np.int64),
            np.array([d[1] for d in depends], np.int64),
            np.full(len(depends), AFTEROK, np.int8),
        )
    return JobTable(
        job_id=np.array(job_id if job_id is not None else range(1, n + 1), np.int64),
        submit_s=np.array(submit_s, float),
        work_s=work,
        requested_s=columns.pop("requested_s", work + 10),
        size=np.array(size if size is not None else [1] * n, np.int64),
        partition=np.array(partition if partition is not None else [CPU] * n, np.int32),
        partition_names=columns.pop("partition_names", PARTITIONS),
        array_id=np.array(array_id if array_id is not None else [-1] * n, np.int64),
        depends=deps,
        **columns,
    )


def random_table(seed: int, n: int, weeks: float = 3.0) -> JobTable:
    """A valid Slurm-like table in canonical order with ids 1..n: GPU and CPU jobs, under-estimated limits,
    shared requests, arrays (consecutive rows sharing the head's submit time, array id = head's id) and
    dependencies on earlier jobs."""
    rng = np.random.default_rng(seed)
    submit = np.sort(rng.integers(0, int(weeks * WEEK), n)).astype(float)
    size = rng.integers(1, 65, n)
    partition = rng.integers(0, 2, n)
    work = rng.integers(0, 50_000, n).astype(float)
    requested = work + rng.integers(0, 3600, n).astype(float)
    limit = np.where(rng.random(n) < 0.1, np.floor(work / 2), requested)
    shared = (size == 1) & (rng.random(n) < 0.3)
    array_id = np.full(n, -1, np.int64)
    row = 0
    while row < n:
        tasks = int(rng.integers(2, 5)) if rng.random() < 0.15 else 1
        if tasks > 1:
            submit[row : row + tasks] = submit[row]
            array_id[row : row + tasks] = row + 1
        row += tasks
    dependent = np.flatnonzero((rng.random(n) < 0.25) & (np.arange(n) > 0))
    on = np.array([rng.integers(0, j) for j in dependent], np.int64)
    return JobTable(
        job_id=np.arange(1, n + 1),
        submit_s=submit,
        work_s=work,
        requested_s=requested,
        size=size,
        partition=partition.astype(np.int32),
        partition_names=PARTITIONS,
        user=rng.integers(0, 10, n),
        group=rng.integers(0, 3, n),
        constraint=np.where(partition == GPU, rng.integers(0, 2, n), 0).astype(np.int32),
        constraint_names=("", "hbm80g"),
        gpus=np.where(partition == GPU, size * 4, 0),
        qos=np.where(shared, 1, 0).astype(np.int32),
        qos_names=("regular", "shared"),
        limit_s=limit,
        cores=np.where(shared, 16, 0),
        mem_mb=np.where(shared, 1000, 0),
        array_id=array_id,
        array_throttle=np.where(array_id > 0, 2, 0),
        depends=Dependencies(dependent + 1, on + 1, rng.choice([AFTEROK, AFTERANY], len(dependent))),
        power_class=rng.integers(0, 2, n).astype(np.int32),
        power_class_names=("", "hot"),
    )


def assert_valid(table: JobTable) -> None:
    """Canonical order, ids 1..n, every dependency on an earlier job of the table, every array id the id
    of a task of the array that heads it (its own array id is itself)."""
    n = len(table)
    np.testing.assert_array_equal(table.job_id, np.arange(1, n + 1))
    assert np.all(np.diff(table.submit_s) >= 0)
    d = table.depends
    if d is not None:
        assert np.all((d.on_id >= 1) & (d.on_id < d.job_id) & (d.job_id <= n))
    arrays = table.array_id[table.array_id != -1]
    assert np.all((arrays >= 1) & (arrays <= n))
    np.testing.assert_array_equal(table.array_id[arrays - 1], arrays)


def same_bytes(a: JobTable, b: JobTable) -> bool:
    columns = all(getattr(a, name).tobytes() == getattr(b, name).tobytes() for name in COLUMN_DTYPES)
    names = all(
        getattr(a, attr) == getattr(b, attr)
        for attr in ("partition_names", "constraint_names", "qos_names", "power_class_names")
    )
    if (a.depends is None) != (b.depends is None):
        return False
    deps = a.depends is None or all(
        getattr(a.depends, f).tobytes() == getattr(b.depends, f).tobytes()
        for f in ("job_id", "on_id", "kind")
    )
    return columns and names and deps


def dependency_pairs(table: JobTable) -> list[tuple[int, int]]:
    assert table.depends is not None
    return sorted(zip(table.depends.job_id.tolist(), table.depends.on_id.tolist(), strict=True))


def shapes(table: JobTable, rows: np.ndarray | None = None) -> Counter[tuple[float, ...]]:
    """The multiset of job shapes (SHAPE_COLUMNS but array_id) of ``rows``."""
    rows = np.arange(len(table)) if rows is None else rows
    cols = [getattr(table, name)[rows] for name in SHAPE_COLUMNS if name != "array_id"]
    return Counter(zip(*(col.tolist() for col in cols), strict=True))


# ---------------------------------------------------------------------------------------------------
# scale_load


def test_compress_squeezes_time_from_the_first_submit() -> None:
    out, report = scale_load(make([10, 20, 35, 40]), 2.0, "compress")
    np.testing.assert_array_equal(out.submit_s, [10, 15, 22, 25])
    np.testing.assert_array_equal(out.work_s, [1, 2, 3, 4])
    assert report == {
        "jobs_in": 4, "jobs_out": 4, "reordered_dependencies": 0, "span_in_s": 30.0, "span_out_s": 15.0,
    }  # fmt: skip


def test_compress_below_one_stretches() -> None:
    out, _ = scale_load(make([10, 20, 21]), 0.5, "compress")
    np.testing.assert_array_equal(out.submit_s, [10, 30, 32])


def test_compress_drops_a_dependency_whose_order_the_rounding_reverses() -> None:
    # job 2 (t=0) comes before job 1 (t=1); 1 waits on 2. Squeezed to t=0 both, id 1 comes first.
    table = make([0, 1], job_id=[2, 1], depends=[(1, 2)])
    out, report = scale_load(table, 10.0, "compress")
    assert report["reordered_dependencies"] == 1
    assert out.depends is not None and len(out.depends.job_id) == 0


def test_resample_factor_one_keeps_the_table() -> None:
    table = random_table(1, 50)
    out, report = scale_load(table, 1.0, rng=np.random.default_rng(0))
    assert same_bytes(out, table)
    assert report["copies"] == 1 and report["jobs_not_drawn"] == 0


def test_resample_moves_copies_by_whole_weeks_wrapping_within_the_window() -> None:
    # Window [0, 2W]. A (t=0) has slots 0, W, 2W: copy 1 at W. B (t=W+100) has slots 100, W+100: copy 1
    # wraps to 100. C (t=2W) is in slot 2 of 0, W, 2W: copy 1 wraps to 0.
    out, report = scale_load(make([0, WEEK + 100, 2 * WEEK]), 2.0, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(out.submit_s, [0, 0, 100, WEEK, WEEK + 100, 2 * WEEK])
    np.testing.assert_array_equal(out.work_s, [1, 3, 2, 1, 2, 3])
    assert report["copies"] == 2 and report["jobs_out"] == 6


def test_resample_keeps_dependencies_and_arrays_within_each_copy() -> None:
    # A window shorter than a week: copies keep their submit times.
    table = make([0, 10, 20, 20], depends=[(2, 1)], array_id=[-1, -1, 3, 3])
    out, report = scale_load(table, 2.0, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(out.submit_s, [0, 0, 10, 10, 20, 20, 20, 20])
    np.testing.assert_array_equal(out.work_s, [1, 1, 2, 2, 3, 4, 3, 4])
    assert dependency_pairs(out) == [(3, 1), (4, 2)]
    np.testing.assert_array_equal(out.array_id, [-1, -1, -1, -1, 5, 5, 7, 7])
    assert report["dependencies_in"] == 1 and report["dependencies_out"] == 2
    assert report["dropped_dependencies"] == 0 and report["reheaded_arrays"] == 0


def test_resample_partial_copy_keeps_the_jobs_whose_uniform_is_below_the_share() -> None:
    table = random_table(2, 200)
    out, report = scale_load(table, 0.4, rng=np.random.default_rng(9))
    keep = np.random.default_rng(9).random(200) < 0.4
    assert shapes(out) == shapes(table, np.flatnonzero(keep))
    assert report["jobs_out"] == keep.sum() and report["jobs_not_drawn"] == 200 - keep.sum()
    assert_valid(out)


def test_resample_drops_a_dependency_that_the_wrap_reverses() -> None:
    # Window [0, W+10]. A (t=20) has one slot and stays; B (t=W+5) waits on A and wraps to t=5.
    table = make([0, 20, WEEK + 5, WEEK + 10], depends=[(3, 2)])
    out, report = scale_load(table, 2.0, rng=np.random.default_rng(0))
    assert report["reordered_dependencies"] == 1 and report["dependencies_out"] == 1
    assert_valid(out)


def test_resample_doubles_the_load_and_keeps_every_hour_of_the_week() -> None:
    table = random_table(3, 2000, weeks=4.3)
    out, report = scale_load(table, 2.0, rng=np.random.default_rng(1))
    assert len(out) == 4000 and report["jobs_not_drawn"] == 0
    assert out.submit_s.min() >= table.submit_s.min() and out.submit_s.max() <= table.submit_s.max()

    def by_week_phase(t: JobTable) -> Counter[tuple[float, ...]]:
        phase = np.mod(t.submit_s, WEEK)
        return Counter(zip(phase.tolist(), t.work_s.tolist(), t.size.tolist(), strict=True))

    doubled = Counter({key: 2 * count for key, count in by_week_phase(table).items()})
    assert by_week_phase(out) == doubled
    # the copies spread over the window: every week of it gets about twice its jobs
    weeks_in = np.bincount((table.submit_s // WEEK).astype(int))
    weeks_out = np.bincount((out.submit_s // WEEK).astype(int))
    np.testing.assert_allclose(weeks_out[:4], 2 * weeks_in[:4], rtol=0.15)
    assert_valid(out)


@pytest.mark.parametrize("factor", [0.5, 2.5])
def test_resample_scales_the_job_count(factor: float) -> None:
    table = random_table(4, 2000)
    out, _ = scale_load(table, factor, rng=np.random.default_rng(2))
    spread = 5 * np.sqrt(2000 * 0.25)
    assert abs(len(out) - factor * 2000) < spread
    assert out.submit_s.min() >= table.submit_s.min() and out.submit_s.max() <= table.submit_s.max()


def test_scale_load_rejects_bad_arguments() -> None:
    table = make([0, 1])
    with pytest.raises(ValueError, match="factor"):
        scale_load(table, 0.0, "compress")
    with pytest.raises(ValueError, match="needs rng"):
        scale_load(table, 2.0)
    with pytest.raises(ValueError, match="method"):
        scale_load(table, 2.0, "stretch", np.random.default_rng(0))  # type: ignore[arg-type]


def test_scale_load_of_an_empty_table() -> None:
    empty = make([])
    for method in ("resample", "compress"):
        out, report = scale_load(empty, 3.0, method, np.random.default_rng(0))
        assert len(out) == 0 and report["jobs_out"] == 0


# ---------------------------------------------------------------------------------------------------
# rescale_sizes


def test_rescale_sizes_preserving_work_in_one_partition() -> None:
    table = make(
        [0, 1, 2, 3],
        [100, 100, 100, 101],
        size=[3, 4, 1, 10],
        partition=[CPU, GPU, CPU, CPU],
        requested_s=np.array([150.0, 150, 150, 150]),
        limit_s=np.array([90.0, 150, 150, 150]),
        gpus=np.array([0, 16, 0, 0]),
    )
    out, report = rescale_sizes(table, 0.5, ["cpu"], "work", max_size=4)
    np.testing.assert_array_equal(out.size, [2, 4, 1, 4])  # 1.5 -> 2; GPU untouched; 0.5 -> 1; 5 -> cap 4
    np.testing.assert_array_equal(out.work_s, [150, 100, 100, 253])  # ceil(101 * 10 / 4) = 253
    np.testing.assert_array_equal(out.requested_s, [225, 150, 150, 375])
    np.testing.assert_array_equal(out.limit_s, [135, 150, 150, 375])
    np.testing.assert_array_equal(out.gpus, [0, 16, 0, 0])
    assert report["rescaled"] == 3 and report["size_changed"] == 2 and report["capped"] == 1
    assert report["node_seconds_in"] == 3 * 100 + 4 * 100 + 100 + 10 * 101
    assert report["node_seconds_out"] == 2 * 150 + 4 * 100 + 100 + 4 * 253


def test_rescale_sizes_preserving_runtime_scales_gpus_per_node() -> None:
    table = make([0, 1, 2], size=[4, 2, 3], partition=[GPU] * 3, gpus=np.array([16, 3, 2]))
    out, report = rescale_sizes(table, 1.5)
    np.testing.assert_array_equal(out.size, [6, 3, 5])  # 4.5 rounds up
    np.testing.assert_array_equal(out.gpus, [24, 5, 3])  # 3 * 3/2 = 4.5 -> 5; 2 * 5/3 = 3.33 -> 3
    np.testing.assert_array_equal(out.work_s, table.work_s)
    assert report["capped"] == 0 and report["unknown_size"] == 0


def test_rescale_sizes_leaves_unknown_sizes_and_counts_shared_jobs_made_multi_node() -> None:
    table = make([0, 1], size=[-1, 1], cores=np.array([0, 8]))
    out, report = rescale_sizes(table, 3.0)
    np.testing.assert_array_equal(out.size, [-1, 3])
    assert report["unknown_size"] == 1 and report["shared_multi_node"] == 1


def test_rescale_sizes_rejects_an_unknown_partition() -> None:
    with pytest.raises(ValueError, match="'login'"):
        rescale_sizes(make([0]), 2.0, ["login"])


# ---------------------------------------------------------------------------------------------------
# shift_to_gpu


def test_shift_to_gpu_moves_cpu_jobs_with_their_new_shape() -> None:
    table = make(
        [0, 1, 2, 3],
        [100, 2, 0, 100],
        size=[3, 1, 1, 2],
        partition=[CPU, CPU, CPU, GPU],
        requested_s=np.array([150.0, 2, 0, 150]),
        limit_s=np.array([90.0, 2, 0, 150]),
        gpus=np.array([0, 0, 0, 8]),
        cores=np.array([0, 16, 0, 0]),
        mem_mb=np.array([0, 1000, 0, 0]),
        constraint=np.array([1, 0, 0, 0]),
        constraint_names=("", "cpu_fast"),
        power_class=np.array([1, 1, 0, 0]),
        power_class_names=("", "hot"),
    )
    out, report = shift_to_gpu(table, 1.0, 4.0, np.random.default_rng(0), gpu_nodes_per_cpu_node=0.5)
    np.testing.assert_array_equal(out.partition, [GPU] * 4)
    np.testing.assert_array_equal(out.size, [2, 1, 1, 2])
    np.testing.assert_array_equal(out.work_s, [25, 1, 1, 100])
    np.testing.assert_array_equal(out.requested_s, [38, 1, 1, 150])  # ceil(37.5); at least the work
    np.testing.assert_array_equal(out.limit_s, [23, 1, 1, 150])  # under-estimated: not raised
    np.testing.assert_array_equal(out.gpus, [8, 4, 4, 8])
    np.testing.assert_array_equal(out.cores, [0, 0, 0, 0])
    np.testing.assert_array_equal(out.mem_mb, [0, 0, 0, 0])
    np.testing.assert_array_equal(out.constraint, [0, 0, 0, 0])
    np.testing.assert_array_equal(out.power_class, [0, 0, 0, 0])
    assert report == {"jobs_in": 4, "jobs_out": 4, "cpu_jobs": 3, "moved": 3, "capped": 0,
                      "moved_shared_requests": 1, "shared_to_regular": 0}  # fmt: skip


def test_shift_to_gpu_caps_sizes_and_moves_shared_jobs_to_regular() -> None:
    table = make(
        [0, 1, 2], [100, 100, 100], size=[2048, 1, 8], partition=[CPU, CPU, GPU],
        qos=np.array([0, 1, 1], np.int32), qos_names=("debug", "shared"),
    )  # fmt: skip
    out, report = shift_to_gpu(table, 1.0, 2.0, np.random.default_rng(0), max_size=1536)
    np.testing.assert_array_equal(out.size, [1536, 1, 8])
    assert [out.qos_names[q] for q in out.qos] == ["debug", "regular", "shared"]
    assert report["capped"] == 1 and report["shared_to_regular"] == 1


def test_shift_to_gpu_adds_missing_names() -> None:
    table = make([0, 1], partition=[0, 0], partition_names=("cpu",), constraint_names=("knl",))
    out, _ = shift_to_gpu(table, 1.0, 2.0, np.random.default_rng(0), gpu_partition="a100")
    assert out.partition_names == ("cpu", "a100")
    assert out.constraint_names == ("knl", "")
    np.testing.assert_array_equal(out.partition, [1, 1])
    np.testing.assert_array_equal(out.constraint, [1, 1])


def test_shift_to_gpu_moves_about_the_share() -> None:
    table = random_table(5, 4000)
    out, report = shift_to_gpu(table, 0.3, 2.0, np.random.default_rng(3))
    cpu = int((table.partition == CPU).sum())
    assert report["cpu_jobs"] == cpu
    assert abs(report["moved"] - 0.3 * cpu) < 5 * np.sqrt(cpu * 0.21)
    assert int((out.partition == GPU).sum()) == int((table.partition == GPU).sum()) + report["moved"]
    nothing, none_report = shift_to_gpu(table, 0.0, 2.0, np.random.default_rng(3))
    assert none_report["moved"] == 0 and same_bytes(nothing, table)


def test_shift_to_gpu_needs_the_cpu_partition_and_rng() -> None:
    with pytest.raises(ValueError, match="'milan'"):
        shift_to_gpu(make([0]), 0.5, 2.0, np.random.default_rng(0), cpu_partition="milan")
    with pytest.raises(ValueError, match="needs rng"):
        shift_to_gpu(make([0]), 0.5, 2.0, None)


# ---------------------------------------------------------------------------------------------------
# shuffle


def test_shuffle_permutes_free_shapes_and_pins_arrays_and_dependencies() -> None:
    table = make([0, 1, 2, 3, 4, 5, 6], depends=[(4, 2)], array_id=[-1, -1, -1, -1, -1, 6, 6])
    out, report = shuffle(table, np.random.default_rng(5))
    assert report == {"jobs_in": 7, "jobs_out": 7, "shuffled": 3, "pinned": 4}
    np.testing.assert_array_equal(out.submit_s, table.submit_s)
    np.testing.assert_array_equal(out.job_id, table.job_id)
    pinned = [1, 3, 5, 6]
    np.testing.assert_array_equal(out.work_s[pinned], table.work_s[pinned])
    free = [0, 2, 4]
    perm = np.random.default_rng(5).permutation(3)
    np.testing.assert_array_equal(out.work_s[free], table.work_s[free][perm])
    assert dependency_pairs(out) == [(4, 2)]


def test_shuffle_needs_rng() -> None:
    with pytest.raises(ValueError, match="needs rng"):
        shuffle(make([0]), None)


# ---------------------------------------------------------------------------------------------------
# time_window


def test_time_window_rebases_drops_dependencies_and_reheads_arrays() -> None:
    # job 1 (t=0) dropped: 3 waited on it. Array 2's head (t=5) dropped: tasks 4, 5 keep it as array 4.
    table = make([0, 5, 12, 15, 18, 40], depends=[(3, 1), (5, 4)], array_id=[-1, 2, -1, 2, 2, -1])
    out, report = time_window(table, 10.0, 30.0)
    np.testing.assert_array_equal(out.submit_s, [2, 5, 8])
    np.testing.assert_array_equal(out.work_s, [3, 4, 5])
    np.testing.assert_array_equal(out.array_id, [-1, 2, 2])
    assert dependency_pairs(out) == [(3, 2)]
    assert report == {
        "jobs_in": 6, "jobs_out": 3, "jobs_dropped": 3, "dropped_dependencies": 1, "reheaded_arrays": 1,
    }  # fmt: skip


def test_time_window_without_rebase_keeps_times() -> None:
    out, _ = time_window(make([0, 5, 12]), 5.0, 13.0, rebase=False)
    np.testing.assert_array_equal(out.submit_s, [5, 12])
    with pytest.raises(ValueError, match="end_s"):
        time_window(make([0]), 5.0, 5.0)


# ---------------------------------------------------------------------------------------------------
# invariants over random tables

SPECS: list[TransformSpec] = [
    ScaleLoadSpec(kind="scale_load", factor=1.6),
    ScaleLoadSpec(kind="scale_load", factor=0.6),
    ScaleLoadSpec(kind="scale_load", factor=1.5, method="compress"),
    RescaleSizesSpec(kind="rescale_sizes", factor=0.7, partitions=("cpu",), preserve="work", max_size=40),
    ShiftToGpuSpec(kind="shift_to_gpu", share=0.5, speedup=3.0, gpu_nodes_per_cpu_node=0.25),
    ShuffleSpec(kind="shuffle"),
    TimeWindowSpec(kind="time_window", start_day=2.5, end_day=12.0),
]
CONSERVING = {"rescale_sizes", "shift_to_gpu", "shuffle"}


@PROPERTY
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 80), which=st.integers(0, len(SPECS) - 1))
def test_every_transform_gives_a_valid_table_and_honest_counts(seed: int, n: int, which: int) -> None:
    table = random_table(seed, n)
    spec = SPECS[which]
    if isinstance(spec, TimeWindowSpec) and n:
        window = (table.submit_s >= spec.start_day * DAY) & (table.submit_s < spec.end_day * DAY)
        if not window.any():  # a window that empties a table is refused, not an empty result
            with pytest.raises(ValueError, match=r"transforms\[0\] \(time_window\) left no jobs"):
                apply_transforms(table, [spec], seed)
            return
    out, reports = apply_transforms(table, [spec], seed)
    report = reports[0]
    assert_valid(out)
    assert report["kind"] == spec.kind
    assert report["jobs_in"] == n and report["jobs_out"] == len(out)
    deps_out = 0 if out.depends is None else len(out.depends.job_id)
    if spec.kind in CONSERVING or isinstance(spec, ScaleLoadSpec) and spec.method == "compress":
        assert len(out) == n
        assert deps_out == n_dependencies(table) - int(report.get("reordered_dependencies", 0))
        assert (out.array_id != -1).sum() == (table.array_id != -1).sum()
    if spec.kind == "scale_load" and isinstance(spec, ScaleLoadSpec) and spec.method == "resample":
        assert report["jobs_not_drawn"] == int(report["copies"]) * n - len(out)
        assert deps_out == report["dependencies_out"]
        if len(out):
            assert out.submit_s.min() >= table.submit_s.min() and out.submit_s.max() <= table.submit_s.max()
            assert set(np.mod(out.submit_s, WEEK).tolist()) <= set(np.mod(table.submit_s, WEEK).tolist())
    if spec.kind == "shuffle":
        assert shapes(out) == shapes(table)
        np.testing.assert_array_equal(out.submit_s, table.submit_s)
        assert dependency_pairs(out) == dependency_pairs(table)
    if spec.kind == "time_window":
        assert report["jobs_dropped"] == n - len(out)
        assert np.all((out.submit_s >= 0) & (out.submit_s < 9.5 * DAY))


def n_dependencies(table: JobTable) -> int:
    return 0 if table.depends is None else len(table.depends.job_id)


@PROPERTY
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 60))
def test_the_same_seed_gives_the_same_bytes(seed: int, n: int) -> None:
    table = random_table(seed, n)
    first, first_reports = apply_transforms(table, SPECS, seed)
    again, again_reports = apply_transforms(table, SPECS, seed)
    assert same_bytes(first, again) and first_reports == again_reports
    assert_valid(first)


@PROPERTY
@given(seed=st.integers(0, 2**32 - 1))
def test_rescale_preserving_work_keeps_node_seconds_up_to_rounding(seed: int) -> None:
    table = random_table(seed, 60)
    out, report = rescale_sizes(table, 0.3, preserve="work")
    assert report["node_seconds_out"] >= report["node_seconds_in"]
    assert report["node_seconds_out"] <= report["node_seconds_in"] + out.size.sum()
    assert np.all(out.requested_s >= out.work_s)


def test_transform_i_draws_from_seed_and_index() -> None:
    table = random_table(6, 100)
    out, _ = apply_transforms(table, [ShuffleSpec(kind="shuffle"), ShuffleSpec(kind="shuffle")], 42)
    first, _ = shuffle(table, np.random.default_rng(np.random.SeedSequence([42, 0])))
    second, _ = shuffle(first, np.random.default_rng(np.random.SeedSequence([42, 1])))
    assert same_bytes(out, second)
    other, _ = apply_transforms(table, [ShuffleSpec(kind="shuffle")], 43)
    assert not same_bytes(other, first)


def test_time_window_spec_takes_days() -> None:
    table = make([0, DAY, 2 * DAY, 3 * DAY])
    out, reports = apply_transforms(table, [TimeWindowSpec(kind="time_window", start_day=1, end_day=2.5)], 0)
    np.testing.assert_array_equal(out.submit_s, [0, DAY])
    assert reports == [
        {"kind": "time_window", "jobs_in": 4, "jobs_out": 2, "jobs_dropped": 2,
         "dropped_dependencies": 0, "reheaded_arrays": 0, "origin_s": 0.0, "rebased_by_s": DAY},
    ]  # fmt: skip


def test_time_window_from_the_first_submission() -> None:
    table = make([1.7e9, 1.7e9 + DAY, 1.7e9 + 2 * DAY])
    spec = TimeWindowSpec(kind="time_window", start_day=1, end_day=5, origin="first_submit")
    out, reports = apply_transforms(table, [spec], 0)
    np.testing.assert_array_equal(out.submit_s, [0, DAY])
    assert reports[0]["origin_s"] == 1.7e9 and reports[0]["jobs_dropped"] == 1


def test_scale_load_keeps_excluded_qos_once() -> None:
    table = make(
        [0, DAY, 8 * DAY, 9 * DAY], qos=np.array([0, 1, 0, 1], np.int32), qos_names=("regular", "realtime")
    )
    out, report = scale_load(table, 3.0, rng=np.random.default_rng(0), exclude_qos=["realtime"])
    names = np.asarray(out.qos_names)[out.qos]
    assert np.count_nonzero(names == "realtime") == 2 and np.count_nonzero(names == "regular") == 6
    assert report["excluded"] == 2
    few, _ = scale_load(table, 0.01, rng=np.random.default_rng(0), exclude_qos=["realtime"])
    assert np.count_nonzero(np.asarray(few.qos_names)[few.qos] == "realtime") == 2
    with pytest.raises(ValueError, match="exclude_qos applies to method 'resample' only"):
        scale_load(table, 2.0, "compress", exclude_qos=["realtime"])


# ---------------------------------------------------------------------------------------------------
# configuration


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "t.toml"
    path.write_text(text)
    return path


def test_load_transforms_reads_the_array_of_tables(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[[transforms]]
kind = "time_window"
end_day = 7

[[transforms]]
kind = "scale_load"
factor = 1.5

[[transforms]]
kind = "rescale_sizes"
factor = 2
partitions = ["cpu"]
preserve = "work"
max_size = 3072

[[transforms]]
kind = "shift_to_gpu"
share = 0.25
speedup = 5

[[transforms]]
kind = "shuffle"
""",
    )
    specs = load_transforms(path)
    assert [spec.kind for spec in specs] == [
        "time_window",
        "scale_load",
        "rescale_sizes",
        "shift_to_gpu",
        "shuffle",
    ]
    assert specs[0] == TimeWindowSpec(kind="time_window", start_day=0.0, end_day=7.0, rebase=True)
    assert specs[1] == ScaleLoadSpec(kind="scale_load", factor=1.5, method="resample")
    assert specs[2] == RescaleSizesSpec(
        kind="rescale_sizes", factor=2.0, partitions=("cpu",), preserve="work", max_size=3072
    )
    assert specs[3] == ShiftToGpuSpec(kind="shift_to_gpu", share=0.25, speedup=5.0)


def test_the_documented_error_message(tmp_path: Path) -> None:
    path = write(
        tmp_path, '[[transforms]]\nkind = "shuffle"\n[[transforms]]\nkind = "scale_load"\nfactor = 0\n'
    )
    with pytest.raises(WorkloadFormatError) as info:
        load_transforms(path)
    assert str(info.value) == f"{path}: transforms[1].factor: must be > 0"


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ('kind = "scale_load"\nfactor = 2\nfactr = 3', "transforms[0].factr: unknown field"),
        ('kind = "scale_load"', "transforms[0].factor: missing"),
        ('kind = "scale_load"\nfactor = "big"', "transforms[0].factor: must be a number"),
        ('kind = "scale_load"\nfactor = inf', "transforms[0].factor: must be a finite number"),
        ('kind = "scale_load"\nfactor = 2\nmethod = "x"', "transforms[0].method: must be one of"),
        ('kind = "grow"', "transforms[0].kind: unknown kind 'grow'"),
        ("factor = 2", "transforms[0].kind: missing"),
        ('kind = "shift_to_gpu"\nshare = 1.5\nspeedup = 2', "transforms[0].share: must be <= 1"),
        ('kind = "shift_to_gpu"\nshare = 0.5\nspeedup = -1', "transforms[0].speedup: must be > 0"),
        ('kind = "rescale_sizes"\nfactor = 2\nmax_size = 0', "transforms[0].max_size: must be >= 1"),
        (
            'kind = "rescale_sizes"\nfactor = 2\npartitions = []',
            "transforms[0].partitions: must not be empty",
        ),
        (
            'kind = "rescale_sizes"\nfactor = 2\npartitions = [1]',
            "transforms[0].partitions[0]: must be a string",
        ),
        (
            'kind = "time_window"\nstart_day = 3\nend_day = 2',
            "transforms[0].end_day: must be > start_day (3)",
        ),
        ('kind = "time_window"\nend_day = 2\nrebase = "no"', "transforms[0].rebase: must be true or false"),
    ],
)
def test_bad_fields_are_named(tmp_path: Path, body: str, detail: str) -> None:
    path = write(tmp_path, f"[[transforms]]\n{body}\n")
    with pytest.raises(WorkloadFormatError) as info:
        load_transforms(path)
    assert str(info.value).startswith(f"{path}: {detail}")
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("", "no [[transforms]]"),
        ('[[transform]]\nkind = "shuffle"', "unknown top-level key 'transform'"),
        ("transforms = 3", "transforms: must be an array of tables"),
        ("transforms = [3]", "transforms[0]: must be a table"),
        ("[[transforms]\n", "not valid TOML"),
    ],
)
def test_bad_files_are_named(tmp_path: Path, text: str, detail: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(WorkloadFormatError, match=r"t\.toml: ") as info:
        load_transforms(path)
    assert detail in str(info.value)


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(WorkloadFormatError, match="cannot read"):
        load_transforms(tmp_path / "absent.toml")


def test_parse_transforms_from_an_embedding_table_or_a_list() -> None:
    data = {"workload": "x", "transforms": [{"kind": "shuffle"}]}
    assert parse_transforms(data, "run.toml") == [ShuffleSpec(kind="shuffle")]
    assert parse_transforms([{"kind": "shuffle"}], "run.toml") == [ShuffleSpec(kind="shuffle")]
    assert parse_transforms({"workload": "x"}, "run.toml") == []
    with pytest.raises(WorkloadFormatError, match=r"^run\.toml: transforms\[0\]\.share: must be >= 0$"):
        parse_transforms({"transforms": [{"kind": "shift_to_gpu", "share": -1, "speedup": 1}]}, "run.toml")
