"""OpenMetrics 1.0 text export: a run's level series as timestamped samples, and the live state of runs.

A run directory's ``series.parquet`` becomes families named ``pmtwin_<what>_<unit>`` in base units
(``ratio``, ``watts``, ``joules``; job counts have no unit), each sample labelled ``run`` (the
directory's name) and, for per-pool series, ``pool`` (the part of the series name after ``:``;
``all`` for the whole machine). The text loads with ``promtool tsdb create-blocks-from openmetrics``.

Level series are piecewise constant (a row holds from its ``time_s`` until the series' next row; the
last row holds on). Each is exported on a regular grid ``t0, t0 + step, ...`` up to the run's last
series time, ``t0`` being the series' first time: a gauge sample is the exact mean level over
``[t, t + step)``, timestamped ``origin_unix_s + t`` (millisecond precision). Regular samples keep
Prometheus from marking a gauge stale (no sample for 5 minutes). The energy counters hold the exact
integral of the power level from ``t0``; they get one more sample at the run's last series time when
the grid misses it, so that their last sample is the energy of the whole run.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, overload

import numpy as np
from numpy.typing import NDArray

MAX_SAMPLES_PER_SERIES = 10_000_000
"""Samples per series beyond which a step is refused (a typo such as 0.001 s over a year)."""
MAX_TIMESTAMP_S = 2.0**53 / 1000.0
"""Timestamps are written in whole milliseconds, exact as float64 below 2**53 ms (year 287,396)."""
RUN_STATES = ("queued", "running", "done", "failed", "cancelled")
"""The states ``pmtwin_runs`` counts, each written even when no run is in it."""
_CHUNK_SAMPLES = 65_536
"""Samples formatted into one piece of text: large writes, bounded memory."""
_METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")


@dataclass(frozen=True)
class Sample:
    """One value of a family: its labels, value and optional timestamp (Unix seconds)."""

    labels: Mapping[str, str]
    value: float
    timestamp_s: float | None = None


@dataclass(frozen=True)
class Family:
    """A metric family: ``name`` ends with ``_<unit>`` when it has a unit; a counter's samples are named
    ``<name>_total``. Samples of one label set are consecutive, in increasing timestamp order."""

    name: str
    kind: Literal["gauge", "counter"]
    unit: str
    help: str
    samples: Sequence[Sample]


@dataclass(frozen=True)
class LiveRun:
    """A run as a live view sees it: state, progress (0..1), simulated time reached (s; ``None`` before
    it starts) and the latest levels per pool: (utilization 0..1, queued jobs, running jobs)."""

    run_id: str
    state: str
    progress: float
    time_s: float | None
    pools: Mapping[str, tuple[float, int, int]]


class _Columns(Sequence[Sample]):
    """Samples held as arrays, one block per label set (values, timestamps in integer milliseconds), so
    that a series of millions of samples is formatted without a Python object per sample."""

    def __init__(self, blocks: Sequence[tuple[Mapping[str, str], NDArray[np.float64], NDArray[np.int64]]]):
        self.blocks = tuple(blocks)

    def __len__(self) -> int:
        return sum(len(value) for _, value, _ in self.blocks)

    @overload
    def __getitem__(self, index: int) -> Sample: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Sample]: ...

    def __getitem__(self, index: int | slice) -> Sample | Sequence[Sample]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        row = index + len(self) if index < 0 else index
        for labels, value, time_ms in self.blocks:
            if 0 <= row < len(value):
                return Sample(labels, float(value[row]), int(time_ms[row]) / 1000)
            row -= len(value)
        raise IndexError(index)


@dataclass(frozen=True)
class _Spec:
    """How the series ``series`` (``series:<pool>`` when ``pooled``) becomes the family ``name``."""

    series: str
    name: str
    unit: str
    help: str
    pooled: bool


_LEVELS = (
    _Spec("utilization", "pmtwin_utilization_ratio", "ratio",
          "Busy share of the pool's capacity (pool=\"all\": of the whole machine), mean over the step.",
          True),
    _Spec("queue_jobs", "pmtwin_queued_jobs", "",
          "Jobs submitted and not started, mean over the step.", True),
    _Spec("running_jobs", "pmtwin_running_jobs", "",
          "Jobs started and not ended, mean over the step.", True),
    _Spec("power_system_w", "pmtwin_system_power_watts", "watts",
          "Electrical power drawn by the system, mean over the step.", False),
    _Spec("power_facility_w", "pmtwin_facility_power_watts", "watts",
          "Facility power (system power times PUE), mean over the step.", False),
    _Spec("power_nodes_w", "pmtwin_node_power_watts", "watts",
          "Power drawn by the pool's nodes, idle ones included, mean over the step.", True),
)  # fmt: skip
_ENERGY = (
    _Spec("power_system_w", "pmtwin_system_energy_joules", "joules",
          "Energy drawn by the system since the run's first submit.", False),
    _Spec("power_facility_w", "pmtwin_facility_energy_joules", "joules",
          "Facility energy (system energy times PUE) since the run's first submit.", False),
)  # fmt: skip
_LIVE_LEVELS = (
    ("pmtwin_utilization_ratio", "ratio", "Busy share of the pool's capacity, latest level."),
    ("pmtwin_queued_jobs", "", "Jobs submitted and not started, latest level."),
    ("pmtwin_running_jobs", "", "Jobs started and not ended, latest level."),
)


def render(families: Iterable[Family]) -> Iterator[str]:
    """The OpenMetrics text of ``families``, line by line (each ending ``"\\n"``), ``"# EOF\\n"`` last.

    Raises ``ValueError`` for invalid names, a unit the name does not end with, a family named twice,
    interleaved label sets, timestamps that do not increase within a label set, or a negative counter.
    """
    for chunk, _ in _chunks(families):
        pieces = chunk.split("\n")
        for piece in pieces[:-1]:
            yield piece + "\n"


def run_families(run_dir: Path, *, step_s: float = 60.0, origin_unix_s: float = 0.0) -> list[Family]:
    """The families of the run in ``run_dir`` (see module doc): levels as means over ``step_s`` bins,
    energy counters, timestamps ``origin_unix_s + time_s``. Raises ``ValueError`` when ``series.parquet``
    is missing or malformed, or for a step that is not positive and finite, below a millisecond, or that
    gives more than ``MAX_SAMPLES_PER_SERIES`` samples per series."""
    _check_step(step_s)
    if not math.isfinite(origin_unix_s):
        raise ValueError(f"origin_unix_s must be finite, got {origin_unix_s}")
    series = _read_series(run_dir / "series.parquet")
    if not series:
        return []
    end_s = max(float(time_s[-1]) for _, time_s, _ in series)
    first_s = min(float(time_s[0]) for _, time_s, _ in series)
    if not (origin_unix_s + first_s >= 0.0 and origin_unix_s + end_s < MAX_TIMESTAMP_S):
        raise ValueError(
            f"origin {origin_unix_s:g} s puts the run's samples at {origin_unix_s + first_s:g} to "
            f"{origin_unix_s + end_s:g} s; timestamps must lie between 0 (1970) and {MAX_TIMESTAMP_S:g} s"
        )
    _check_samples(step_s, end_s - first_s)
    run = run_dir.resolve().name
    families = [_family(spec, "gauge", series, run, end_s, step_s, origin_unix_s) for spec in _LEVELS]
    families += [_family(spec, "counter", series, run, end_s, step_s, origin_unix_s) for spec in _ENERGY]
    return [family for family in families if family.samples]


def write_run_metrics(run_dir: Path, out: Path, *, step_s: float = 60.0, origin_unix_s: float = 0.0) -> int:
    """Write the run's OpenMetrics text (:func:`run_families`) to ``out``, streamed in large pieces beside
    it and renamed into place; returns the number of samples written."""
    families = run_families(run_dir, step_s=step_s, origin_unix_s=origin_unix_s)
    if not out.parent.is_dir():
        raise ValueError(f"{out.parent}: no such directory")
    if out.is_dir():
        raise ValueError(f"{out}: is a directory")
    tmp = out.with_name(out.name + ".tmp")
    written = 0
    try:
        with tmp.open("w", encoding="utf-8", newline="\n") as stream:
            for chunk, samples in _chunks(families):
                stream.write(chunk)
                written += samples
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return written


def live_families(runs: Sequence[LiveRun]) -> list[Family]:
    """Families for a scrape of live runs, without timestamps: ``pmtwin_runs{state}`` (every state of
    ``RUN_STATES``), ``pmtwin_run_progress_ratio{run}`` and the latest utilization, queued and running
    jobs per run and pool. Raises ``ValueError`` for an unknown state."""
    counts = dict.fromkeys(RUN_STATES, 0)
    for run in runs:
        if run.state not in counts:
            raise ValueError(f"run {run.run_id}: state {run.state!r} is not one of {', '.join(RUN_STATES)}")
        counts[run.state] += 1
    families = [
        Family("pmtwin_runs", "gauge", "", "Runs by state.",
               [Sample({"state": state}, float(count)) for state, count in counts.items()]),
        Family("pmtwin_run_progress_ratio", "gauge", "ratio", "Share of the run done (0 to 1).",
               [Sample({"run": run.run_id}, run.progress) for run in runs]),
    ]  # fmt: skip
    for k, (name, unit, text) in enumerate(_LIVE_LEVELS):
        samples = [
            Sample({"run": run.run_id, "pool": pool}, float(levels[k]))
            for run in runs
            for pool, levels in run.pools.items()
        ]
        families.append(Family(name, "gauge", unit, text, samples))
    return families


def _read_series(path: Path) -> list[tuple[str, NDArray[np.float64], NDArray[np.float64]]]:
    """The series of ``series.parquet`` in order of first appearance: name, times (non-decreasing) and
    levels; rows of one series need not be consecutive in the file."""
    if not path.is_file():
        raise ValueError(f"{path}: no such file (not a run directory?)")
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from pmtwin.results.series import LevelSeries

    try:
        missing = {"series", "time_s", "value"} - set(pq.read_schema(path).names)
        if missing:
            raise ValueError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
        table = pq.read_table(path, columns=["series", "time_s", "value"])
        names = pc.dictionary_encode(pc.cast(table.column("series"), pa.string()).combine_chunks())
        time_s = table.column("time_s").to_numpy().astype(np.float64, copy=False)
        value = table.column("value").to_numpy().astype(np.float64, copy=False)
    except (pa.ArrowException, OSError) as exc:
        raise ValueError(f"{path}: {exc}") from None
    if names.null_count or not (np.all(np.isfinite(time_s)) and np.all(np.isfinite(value))):
        raise ValueError(f"{path}: every row needs a series name and finite time_s and value")
    series = []
    rows = LevelSeries.from_rows(names.indices.to_numpy(), names.dictionary.to_pylist(), time_s, value)
    for name, times, values in rows.parts():
        if len(times) and np.any(np.diff(times) < 0):
            raise ValueError(f"{path}: series {name!r}: time_s decreases")
        if len(times):
            series.append((name, times, values))
    return series


def _check_step(step_s: float) -> None:
    if not (math.isfinite(step_s) and step_s > 0):
        raise ValueError(f"step_s must be a positive, finite number of seconds, got {step_s}")
    if step_s < 0.001:
        raise ValueError(
            f"step_s must be at least 0.001 s (timestamps have millisecond precision), got {step_s}"
        )


def _check_samples(step_s: float, span_s: float) -> None:
    """Refuse a step giving more than ``MAX_SAMPLES_PER_SERIES`` samples (``ceil(span / step) + 1``, the
    grid and the counters' last sample) over ``span_s``, suggesting the smallest step (3 digits) that fits."""
    samples = math.ceil(span_s / step_s) + 1
    if samples > MAX_SAMPLES_PER_SERIES:
        least_s = span_s / (MAX_SAMPLES_PER_SERIES - 1)
        digit_s = 10.0 ** (math.floor(math.log10(least_s)) - 2)
        raise ValueError(
            f"step_s {step_s:g} s gives {samples:,} samples per series over {span_s:,.0f} s (at most "
            f"{MAX_SAMPLES_PER_SERIES:,}); use step_s >= {math.ceil(least_s / digit_s) * digit_s:.3g}"
        )


def _family(
    spec: _Spec,
    kind: Literal["gauge", "counter"],
    series: Sequence[tuple[str, NDArray[np.float64], NDArray[np.float64]]],
    run: str,
    end_s: float,
    step_s: float,
    origin_unix_s: float,
) -> Family:
    """The family of ``spec`` from the series it covers: bin means for a gauge, energy for a counter."""
    blocks = []
    for name, time_s, value in series:
        labels = _labels_of(spec, name, run)
        if labels is not None:
            at_s, level = (_energy if kind == "counter" else _means)(time_s, value, end_s, step_s)
            blocks.append((labels, *_on_milliseconds(at_s, level, origin_unix_s)))
    return Family(spec.name, kind, spec.unit, spec.help, _Columns(blocks))


def _labels_of(spec: _Spec, series: str, run: str) -> dict[str, str] | None:
    """The labels of ``series`` in the family of ``spec``, or ``None`` when it is not one of its series."""
    base, colon, pool = series.partition(":")
    if base != spec.series or (colon and not spec.pooled):
        return None
    return {"run": run, "pool": pool or "all"} if spec.pooled else {"run": run}


def _grid(time_s: NDArray[np.float64], end_s: float, step_s: float) -> NDArray[np.float64]:
    """``t0, t0 + step, ...`` up to ``end_s``, from the series' first time ``t0``."""
    first_s = float(time_s[0])
    return first_s + step_s * np.arange(int((end_s - first_s) // step_s) + 1, dtype=np.float64)


def _integral(
    time_s: NDArray[np.float64],
    value: NDArray[np.float64],
    at_s: NDArray[np.float64],
    side: Literal["left", "right"],
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """The integral of the level from the first row to each of ``at_s`` (>= the first row), and the row
    holding at each (``side="left"``: the level just before it)."""
    cumulative = np.concatenate([[0.0], np.cumsum(value[:-1] * np.diff(time_s))])
    row = np.searchsorted(time_s, at_s, side=side) - 1
    return cumulative[row] + value[row] * (at_s - time_s[row]), row


def _means(
    time_s: NDArray[np.float64], value: NDArray[np.float64], end_s: float, step_s: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Grid times and the mean level over ``[t, t + step)``; a bin with no change inside gets its level
    exactly (no rounding from the difference of integrals)."""
    grid_s = _grid(time_s, end_s, step_s)
    start, first = _integral(time_s, value, grid_s, "right")
    stop, last = _integral(time_s, value, grid_s + step_s, "left")
    mean = np.where(first == last, value[first], (stop - start) / step_s)
    return grid_s, mean


def _energy(
    time_s: NDArray[np.float64], value: NDArray[np.float64], end_s: float, step_s: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Grid times, plus ``end_s`` when the grid misses it, and the integral of the level up to each."""
    at_s = _grid(time_s, end_s, step_s)
    if at_s[-1] < end_s:
        at_s = np.append(at_s, end_s)
    return at_s, _integral(time_s, value, at_s, "right")[0]


def _on_milliseconds(
    at_s: NDArray[np.float64], value: NDArray[np.float64], origin_unix_s: float
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Values and their timestamps in integer milliseconds (half up); of samples sharing a millisecond
    only the last stays (a counter's last sample just after a grid time)."""
    time_ms = np.floor((origin_unix_s + at_s) * 1000.0 + 0.5).astype(np.int64)
    keep = np.append(time_ms[1:] != time_ms[:-1], True)
    return value[keep], time_ms[keep]


def _chunks(families: Iterable[Family]) -> Iterator[tuple[str, int]]:
    """The text in pieces of whole lines, each with the number of samples it holds."""
    seen: set[str] = set()
    for family in families:
        yield _header(family, seen), 0
        sample_name = family.name + ("_total" if family.kind == "counter" else "")
        if isinstance(family.samples, _Columns):
            for labels, value, time_ms in family.samples.blocks:
                if family.kind == "counter" and not np.all(value >= 0):
                    raise ValueError(f"{family.name}: a counter cannot be negative or NaN")
                prefix = sample_name + _labels_text(labels) + " "
                for start in range(0, len(value), _CHUNK_SAMPLES):
                    rows = slice(start, start + _CHUNK_SAMPLES)
                    yield _format_columns(prefix, value[rows], time_ms[rows]), len(value[rows])
        else:
            yield _format_samples(family, sample_name), len(family.samples)
    yield "# EOF\n", 0


def _header(family: Family, seen: set[str]) -> str:
    """``# TYPE``, ``# UNIT`` (with a unit) and ``# HELP`` lines, after checking the family's names."""
    name = family.name
    if not _METRIC_NAME.fullmatch(name):
        raise ValueError(f"{name!r}: not a valid metric name")
    if family.kind not in ("gauge", "counter"):
        raise ValueError(f"{name}: kind must be gauge or counter, got {family.kind!r}")
    if family.unit and not (re.fullmatch(r"[a-zA-Z0-9_]+", family.unit) and name.endswith("_" + family.unit)):
        raise ValueError(f"{name}: the name must end with _<unit> (unit {family.unit!r})")
    if family.kind == "counter" and name.endswith("_total"):
        raise ValueError(f"{name}: a counter's family name has no _total (its samples get it)")
    names = {name, name + "_total"} if family.kind == "counter" else {name}
    if names & seen:
        raise ValueError(f"{name}: family named twice")
    seen |= names
    unit = f"# UNIT {name} {family.unit}\n" if family.unit else ""
    return f"# TYPE {name} {family.kind}\n{unit}# HELP {name} {_escape(family.help)}\n"


def _format_columns(prefix: str, value: NDArray[np.float64], time_ms: NDArray[np.int64]) -> str:
    """Lines ``<prefix><value> <timestamp>`` of one label set, formatted list-wise."""
    values = map(repr, value.tolist()) if np.all(np.isfinite(value)) else map(_format_value, value.tolist())
    whole = time_ms % 1000 == 0
    stamps = map(str, (time_ms // 1000).tolist()) if np.all(whole) else map(_format_ms, time_ms.tolist())
    line = prefix.replace("{", "{{").replace("}", "}}") + "{} {}\n"
    return "".join(map(line.format, values, stamps))


def _format_samples(family: Family, sample_name: str) -> str:
    """Lines of samples given one by one, checking that label sets are not interleaved and that
    timestamps increase within each (a label set without timestamps has one sample)."""
    lines = []
    done: set[str] = set()
    current: str | None = None
    last_ms: int | None = None
    for sample in family.samples:
        labels = _labels_text(sample.labels)
        time_ms = None if sample.timestamp_s is None else _to_ms(sample.timestamp_s, family.name)
        if labels != current:
            if labels in done:
                raise ValueError(f"{family.name}: samples of {labels or '{}'} are interleaved with others")
            done.add(labels)
        elif time_ms is None or last_ms is None or time_ms <= last_ms:
            raise ValueError(f"{family.name}: samples of {labels or '{}'} need increasing timestamps")
        if family.kind == "counter" and not sample.value >= 0:
            raise ValueError(f"{family.name}: a counter cannot be negative or NaN")
        current, last_ms = labels, time_ms
        stamp = "" if time_ms is None else " " + _format_ms(time_ms)
        lines.append(f"{sample_name}{labels} {_format_value(sample.value)}{stamp}\n")
    return "".join(lines)


def _labels_text(labels: Mapping[str, str]) -> str:
    """``{name="value",...}`` with values escaped (backslash, quote, newline); empty for no labels."""
    for name in labels:
        if not _LABEL_NAME.fullmatch(name):
            raise ValueError(f"{name!r}: not a valid label name")
    if not labels:
        return ""
    return "{" + ",".join(f'{name}="{_escape(value)}"' for name, value in labels.items()) + "}"


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _format_value(value: float) -> str:
    """Shortest exact decimal of a float; ``NaN``, ``+Inf``, ``-Inf`` as OpenMetrics spells them."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))


def _to_ms(timestamp_s: float, family: str) -> int:
    if not math.isfinite(timestamp_s):
        raise ValueError(f"{family}: timestamp {timestamp_s} is not finite")
    return math.floor(timestamp_s * 1000.0 + 0.5)


def _format_ms(time_ms: int) -> str:
    """Unix seconds: whole seconds as an integer, else with three decimals."""
    return str(time_ms // 1000) if time_ms % 1000 == 0 else f"{time_ms / 1000:.3f}"
