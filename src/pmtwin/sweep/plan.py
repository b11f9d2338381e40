"""A sweep file, and the points it expands to (docs/sweeps.md section 1).

A sweep is a base scenario, a list of axes and seeds. An axis is one of

- a grid axis: one field and its values (``field``, ``values``);
- a zip axis: several fields that vary together (``zip = {field = [values], ...}``, equal lengths);
- a random axis: ``samples`` joint draws of several fields (``random = {field = {law = [...]}}``, laws
  ``uniform = [low, high]``, ``loguniform = [low, high]``, ``integers = [low, high]`` (inclusive),
  ``choice = [values]``), from a stream of its own ``seed``.

The points are the product of the axes, in the order given (the last axis varies fastest), times the
seeds (fastest of all). In values, the string ``"null"`` means no value (TOML has no null).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pmtwin.sweep.scenario import Scenario

NULL = "null"
FIELD_PATH = re.compile(r"[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*")
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
Value = bool | int | float | str | None
LAWS = ("uniform", "loguniform", "integers", "choice")
MAX_POINTS = 1_000_000


class Axis(BaseModel):
    """One axis of a sweep (exactly one of ``field``, ``zip``, ``random``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    field: str | None = None
    values: list[Value] | None = None
    zip: dict[str, list[Value]] | None = None
    random: dict[str, dict[str, list[Value]]] | None = None
    samples: int | None = Field(default=None, ge=1)
    seed: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _one_kind(self) -> Axis:
        for name in [self.field or "", *(self.zip or {}), *(self.random or {})]:
            if name and not FIELD_PATH.fullmatch(name) or name == "" and self.field == "":
                raise ValueError(
                    f"{name!r} is not a field path (words joined by dots, e.g. power.power_cap_mw)"
                )
        kinds = [self.field is not None, self.zip is not None, self.random is not None]
        if sum(kinds) != 1:
            raise ValueError("give exactly one of field (with values), zip or random (with samples)")
        if self.field is not None and not self.values:
            raise ValueError(f"axis {self.field!r}: give its values (a non-empty list)")
        if self.field is None and self.values is not None:
            raise ValueError("values go with field")
        if self.zip is not None:
            lengths = {name: len(v) for name, v in self.zip.items()}
            if not lengths or len(set(lengths.values())) != 1 or 0 in lengths.values():
                raise ValueError(f"zip: every field needs the same number of values (> 0), got {lengths}")
        if (self.random is None) != (self.samples is None):
            raise ValueError("random and samples go together")
        for name, law in (self.random or {}).items():
            _check_law(name, law)
        return self

    def size(self) -> int:
        """How many steps the axis has (without drawing them)."""
        if self.field is not None:
            return len(self.values or [])
        if self.zip is not None:
            return len(next(iter(self.zip.values())))
        return self.samples or 0

    def fields(self) -> list[str]:
        if self.field is not None:
            return [self.field]
        return list(self.zip or self.random or {})

    def assignments(self) -> list[dict[str, Value]]:
        """The field values of each step of this axis."""
        if self.field is not None:
            return [{self.field: _value(v)} for v in self.values or []]
        if self.zip is not None:
            names = list(self.zip)
            return [
                {n: _value(v) for n, v in zip(names, row, strict=True)}
                for row in zip(*self.zip.values(), strict=True)
            ]
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, 0x5EE9]))
        draws = {name: _draw(law, rng, self.samples or 0) for name, law in (self.random or {}).items()}
        return [{name: draws[name][k] for name in draws} for k in range(self.samples or 0)]


