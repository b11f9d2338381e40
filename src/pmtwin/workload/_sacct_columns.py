"""The columns of a ``sacct --parsable2`` file: header names, and cells read by column name."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")

RUN_TIME_COLUMNS = ("ElapsedRaw", "Elapsed", "Start and End")
REQUIRED_COLUMNS = ("Submit", "NNodes")


class CellError(ValueError):
    """A cell that does not hold what its column should; the message names the column."""


@dataclass(frozen=True)
class Columns:
    """Column positions by name (matched without regard to case) and the header's own spelling."""

    position: dict[str, int]
    spelling: dict[str, str]
    count: int

    @classmethod
    def from_header(cls, line: str) -> Columns:
        names = [name.strip() for name in line.split("|")]
        if len(names) > 1 and names[-1] == "":
            names.pop()  # --parsable ends every line with "|"
        position: dict[str, int] = {}
        spelling: dict[str, str] = {}
        for k, name in enumerate(names):
            position.setdefault(name.lower(), k)
            spelling.setdefault(name.lower(), name)
        return cls(position, spelling, len(names))

    def missing(self) -> list[str]:
        """The required columns this header lacks, as they should be added to ``--format``."""
        absent = [name for name in REQUIRED_COLUMNS if not self.has(name)]
        if not (self.has("JobID") or self.has("JobIDRaw")):
            absent.insert(0, "JobID")
        run_time = self.has("ElapsedRaw") or self.has("Elapsed") or (self.has("Start") and self.has("End"))
        if not run_time:
            absent.append(" or ".join(RUN_TIME_COLUMNS))
        return absent

    def has(self, name: str) -> bool:
        return name.lower() in self.position

    def cells(self, line: str) -> list[str]:
        """The cells of a data line; ``CellError`` when their number differs from the header's."""
        cells = [cell.strip() for cell in line.split("|")]
        if len(cells) == self.count + 1 and cells[-1] == "":
            cells.pop()
        if len(cells) != self.count:
            raise CellError(f"{len(cells)} columns, the header has {self.count}")
        return cells

    def get(self, cells: list[str], name: str) -> str | None:
        """The cell of column ``name``, or None when the file has no such column."""
        k = self.position.get(name.lower())
        return None if k is None else cells[k]

    def parse(self, cells: list[str], name: str, parse: Callable[[str], T]) -> T:
        """``parse`` applied to the cell of column ``name`` (which must exist); errors name the column."""
        text = cells[self.position[name.lower()]]
        try:
            return parse(text)
        except ValueError as err:
            raise CellError(f"column {self.spelling[name.lower()]}: {err}") from None
