"""Traces on the dashboard: uploads checked (size, name, content) and kept under the store, built-in
traces listed, and trace runs of both (one in Slurm mode)."""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.serve.helpers import OCTET, TINY_SWF_JOBS, serve_client, submit, tiny_swf, wait_for

SACCT = Path(__file__).parents[1] / "workload" / "data" / "sacct_perlmutter.txt"


def stored(store: Path) -> list[str]:
    """Every file under the store's uploads folder."""
    return sorted(path.name for path in (store / "uploads").iterdir())


def test_uploads_are_checked_before_they_are_kept(tmp_path: Path) -> None:
    store = tmp_path / "store"
    bad = tiny_swf(6).replace("5 300 -1 750", "5 300 -1 7x0")
    with serve_client(store, max_upload_bytes=5000) as client:
        too_big = client.post("/api/uploads?name=big.swf", content=tiny_swf(200), headers=OCTET)

        def chunks() -> Iterator[bytes]:  # no Content-Length: refused as the bytes pass the limit
            for _ in range(100):
                yield b"x" * 100

        too_big_streamed = client.post("/api/uploads?name=big.swf", content=chunks(), headers=OCTET)
        wrong_type = client.post("/api/uploads?name=trace.csv", content=tiny_swf(), headers=OCTET)
        malformed = client.post("/api/uploads?name=my%20bad.swf", content=bad, headers=OCTET)
        assert stored(store) == []
        good = client.post(
            "/api/uploads?name=..%2F..%2Fetc%2FMy%20Trace!.swf", content=tiny_swf(), headers=OCTET
        )
        zipped = client.post("/api/uploads?name=z.swf.gz", content=gzip.compress(tiny_swf(3).encode()))
        sacct = client.post("/api/uploads?name=march.txt", content=SACCT.read_bytes(), headers=OCTET)
        traces = client.get("/api/traces").json()

    assert too_big.status_code == 413 and "5000 bytes" in too_big.json()["detail"]
    assert too_big_streamed.status_code == 413
    assert wrong_type.status_code == 400 and wrong_type.json()["detail"].startswith(
        "trace.csv: unsupported file type"
    )
    assert malformed.status_code == 400
    assert malformed.json()["detail"] == "mybad.swf:8: field 4 (run time): '7x0' is not a number"
    assert good.status_code == 201
    assert good.json() == {
        "id": "upload-0001", "name": "MyTrace.swf", "source": "upload", "format": "swf",
        "jobs": TINY_SWF_JOBS, "skipped": {"run<=0": 0, "size<=0": 0},
    }  # fmt: skip
    assert zipped.status_code == 201 and zipped.json()["jobs"] == 3 and zipped.json()["id"] == "upload-0002"
    assert sacct.status_code == 201 and (sacct.json()["format"], sacct.json()["jobs"]) == ("sacct", 6)
    assert sacct.json()["skipped"]["not started"] == 3
    assert stored(store) == [
        "upload-0001.json", "upload-0001.swf", "upload-0002.json", "upload-0002.swf.gz",
        "upload-0003.json", "upload-0003.txt",
    ]  # fmt: skip
    assert (store / "uploads" / "upload-0001.swf").read_text() == tiny_swf()
    assert traces == [
        {
            "id": "upload-0001",
            "name": "MyTrace.swf",
            "source": "upload",
            "format": "swf",
            "jobs": TINY_SWF_JOBS,
        },
        {"id": "upload-0002", "name": "z.swf.gz", "source": "upload", "format": "swf", "jobs": 3},
        {"id": "upload-0003", "name": "march.txt", "source": "upload", "format": "sacct", "jobs": 6},
    ]


def test_trace_runs_replay_uploads_and_builtin_traces(tmp_path: Path) -> None:
    traces_dir = tmp_path / "traces"
    traces_dir.mkdir()
    (traces_dir / "tiny.swf").write_text(tiny_swf(7))
    (traces_dir / "notes.txt").write_text("not a trace\n")
    store = tmp_path / "store"
    with serve_client(store, traces_dir=traces_dir, max_runs=2) as client:
        bad = client.post("/api/uploads?name=bad.swf", content=b"1 2 3\n", headers=OCTET)
        upload = client.post("/api/uploads?name=up.swf", content=tiny_swf(), headers=OCTET).json()
        traces = client.get("/api/traces").json()
        submit(client, workload={"kind": "trace", "trace_id": upload["id"]}, priority="fifo")
        submit(client, workload={"kind": "trace", "trace_id": "tiny.swf"}, policy="fcfs")
        slurm, builtin = wait_for(client, "run-0001"), wait_for(client, "run-0002")
        points = [client.get(f"/api/runs/{i}/live").json()["points"] for i in ("run-0001", "run-0002")]

    assert bad.status_code == 400 and bad.json()["detail"] == "bad.swf:1: 3 fields, an SWF line has 18"
    assert traces == [
        {"id": "tiny.swf", "name": "tiny.swf", "source": "builtin", "format": "swf", "jobs": None},
        {"id": "upload-0001", "name": "up.swf", "source": "upload", "format": "swf", "jobs": TINY_SWF_JOBS},
    ]
    assert slurm["state"] == builtin["state"] == "done", (slurm, builtin)
    assert slurm["figures"]["jobs"] == TINY_SWF_JOBS and builtin["figures"]["jobs"] == 7
    for run_id, run_points in zip(("run-0001", "run-0002"), points, strict=True):
        summary = json.loads((store / "runs" / run_id / "summary.json").read_text())
        assert list(summary["pools"]) == ["cpu"]  # an SWF trace runs on the machine's cpu partition
        assert run_points and all(list(point["levels"]) == ["cpu"] for point in run_points)
    config = (store / "runs" / "run-0001" / "config.toml").read_text()
    assert 'priority = "fifo"' in config and str(store / "uploads" / "upload-0001.swf") in config
    assert str(traces_dir / "tiny.swf") in (store / "runs" / "run-0002" / "config.toml").read_text()