class SweepSpec(BaseModel):
    """A sweep file: ``name``, ``seeds`` (a list, or a count n meaning 0..n-1), ``base``, ``axes``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = "sweep"
    seeds: list[int] = [0]
    report_metrics: list[str] = [
        "utilization", "wait_mean_h", "wait_p95_h", "bsld_mean", "energy_facility_mwh", "peak_facility_mw",
    ]  # fmt: skip
    """The metrics the sweep report plots against each axis (columns of the results table)."""
    base: dict[str, Any] = {}
    axes: list[Axis] = []

    @field_validator("name")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        if not NAME.fullmatch(value) or ".." in value:
            raise ValueError(f"{value!r}: a name of letters, digits, '.', '_' and '-' (it names a folder)")
        return value

    @field_validator("seeds", mode="before")
    @classmethod
    def _seed_count(cls, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            if value < 1:
                raise ValueError(f"a seed count must be at least 1, got {value}")
            return list(range(value))
        return value

    @field_validator("seeds")
    @classmethod
    def _distinct(cls, value: list[int]) -> list[int]:
        if not value or len(set(value)) != len(value) or min(value) < 0:
            raise ValueError("seeds must be distinct non-negative integers (at least one)")
        return value

    def axis_fields(self) -> list[str]:
        """Every field the axes vary, in order (each at most once)."""
        return [name for axis in self.axes for name in axis.fields()]


@dataclass(frozen=True)
class Point:
    """One run of the sweep: its place, the axis values, the resolved scenario and the seed."""

    index: int
    point_id: str
    values: dict[str, Value]
    scenario: Scenario
    seed: int


def load_sweep(path: Path) -> SweepSpec:
    """Read a sweep file; errors name the file and the field."""
    import tomllib

    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"{path}: {exc}") from None
    return parse_sweep(data, str(path))


def parse_sweep(data: dict[str, Any], source: str = "sweep") -> SweepSpec:
    try:
        spec = SweepSpec.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top)"
        raise ValueError(f"{source}: {where}: {first['msg']}") from None
    from pmtwin.sweep.points import METRICS

    unknown = [m for m in spec.report_metrics if m not in METRICS and not m.startswith("utilization:")]
    if unknown:
        raise ValueError(
            f"{source}: report_metrics: unknown {', '.join(unknown)}; choose from {', '.join(METRICS)}"
        )
    fields = spec.axis_fields()
    twice = sorted({name for name in fields if fields.count(name) > 1})
    if twice:
        raise ValueError(f"{source}: axes vary {', '.join(twice)} more than once")
    return spec


def expand(spec: SweepSpec, source: str = "sweep") -> list[Point]:
    """The sweep's points, validated (a value a scenario refuses is an error naming the axis)."""
    count = math.prod(axis.size() for axis in spec.axes) * len(spec.seeds)
    if count > MAX_POINTS:
        raise ValueError(f"{source}: {count:,} points; at most {MAX_POINTS:,}")
    steps = [axis.assignments() for axis in spec.axes]
    points: list[Point] = []
    cache: dict[str, Scenario] = {}
    for combination in itertools.product(*steps):
        values = {name: value for step in combination for name, value in step.items()}
        key = json.dumps(values, sort_keys=True)
        scenario = cache.get(key) or _scenario(spec.base, values, source)
        cache[key] = scenario
        if scenario.command == "replay" and len(spec.seeds) > 1:
            raise ValueError(f"{source}: seeds: a replay draws nothing at random; give one seed")
        for seed in spec.seeds:
            points.append(Point(len(points), point_key(scenario, seed), values, scenario, seed))
    return points


def point_key(scenario: Scenario, seed: int) -> str:
    """A point's identity: a hash of its resolved scenario and seed (stable across plans and hosts)."""
    text = json.dumps({"scenario": scenario.model_dump(mode="json"), "seed": seed}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _scenario(base: dict[str, Any], values: dict[str, Value], source: str) -> Scenario:
    data = json.loads(json.dumps(base))  # a deep copy
    shown = ", ".join(f"{k} = {v!r}" for k, v in values.items()) or "base"
    try:
        for name, value in values.items():
            _assign(data, name, value)
        return Scenario.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "scenario"
        raise ValueError(f"{source}: the point ({shown}): {where}: {first['msg']}") from None
    except ValueError as exc:
        raise ValueError(f"{source}: the point ({shown}): {exc}") from None


def _assign(data: dict[str, Any], path: str, value: Value) -> None:
    parts = path.split(".")
    node = data
    for part in parts[:-1]:
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            raise ValueError(f"{path}: {part} is not a table")
        node = child
    node[parts[-1]] = value


def _value(value: Value) -> Value:
    return None if value == NULL else value


def _check_law(name: str, law: dict[str, list[Value]]) -> None:
    if len(law) != 1 or next(iter(law)) not in LAWS:
        raise ValueError(f"random {name!r}: give one law of {', '.join(LAWS)}, e.g. {{uniform = [0.8, 1.2]}}")
    kind, args = next(iter(law.items()))
    if kind == "choice":
        if not args:
            raise ValueError(f"random {name!r}: choice needs values")
        return
    if len(args) != 2 or not all(isinstance(a, int | float) and not isinstance(a, bool) for a in args):
        raise ValueError(f"random {name!r}: {kind} needs [low, high]")
    if kind == "integers" and not all(isinstance(a, int) for a in args):
        raise ValueError(f"random {name!r}: integers needs whole numbers [low, high]")
    low, high = float(args[0]), float(args[1])  # type: ignore[arg-type]
    if not low < high or (kind == "loguniform" and low <= 0):
        raise ValueError(
            f"random {name!r}: {kind} needs low < high" + (" and low > 0" if kind == "loguniform" else "")
        )


def _draw(law: dict[str, list[Value]], rng: np.random.Generator, n: int) -> list[Value]:
    kind, args = next(iter(law.items()))
    if kind == "choice":
        return [_value(args[int(k)]) for k in rng.integers(0, len(args), size=n)]
    low, high = float(args[0]), float(args[1])  # type: ignore[arg-type]
    if kind == "uniform":
        return [float(x) for x in rng.uniform(low, high, size=n)]
    if kind == "loguniform":
        return [float(x) for x in np.exp(rng.uniform(math.log(low), math.log(high), size=n))]
    return [int(x) for x in rng.integers(int(low), int(high), size=n, endpoint=True)]
