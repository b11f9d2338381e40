"""The error every workload reader raises for bad input: it names the file, and the line where known."""

from __future__ import annotations

from pathlib import Path


class WorkloadFormatError(ValueError):
    """A workload file is missing, unreadable or malformed.

    The message reads ``path:line: detail`` (or ``path: detail`` when no line applies), so a user can
    go straight to the problem.
    """

    def __init__(self, path: str | Path, detail: str, *, line: int | None = None) -> None:
        self.path = str(path)
        self.line = line
        self.detail = detail
        where = self.path if line is None else f"{self.path}:{line}"
        super().__init__(f"{where}: {detail}")
