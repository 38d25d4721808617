"""Rule registry and the ``Prepared`` data computed once per validation."""
from __future__ import annotations

from collections.abc import Callable
from functools import cached_property

import numpy as np
import shapely

from . import measure
from .budget import UNLIMITED, Budget
from .context import LOT, PUBLIC_KINDS, ROAD, PlanContext

BUILDING = "building"  # a footprint on a lot (issue 12); rules of the plan's coverage ignore it
from .findings import Finding
from .overlaps import OverlapRegions, distinct_geometries, overlap_regions

RuleFn = Callable[[PlanContext, "Prepared"], list[Finding]]
RULES: dict[str, RuleFn] = {}


def rule(code: str) -> Callable[[RuleFn], RuleFn]:
    """Register a rule function under ``code``; a code may be registered only once."""

    def register(fn: RuleFn) -> RuleFn:
        if code in RULES and RULES[code] is not fn:
            raise ValueError(f"Rule {code!r} is already registered by {RULES[code].__name__}")
        RULES[code] = fn
        fn.code = code  # type: ignore[attr-defined]
        return fn

    return register


class Prepared:
    """Repaired geometries, unions and spatial indexes shared by every rule.

    Expensive members are ``cached_property`` so a rule set that does not need them
    (e.g. a test running a single rule) does not pay for them.
    """

    def __init__(self, ctx: PlanContext, budget: Budget = UNLIMITED):
        self.ctx = ctx
        self.budget = budget
        self.rules = ctx.rules
        self.features = ctx.features
        self.kinds = np.array([f.kind for f in ctx.features], dtype=object)
        self.labels = [f.label for f in ctx.features]
        self.raw = np.empty(len(ctx.features), dtype=object)
        self.raw[:] = [f.geom for f in ctx.features]
        self.geoms = measure.repair_all(list(self.raw))
        # Building footprints sit on lots: they are no part of the plan's coverage (overlaps, gaps, area
        # balance). Their repaired geometries are in building_geoms; geoms holds them empty.
        self.building_idx = np.flatnonzero(self.kinds == BUILDING)
        self.building_geoms = self.geoms[self.building_idx]
        self.geoms[self.building_idx] = measure.EMPTY
        self.areas = shapely.area(self.geoms) if len(self.geoms) else np.zeros(0)
        self.lot_idx = np.flatnonzero(self.kinds == LOT)
        self.road_idx = np.flatnonzero(self.kinds == ROAD)
        self.public_idx = np.flatnonzero(np.isin(self.kinds, PUBLIC_KINDS))

    def kind_area(self, *kinds: str) -> float:
        """Return the summed area of features of the given kinds."""
        return float(self.areas[np.isin(self.kinds, kinds)].sum()) if len(self.areas) else 0.0

    @cached_property
    def tree(self) -> shapely.STRtree:
        return shapely.STRtree(self.geoms)

    @cached_property
    def parent_union(self):
        geoms = measure.repair_all([p.geom for p in self.ctx.parents])
        union = shapely.union_all(geoms) if len(geoms) else measure.EMPTY
        shapely.prepare(union)
        return union

    @cached_property
    def parent_area(self) -> float:
        return float(self.parent_union.area)

    @cached_property
    def outside_area(self) -> float:
        """Return the total area of the features' parts outside the parents (overlaps counted twice)."""
        return float(shapely.area(self.outside[1]).sum()) if len(self.outside[1]) else 0.0

    @cached_property
    def area_balance(self) -> float | None:
        """Return the uncovered area by bookkeeping, when that is exact, else None.

        When no two features overlap, their union has the sum of their areas, and its part inside
        the parents that sum less the parts outside: uncovered = parent - sum + outside.
        """
        if self.parent_union.is_empty or len(self.overlaps.geoms):
            return None
        return max(self.parent_area - float(self.areas.sum()) + self.outside_area, 0.0)

    @cached_property
    def uncovered(self):
        """Return the part of the parents' union not covered by any plan feature."""
        balance = self.area_balance
        slack = self.rules.gap_overlap_tolerance_m2 / 2
        if balance is not None and balance <= slack:
            return measure.EMPTY  # no gap can pass the tolerance: skip the geometry
        if balance is not None and self.outside_area <= slack:
            # Disjoint features: cells whose features add up are skipped. Parts sticking out count
            # as cover there, so this is exact only to the outside area, itself under the slack.
            return measure.uncovered(self.parent_union, self.geoms, self.tree, check=self.budget.check,
                                     disjoint_areas=self.areas)
        distinct = self.distinct_idx
        if len(distinct) == len(self.geoms):
            geoms, tree = self.geoms, self.tree
        else:  # copies add nothing to what is covered, and would make the cells' unions slow
            geoms = self.geoms[distinct]
            tree = shapely.STRtree(geoms)
        return measure.uncovered(self.parent_union, geoms, tree, check=self.budget.check)

    @cached_property
    def uncovered_area(self) -> float:
        balance = self.area_balance
        return balance if balance is not None and self.uncovered.is_empty else float(self.uncovered.area)

    @cached_property
    def distinct_idx(self) -> np.ndarray:
        """Return the index of the first of each group of identical geometries."""
        return distinct_geometries(self.geoms)

    @cached_property
    def outside(self) -> tuple[np.ndarray, np.ndarray]:
        """Return (feature index, part outside the parents' union) for features sticking out."""
        if self.parent_union.is_empty or not len(self.geoms):
            idx = np.flatnonzero(~shapely.is_empty(self.geoms))
            return idx, self.geoms[idx]
        idx = np.flatnonzero(~shapely.covers(self.parent_union, self.geoms))
        parts = shapely.difference(self.geoms[idx], self.parent_union)
        keep = shapely.area(parts) > 0
        return idx[keep], parts[keep]

    @cached_property
    def overlaps(self) -> OverlapRegions:
        """Return the connected regions covered by two or more features, with those features."""
        return overlap_regions(self.geoms, self.budget)

    @cached_property
    def access(self) -> np.ndarray:
        """Return road and street right-of-way polygons a lot can front on."""
        rows = measure.repair_all(list(self.ctx.street_rows))
        acc = np.concatenate([self.geoms[self.road_idx], rows]).astype(object)
        return acc[~shapely.is_empty(acc)]

    @cached_property
    def access_tree(self) -> shapely.STRtree:
        return shapely.STRtree(self.access)

    @cached_property
    def lot_frontage(self) -> tuple[np.ndarray, np.ndarray]:
        """Return (frontage m, main frontage direction) for every lot, in lot_idx order."""
        return measure.frontage(
            self.geoms[self.lot_idx], self.access_tree, self.access, self.rules.frontage_snap_m
        )

    @cached_property
    def lot_has_access(self) -> np.ndarray:
        """Return True for lots within frontage_snap_m of a road or street right-of-way."""
        lots = self.geoms[self.lot_idx]
        has = np.zeros(len(lots), dtype=bool)
        if len(self.access) and len(lots):
            hit, _ = self.access_tree.query(
                lots, predicate="dwithin", distance=self.rules.frontage_snap_m
            )
            has[hit] = True
        return has & ~shapely.is_empty(lots)


def prepare(ctx: PlanContext, budget: Budget = UNLIMITED) -> Prepared:
    """Return the shared, lazily computed data for validating ``ctx``."""
    return Prepared(ctx, budget)