def test_gzip_uploads_are_refused_past_their_expanded_limit(tmp_path: Path) -> None:
    store = tmp_path / "store"
    limit = 1000  # a gzipped upload may expand to MAX_EXPANSION * 1000 = 8000 bytes
    trace = gzip.compress(tiny_swf(3).encode())
    with serve_client(store, max_upload_bytes=limit) as client:
        bombs = [
            client.post(f"/api/uploads?name={name}", content=gzip.compress(b"\0" * 8001), headers=OCTET)
            for name in ("zeros.swf.gz", "zeros.swf", "zeros.txt")  # gzip is told by its bytes
        ]
        truncated = client.post("/api/uploads?name=cut.swf.gz", content=trace[:-12], headers=OCTET)
        corrupt = client.post(
            "/api/uploads?name=bad.swf.gz", content=trace[:10] + b"\xff" * 8 + trace[18:], headers=OCTET
        )
        assert stored(store) == []
        good = client.post("/api/uploads?name=ok.swf.gz", content=trace, headers=OCTET)

    assert len(gzip.compress(b"\0" * 8001)) < 50  # well within the upload limit
    for bomb, name in zip(bombs, ("zeros.swf.gz", "zeros.swf", "zeros.txt"), strict=True):
        assert bomb.status_code == 413
        expected = f"{name}: decompresses to more than 8000 bytes (8 times the upload limit)"
        assert bomb.json()["detail"] == expected
    assert truncated.status_code == 400 and truncated.json()["detail"] == "cut.swf.gz: gzip data is truncated"
    assert corrupt.status_code == 400
    assert corrupt.json()["detail"].startswith("bad.swf.gz: not a valid gzip file (")
    assert good.status_code == 201 and good.json()["jobs"] == 3
    assert stored(store) == ["upload-0001.json", "upload-0001.swf.gz"]


def parquet_bytes(table: pa.Table, **options: Any) -> bytes:
    out = io.BytesIO()
    pq.write_table(table, out, compression="zstd", **options)
    return out.getvalue()


def parquet_jobs(rows: int, *, job_id: list[int] | None = None, partition: Any = None) -> pa.Table:
    """A Parquet trace of ``rows`` one-node jobs (the required columns, and a partition when given: a
    value repeated on every row, or an Arrow array)."""
    columns = {
        "job_id": pa.array(job_id or range(1, rows + 1), pa.int64()),
        "submit_s": pa.array([0.0] * rows),
        "work_s": pa.array([60.0] * rows),
        "requested_s": pa.array([120.0] * rows),
        "size": pa.array([1] * rows, pa.int64()),
    }
    if isinstance(partition, pa.Array):
        columns["partition"] = partition
    elif partition is not None:
        columns["partition"] = pa.array([partition] * rows, pa.string())
    return pa.table(columns)


def declared_bytes(data: bytes) -> int:
    """The uncompressed page bytes a Parquet file's footer declares."""
    meta = pq.read_metadata(io.BytesIO(data))
    chunks = (
        meta.row_group(g).column(c) for g in range(meta.num_row_groups) for c in range(meta.num_columns)
    )
    return sum(chunk.total_uncompressed_size for chunk in chunks)


