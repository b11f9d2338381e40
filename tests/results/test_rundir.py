"""write_run_dir: the files, their schemas, byte-for-byte determinism and the nodes column."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pmtwin.results import RUN_FILES, compute_summary, level_series, write_run_dir
from tests.results.builders import Run, make_run, tiny_run

CONFIG_TOML = '# resolved\n[run]\npolicy = "easy"\nseed = 7\n'


def write(run: Run, out_dir: Path, summary: dict[str, Any] | None = None) -> None:
    if summary is None:
        summary = compute_summary(
            run.jobs,
            run.schedule,
            pool_names=run.pool_names,
            pool_capacity=run.pool_capacity,
            skipped={"run<=0": 1},
        )
    series = level_series(run.jobs, run.schedule, pool_names=run.pool_names, pool_capacity=run.pool_capacity)
    write_run_dir(
        out_dir,
        config_toml=CONFIG_TOML,
        jobs=run.jobs,
        schedule=run.schedule,
        summary=summary,
        series=series,
        pool_names=run.pool_names,
    )


def test_writes_the_run_files(tmp_path: Path) -> None:
    out_dir = tmp_path / "runs" / "demo"
    write(tiny_run(), out_dir)
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(RUN_FILES)
    assert (out_dir / "config.toml").read_text() == CONFIG_TOML
    text = (out_dir / "summary.json").read_text()
    assert text.endswith("}\n")
    summary = json.loads(text)
    assert summary["jobs"] == 4
    assert text == json.dumps(summary, indent=2, sort_keys=True) + "\n"


def test_identical_inputs_give_identical_bytes(tmp_path: Path) -> None:
    write(tiny_run(), tmp_path / "a")
    write(tiny_run(), tmp_path / "b")
    first = {name: (tmp_path / "a" / name).read_bytes() for name in RUN_FILES}
    write(tiny_run(), tmp_path / "a")  # rewrite in place
    for name in RUN_FILES:
        assert (tmp_path / "b" / name).read_bytes() == first[name], name
        assert (tmp_path / "a" / name).read_bytes() == first[name], name


def test_other_files_are_kept(tmp_path: Path) -> None:
    (tmp_path / "report.html").write_text("<html></html>")
    (tmp_path / "summary.json").write_text("stale")
    write(tiny_run(), tmp_path)
    assert (tmp_path / "report.html").read_text() == "<html></html>"
    assert json.loads((tmp_path / "summary.json").read_text())["jobs"] == 4
    assert not list(tmp_path.glob("*.tmp"))


def test_jobs_parquet_schema_and_values(tmp_path: Path) -> None:
    run = tiny_run()
    write(run, tmp_path)
    table = pq.read_table(tmp_path / "jobs.parquet")
    category = pa.dictionary(pa.int32(), pa.string())
    assert table.schema.names == [
        "job_id",
        "submit_s",
        "start_s",
        "end_s",
        "wait_s",
        "work_s",
        "requested_s",
        "size",
        "partition",
        "pool",
        "nodes",
    ]
    types = {f.name: f.type for f in table.schema}
    assert types["job_id"] == types["size"] == pa.int64()
    assert all(types[c] == pa.float64() for c in ("submit_s", "start_s", "end_s", "wait_s", "work_s"))
    assert types["partition"] == types["pool"] == category
    assert types["nodes"] == pa.list_(pa.int64())
    assert table.column("wait_s").to_pylist() == [0.0, 0.0, 40.0, 70.0]
    assert table.column("partition").to_pylist() == ["regular", "regular", "debug", "regular"]
    assert table.column("pool").to_pylist() == ["cpu"] * 4
    assert np.array_equal(table.column("start_s").to_numpy(), run.schedule.start_s)


def test_nodes_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    n = 200
    counts = rng.integers(0, 6, n)  # jobs with no nodes too
    nodes = [rng.integers(0, 1000, c).tolist() for c in counts]
    run = make_run(
        submit_s=[0.0] * n,
        start_s=[1.0] * n,
        end_s=[2.0] * n,
        size=[max(int(c), 1) for c in counts],
        pool_capacity=(1000,),
        nodes=nodes,
    )
    write(run, tmp_path)
    assert pq.read_table(tmp_path / "jobs.parquet").column("nodes").to_pylist() == nodes


def test_no_nodes_column_without_node_ids(tmp_path: Path) -> None:
    write(make_run([0.0], [1.0], [2.0], [1]), tmp_path)
    assert "nodes" not in pq.read_table(tmp_path / "jobs.parquet").schema.names


def test_series_parquet_round_trip(tmp_path: Path) -> None:
    run = tiny_run()
    write(run, tmp_path)
    table = pq.read_table(tmp_path / "series.parquet")
    expected = level_series(
        run.jobs, run.schedule, pool_names=run.pool_names, pool_capacity=run.pool_capacity
    )
    assert table.equals(expected.to_table())


def test_nan_in_summary_is_refused(tmp_path: Path) -> None:
    run = tiny_run()
    with pytest.raises(ValueError):
        write(run, tmp_path, summary={"utilization": math.nan})


def test_importing_results_loads_neither_pyarrow_nor_rich() -> None:
    code = "import sys, pmtwin.results; print(sorted({'pyarrow', 'rich'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert out.stdout.strip() == "[]"
