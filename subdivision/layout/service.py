"""Propose a compliant layout for a registry parcel: load it and its surroundings, design, validate, answer.

The only Django in subdivision/layout/: the parcel, its streets, neighbours and rule set are loaded here and
moved into the municipality's metric CRS; ``design_layout`` (pure) draws the plan; the plan is then written as
an ordinary GeoJSON plan file (EPSG:4326) and validated like an upload (``services.check_raw``) against the
registry as it is, so what is answered is exactly what a surveyor could upload.
"""
from __future__ import annotations

import math
from collections import Counter

import numpy as np
import shapely
from django.conf import settings

from gisportal import crs
from gisportal.errors import Conflict, InvalidParameter, PlatformError
from parcels.models import LandUse, Parcel, ParcelStatus
from parcels.selectors import around, parcel_get, street_rows_near
from subdivision.engine import Budget, measure
from subdivision.plan_context import NEAR_PLAN_M, existing_near, rule_set_for
from subdivision.plan_files import RawFeature, RawPlan
from subdivision.services import PlanTooComplex, check_raw, finding_rows, report_json

from .search import DEFAULT_BUDGET_S, FileCRS, Layout, NoLayout, design_layout
from .targets import LayoutTargets, target_problems

TARGET_FIELDS = ("lot_area_m2", "road_width_m", "public_share_pct", "land_use")


class NoValidLayout(PlatformError):
    """No layout meeting every rule was found for the parcel; ``extra['reasons']`` say why."""

    http_status = 422
    code = "NoValidLayout"


def parse_targets(data) -> LayoutTargets:
    """Return the targets of a request body (a JSON object, every member optional), or InvalidParameter."""
    if data is None or data == "":
        data = {}
    if not isinstance(data, dict):
        raise InvalidParameter("body: a JSON object with optional lot_area_m2, road_width_m, public_share_pct, "
                               "land_use")
    unknown = sorted(str(k)[:40] for k in data if k not in TARGET_FIELDS)
    if unknown:
        raise InvalidParameter(f"{unknown[0]}: not a layout target (give {', '.join(TARGET_FIELDS)})")
    values = {}
    for name in ("lot_area_m2", "road_width_m", "public_share_pct"):
        raw = data.get(name)
        if raw is None:
            continue
        if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
            raise InvalidParameter(f"{name}: {str(raw)[:40]!r} is not a number")
        try:
            value = float(raw)
        except ValueError:
            raise InvalidParameter(f"{name}: {str(raw)[:40]!r} is not a number") from None
        if not math.isfinite(value):
            raise InvalidParameter(f"{name}: {str(raw)[:40]!r} is not a finite number")
        values[name] = value
    land_use = data.get("land_use", LandUse.RESIDENTIAL)
    if not isinstance(land_use, str) or land_use not in LandUse.values:
        raise InvalidParameter(f"land_use: {str(land_use)[:40]!r} is not one of {', '.join(LandUse.values)}")
    return LayoutTargets(land_use=land_use, **values)


def _active_parcel(municipality: str, parcel_code: str) -> Parcel:
    parcel = parcel_get(municipality=municipality, parcel_code=parcel_code)
    if parcel.status != ParcelStatus.ACTIVE:
        raise Conflict(f"parcel {parcel_code!r} in municipality {municipality!r} is retired: only an active "
                       "parcel can be subdivided")
    return parcel


