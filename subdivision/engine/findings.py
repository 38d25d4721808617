"""Finding: one thing wrong with a subdivision plan, in two languages."""
from __future__ import annotations

from dataclasses import dataclass

from shapely.geometry.base import BaseGeometry

ERROR = "error"
WARNING = "warning"
# A finding names at most this many features; ``features_total`` gives the full count.
MAX_NAMED_FEATURES = 100


@dataclass(frozen=True)
class CorrectedFeature:
    label: str
    geom: BaseGeometry  # the feature's corrected geometry, metric CRS
    index: int  # the feature's position in PlanContext.features


@dataclass(frozen=True)
class Correction:
    """The corrected geometries of the features a finding names, and the largest vertex move."""

    features: tuple[CorrectedFeature, ...]
    max_displacement_m: float


@dataclass(frozen=True)
class Finding:
    """One problem found in a plan, with the exact offending location in the metric CRS."""

    code: str
    severity: str
    message_en: str
    message_ar: str
    features: tuple[str, ...]
    location: BaseGeometry | None
    value: float | None = None
    limit: float | None = None
    features_total: int | None = None  # set when ``features`` lists only the first of many
    # Set on GAP, OVERLAP, SLIVER, OUTSIDE_PARENT and CORNER_TRUNCATION findings: the suggested fix, or None
    # with ``correction_note`` saying why there is none (engine.corrections).
    correction: Correction | None = None
    correction_note: str | None = None
    correction_note_ar: str | None = None  # the same, in Arabic

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR
