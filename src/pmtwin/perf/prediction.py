"""What a performance model answers: a run time with its breakdown, and validation rows that compare a
prediction with a published measurement."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Prediction:
    """One prediction of an application model for ``nodes`` nodes of ``node_type`` on ``machine``.

    ``run_s`` is the job's run time; ``power_class`` names its class in ``physics/power_classes.toml``;
    ``breakdown`` splits the run time (or the step time) into named parts, in seconds, in a fixed order;
    ``figures`` holds the model's other results with units in their names (``rmax_pflops``); ``inputs``
    the parameters used, defaults filled in; ``notes`` what a reader should know about the answer."""

    app: str
    machine: str
    node_type: str
    nodes: int
    run_s: float
    power_class: str
    breakdown: dict[str, float] = field(default_factory=dict)
    figures: dict[str, float] = field(default_factory=dict)
    inputs: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        """The prediction as one JSON object: the figures sit at the top level (``rmax_pflops``)."""
        data = asdict(self)
        figures = data.pop("figures")
        clash = set(figures) & set(data)
        if clash:
            raise ValueError(f"figure names clash with prediction fields: {sorted(clash)}")
        data["notes"] = list(self.notes)
        return {**data, **figures}


@dataclass(frozen=True)
class ValidationRow:
    """A prediction next to the published value it should match, and the tolerance it must meet."""

    name: str
    predicted: float
    published: float
    unit: str
    error_pct: float
    target_pct: float
    source: str

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def within_target(self) -> bool:
        return abs(self.error_pct) <= self.target_pct


def validation_row(
    name: str, predicted: float, published: float, unit: str, target_pct: float, source: str
) -> ValidationRow:
    """A row with its signed error: (predicted - published) / published, in percent."""
    error_pct = (predicted - published) / published * 100.0
    return ValidationRow(name, predicted, published, unit, error_pct, target_pct, source)
