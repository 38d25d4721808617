"""What changed between two versions of a plan: lots, other features and findings.

Pure (shapely, no Django): ``subdivision.versions`` loads two versions' features and findings in the
municipality's metric CRS and calls ``diff_versions``.

- **Lots** are matched by lot number. A lot only in the newer version is *added*, only in the older
  one *removed*; a lot in both is *reshaped* when the area of the symmetric difference of its two
  shapes exceeds ``tolerance_m2`` (0.01 m² by default), else *unchanged*. Pieces of the symmetric
  difference under ``SLIVER_M2`` (10 cm²) are floating-point slivers along shared edges (the shapes
  went through the storage CRS and back) and are left out of the geometry. A reshaped lot carries its
  area before and after and the changed area as a geometry (the symmetric difference). Where a lot
  number is repeated within a version (itself a finding), the lots sharing it are paired by overlap.
- **Other features** (roads, open spaces, utilities, and lots without a number) have no stable
  identity: their position in the file may change. Features of the same kind are paired by
  geometry overlap (largest intersection over union first); a pair whose symmetric difference
  exceeds the tolerance is *changed*, unpaired ones are *added* or *removed*.
- **Findings** are matched by (code, sorted feature labels). A finding that names no feature is
  matched to one of the same code whose location lies within ``location_tolerance_m`` (0.5 m,
  the gap and overlap tolerance), nearest first; two such findings without a location match by
  code. Findings only in the older version are *resolved*, only in the newer one *new*, in both
  *still* (counted).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import shapely
from shapely.geometry.base import BaseGeometry

LOT = "lot"
RESHAPE_TOLERANCE_M2 = 0.01
SLIVER_M2 = 0.001  # a piece of a changed area this small is floating-point noise (see _change)
LOCATION_TOLERANCE_M = 0.5


@dataclass(frozen=True)
class FeatureState:
    """One feature of a plan version, its geometry in the metric CRS."""

    kind: str
    lot_no: str | None
    index: int
    geom: BaseGeometry
    area_m2: float | None = None

    @property
    def measured_area_m2(self) -> float:
        return self.area_m2 if self.area_m2 is not None else float(self.geom.area)


@dataclass(frozen=True)
class FindingState:
    """One finding of a plan version, its location (if any) in the metric CRS."""

    code: str
    severity: str
    features: tuple[str, ...]
    message_en: str
    message_ar: str
    location: BaseGeometry | None = None


@dataclass(frozen=True)
class FeatureChange:
    """A feature in both versions whose shape changed: CHANGED is the symmetric difference."""

    before: FeatureState
    after: FeatureState
    changed: BaseGeometry

    @property
    def changed_area_m2(self) -> float:
        return float(self.changed.area)


@dataclass
class VersionDiff:
    lots_added: list[FeatureState] = field(default_factory=list)
    lots_removed: list[FeatureState] = field(default_factory=list)
    lots_reshaped: list[FeatureChange] = field(default_factory=list)
    lots_unchanged: int = 0
    other_added: list[FeatureState] = field(default_factory=list)
    other_removed: list[FeatureState] = field(default_factory=list)
    other_changed: list[FeatureChange] = field(default_factory=list)
    other_unchanged: int = 0
    findings_resolved: list[FindingState] = field(default_factory=list)
    findings_new: list[FindingState] = field(default_factory=list)
    findings_still: int = 0

    @property
    def changed(self) -> bool:
        """True when anything differs between the versions."""
        return bool(self.lots_added or self.lots_removed or self.lots_reshaped or self.other_added
                    or self.other_removed or self.other_changed or self.findings_resolved or self.findings_new)


def diff_versions(before: Sequence[FeatureState], after: Sequence[FeatureState],
                  before_findings: Sequence[FindingState], after_findings: Sequence[FindingState], *,
                  tolerance_m2: float = RESHAPE_TOLERANCE_M2,
                  location_tolerance_m: float = LOCATION_TOLERANCE_M) -> VersionDiff:
    """Return what changed from BEFORE to AFTER (features and findings of two versions of one plan)."""
    diff = VersionDiff()
    _diff_lots(before, after, diff, tolerance_m2)
    _diff_others(before, after, diff, tolerance_m2)
    _diff_findings(before_findings, after_findings, diff, location_tolerance_m)
    return diff


# ---- features ------------------------------------------------------------------------------------

def _lot_no(f: FeatureState) -> str | None:
    """Return the lot number matching goes by, or None for a feature that is not a numbered lot."""
    if f.kind != LOT or f.lot_no is None or not str(f.lot_no).strip():
        return None
    return str(f.lot_no).strip()


def _valid(geom: BaseGeometry) -> BaseGeometry:
    """Return GEOM made valid: a plan version may hold self-intersecting shapes (reported as findings)."""
    return geom if geom.is_valid else shapely.make_valid(geom)


def _change(a: FeatureState, b: FeatureState, tolerance_m2: float) -> FeatureChange | None:
    """Return the change from A to B, or None when their symmetric difference is within the tolerance."""
    changed = shapely.symmetric_difference(_valid(a.geom), _valid(b.geom))
    if changed.area <= tolerance_m2:
        return None
    # A shared edge that went through the storage CRS and back leaves slivers of a few mm² beside the
    # real change: the geometry answered leaves them out.
    kept = [p for p in shapely.get_parts(changed) if p.area > SLIVER_M2]
    if kept and len(kept) < shapely.get_num_geometries(changed):
        changed = kept[0] if len(kept) == 1 else shapely.MultiPolygon(kept)
    return FeatureChange(a, b, changed)


def _diff_lots(before, after, diff: VersionDiff, tolerance_m2: float) -> None:
    old, new = defaultdict(list), defaultdict(list)
    for f in before:
        if (number := _lot_no(f)) is not None:
            old[number].append(f)
    for f in after:
        if (number := _lot_no(f)) is not None:
            new[number].append(f)
    for number in sorted(old.keys() | new.keys(), key=_natural):
        a, b = old.get(number, []), new.get(number, [])
        if len(a) == 1 and len(b) == 1:
            pairs, gone, came = [(a[0], b[0])], [], []
        else:  # a repeated number: pair its lots by overlap
            pairs, gone, came = _pair_by_overlap(a, b)
        diff.lots_removed += gone
        diff.lots_added += came
        for x, y in pairs:
            if change := _change(x, y, tolerance_m2):
                diff.lots_reshaped.append(change)
            else:
                diff.lots_unchanged += 1


def _diff_others(before, after, diff: VersionDiff, tolerance_m2: float) -> None:
    old, new = defaultdict(list), defaultdict(list)
    for f in before:
        if _lot_no(f) is None:
            old[f.kind].append(f)
    for f in after:
        if _lot_no(f) is None:
            new[f.kind].append(f)
    for kind in sorted(old.keys() | new.keys()):
        pairs, gone, came = _pair_by_overlap(old.get(kind, []), new.get(kind, []))
        diff.other_removed += gone
        diff.other_added += came
        for x, y in pairs:
            if change := _change(x, y, tolerance_m2):
                diff.other_changed.append(change)
            else:
                diff.other_unchanged += 1


def _pair_by_overlap(before: list[FeatureState], after: list[FeatureState]):
    """Return (pairs, unpaired before, unpaired after): features paired greedily by intersection over union."""
    if not before or not after:
        return [], list(before), list(after)
    old = [_valid(f.geom) for f in before]
    new = [_valid(f.geom) for f in after]
    tree = shapely.STRtree(new)
    i_old, i_new = tree.query(old, predicate="intersects")
    candidates = []
    for i, j in zip(i_old.tolist(), i_new.tolist()):
        shared = shapely.intersection(old[i], new[j]).area
        if shared > 0:
            union = shapely.union(old[i], new[j]).area
            candidates.append((-shared / union, i, j))
    candidates.sort()
    used_old, used_new, pairs = set(), set(), []
    for _, i, j in candidates:
        if i not in used_old and j not in used_new:
            used_old.add(i)
            used_new.add(j)
            pairs.append((i, j))
    pairs.sort()
    return ([(before[i], after[j]) for i, j in pairs],
            [f for i, f in enumerate(before) if i not in used_old],
            [f for j, f in enumerate(after) if j not in used_new])


def _natural(lot_no: str):
    """Sort key: lot numbers in numeric order where they are numbers ("2" before "10")."""
    return (0, int(lot_no), "") if lot_no.isdigit() else (1, 0, lot_no)


# ---- findings ------------------------------------------------------------------------------------

def _diff_findings(before, after, diff: VersionDiff, tolerance_m: float) -> None:
    old, new = defaultdict(list), defaultdict(list)
    for f in before:
        old[_finding_key(f)].append(f)
    for f in after:
        new[_finding_key(f)].append(f)
    for key in sorted(old.keys() | new.keys(), key=repr):
        a, b = old.get(key, []), new.get(key, [])
        if key[1] is None:  # no features named: match by location
            still, gone, came = _pair_by_location(a, b, tolerance_m)
        else:
            still, gone, came = min(len(a), len(b)), a[len(b):], b[len(a):]
        diff.findings_still += still
        diff.findings_resolved += gone
        diff.findings_new += came


def _finding_key(f: FindingState) -> tuple[str, tuple[str, ...] | None]:
    return (f.code, tuple(sorted(f.features)) if f.features else None)


def _pair_by_location(before: list[FindingState], after: list[FindingState], tolerance_m: float):
    """Return (pairs count, unpaired before, unpaired after) for findings of one code naming no feature."""
    located_old = [i for i, f in enumerate(before) if f.location is not None and not f.location.is_empty]
    located_new = [j for j, f in enumerate(after) if f.location is not None and not f.location.is_empty]
    used_old, used_new = set(), set()
    if located_old and located_new:
        tree = shapely.STRtree([after[j].location for j in located_new])
        near_old, near_new = tree.query([before[i].location for i in located_old], predicate="dwithin",
                                        distance=tolerance_m)
        candidates = sorted(
            (before[located_old[i]].location.hausdorff_distance(after[located_new[j]].location),
             located_old[i], located_new[j]) for i, j in zip(near_old.tolist(), near_new.tolist()))
        for _, i, j in candidates:
            if i not in used_old and j not in used_new:
                used_old.add(i)
                used_new.add(j)
    # Findings without a location match by code alone.
    nowhere_old = sorted(set(range(len(before))) - set(located_old))
    nowhere_new = sorted(set(range(len(after))) - set(located_new))
    for i, j in zip(nowhere_old, nowhere_new):
        used_old.add(i)
        used_new.add(j)
    return (len(used_old), [f for i, f in enumerate(before) if i not in used_old],
            [f for j, f in enumerate(after) if j not in used_new])
