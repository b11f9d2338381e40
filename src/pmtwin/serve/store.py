"""The server's store: one folder holding the run directories (``runs/run-0001``), the uploaded traces
(``uploads/upload-0001.swf`` beside ``upload-0001.json``) and comparisons being rendered (``compare/``).
What a crash may leave (uploads being received, comparisons being rendered) is deleted when the store
opens; an upload whose metadata cannot be read is left out (and said once on standard error).

No path taken from a request reaches the file system: ids are checked against a pattern and looked up in
the store's own index, file names come from a fixed list, and every path is checked, once resolved (links
followed), to lie inside the store (or, for built-in traces, inside the traces folder).
"""

from __future__ import annotations

import json
import os
import re
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

from pmtwin._files import replace_file
from pmtwin.serve.requests import TraceFile, TraceFormat, TraceInfo

RUN_ID = re.compile(r"^run-[0-9]{4,}$")
UPLOAD_ID = re.compile(r"^upload-[0-9]{4,}$")
CHART_NAME = re.compile(r"^[a-z0-9_-]+\.png$")
RUN_FILES = frozenset({"report.html", "summary.json"})
BUILTIN_SUFFIXES = (".swf", ".swf.gz", ".parquet")
INCOMING_PREFIX = ".incoming-"


class Store:
    """The store folder: allocates run and upload ids and turns ids and names into checked paths."""

    def __init__(self, root: Path, traces_dir: Path | None = None) -> None:
        self.root = root.resolve()
        self.runs_dir = self.root / "runs"
        self.uploads_dir = self.root / "uploads"
        self.compare_dir = self.root / "compare"
        for folder in (self.runs_dir, self.uploads_dir, self.compare_dir):
            folder.mkdir(parents=True, exist_ok=True)
        self.traces_dir = traces_dir.resolve() if traces_dir is not None else None
        self._lock = threading.Lock()
        self._unreadable: set[str] = set()
        self._remove_leftovers()

    def _remove_leftovers(self) -> None:
        """Delete the temporary files of uploads and comparisons an earlier server left behind."""
        leftovers = [*self.uploads_dir.glob(f"{INCOMING_PREFIX}*"), *self.compare_dir.iterdir()]
        for path in leftovers:
            if path.is_file() or path.is_symlink():
                path.unlink(missing_ok=True)

    def new_run_dir(self) -> tuple[str, Path]:
        """A new, empty run directory and its id (the next number after the highest one stored)."""
        with self._lock:
            number = _next_number(self.runs_dir.iterdir(), RUN_ID, "run-")
            run_id = f"run-{number:04d}"
            path = self.runs_dir / run_id
            path.mkdir()
            return run_id, path

    def run_dirs(self) -> Iterator[tuple[str, Path]]:
        """The stored run directories (id, path), whatever their state."""
        for path in sorted(self.runs_dir.iterdir()):
            if RUN_ID.match(path.name) and path.is_dir() and not path.is_symlink():
                yield path.name, path

    def run_dir(self, run_id: str) -> Path:
        """The directory of a run id of the right form (whether it exists is the caller's question)."""
        if not RUN_ID.match(run_id):
            raise KeyError(run_id)
        return self.runs_dir / run_id

    def run_file(self, run_id: str, name: str) -> Path | None:
        """A file of a run that may be served (``report.html``, ``summary.json``, ``<chart>.png``), or None
        when the name is not one of those, the file is missing, or it resolves outside the store."""
        if not RUN_ID.match(run_id) or not (name in RUN_FILES or CHART_NAME.match(name)):
            return None
        return self.inside(self.runs_dir / run_id / name)

    def inside(self, path: Path) -> Path | None:
        """``path`` resolved when it is a file inside the store, else None."""
        resolved = path.resolve()
        if not resolved.is_relative_to(self.root) or not resolved.is_file():
            return None
        return resolved

    def incoming_path(self, suffix: str) -> Path:
        """A fresh temporary file name for an upload being received."""
        return self.uploads_dir / f"{INCOMING_PREFIX}{os.urandom(8).hex()}{suffix}"

    def keep_upload(self, incoming: Path, suffix: str, info: TraceInfo) -> TraceInfo:
        """Store a parsed upload under the next upload id, with its metadata beside it."""
        with self._lock:
            number = _next_number(self.uploads_dir.glob("upload-*.json"), UPLOAD_ID, "upload-", ".json")
            upload_id = f"upload-{number:04d}"
            kept = info.model_copy(update={"id": upload_id})
            file_name = f"{upload_id}{suffix}"
            incoming.replace(self.uploads_dir / file_name)
            meta = {**kept.model_dump(), "file": file_name}
            write_json(self.uploads_dir / f"{upload_id}.json", meta)
            return kept

    def uploads(self) -> list[tuple[TraceInfo, Path]]:
        """The stored uploads, oldest first, with their files (those whose metadata cannot be read are
        left out)."""
        found = []
        for meta_path in sorted(self.uploads_dir.glob("upload-*.json")):
            if not UPLOAD_ID.match(meta_path.stem):
                continue
            try:
                meta = json.loads(meta_path.read_text(encoding="utf-8"))
                path = self.inside(self.uploads_dir / str(meta.pop("file")))
                info = TraceInfo.model_validate(meta)
            except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
                self._unreadable_upload(meta_path, exc)
                continue
            if path is not None:
                found.append((info, path))
        return found

    def _unreadable_upload(self, meta_path: Path, exc: Exception) -> None:
        """Say on standard error, once per file, that an upload's metadata is left out."""
        with self._lock:
            if meta_path.name in self._unreadable:
                return
            self._unreadable.add(meta_path.name)
        sys.stderr.write(f"pmtwin serve: {meta_path}: upload left out, its metadata is unreadable ({exc})\n")

    def builtin_traces(self) -> list[tuple[TraceInfo, Path]]:
        """The traces directly in the traces folder (SWF, gzipped SWF, Parquet); job counts not read."""
        if self.traces_dir is None or not self.traces_dir.is_dir():
            return []
        found = []
        for path in sorted(self.traces_dir.iterdir()):
            name = path.name
            if name.startswith(".") or not name.endswith(BUILTIN_SUFFIXES):
                continue
            if not (path.is_file() and path.resolve().is_relative_to(self.traces_dir)):
                continue
            fmt: TraceFormat = "parquet" if name.endswith(".parquet") else "swf"
            found.append((TraceInfo(id=name, name=name, source="builtin", format=fmt, jobs=None), path))
        return found

    def traces(self) -> list[TraceInfo]:
        """Every trace a run may replay: built-in ones first, then uploads."""
        return [info for info, _ in self.builtin_traces() + self.uploads()]

    def trace_file(self, trace_id: str) -> TraceFile | None:
        """The file and format of a known trace id, or None."""
        for info, path in self.builtin_traces() + self.uploads():
            if info.id == trace_id:
                return TraceFile(path=str(path), format=info.format)
        return None


def _next_number(paths: Iterator[Path], pattern: re.Pattern[str], prefix: str, suffix: str = "") -> int:
    """One more than the highest number among the names ``prefix<number><suffix>``."""
    numbers = [
        int(path.name.removeprefix(prefix).removesuffix(suffix))
        for path in paths
        if pattern.match(path.name.removesuffix(suffix))
    ]
    return max(numbers, default=0) + 1


def write_json(path: Path, data: object) -> None:
    """Write JSON atomically (a reader never sees half a file)."""
    replace_file(path, (json.dumps(data, indent=2) + "\n").encode())
