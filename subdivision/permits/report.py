"""The site report of a parcel: the facts a building permit needs, as one dict (the API's answer and the
sketch's text). Built from a loaded Site by the pure functions of ``geometry``; no queries here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from gisportal import crs
from subdivision.permits.footprint import check_footprint
from subdivision.permits.geometry import (
    Edge,
    Frontage,
    buildable_area,
    corners_of,
    edges_of,
    front_setback_m,
    frontages_of,
    max_coverage_m2,
)
from subdivision.permits.selectors import Site

LAND_USE_NAMES = {
    "residential": ("Residential", "سكني"),
    "commercial": ("Commercial", "تجاري"),
    "mixed": ("Mixed use", "متعدد الاستخدامات"),
    "industrial": ("Industrial", "صناعي"),
    "public_facility": ("Public facility", "مرفق عام"),
    "open_space": ("Open space", "مساحة مفتوحة"),
    "road": ("Road", "طريق"),
}


@dataclass(frozen=True)
class SiteFacts:
    """The report and the shapes it was measured from (the sketch draws both)."""

    report: dict
    edges: list[Edge]
    frontages: list[Frontage]
    buildable: BaseGeometry


def site_facts(site: Site, *, today: date) -> SiteFacts:
    """Return the site report of SITE's parcel, measured in its municipality's metric CRS."""
    parcel, place, rules = site.parcel, site.municipality, site.rules.rules
    edges = edges_of(site.geom, street_rows=site.street_rows, streets=site.streets)
    frontages = frontages_of(edges, rules)
    buildable = buildable_area(site.geom, edges, rules)
    area_m2 = site.geom.area
    main = frontages[0] if frontages else None
    land_en, land_ar = LAND_USE_NAMES.get(parcel.land_use, (parcel.land_use, parcel.land_use))
    district = parcel.district
    report = {
        "municipality": {"code": place.code, "name_en": place.name_en, "name_ar": place.name_ar},
        "parcel_code": parcel.parcel_code,
        "plan_no": parcel.plan_no,
        "block_no": parcel.block_no,
        "parcel_no": parcel.parcel_no,
        "district": ({"code": district.code, "name_en": district.name_en, "name_ar": district.name_ar}
                     if district else None),
        "crs": f"EPSG:{site.metric_srid}",
        "area_m2": round(area_m2, 2),
        "perimeter_m": round(site.geom.length, 2),
        "land_use": {"code": parcel.land_use, "name_en": land_en, "name_ar": land_ar},
        "zoning": [{"zone_code": z["zone_code"], "name_en": z.get("name_en", ""), "name_ar": z.get("name_ar", ""),
                    "share_pct": z["share_pct"]} for z in site.zoning],
        "corners": [{"number": c.number, "x": c.x, "y": c.y} for c in corners_of(site.geom)],
        "edges": [{
            "from_corner": e.from_corner, "to_corner": e.to_corner, "length_m": round(e.length_m, 2),
            "bearing_deg": round(e.bearing_deg, 2) % 360.0, "fronts_street": e.fronts_street, "kind": e.kind,
            "street_name_en": e.street.name_en if e.street else None,
        } for e in edges],
        "frontages": [{
            "street_name_en": f.street.name_en, "street_name_ar": f.street.name_ar,
            "row_width_m": None if f.street.row_width_m is None else round(f.street.row_width_m, 2),
            "frontage_m": round(f.frontage_m, 2), "front_setback_m": round(f.front_setback_m, 2),
        } for f in frontages],
        "frontage_m": round(sum(f.frontage_m for f in frontages), 2),
        "setbacks": {
            "front_m": round(main.front_setback_m if main else front_setback_m(None, rules), 2),
            "front_ratio": rules.front_setback_ratio,
            "front_max_m": rules.front_setback_max_m,
            "side_m": rules.side_setback_m,
            "rear_m": rules.rear_setback_m,
        },
        "coverage": {"max_pct": rules.max_coverage_pct, "max_m2": round(max_coverage_m2(area_m2, rules), 2)},
        "buildable_area_m2": round(buildable.area, 2),
        "rules": {"source": "rule_set" if site.rules.stored else "default", "description": site.rules.description},
        "neighbours": [code for code, _ in site.neighbours],
        "date": today.isoformat(),
    }
    return SiteFacts(report, edges, frontages, buildable)


# ---- the footprint check's answer -------------------------------------------------------------------

LOCATION_DECIMALS = 7  # about 1 cm in EPSG:4326, as plan findings


def geojson_wgs84(geom: BaseGeometry | None, metric_srid: int) -> dict | None:
    """Return GEOM (metric CRS) as a GeoJSON geometry in EPSG:4326, each coordinate rounded to 7 decimals."""
    if geom is None or geom.is_empty:
        return None
    to_wgs84 = crs.transformer(metric_srid, crs.WGS84)
    moved = shapely.transform(geom, lambda xy: np.round(
        np.column_stack(to_wgs84.transform(xy[:, 0], xy[:, 1])), LOCATION_DECIMALS))
    return json.loads(shapely.to_geojson(moved))


def footprint_answer(site: Site, footprint_metric: BaseGeometry) -> dict:
    """Return the footprint check of FOOTPRINT_METRIC (metric CRS) on SITE's parcel, as the API answers it."""
    edges = edges_of(site.geom, street_rows=site.street_rows, streets=site.streets)
    check = check_footprint(footprint_metric, site.geom, edges, site.rules.rules)
    return {
        "ok": check.ok,
        "footprint_area_m2": check.footprint_area_m2,
        "coverage_pct": check.coverage_pct,
        "coverage_limit_pct": check.coverage_limit_pct,
        "buildable_area": geojson_wgs84(check.buildable, site.metric_srid),
        "buildable_area_m2": round(check.buildable.area, 2),
        "crs": f"EPSG:{site.metric_srid}",
        "findings": [{
            "code": f.code, "severity": f.severity, "message_en": f.message_en, "message_ar": f.message_ar,
            "value": f.value, "limit": f.limit, "location": geojson_wgs84(f.location, site.metric_srid),
        } for f in check.findings],
    }
