"""What the caller asks of a layout, and the lot and road dimensions drawn from it and the rule set (pure)."""
from __future__ import annotations

import math
from dataclasses import dataclass

from subdivision.engine import RuleSet

# Bounds of the targets a caller may give (the rule set's own limits are checked on top of these).
LOT_AREA_MAX_M2 = 20_000.0
ROAD_WIDTH_MAX_M = 60.0
PUBLIC_SHARE_MAX_PCT = 80.0
DEFAULT_ROAD_WIDTH_M = 16.0
# Margins kept over the limits, so round-off through EPSG:4326 never flips a result.
AREA_MARGIN = 1.02
FRONTAGE_MARGIN_M = 0.5
SHARE_MARGIN_PCT = 0.3


@dataclass(frozen=True)
class LayoutTargets:
    """Optional targets; None takes the default drawn from the rule set."""

    lot_area_m2: float | None = None
    road_width_m: float | None = None
    public_share_pct: float | None = None
    land_use: str = "residential"


@dataclass(frozen=True)
class Dimensions:
    lot_width_m: float  # frontage of a regular lot
    lot_depth_m: float
    road_width_m: float
    public_share_pct: float  # the share the layout aims at (at least the rule set's minimum)

    @property
    def period_m(self) -> float:
        """Return the spacing of parallel roads: a road and two rows of lots back to back."""
        return 2 * self.lot_depth_m + self.road_width_m


def target_problems(targets: LayoutTargets, rules: RuleSet) -> list[tuple[str, str]]:
    """Return (parameter, what is wrong) for every target outside its bounds or under the rule set."""
    out = []

    def check(name: str, value: float | None, low: float, high: float, why_low: str):
        if value is None:
            return
        if not math.isfinite(value):
            out.append((name, f"{value!r} is not a finite number"))
        elif value < low:
            out.append((name, f"{value:g} is under {why_low} ({low:g})"))
        elif value > high:
            out.append((name, f"{value:g} is over the largest allowed ({high:g})"))

    check("lot_area_m2", targets.lot_area_m2, rules.min_lot_area_m2, LOT_AREA_MAX_M2,
          "the municipality's minimum lot area")
    check("road_width_m", targets.road_width_m, rules.min_road_width_m, ROAD_WIDTH_MAX_M,
          "the municipality's minimum road width")
    check("public_share_pct", targets.public_share_pct, rules.min_public_share_pct, PUBLIC_SHARE_MAX_PCT,
          "the municipality's minimum public share")
    return out


def dimensions(rules: RuleSet, targets: LayoutTargets) -> Dimensions:
    """Return lot width and depth, road width and public share meeting RULES, near TARGETS."""
    road = targets.road_width_m or max(DEFAULT_ROAD_WIDTH_M, rules.min_road_width_m)
    area = max(targets.lot_area_m2 or 1.5 * rules.min_lot_area_m2, rules.min_lot_area_m2 * AREA_MARGIN)
    # About 3 deep for 2 wide, never under the frontage minimum, never deeper than the ratio allows.
    width = max(rules.min_frontage_m + FRONTAGE_MARGIN_M, math.sqrt(area / 1.5))
    depth = area / width
    ratio_cap = 0.95 * rules.max_depth_ratio
    if depth > ratio_cap * width:
        width = math.sqrt(area / ratio_cap)
        depth = area / width
    share = max(targets.public_share_pct or 0.0, rules.min_public_share_pct) + SHARE_MARGIN_PCT
    return Dimensions(round(width, 2), round(depth, 2), float(road), share)
