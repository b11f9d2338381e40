"""The configuration of what-if transforms: a ``[[transforms]]`` list in TOML, validated, applied in order.

``TransformSpec`` is one transform's table (``kind`` picks which; the other keys are its parameters, as
``transforms.py`` documents each function); ``load_transforms`` reads a file, ``parse_transforms`` a
list already read, and ``apply_transforms`` runs them with one seed. A bad table is one
``WorkloadFormatError`` naming the file, the transform's index and the field.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from pmtwin.workload.errors import WorkloadFormatError
from pmtwin.workload.jobs import JobTable
from pmtwin.workload.transforms import (
    SECONDS_PER_DAY,
    Report,
    rescale_sizes,
    scale_load,
    shift_to_gpu,
    shuffle,
    time_window,
)

CONFIG = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, strict=True)


class ScaleLoadSpec(BaseModel):
    """``scale_load``: offered load times ``factor``."""

    model_config = CONFIG

    kind: Literal["scale_load"]
    factor: float = Field(gt=0)
    method: Literal["resample", "compress"] = "resample"
    exclude_qos: tuple[str, ...] = Field(default=(), strict=False)

    def apply(self, jobs: JobTable, rng: np.random.Generator) -> tuple[JobTable, Report]:
        return scale_load(jobs, self.factor, self.method, rng, self.exclude_qos)


class RescaleSizesSpec(BaseModel):
    """``rescale_sizes``: job sizes times ``factor`` in ``partitions`` (all when absent); or, for a
    machine of another size, ``from_nodes`` and ``to_nodes`` (factor = to_nodes / from_nodes, and sizes
    capped at ``to_nodes`` unless ``max_size`` says otherwise)."""

    model_config = CONFIG

    kind: Literal["rescale_sizes"]
    factor: float | None = Field(default=None, gt=0)
    from_nodes: int | None = Field(default=None, ge=1)
    to_nodes: int | None = Field(default=None, ge=1)
    partitions: tuple[str, ...] | None = Field(default=None, min_length=1, strict=False)
    preserve: Literal["runtime", "work"] = "runtime"
    max_size: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _one_way(self) -> RescaleSizesSpec:
        pair = self.from_nodes is not None and self.to_nodes is not None
        if (self.factor is None) == (not pair) or (self.from_nodes is None) != (self.to_nodes is None):
            raise ValueError("give factor, or from_nodes with to_nodes")
        return self

    def apply(self, jobs: JobTable, rng: np.random.Generator) -> tuple[JobTable, Report]:
        if self.factor is not None:
            return rescale_sizes(jobs, self.factor, self.partitions, self.preserve, self.max_size)
        assert self.from_nodes is not None and self.to_nodes is not None
        cap = self.max_size if self.max_size is not None else self.to_nodes
        factor = self.to_nodes / self.from_nodes
        return rescale_sizes(jobs, factor, self.partitions, self.preserve, cap)


class ShiftToGpuSpec(BaseModel):
    """``shift_to_gpu``: a ``share`` of CPU jobs moved to GPU nodes, ``speedup`` times faster."""

    model_config = CONFIG

    kind: Literal["shift_to_gpu"]
    share: float = Field(ge=0, le=1)
    speedup: float = Field(gt=0)
    cpu_partition: str = Field(default="cpu", min_length=1)
    gpu_partition: str = Field(default="gpu", min_length=1)
    gpu_nodes_per_cpu_node: float = Field(default=1.0, gt=0)
    gpus_per_node: int = Field(default=4, ge=0)
    max_size: int | None = Field(default=None, ge=1)

    def apply(self, jobs: JobTable, rng: np.random.Generator) -> tuple[JobTable, Report]:
        return shift_to_gpu(
            jobs, self.share, self.speedup, rng, self.cpu_partition, self.gpu_partition,
            self.gpu_nodes_per_cpu_node, self.gpus_per_node, self.max_size,
        )  # fmt: skip


class ShuffleSpec(BaseModel):
    """``shuffle``: job shapes permuted over the submit times."""

    model_config = CONFIG

    kind: Literal["shuffle"]

    def apply(self, jobs: JobTable, rng: np.random.Generator) -> tuple[JobTable, Report]:
        return shuffle(jobs, rng)


class TimeWindowSpec(BaseModel):
    """``time_window``: the jobs submitted from day ``start_day`` (default 0) to ``end_day`` (excluded)."""

    model_config = CONFIG

    kind: Literal["time_window"]
    start_day: float = 0.0
    end_day: float
    rebase: bool = True
    origin: Literal["zero", "first_submit"] = "zero"
    """Days count from t = 0 of the table (a generated workload's start; an SWF trace's start; for
    sacct, the Unix epoch), or from its first submission."""

    @field_validator("end_day")
    @classmethod
    def _after_start(cls, end_day: float, info: ValidationInfo) -> float:
        start_day = info.data.get("start_day")
        if start_day is not None and not end_day > start_day:
            raise ValueError(f"must be > start_day ({start_day:g})")
        return end_day

    def apply(self, jobs: JobTable, rng: np.random.Generator) -> tuple[JobTable, Report]:
        origin_s = float(jobs.submit_s.min()) if self.origin == "first_submit" and len(jobs) else 0.0
        start_s, end_s = (
            origin_s + self.start_day * SECONDS_PER_DAY,
            origin_s + self.end_day * SECONDS_PER_DAY,
        )
        out, report = time_window(jobs, start_s, end_s, self.rebase)
        return out, {**report, "origin_s": origin_s, "rebased_by_s": start_s if self.rebase else 0.0}


TransformSpec = Annotated[
    ScaleLoadSpec | RescaleSizesSpec | ShiftToGpuSpec | ShuffleSpec | TimeWindowSpec,
    Field(discriminator="kind"),
]
"""One transform of a ``[[transforms]]`` table, chosen by its ``kind``."""

KINDS: tuple[str, ...] = ("scale_load", "rescale_sizes", "shift_to_gpu", "shuffle", "time_window")

_SPEC_LIST: TypeAdapter[list[TransformSpec]] = TypeAdapter(list[TransformSpec])


def load_transforms(path: str | Path) -> list[TransformSpec]:
    """The transforms of a TOML file: its ``[[transforms]]`` array of tables, in order (the file holds
    nothing else). Every mistake raises ``WorkloadFormatError`` naming the file, the transform and the
    field: ``t.toml: transforms[1].factor: must be > 0``."""
    try:
        data = tomllib.loads(Path(path).read_text())
    except OSError as exc:
        raise WorkloadFormatError(path, f"cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise WorkloadFormatError(path, "not valid TOML: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise WorkloadFormatError(path, f"not valid TOML: {exc}") from None
    extra = sorted(set(data) - {"transforms"})
    if extra:
        raise WorkloadFormatError(path, f"unknown top-level key {extra[0]!r} (expected [[transforms]] only)")
    if "transforms" not in data:
        raise WorkloadFormatError(path, "no [[transforms]]")
    return parse_transforms(data, str(path))


def parse_transforms(data: object, source: str) -> list[TransformSpec]:
    """Transforms from parsed TOML: the ``[[transforms]]`` list itself, or a table holding it under
    ``transforms`` (other keys of that table are left to its owner; a table without ``transforms``
    gives no transforms). ``source`` names the origin in error messages, as in ``load_transforms``."""
    items = data.get("transforms", []) if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise WorkloadFormatError(source, "transforms: must be an array of tables ([[transforms]])")
    try:
        return _SPEC_LIST.validate_python(items)
    except ValidationError as exc:
        raise WorkloadFormatError(source, _describe(exc.errors()[0])) from None


def _describe(error: ErrorDetails) -> str:
    """``transforms[i].field: message`` for one pydantic error."""
    loc = list(error["loc"])
    if len(loc) >= 2 and loc[1] in KINDS:  # the union's tag, which pydantic puts in the location
        loc.pop(1)
    where = "transforms" + "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc)
    kind, ctx = error["type"], error.get("ctx", {})
    if kind in ("union_tag_not_found", "union_tag_invalid"):
        where += ".kind"
    return f"{where}: {_MESSAGES.get(kind, _pydantic_message)(error, ctx)}"


def _pydantic_message(error: ErrorDetails, ctx: dict[str, Any]) -> str:
    message = error["msg"].removeprefix("Value error, ")
    return message[:1].lower() + message[1:]


def _kind_list() -> str:
    return ", ".join(repr(kind) for kind in KINDS)


_MESSAGES: dict[str, Callable[[ErrorDetails, dict[str, Any]], str]] = {
    "greater_than": lambda e, c: f"must be > {c['gt']:g}",
    "greater_than_equal": lambda e, c: f"must be >= {c['ge']:g}",
    "less_than": lambda e, c: f"must be < {c['lt']:g}",
    "less_than_equal": lambda e, c: f"must be <= {c['le']:g}",
    "missing": lambda e, c: "missing",
    "extra_forbidden": lambda e, c: "unknown field",
    "finite_number": lambda e, c: "must be a finite number",
    "float_parsing": lambda e, c: "must be a number",
    "float_type": lambda e, c: "must be a number",
    "int_parsing": lambda e, c: "must be an integer",
    "int_type": lambda e, c: "must be an integer",
    "int_from_float": lambda e, c: "must be an integer",
    "bool_parsing": lambda e, c: "must be true or false",
    "bool_type": lambda e, c: "must be true or false",
    "string_type": lambda e, c: "must be a string",
    "too_short": lambda e, c: "must not be empty",
    "literal_error": lambda e, c: f"must be one of {c['expected']}",
    "union_tag_not_found": lambda e, c: f"missing (one of {_kind_list()})",
    "union_tag_invalid": lambda e, c: f"unknown kind {c['tag']!r} (expected one of {_kind_list()})",
    "model_attributes_type": lambda e, c: "must be a table",
    "model_type": lambda e, c: "must be a table",
    "list_type": lambda e, c: "must be an array",
    "tuple_type": lambda e, c: "must be an array",
}
"""Short messages for the pydantic error types a transforms file can hit; others keep pydantic's."""


# ---------------------------------------------------------------------------------------------------
# apply


def apply_transforms(
    jobs: JobTable, specs: Sequence[TransformSpec], seed: int
) -> tuple[JobTable, list[dict[str, int | float | str]]]:
    """``specs`` applied in order. Transform i draws from
    ``numpy.random.default_rng(numpy.random.SeedSequence([seed, i]))`` (``seed`` >= 0), so the same
    seed and specs give the same table, bit for bit. Returns one report per transform, with its
    ``kind`` first. A time window that leaves no jobs of a table that had some is an error (a window
    outside the table's times, most likely), not an empty result."""
    reports: list[dict[str, int | float | str]] = []
    for i, spec in enumerate(specs):
        rng = np.random.default_rng(np.random.SeedSequence([seed, i]))
        had_jobs = len(jobs) > 0
        jobs, report = spec.apply(jobs, rng)
        reports.append({"kind": spec.kind, **report})
        if had_jobs and not len(jobs) and spec.kind == "time_window":
            raise ValueError(
                f"transforms[{i}] (time_window) left no jobs: its days count from t = 0 of the table (a "
                "generated workload's start, an SWF trace's start, the Unix epoch for sacct); "
                'origin = "first_submit" counts from the first submission'
            )
    return jobs, reports
