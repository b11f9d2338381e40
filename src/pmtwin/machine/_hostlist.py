"""Slurm hostlist expressions: ``nid[0008-0063,0072]``, ``a[1-2]b[3-4]``, ``n1,n[3-5]``."""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass

MAX_HOSTS = 1_000_000
"""Most names one expression may expand to; a larger one is almost surely a typo (``[1-9999999]``)."""

NUMBER = re.compile(r"[0-9]+")
GROUP = re.compile(r"\[([^\]]*)\]")


@dataclass(frozen=True)
class _Range:
    """``low``..``high`` inclusive, each number zero-padded to ``width`` digits."""

    low: int
    high: int
    width: int

    @property
    def size(self) -> int:
        return self.high - self.low + 1

    def names(self) -> list[str]:
        return [str(number).zfill(self.width) for number in range(self.low, self.high + 1)]


def expand_hostlist(text: str) -> list[str]:
    """The host names of a Slurm hostlist expression, in the order written.

    Commas outside brackets separate names; inside brackets they separate numbers and ranges. A range
    keeps the zero padding of its low end (``n[08-10]``: n08, n09, n10). Several bracket groups in one
    name expand with the first varying slowest (``a[1-2]b[3-4]``: a1b3, a1b4, a2b3, a2b4). Raises
    ``ValueError`` naming the expression, the problem and its 1-based character position.
    """
    if not text:
        raise ValueError("empty hostlist")
    names: list[str] = []
    for item, start in _split_names(text):
        parts = _parse_name(text, item, start)
        count = math.prod(1 if isinstance(part, str) else sum(r.size for r in part) for part in parts)
        if len(names) + count > MAX_HOSTS:
            raise ValueError(f"hostlist {text!r}: expands to more than {MAX_HOSTS:,} names")
        names.extend(_expand_name(parts))
    return names


def _split_names(text: str) -> list[tuple[str, int]]:
    """(name expression, 0-based start) for each comma-separated item outside brackets."""
    items: list[tuple[str, int]] = []
    start = 0
    open_at: int | None = None
    for i, char in enumerate(text):
        if char.isspace():
            raise ValueError(f"hostlist {text!r}: whitespace at position {i + 1}")
        if char == "[":
            if open_at is not None:
                raise ValueError(f"hostlist {text!r}: '[' at position {i + 1} inside brackets")
            open_at = i
        elif char == "]":
            if open_at is None:
                raise ValueError(f"hostlist {text!r}: ']' at position {i + 1} without '['")
            open_at = None
        elif char == "," and open_at is None:
            items.append((text[start:i], start))
            start = i + 1
    if open_at is not None:
        raise ValueError(f"hostlist {text!r}: '[' at position {open_at + 1} is never closed")
    items.append((text[start:], start))
    for item, item_start in items:
        if not item:
            raise ValueError(f"hostlist {text!r}: empty name at position {item_start + 1}")
    return items


def _parse_name(text: str, item: str, start: int) -> list[str | tuple[_Range, ...]]:
    """Literal text and bracket groups of one name expression (brackets already balanced)."""
    parts: list[str | tuple[_Range, ...]] = []
    cursor = 0
    for match in GROUP.finditer(item):
        if match.start() > cursor:
            parts.append(item[cursor : match.start()])
        parts.append(_parse_group(text, match.group(1), start + match.start() + 1))
        cursor = match.end()
    if cursor < len(item):
        parts.append(item[cursor:])
    return parts


def _parse_group(text: str, group: str, position: int) -> tuple[_Range, ...]:
    """The ranges of a bracket group's content (``0008-0063,0072``); ``position`` is its '['."""
    where = f"hostlist {text!r}: brackets at position {position}"
    if not group:
        raise ValueError(f"{where} are empty")
    ranges = []
    for entry in group.split(","):
        low, dash, high = entry.partition("-")
        high = high if dash else low
        if not NUMBER.fullmatch(low) or not NUMBER.fullmatch(high):
            raise ValueError(f"{where}: {entry!r} is not a number or a range like 1-8")
        if high.startswith("0") and len(high) != len(low):
            raise ValueError(f"{where}: range {entry!r} pads its ends to different widths")
        if int(high) < int(low):
            raise ValueError(f"{where}: range {entry!r} runs backwards")
        ranges.append(_Range(int(low), int(high), len(low)))
    return tuple(ranges)


def _expand_name(parts: list[str | tuple[_Range, ...]]) -> list[str]:
    choices = [[part] if isinstance(part, str) else [n for r in part for n in r.names()] for part in parts]
    return ["".join(combination) for combination in itertools.product(*choices)]
