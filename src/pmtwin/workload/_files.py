"""Reading and writing workload files as bytes: gzip detected by magic bytes, written by extension."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

from pmtwin.workload.errors import WorkloadFormatError

GZIP_MAGIC = b"\x1f\x8b"
GZIP_LEVEL = 6


def read_bytes(path: str | Path) -> bytes:
    """The file's content, decompressed when it starts with the gzip magic bytes (any extension)."""
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        raise WorkloadFormatError(path, f"cannot read file: {err.strerror or err}") from None
    if not data.startswith(GZIP_MAGIC):
        return data
    return _gunzip(path, data)


def first_line(path: str | Path, limit: int = 65536) -> bytes:
    """The first line (at most ``limit`` bytes) of the file's content, decompressing only what it needs."""
    try:
        with Path(path).open("rb") as raw:
            head = raw.read(len(GZIP_MAGIC))
            raw.seek(0)
            if head == GZIP_MAGIC:
                with gzip.GzipFile(fileobj=raw) as unzipped:
                    return unzipped.readline(limit)
            return raw.readline(limit)
    except OSError as err:  # gzip.BadGzipFile and EOFError for a broken gzip header are OSError too
        raise WorkloadFormatError(path, f"cannot read file: {err.strerror or err}") from None
    except EOFError:
        raise WorkloadFormatError(path, "gzip data is truncated") from None


def _gunzip(path: str | Path, data: bytes) -> bytes:
    """Every gzip member of ``data``, concatenated (``gzip`` allows several members in one file)."""
    parts: list[bytes] = []
    rest = data
    try:
        while rest:
            inflater = zlib.decompressobj(wbits=31)
            parts.append(inflater.decompress(rest))
            if not inflater.eof:
                raise WorkloadFormatError(path, "gzip data is truncated")
            rest = inflater.unused_data
    except zlib.error as err:
        raise WorkloadFormatError(path, f"not a valid gzip file ({err})") from None
    return b"".join(parts)


def write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data``, gzip-compressed when ``path`` ends in ``.gz`` (no time stamp or name: same
    input, same bytes)."""
    target = Path(path)
    if target.suffix == ".gz":
        data = gzip.compress(data, compresslevel=GZIP_LEVEL, mtime=0)
    target.write_bytes(data)
