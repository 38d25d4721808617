"""Build the validation engine's PlanContext from an uploaded plan and the parcel registry.

Everything the pure rules need is loaded here, once, and moved into the municipality's metric CRS.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import fields as dataclass_fields

import numpy as np
import shapely
from django.conf import settings
from django.contrib.gis.geos import Polygon

from gisportal import crs
from gisportal.errors import InvalidParameter, NotFound, PlatformError
from parcels.models import Municipality, Parcel, ParcelStatus
from parcels.selectors import around, street_rows_near
from subdivision.engine import ExistingParcel, PlanContext, PlanFeature, RuleSet
from subdivision.models import PlanningRuleSet
from subdivision.plan_files import RawPlan

NEAR_PLAN_M = 200.0
FAR_OUTSIDE_KM = 20.0
MAX_PARENTS = 500
LISTED_IN_ERROR = 10


class PlanOutOfArea(PlatformError):
    http_status = 422
    code = "PlanOutOfArea"


def municipality_get(code: str) -> Municipality:
    municipality = Municipality.objects.filter(code=code).first()
    if municipality is None:
        raise InvalidParameter(f"municipality: no municipality {code!r}")
    return municipality


def parse_parent_codes(raw: str) -> list[str]:
    codes = [c.strip() for c in (raw or "").split(",") if c.strip()]
    if not codes:
        raise InvalidParameter("parents: give one or more parent parcel codes, comma-separated")
    if len(codes) > MAX_PARENTS:
        raise InvalidParameter(f"parents: {len(codes):,} parcel codes given, at most {MAX_PARENTS} are allowed")
    repeated = sorted(c for c, n in Counter(codes).items() if n > 1)
    if repeated:
        raise InvalidParameter(f"parents: {_listed(repeated)} given more than once")
    return codes


def _listed(codes: list[str]) -> str:
    """Return the first few codes quoted, and how many more there are."""
    shown = ", ".join(map(repr, codes[:LISTED_IN_ERROR]))
    rest = len(codes) - LISTED_IN_ERROR
    return f"{shown} and {rest:,} more" if rest > 0 else shown


def parents_get(municipality: Municipality, codes: list[str]) -> list[Parcel]:
    found = {p.parcel_code: p for p in Parcel.objects.filter(municipality=municipality, parcel_code__in=codes)}
    missing = [c for c in codes if c not in found]
    if missing:
        raise NotFound(f"parents: no parcel {_listed(missing)} in municipality {municipality.code!r}")
    return [found[c] for c in codes]


def rule_set_for(municipality: Municipality, land_use: str) -> RuleSet:
    """Return the municipality's limits for LAND_USE, or the DOMAIN.md defaults."""
    stored = PlanningRuleSet.objects.filter(municipality=municipality, land_use=land_use).first()
    if stored is None:
        return RuleSet()
    return RuleSet(**{f.name: getattr(stored, f.name) for f in dataclass_fields(RuleSet)})


def check_location(plan_wgs84_bounds: tuple[float, float, float, float], municipality: Municipality) -> None:
    """Refuse a plan that lies far from the municipality, saying why (wrong CRS, swapped axes)."""
    if municipality.boundary is None:
        return
    boundary = crs.from_geos(municipality.boundary, crs.WGS84)
    minx, miny, maxx, maxy = plan_wgs84_bounds
    centre = shapely.Point((minx + maxx) / 2, (miny + maxy) / 2)
    if not (np.isfinite([minx, miny, maxx, maxy]).all()):
        raise PlanOutOfArea("the plan's coordinates cannot be placed on the map: is its CRS right?")
    metric = municipality.metric_srid
    distance_km = crs.transform(boundary, crs.WGS84, metric).distance(crs.transform(centre, crs.WGS84, metric)) / 1000
    if distance_km <= FAR_OUTSIDE_KM:
        return
    swapped = shapely.Point(centre.y, centre.x)
    if boundary.buffer(0.05).contains(swapped):
        raise PlanOutOfArea(
            f"the plan lies {distance_km:,.0f} km from {municipality.name_en}: its latitude and longitude look "
            "swapped (with them exchanged it falls inside the municipality)")
    raise PlanOutOfArea(
        f"the plan lies {distance_km:,.0f} km from {municipality.name_en} (at lon {centre.x:.4f}, "
        f"lat {centre.y:.4f}): is its CRS (or the srid given) right?")


def existing_near(municipality: Municipality, area_storage: Polygon, exclude_ids: list[int]) -> list[ExistingParcel]:
    metric = municipality.metric_srid
    rows = (Parcel.objects.filter(municipality=municipality, status=ParcelStatus.ACTIVE, geom__bboverlaps=area_storage)
            .exclude(pk__in=exclude_ids).values_list("parcel_code", "geom"))
    return [ExistingParcel(code, crs.from_geos(geom, metric), ParcelStatus.ACTIVE) for code, geom in rows]


def build_context(*, raw: RawPlan, municipality: Municipality, parents: list[Parcel], land_use: str) -> PlanContext:
    """Return the engine's input: the plan's features, parents, neighbours and streets, all in metres."""
    metric = municipality.metric_srid
    geoms = np.empty(len(raw.features), dtype=object)
    geoms[:] = [f.geom for f in raw.features]
    source_bounds = shapely.total_bounds(geoms)
    check_location(crs.transform_bounds(source_bounds, raw.srid, crs.WGS84), municipality)
    metric_geoms = crs.transform(geoms, raw.srid, metric)
    features = tuple(
        PlanFeature(kind=f.kind, lot_no=f.lot_no, geom=g, stated_area=f.stated_area,
                    land_use=f.land_use or (land_use if f.kind == "lot" else None), index=f.index)
        for f, g in zip(raw.features, metric_geoms)
    )
    # The area to look around: the plan and its parents, with a margin, in the storage SRID.
    storage_bounds = np.array(crs.transform_bounds(source_bounds, raw.srid, settings.STORAGE_SRID))
    for parent in parents:
        storage_bounds = np.r_[np.minimum(storage_bounds[:2], parent.geom.extent[:2]),
                               np.maximum(storage_bounds[2:], parent.geom.extent[2:])]
    plan_extent = Polygon.from_bbox(tuple(storage_bounds))
    plan_extent.srid = settings.STORAGE_SRID
    area = around(plan_extent, NEAR_PLAN_M)
    boundary = crs.from_geos(municipality.boundary, metric) if municipality.boundary is not None else None
    return PlanContext(
        features=features,
        parents=tuple(ExistingParcel(p.parcel_code, crs.from_geos(p.geom, metric), p.status) for p in parents),
        existing=tuple(existing_near(municipality, area, [p.pk for p in parents])),
        street_rows=tuple(street_rows_near(municipality=municipality, area=area)),
        municipality_boundary=boundary,
        rules=rule_set_for(municipality, land_use),
    )
