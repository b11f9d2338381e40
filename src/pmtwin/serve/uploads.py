"""Trace uploads: the name sanitised, the body streamed to a temporary file under the store (refused as
soon as it passes the size limit), then parsed exactly as a replay reads it, and kept only if it parses.

The parsers read a whole trace into memory, so a few compressed megabytes could expand to gigabytes inside
the server. Before parsing, an upload is therefore decoded once as a stream, counting bytes, and refused
(``UploadTooLarge``, 413) when it expands past ``MAX_EXPANSION`` times the upload limit:

- a gzipped file (any name: gzip is told by its first bytes) is decompressed in chunks;
- a file the parser reads as Parquet (``runs.detect_format`` says so, by its name) is refused
  when its rows would take more than that as a job table, or its footer declares more uncompressed page
  bytes than that; else the job columns the reader reads (``parquet_io.JOB_COLUMNS``; it reads no
  other) are read in batches of rows and counted as the reader holds them: a text column at its full
  length per row, though it is read here as a dictionary, so a short file repeating a long text cannot
  expand during the check itself. A job column of lists, structs, maps or fixed-size bytes (which
  Parquet reads only in full) is refused (400): the reader takes numbers and text.

A truncated or corrupt file is a ``ValueError`` (400).
"""

from __future__ import annotations

import gzip
import re
import zlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from pmtwin.serve.requests import TraceFormat, TraceInfo
from pmtwin.serve.store import Store
from pmtwin.workload._files import GZIP_MAGIC

if TYPE_CHECKING:
    import pyarrow as pa

UPLOAD_SUFFIXES = (".swf.gz", ".swf", ".parquet", ".txt", ".sacct")
"""Longest first: ``.swf.gz`` before ``.swf``. ``.txt`` and ``.sacct`` hold ``sacct --parsable2`` output."""
MAX_NAME_CHARS = 120
UPLOAD_FORMATS: dict[str, TraceFormat] = {"swf": "swf", "sacct": "sacct", "parquet": "parquet"}
MAX_EXPANSION = 8
"""An upload may decode to at most this many times the upload limit (text traces compress some 5 to 10
times; this bounds the memory the parser takes)."""
GUNZIP_CHUNK_BYTES = 2**20
PARQUET_BATCH_ROWS = 8192


class UploadTooLarge(Exception):
    """The body passed the server's upload limit."""


def upload_name(raw: str) -> tuple[str, str]:
    """The name an upload is shown under (``[A-Za-z0-9._-]`` only, no folders) and its known suffix;
    ``ValueError`` for a name without one."""
    base = re.split(r"[/\\]", raw)[-1]
    name = re.sub(r"[^A-Za-z0-9._-]", "", base).lstrip(".")[-MAX_NAME_CHARS:]
    suffix = next((s for s in UPLOAD_SUFFIXES if name.lower().endswith(s)), None)
    if suffix is None:
        raise ValueError(f"{name or 'upload'}: unsupported file type (expected {', '.join(UPLOAD_SUFFIXES)})")
    return name, suffix


async def receive(chunks: AsyncIterator[bytes], dest: Path, limit_bytes: int) -> int:
    """Write the streamed body to ``dest``; ``UploadTooLarge`` (file removed) once it passes the limit."""
    received = 0
    try:
        with dest.open("wb") as out:
            async for chunk in chunks:
                received += len(chunk)
                if received > limit_bytes:
                    raise UploadTooLarge(f"upload larger than the limit of {limit_bytes} bytes")
                out.write(chunk)
    except BaseException:
        dest.unlink(missing_ok=True)
        raise
    return received


def _too_large(path: Path, limit_bytes: int) -> UploadTooLarge:
    return UploadTooLarge(
        f"{path}: decompresses to more than {limit_bytes} bytes ({MAX_EXPANSION} times the upload limit)"
    )


