"""Reads of a plan's versions: what changed from one version to the next (``subdivision.diff``), JSON-ready."""

from __future__ import annotations

import json

import numpy as np
import shapely
from django.contrib.gis.db.models.functions import AsWKB

from gisportal import crs
from gisportal.errors import InvalidParameter, NotFound
from parcels.models import Municipality
from subdivision.diff import (
    RESHAPE_TOLERANCE_M2,
    FeatureChange,
    FeatureState,
    FindingState,
    diff_versions,
)
from subdivision.models import Plan, PlanFeature, PlanFinding, PlanVersion

COORDINATE_DECIMALS = 7  # about 1 cm in longitude/latitude
AREA_DECIMALS = 2  # 0.01 m²


def version_diff(plan: Plan, number: int, *, tolerance_m2: float = RESHAPE_TOLERANCE_M2) -> dict:
    """Return what changed from version NUMBER - 1 of PLAN to version NUMBER, geometry as GeoJSON in EPSG:4326.

    Raises NotFound when the plan has no version NUMBER, InvalidParameter for version 1 (nothing before it).
    """
    numbers = set(PlanVersion.objects.filter(plan=plan, number__in=[number - 1, number])
                  .values_list("number", flat=True))
    if number not in numbers:
        raise NotFound(f"version: plan {plan.pk} has no version {number}")
    if number == 1:
        raise InvalidParameter("version: version 1 is the plan's first; there is no earlier version to compare with")
    if number - 1 not in numbers:
        raise NotFound(f"version: plan {plan.pk} has no version {number - 1} to compare version {number} with")
    metric_srid = Municipality.objects.values_list("metric_srid", flat=True).get(pk=plan.municipality_id)
    features = _features(plan, (number - 1, number), metric_srid)
    findings, stored_locations = _findings(plan, (number - 1, number), metric_srid)
    diff = diff_versions(features[number - 1], features[number], findings[number - 1], findings[number],
                         tolerance_m2=tolerance_m2)
    out = _Geometries(metric_srid)

    def feature(f: FeatureState) -> dict:
        return {"kind": f.kind, "lot_no": f.lot_no or None, "index": f.index,
                "area_m2": _area(f.measured_area_m2), "geometry": out.add(f.geom)}

    def change(c: FeatureChange) -> dict:
        return {"kind": c.after.kind, "lot_no": c.after.lot_no or None, "index_before": c.before.index,
                "index_after": c.after.index, "area_before_m2": _area(c.before.measured_area_m2),
                "area_after_m2": _area(c.after.measured_area_m2), "changed_area_m2": _area(c.changed_area_m2),
                "changed_geometry": out.add(c.changed)}

    def finding(f: FindingState) -> dict:
        return {"code": f.code, "severity": f.severity, "features": list(f.features), "message_en": f.message_en,
                "message_ar": f.message_ar, "location": stored_locations[id(f)]}

    answer = {
        "plan": plan.pk,
        "from_version": number - 1,
        "to_version": number,
        "metric_srid": metric_srid,
        "tolerance_m2": tolerance_m2,
        "counts": {
            "lots_added": len(diff.lots_added), "lots_removed": len(diff.lots_removed),
            "lots_reshaped": len(diff.lots_reshaped), "lots_unchanged": diff.lots_unchanged,
            "other_added": len(diff.other_added), "other_removed": len(diff.other_removed),
            "other_changed": len(diff.other_changed), "other_unchanged": diff.other_unchanged,
            "findings_resolved": len(diff.findings_resolved), "findings_new": len(diff.findings_new),
            "findings_still": diff.findings_still,
        },
        "lots": {"added": [feature(f) for f in diff.lots_added], "removed": [feature(f) for f in diff.lots_removed],
                 "reshaped": [change(c) for c in diff.lots_reshaped], "unchanged": diff.lots_unchanged},
        "other_features": {"added": [feature(f) for f in diff.other_added],
                           "removed": [feature(f) for f in diff.other_removed],
                           "changed": [change(c) for c in diff.other_changed], "unchanged": diff.other_unchanged},
        "findings": {"resolved": [finding(f) for f in diff.findings_resolved],
                     "new": [finding(f) for f in diff.findings_new], "still": diff.findings_still},
    }
    out.resolve()
    return answer


def _area(value: float) -> float:
    return round(float(value), AREA_DECIMALS)


class _Geometries:
    """Collect metric geometries for the answer and turn them into GeoJSON in EPSG:4326 in one transform."""

    def __init__(self, metric_srid: int):
        self.metric_srid = metric_srid
        self.geoms: list = []
        self.slots: list[dict] = []

    def add(self, geom) -> dict:
        slot: dict = {}
        self.geoms.append(geom)
        self.slots.append(slot)
        return slot

    def resolve(self) -> None:
        if not self.geoms:
            return
        lonlat = crs.transform(np.array(self.geoms, dtype=object), self.metric_srid, crs.WGS84)
        rounded = shapely.transform(lonlat, lambda xy: np.round(xy, COORDINATE_DECIMALS))
        for slot, text in zip(self.slots, shapely.to_geojson(rounded).tolist()):
            slot.update(json.loads(text))


def _features(plan: Plan, numbers: tuple[int, int], metric_srid: int) -> dict[int, list[FeatureState]]:
    """Return the features of the two versions, their geometry in the metric CRS."""
    rows = list(PlanFeature.objects.filter(plan=plan, version__in=numbers).order_by("version", "index")
                .annotate(wkb=AsWKB("geom")).values_list("version", "kind", "lot_no", "index", "area_m2", "wkb"))
    by_version: dict[int, list[FeatureState]] = {n: [] for n in numbers}
    if not rows:
        return by_version
    geoms = crs.transform(shapely.from_wkb([bytes(row[5]) for row in rows]), crs.storage_srid(), metric_srid)
    for (version, kind, lot_no, index, area_m2, _), geom in zip(rows, geoms):
        by_version[version].append(FeatureState(kind=kind, lot_no=lot_no, index=index, geom=geom, area_m2=area_m2))
    return by_version


def _findings(plan: Plan, numbers: tuple[int, int], metric_srid: int):
    """Return (the findings of the two versions with their location in the metric CRS, the stored
    EPSG:4326 location of each by id of its state)."""
    rows = list(PlanFinding.objects.filter(plan=plan, version__in=numbers).order_by("version", "seq")
                .values_list("version", "code", "severity", "features", "message_en", "message_ar", "location"))
    stored = [json.loads(row[6]) if isinstance(row[6], (str, bytes)) else row[6] for row in rows]
    located = [i for i, location in enumerate(stored) if location]
    metric = [None] * len(rows)
    if located:
        shapes = shapely.from_geojson([json.dumps(stored[i]) for i in located])
        for i, geom in zip(located, crs.transform(shapes, crs.WGS84, metric_srid)):
            metric[i] = geom
    by_version: dict[int, list[FindingState]] = {n: [] for n in numbers}
    stored_by_state: dict[int, dict | None] = {}
    for row, location, geom in zip(rows, stored, metric):
        version, code, severity, features, message_en, message_ar, _ = row
        state = FindingState(code=code, severity=severity, features=tuple(features or ()), message_en=message_en,
                             message_ar=message_ar, location=geom)
        by_version[version].append(state)
        stored_by_state[id(state)] = location or None
    return by_version, stored_by_state
