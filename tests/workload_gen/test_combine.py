"""Concatenating and renumbering job tables (workload/combine.py)."""

from __future__ import annotations

import numpy as np
import pytest

from pmtwin.workload.combine import concat_jobs, renumber
from pmtwin.workload.jobs import AFTEROK, Dependencies, JobTable


def table(ids: list[int], submit_s: list[float], **columns: object) -> JobTable:
    n = len(ids)
    base: dict[str, object] = {
        "job_id": np.array(ids, np.int64),
        "submit_s": np.array(submit_s, np.float64),
        "work_s": np.ones(n),
        "requested_s": np.ones(n),
        "size": np.ones(n, np.int64),
        "partition": np.zeros(n, np.int32),
    }
    base.update(columns)
    return JobTable(**base)  # type: ignore[arg-type]


def test_concat_merges_names_and_renumbers_in_canonical_order() -> None:
    a = table([5, 6], [10.0, 0.0], partition_names=("gpu",),
              depends=Dependencies(np.array([5]), np.array([6]), np.array([AFTEROK])))  # fmt: skip
    b = table([1], [5.0], partition=np.array([1], np.int32), partition_names=("gpu", "cpu"),
              qos=np.array([0], np.int32), qos_names=("debug",))  # fmt: skip
    out = concat_jobs([a, b])
    np.testing.assert_array_equal(out.job_id, [1, 2, 3])
    np.testing.assert_array_equal(out.submit_s, [0.0, 5.0, 10.0])
    assert out.partition_names == ("gpu", "cpu")
    assert [out.partition_names[p] for p in out.partition] == ["gpu", "cpu", "gpu"]
    assert out.depends is not None
    np.testing.assert_array_equal(out.depends.job_id, [3])  # old job 5 (t = 10) waits for old 6 (t = 0)
    np.testing.assert_array_equal(out.depends.on_id, [1])


def test_concat_keeps_ids_distinct_when_they_start_at_zero_or_below() -> None:
    a = table([0, 1], [0.0, 1.0])
    b = table([-3, 0], [0.5, 2.0])
    out = concat_jobs([a, a, b])
    np.testing.assert_array_equal(out.job_id, np.arange(1, 7))
    np.testing.assert_array_equal(out.submit_s, [0.0, 0.0, 0.5, 1.0, 1.0, 2.0])


def test_renumber_maps_array_ids_and_leaves_jobs_outside_arrays_alone() -> None:
    jobs = table([10, 11, 12, 13], [3.0, 3.0, 1.0, 2.0], array_id=np.array([10, 10, -1, -1]))
    out = renumber(jobs)
    np.testing.assert_array_equal(out.submit_s, [1.0, 2.0, 3.0, 3.0])
    np.testing.assert_array_equal(out.array_id, [-1, -1, 3, 3])


def test_renumber_refuses_duplicate_ids_and_unknown_dependencies() -> None:
    with pytest.raises(ValueError, match="unique"):
        renumber(table([1, 1], [0.0, 1.0]))
    dangling = table(
        [1, 2], [0.0, 1.0], depends=Dependencies(np.array([2]), np.array([9]), np.array([AFTEROK]))
    )
    with pytest.raises(ValueError, match="dependency 9 is not a job of the table"):
        renumber(dangling)
