"""Slurm's text forms of times, durations, job ids and trackable resources (TRES), as sacct prints them.

Each parser raises ``ValueError`` with a short reason; the sacct reader adds the file, line and column.
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

UNKNOWN_TIMES = frozenset({"", "Unknown", "None"})
"""What sacct prints for a time that never happened (a job that has not started or ended)."""
UNLIMITED_LIMITS = frozenset({"", "UNLIMITED", "Partition_Limit", "INFINITE"})
"""Time limits that give no number: requested time then follows the reader's documented rule."""

TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")
DIGITS = re.compile(r"\d+")
JOB_ID = re.compile(r"\d+")
TRES_GPU_KEY = "gres/gpu"
DAY_S = 86400
MINUTE_S = 60
CLOCK_WEIGHTS_S = {
    False: {1: (60,), 2: (60, 1), 3: (3600, 60, 1)},  # MM, MM:SS, HH:MM:SS
    True: {1: (3600,), 2: (3600, 60), 3: (3600, 60, 1)},  # after "D-": HH, HH:MM, HH:MM:SS
}


def parse_time_s(text: str, zone: ZoneInfo) -> float:
    """Seconds since the Unix epoch of ``YYYY-MM-DDTHH:MM:SS`` read as wall-clock time in ``zone``.

    A wall-clock time that occurs twice (the hour a clock is set back) is read as its first
    occurrence (``fold=0``).
    """
    if TIMESTAMP.fullmatch(text) is None:
        raise ValueError(f"{text!r} is not a time (YYYY-MM-DDTHH:MM:SS)")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a valid date and time") from None
    return moment.replace(tzinfo=zone).timestamp()


def parse_duration_s(text: str) -> float:
    """Seconds in a Slurm duration: ``D-HH[:MM[:SS]]``, ``HH:MM:SS``, ``MM:SS`` or ``MM``."""
    days, dash, clock = text.partition("-") if "-" in text else ("0", "", text)
    parts = clock.split(":")
    weights_s = CLOCK_WEIGHTS_S[bool(dash)].get(len(parts))
    if weights_s is None or not all(DIGITS.fullmatch(number) for number in (days, *parts)):
        raise ValueError(f"{text!r} is not a duration ([D-]HH:MM:SS)")
    return float(int(days) * DAY_S + sum(int(p) * w for p, w in zip(parts, weights_s, strict=True)))


def parse_limit_s(text: str) -> float | None:
    """A time limit in seconds, or None for an unlimited or unset one."""
    return None if text in UNLIMITED_LIMITS else parse_duration_s(text)


def parse_limit_minutes_s(text: str) -> float | None:
    """A raw time limit (``TimelimitRaw``: whole minutes) in seconds, or None when unlimited."""
    if text in UNLIMITED_LIMITS:
        return None
    if DIGITS.fullmatch(text) is None:
        raise ValueError(f"{text!r} is not a number of minutes")
    return float(int(text) * MINUTE_S)


def parse_count(text: str) -> int:
    """A non-negative whole number (``NNodes``, ``ElapsedRaw``, ``JobIDRaw``)."""
    if DIGITS.fullmatch(text) is None:
        raise ValueError(f"{text!r} is not a whole number")
    return int(text)


def parse_tres_gpus(text: str) -> int:
    """The GPU count in a TRES list such as ``cpu=128,gres/gpu=4,node=1``.

    The plain ``gres/gpu`` entry is the total; without it, typed entries (``gres/gpu:a100=4``) are
    summed. No GPU entry means 0.
    """
    total: int | None = None
    typed = 0
    for item in filter(None, text.split(",")):
        key, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"{item!r} in {text!r} is not a TRES entry (name=count)")
        if key == TRES_GPU_KEY:
            total = parse_count(value)
        elif key.startswith(TRES_GPU_KEY + ":"):
            typed += parse_count(value)
    return typed if total is None else total


def is_job_step(job_id: str) -> bool:
    """``123.batch``, ``123.0``, ``123_4.extern``: steps run inside a job and are not jobs."""
    return "." in job_id


def is_pending_array(job_id: str) -> bool:
    """``123_[5-9]``: array tasks still waiting, printed as one record for the whole range."""
    return "[" in job_id


def parse_job_id(text: str) -> int:
    """The integer id of a job: plain ``123`` only (array tasks and heterogeneous job components
    have a unique integer only in ``JobIDRaw``)."""
    if JOB_ID.fullmatch(text) is None:
        raise ValueError(f"{text!r} has no unique integer id: add JobIDRaw to the sacct --format list")
    return int(text)
