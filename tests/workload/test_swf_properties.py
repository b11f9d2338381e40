"""Property tests: the compiled scanner reads every number as Python's ``float`` does, and any job
table SWF can hold reads back unchanged after ``write_swf``."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from pmtwin.workload import JobTable, read_swf, write_swf
from pmtwin.workload._swf_format import INTEGER_FIELDS
from pmtwin.workload.swf import _read_lines

digits = st.text("0123456789", min_size=1, max_size=24)
signs = st.sampled_from(["", "-", "+"])
integer_tokens = st.builds(lambda sign, d: sign + d, signs, st.text("0123456789", min_size=1, max_size=15))
decimal_tokens = st.one_of(
    st.builds(lambda s, a, b: f"{s}{a}.{b}", signs, digits, st.text("0123456789", max_size=24)),
    st.builds(lambda s, b: f"{s}.{b}", signs, digits),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    integer_tokens,
)
spaces = st.sampled_from([" ", "  ", "\t", " \t "])


@st.composite
def swf_lines(draw: st.DrawFn) -> list[list[str]]:
    rows = draw(st.lists(st.just(None), min_size=1, max_size=5))
    return [
        [draw(integer_tokens if k in INTEGER_FIELDS else decimal_tokens) for k in range(18)] for _ in rows
    ]


@settings(max_examples=200, deadline=None)
@given(rows=swf_lines(), gap=spaces)
def test_scanner_reads_numbers_as_float_does(rows: list[list[str]], gap: str) -> None:
    text = "; Version: 2.2\n" + "".join(gap + gap.join(row) + "\n\n" for row in rows)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "t.swf"
        path.write_text(text)
        fields = _read_lines(path, skip_bad_lines=False).fields
    want = np.array([[float(token) for token in row] for row in rows]).T
    np.testing.assert_array_equal(fields, want)
    assert not np.any(np.signbit(fields) != np.signbit(want))


names = st.text("abcxyz_-0123456789@/+", min_size=1, max_size=8)


@st.composite
def job_tables(draw: st.DrawFn) -> JobTable:
    n = draw(st.integers(0, 30))
    times = st.one_of(st.integers(0, 10**9).map(float), st.floats(0, 1e9, allow_subnormal=False))
    submit_s = np.array(draw(st.lists(times, min_size=n, max_size=n)), np.float64)
    work_s = np.array(draw(st.lists(st.floats(1e-3, 1e7), min_size=n, max_size=n)), np.float64)
    extra_s = np.array(draw(st.lists(st.floats(0, 1e7), min_size=n, max_size=n)), np.float64)
    job_id = np.array(draw(st.lists(st.integers(0, 10**12), min_size=n, max_size=n)), np.int64)
    pool = draw(st.lists(names, min_size=1, max_size=4, unique=True))
    if draw(st.booleans()):
        pool.insert(draw(st.integers(0, len(pool))), "unknown")
    codes = draw(st.lists(st.integers(0, len(pool) - 1), min_size=n, max_size=n))
    used = sorted(set(codes))  # every name of a table read from SWF is used
    table = JobTable(
        job_id=job_id,
        submit_s=submit_s,
        work_s=work_s,
        requested_s=work_s + extra_s,
        size=np.array(draw(st.lists(st.integers(1, 10**6), min_size=n, max_size=n)), np.int64),
        partition=np.array([used.index(c) for c in codes], np.int32),
        partition_names=tuple(pool[c] for c in used) or ("unknown",),
        user=np.array(draw(st.lists(st.integers(-1, 10**6), min_size=n, max_size=n)), np.int64),
        group=np.array(draw(st.lists(st.integers(-1, 10**6), min_size=n, max_size=n)), np.int64),
    )
    return table.take(table.canonical_order())


@settings(max_examples=150, deadline=None)
@given(jobs=job_tables())
def test_any_table_swf_can_hold_round_trips(jobs: JobTable) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "t.swf"
        write_swf(jobs, path)
        back = read_swf(path)
    assert back.skipped == {"run<=0": 0, "size<=0": 0} and back.capped == 0
    for name in ("job_id", "submit_s", "work_s", "requested_s", "size", "partition", "user", "group"):
        np.testing.assert_array_equal(getattr(back.jobs, name), getattr(jobs, name), err_msg=name)
    assert back.jobs.partition_names == jobs.partition_names