def check_gzip_expansion(path: Path, limit_bytes: int) -> None:
    """Decompress a gzipped file (told by its first bytes) as a stream, nothing kept: ``UploadTooLarge``
    once it passes ``limit_bytes``, ``ValueError`` for truncated or corrupt data. Other files pass."""
    with path.open("rb") as raw:
        if raw.read(len(GZIP_MAGIC)) != GZIP_MAGIC:
            return
    expanded = 0
    try:
        with gzip.open(path, "rb") as unzipped:
            while chunk := unzipped.read(GUNZIP_CHUNK_BYTES):
                expanded += len(chunk)
                if expanded > limit_bytes:
                    raise _too_large(path, limit_bytes)
    except EOFError:
        raise ValueError(f"{path}: gzip data is truncated") from None
    except (OSError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
        raise ValueError(f"{path}: not a valid gzip file ({exc})") from None


def check_parquet_expansion(path: Path, limit_bytes: int) -> None:
    """Check a Parquet trace against ``limit_bytes`` as the module's doc says, reading batches of its job
    columns (nothing kept): ``UploadTooLarge`` past it, ``ValueError`` for a corrupt file or a job column
    that holds neither numbers nor text."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from pmtwin.workload.jobs import COLUMN_DTYPES
    from pmtwin.workload.parquet_io import JOB_COLUMNS

    try:
        meta = pq.read_metadata(path)
        row_bytes = sum(np.dtype(dtype).itemsize for dtype in COLUMN_DTYPES.values())
        declared = sum(
            meta.row_group(group).column(column).total_uncompressed_size
            for group in range(meta.num_row_groups)
            for column in range(meta.num_columns)
        )
        if meta.num_rows * row_bytes > limit_bytes or declared > limit_bytes:
            raise _too_large(path, limit_bytes)
        fields = [field for field in meta.schema.to_arrow_schema() if field.name in JOB_COLUMNS]
        for field in fields:
            if pa.types.is_nested(field.type) or pa.types.is_fixed_size_binary(field.type):
                raise ValueError(
                    f"{path}: column {field.name} is {field.type}; job columns hold numbers or text"
                )
        texts = [field.name for field in fields if _is_text(field.type)]
        batches = pq.ParquetFile(path, read_dictionary=texts).iter_batches(
            PARQUET_BATCH_ROWS, columns=[field.name for field in fields]
        )
        decoded = 0
        for batch in batches:
            decoded += sum(_dense_bytes(column) for column in batch.columns)
            if decoded > limit_bytes:
                raise _too_large(path, limit_bytes)
    except (OSError, pa.ArrowException) as exc:
        raise ValueError(f"{path}: not a valid Parquet file ({exc})") from None


def _is_text(kind: pa.DataType) -> bool:
    """Variable-length text or bytes, of any offset width or layout."""
    import pyarrow as pa

    tests = (pa.types.is_string, pa.types.is_large_string, pa.types.is_binary, pa.types.is_large_binary,
             pa.types.is_string_view, pa.types.is_binary_view)  # fmt: skip
    return any(test(kind) for test in tests)


def _dense_bytes(column: pa.Array) -> int:
    """The bytes of ``column`` with any dictionary expanded, computed without expanding a text one: the
    dictionary's value lengths taken at each row, plus one offset per row."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not isinstance(column, pa.DictionaryArray):
        return int(column.nbytes)
    values = column.dictionary
    if not _is_text(values.type):
        return int(values.take(column.indices).nbytes)  # fixed-width values: one batch of rows
    lengths = pc.binary_length(values.cast(pa.large_binary()))
    taken = pc.sum(pc.take(lengths, column.indices)).as_py()
    return int(taken or 0) + 8 * len(column)


def parse_upload(store: Store, incoming: Path, name: str, suffix: str, max_upload_bytes: int) -> TraceInfo:
    """Parse the received file as a replay would and keep it in the store. A trace that does not parse is
    a ``ValueError``, and one that decompresses past ``MAX_EXPANSION * max_upload_bytes`` an
    ``UploadTooLarge``, whose message names the upload (not the temporary file); either is deleted."""
    from pmtwin.runs import detect_format, load_trace

    limit_bytes = MAX_EXPANSION * max_upload_bytes
    try:
        check_gzip_expansion(incoming, limit_bytes)
        detected = detect_format(incoming)
        if detected == "parquet":
            check_parquet_expansion(incoming, limit_bytes)
        fmt = UPLOAD_FORMATS.get(detected)
        if fmt is None:
            raise ValueError(f"{incoming}: a {detected} file; uploads take SWF, sacct or Parquet traces")
        loaded = load_trace(incoming, fmt, capacity=None, skip_bad_lines=False, tz="UTC")
        if len(loaded.jobs) == 0:
            raise ValueError(f"{incoming}: no jobs to replay")
    except UploadTooLarge as exc:
        incoming.unlink(missing_ok=True)
        raise UploadTooLarge(_named(exc, incoming, name)) from None
    except ValueError as exc:
        incoming.unlink(missing_ok=True)
        raise ValueError(_named(exc, incoming, name)) from None
    except BaseException:
        incoming.unlink(missing_ok=True)
        raise
    info = TraceInfo(
        id="", name=name, source="upload", format=fmt, jobs=len(loaded.jobs), skipped=loaded.skipped
    )
    return store.keep_upload(incoming, suffix, info)


def _named(exc: Exception, incoming: Path, name: str) -> str:
    """An error's message with the temporary file's path (or name) replaced by the upload's name."""
    return str(exc).replace(str(incoming), name).replace(incoming.name, name)
