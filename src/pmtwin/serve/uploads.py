"""Trace uploads: the name sanitised, the body streamed to a temporary file under the store (refused as
soon as it passes the size limit), then parsed exactly as a replay reads it, and kept only if it parses.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

from pmtwin.serve.requests import TraceFormat, TraceInfo
from pmtwin.serve.store import Store

UPLOAD_SUFFIXES = (".swf.gz", ".swf", ".parquet", ".txt", ".sacct")
"""Longest first: ``.swf.gz`` before ``.swf``. ``.txt`` and ``.sacct`` hold ``sacct --parsable2`` output."""
MAX_NAME_CHARS = 120
UPLOAD_FORMATS: dict[str, TraceFormat] = {"swf": "swf", "sacct": "sacct", "parquet": "parquet"}


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


def parse_upload(store: Store, incoming: Path, name: str, suffix: str) -> TraceInfo:
    """Parse the received file as a replay would and keep it in the store. A trace that does not parse is
    a ``ValueError`` whose message names the upload (not the temporary file), and is deleted."""
    from pmtwin.runs import detect_format, load_trace

    try:
        detected = detect_format(incoming)
        fmt = UPLOAD_FORMATS.get(detected)
        if fmt is None:
            raise ValueError(f"{incoming}: a {detected} file; uploads take SWF, sacct or Parquet traces")
        loaded = load_trace(incoming, fmt, capacity=None, skip_bad_lines=False, tz="UTC")
        if len(loaded.jobs) == 0:
            raise ValueError(f"{incoming}: no jobs to replay")
    except ValueError as exc:
        incoming.unlink(missing_ok=True)
        raise ValueError(str(exc).replace(str(incoming), name).replace(incoming.name, name)) from None
    except BaseException:
        incoming.unlink(missing_ok=True)
        raise
    info = TraceInfo(
        id="", name=name, source="upload", format=fmt, jobs=len(loaded.jobs), skipped=loaded.skipped
    )
    return store.keep_upload(incoming, suffix, info)