def layout_propose(*, municipality: str, parcel_code: str, targets: LayoutTargets,
                   budget_s: float | None = None) -> dict:
    """Return {plan, report, summary} for the best valid layout of the parcel, or raise NoValidLayout.

    The search stops after ``budget_s`` (settings.LAYOUT_BUDGET_S, else 10 s) with the best layout so far.
    """
    budget_s = budget_s if budget_s is not None else getattr(settings, "LAYOUT_BUDGET_S", DEFAULT_BUDGET_S)
    parcel = _active_parcel(municipality, parcel_code)
    place = parcel.municipality
    rules = rule_set_for(place, targets.land_use)
    problems = target_problems(targets, rules)
    if problems:
        name, what = problems[0]
        raise InvalidParameter(f"{name}: {what}")
    metric = place.metric_srid
    parent = crs.from_geos(parcel.geom, metric)
    area = around(parcel.geom, NEAR_PLAN_M)
    rows = street_rows_near(municipality=place, area=area)
    existing = existing_near(place, area, [parcel.pk])
    try:
        layout = design_layout(parent, street_rows=rows, rules=rules, targets=targets, existing=existing,
                               parent_code=parcel.parcel_code, budget_s=budget_s,
                               file_crs=FileCRS(lambda geoms: list(crs.transform(_array(geoms), metric, crs.WGS84)),
                                                lambda geoms: list(crs.transform(_array(geoms), crs.WGS84, metric))))
    except NoLayout as exc:
        raise NoValidLayout(f"parcel {parcel_code!r}: no layout meeting every rule was found: {exc}",
                            extra={"reasons": exc.reasons}) from None
    raw, collection = plan_file(layout, metric)
    try:
        check = check_raw(raw, municipality=place, parents=[parcel], land_use=targets.land_use,
                          budget=Budget(settings.PLAN_VALIDATION_BUDGET_S))
    except PlanTooComplex as exc:
        reasons = [f"the layout drawn could not be validated against the registry: {exc.message}"]
        raise NoValidLayout(f"parcel {parcel_code!r}: {reasons[0]}", extra={"reasons": reasons}) from None
    report = report_json(check, finding_rows(check.report.findings, metric))
    if not check.report.valid:
        codes = Counter(f.code for f in check.report.findings if f.severity == "error")
        reasons = [("the layout drawn fails validation against the registry: "
                    f"{', '.join(f'{c} ×{n}' for c, n in sorted(codes.items()))}")]
        raise NoValidLayout(f"parcel {parcel_code!r}: {reasons[0]}", extra={"reasons": reasons, "report": report})
    return {"plan": collection, "report": report, "summary": layout_summary(layout, check.report.summary)}


def plan_file(layout: Layout, metric_srid: int) -> tuple[RawPlan, dict]:
    """Return the layout as the readers would read its GeoJSON file (EPSG:4326), and that FeatureCollection.

    Stated areas are measured on the EPSG:4326 geometry taken back to the metric CRS, as the validator will. The
    file holds the very geometries the search validated (``file_geom``) where it has them.
    """
    if all(f.file_geom is not None for f in layout.features):
        wgs84 = [f.file_geom for f in layout.features]
    else:
        wgs84 = list(crs.transform(_array([f.geom for f in layout.features]), metric_srid, crs.WGS84))
        # A vertex the projection moves onto an edge would self-intersect: repair what the move broke.
        wgs84 = [g if g.is_valid else measure.polygonal(shapely.make_valid(g)) for g in wgs84]
    back = list(crs.transform(_array(wgs84), crs.WGS84, metric_srid))
    features, raw = [], []
    for i, (f, g, m) in enumerate(zip(layout.features, wgs84, back)):
        stated = round(float(m.area), 2)
        properties = {"kind": f.kind, "lot_no": f.lot_no, "stated_area": stated, "land_use": f.land_use}
        features.append({"type": "Feature", "properties": properties, "geometry": shapely.geometry.mapping(g)})
        raw.append(RawFeature(f.kind, f.lot_no, g, stated, f.land_use, i))
    collection = {"type": "FeatureCollection", "features": features}
    return RawPlan(format="geojson", srid=crs.WGS84, features=tuple(raw)), collection


def _array(geoms):
    arr = np.empty(len(geoms), dtype=object)
    arr[:] = geoms
    return arr


def layout_summary(layout: Layout, report_summary: dict) -> dict:
    parent_area = float(report_summary.get("parent_area_m2") or 0.0)
    return {
        "lots": layout.lots,
        "lots_per_ha": round(layout.lots / (parent_area / 10_000), 2) if parent_area else 0.0,
        "public_share_pct": report_summary.get("public_share_pct"),
        "parent_area_m2": parent_area,
        "lots_area_m2": report_summary.get("lots_area_m2"),
        "roads_area_m2": report_summary.get("roads_area_m2"),
        "open_space_area_m2": report_summary.get("open_space_area_m2"),
        "lot_width_m": layout.dims.lot_width_m,
        "lot_depth_m": layout.dims.lot_depth_m,
        "road_width_m": layout.dims.road_width_m,
        "orientation_deg": layout.candidate.angle_deg,
        "candidates_tried": layout.candidates_tried,
        "seconds": layout.seconds,
    }