def test_parquet_uploads_are_refused_past_their_decoded_limit(tmp_path: Path) -> None:
    store, limit = tmp_path / "store", 20_000  # may decode to 8 x 20,000 = 160,000 bytes
    cap, row_bytes = 8 * limit, 120  # a job table row: 13 eight-byte and 4 four-byte columns
    text, rows = "x" * 10_000, 1000  # 1,000 rows take 120,000 bytes as a job table: within the cap
    good = parquet_bytes(parquet_jobs(3, partition="cpu"))
    text_bomb = parquet_bytes(parquet_jobs(rows, partition=text))
    bombs = {
        # 100,000 equal rows, run-length encoded: the pages are small, the rows 12 MB as a job table
        "rows.parquet": parquet_bytes(parquet_jobs(100_000, job_id=[1] * 100_000)),
        # one 10,000-character partition name in a dictionary, on every row: 10 MB as the reader holds it
        "text.parquet": text_bomb,
        "wide.parquet": parquet_bytes(
            parquet_jobs(rows, partition=pa.array([text] * rows, pa.large_string()))
        ),
        "view.parquet": parquet_bytes(
            parquet_jobs(rows, partition=pa.array([text] * rows, pa.string_view()))
        ),
        # Parquet is told by its name too: the reader does not look at the first bytes
        "headless.parquet": b"XXXX" + text_bomb[4:],
        # the text without a dictionary: 10 MB of pages, which the footer declares
        "plain.parquet": parquet_bytes(parquet_jobs(rows, partition=text), use_dictionary=False),
    }
    assert all(len(data) < limit for data in [good, *bombs.values()])
    assert all(declared_bytes(bombs[name]) < cap for name in ("rows.parquet", "text.parquet", "wide.parquet"))
    assert rows * row_bytes < cap < 100_000 * row_bytes and declared_bytes(bombs["plain.parquet"]) > cap
    # columns that are not job columns are not read, by the check or the reader
    ignored = pa.array([[text] * 100] * 3, pa.list_(pa.string()))
    extra = parquet_bytes(parquet_jobs(3, partition="cpu").append_column("note", ignored))
    not_text = {
        "list.parquet": parquet_bytes(parquet_jobs(rows, partition=pa.array([[text]] * rows))),
        "fixed.parquet": parquet_bytes(parquet_jobs(3, partition=pa.array([b"cpu"] * 3, pa.binary(3)))),
    }
    with serve_client(store, max_upload_bytes=limit) as client:
        refused = {name: client.post(f"/api/uploads?name={name}", content=data, headers=OCTET)
                   for name, data in bombs.items()}  # fmt: skip
        wrong = {name: client.post(f"/api/uploads?name={name}", content=data, headers=OCTET)
                 for name, data in not_text.items()}  # fmt: skip
        corrupt = client.post("/api/uploads?name=bad.parquet", content=b"PAR1" + b"\0" * 100 + b"PAR1")
        assert stored(store) == []
        kept = client.post("/api/uploads?name=ok.parquet", content=good, headers=OCTET)
        kept_extra = client.post("/api/uploads?name=extra.parquet", content=extra, headers=OCTET)

    for name, answer in refused.items():
        assert answer.status_code == 413, (name, answer.text)
        expected = f"{name}: decompresses to more than 160000 bytes (8 times the upload limit)"
        assert answer.json()["detail"] == expected
    assert wrong["list.parquet"].status_code == wrong["fixed.parquet"].status_code == 400
    assert wrong["list.parquet"].json()["detail"] == (
        "list.parquet: column partition is list<element: string>; job columns hold numbers or text"
    )
    assert (
        wrong["fixed.parquet"]
        .json()["detail"]
        .startswith("fixed.parquet: column partition is fixed_size_binary")
    )
    assert corrupt.status_code == 400
    assert corrupt.json()["detail"].startswith("bad.parquet: not a valid Parquet file (")
    assert kept.status_code == kept_extra.status_code == 201, (kept.text, kept_extra.text)
    assert (kept.json()["format"], kept.json()["jobs"], kept_extra.json()["jobs"]) == ("parquet", 3, 3)
    assert stored(store) == [
        "upload-0001.json",
        "upload-0001.parquet",
        "upload-0002.json",
        "upload-0002.parquet",
    ]


def test_unreadable_upload_metadata_and_leftovers_are_dropped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "store"
    with serve_client(store) as client:
        client.post("/api/uploads?name=a.swf", content=tiny_swf(), headers=OCTET)
        client.post("/api/uploads?name=b.swf", content=tiny_swf(5), headers=OCTET)
    uploads = store / "uploads"
    (uploads / "upload-0001.json").write_text('{"id": "upload-0001", "na')  # cut short by a crash
    (uploads / ".incoming-0123456789abcdef.swf").write_text(tiny_swf())  # an upload being received
    (store / "compare" / "compare-0123456789abcdef.html").write_text("<html>")  # a comparison being written
    with serve_client(store) as client:
        assert sorted(p.name for p in uploads.iterdir() if p.name.startswith(".")) == []
        assert list((store / "compare").iterdir()) == []
        traces = [client.get("/api/traces").json() for _ in range(2)]
        run = client.post("/api/runs", json={"workload": {"kind": "trace", "trace_id": "upload-0002"}})
        unknown = client.post("/api/runs", json={"workload": {"kind": "trace", "trace_id": "upload-0001"}})
        client.post(f"/api/runs/{run.json()['id']}/cancel")

    listed = {"id": "upload-0002", "name": "b.swf", "source": "upload", "format": "swf", "jobs": 5}
    assert traces == [[listed], [listed]]
    assert run.status_code == 202 and unknown.status_code == 422
    errors = capsys.readouterr().err.splitlines()
    assert [line for line in errors if "upload-0001.json" in line] == [
        f"pmtwin serve: {uploads / 'upload-0001.json'}: upload left out, its metadata is unreadable "
        "(Unterminated string starting at: line 1 column 23 (char 22))"
    ]
