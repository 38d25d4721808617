"""Input of the validation engine: plan features, parent parcels, neighbours and rules.

Every geometry is expected in a metric projected CRS (metres); the engine never reprojects.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from shapely.geometry.base import BaseGeometry

LOT = "lot"
ROAD = "road"
OPEN_SPACE = "open_space"
UTILITY = "utility"
FEATURE_KINDS = (LOT, ROAD, OPEN_SPACE, UTILITY)
PUBLIC_KINDS = (ROAD, OPEN_SPACE, UTILITY)
# Roads whose land_use is one of these are held to the passage width, not the road width.
PASSAGE_LAND_USES = frozenset({"passage", "pedestrian", "footpath", "ممر"})


@dataclass(frozen=True)
class RuleSet:
    """Planning limits; defaults are the residential ones from DOMAIN.md."""

    min_lot_area_m2: float = 400
    min_frontage_m: float = 20
    max_depth_ratio: float = 3
    min_road_width_m: float = 12
    min_passage_width_m: float = 8
    min_public_share_pct: float = 33.33
    area_tolerance_pct: float = 1.0
    gap_overlap_tolerance_m2: float = 0.5
    sliver_thinness: float = 0.1
    sliver_min_width_m: float = 1.0
    frontage_snap_m: float = 0.5  # tolerance for "touches a road"
    # Drafting error: a GAP, OVERLAP, SLIVER or OUTSIDE_PARENT closed by moving no vertex further than this.
    snap_tolerance_m: float = 0.5
    # Corner truncation (شطفة): two equal legs of this share of the wider street's width, within [min, max].
    # Required unless a rule set says otherwise (one Amana's plan conditions, DOMAIN.md).
    corner_truncation_required: bool = True
    corner_truncation_ratio: float = 0.2
    corner_truncation_min_m: float = 3.0
    corner_truncation_max_m: float = 6.0
    # What a building footprint on a lot must keep (checked where a plan carries buildings).
    front_setback_ratio: float = 0.2
    front_setback_max_m: float = 6.0
    side_setback_m: float = 2.0
    rear_setback_m: float = 2.0
    max_coverage_pct: float = 60.0


@dataclass(frozen=True)
class PlanFeature:
    """One polygon of the surveyor's plan as read from the file (may be invalid)."""

    kind: str  # lot | road | open_space | utility
    lot_no: str | None
    geom: BaseGeometry
    stated_area: float | None = None
    land_use: str | None = None
    index: int = 0  # position in the file, for messages when lot_no is missing

    @property
    def label(self) -> str:
        """Return the lot number, or a positional label when it is missing."""
        if self.lot_no is not None and str(self.lot_no).strip():
            return str(self.lot_no).strip()
        return f"{self.kind}#{self.index}"


@dataclass(frozen=True)
class ExistingParcel:
    code: str
    geom: BaseGeometry
    status: str  # "active" | "retired"


@dataclass(frozen=True)
class PlanContext:
    features: tuple[PlanFeature, ...]
    parents: tuple[ExistingParcel, ...]
    existing: tuple[ExistingParcel, ...] = ()
    street_rows: tuple[BaseGeometry, ...] = ()
    municipality_boundary: BaseGeometry | None = None
    rules: RuleSet = field(default_factory=RuleSet)
