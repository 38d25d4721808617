"""Read what a building permit needs about one parcel: the parcel, its streets, neighbours, zoning and rules.

Everything is loaded once here and moved into the municipality's metric CRS; the pure functions of
``geometry`` and ``footprint`` do the rest. Spatial filters go through ORM lookups.
"""

from __future__ import annotations

from dataclasses import dataclass

import shapely
from shapely.geometry.base import BaseGeometry

from gisportal import crs
from gisportal.errors import Conflict
from parcels.models import Municipality, Parcel, ParcelStatus, StreetRightOfWay
from parcels.models import Street as StreetRow
from parcels.selectors import (
    around,
    neighbours_of,
    parcel_get,
    street_rows_near,
    zoning_of,
)
from subdivision.models import PlanningRuleSet
from subdivision.permits.geometry import Rules, Street

# How far around the parcel streets and neighbours are read (the sketch shows this much context).
STREETS_AROUND_M = 150.0
RULE_FIELDS = ("front_setback_ratio", "front_setback_max_m", "side_setback_m", "rear_setback_m", "max_coverage_pct")


@dataclass(frozen=True)
class RuleSource:
    rules: Rules
    stored: bool  # True: the municipality's rule set for the land use; False: the defaults
    description: str


@dataclass(frozen=True)
class Site:
    """A parcel and its surroundings, geometries in the municipality's metric CRS."""

    parcel: Parcel
    municipality: Municipality
    metric_srid: int
    geom: BaseGeometry
    street_rows: BaseGeometry | None  # every right-of-way near, one geometry
    streets: list[Street]  # named streets near (centrelines and rights-of-way)
    neighbours: list[tuple[str, BaseGeometry]]  # (code, geometry) of the active parcels touching it
    zoning: list[dict]
    rules: RuleSource


def active_parcel_get(*, municipality: str, parcel_code: str) -> Parcel:
    """Return the active parcel, NotFound when there is none, Conflict when it has been retired."""
    parcel = parcel_get(municipality=municipality, parcel_code=parcel_code)
    if parcel.status != ParcelStatus.ACTIVE:
        when = parcel.valid_to.date().isoformat() if parcel.valid_to else "an unknown date"
        by = f" by {parcel.retired_by_record}" if parcel.retired_by_record_id else ""
        raise Conflict(f"parcel {parcel.parcel_code!r} in municipality {municipality!r} was retired on {when}{by}: "
                       "a building permit is never issued on a retired parcel")
    return parcel


def rules_for(municipality: Municipality, land_use: str) -> RuleSource:
    """Return the setback and coverage limits of the municipality's rule set for LAND_USE, or the defaults."""
    stored = PlanningRuleSet.objects.filter(municipality=municipality, land_use=land_use).first()
    if stored is not None:
        return RuleSource(Rules(**{name: getattr(stored, name) for name in RULE_FIELDS}), True,
                          f"planning rule set of {municipality.code} for {land_use}")
    defaults = {name: PlanningRuleSet._meta.get_field(name).default for name in RULE_FIELDS}
    return RuleSource(Rules(**defaults), False,
                      "defaults (no rule set stored for this land use): one Amana's sample zoning record, "
                      "../shared/DOMAIN.md")


def streets_near(*, municipality: Municipality, area, metric_srid: int) -> list[Street]:
    """Return the named streets near AREA (storage SRID): centrelines with their widths, and rights-of-way."""
    out = []
    rows = StreetRow.objects.filter(municipality=municipality, centreline__bboverlaps=area)
    for name_en, name_ar, width, line in rows.values_list("name_en", "name_ar", "row_width_m", "centreline"):
        out.append(Street(name_en, name_ar, width, crs.from_geos(line, metric_srid)))
    ways = StreetRightOfWay.objects.filter(municipality=municipality, geom__bboverlaps=area)
    for name_en, width, geom in ways.values_list("name_en", "width_m", "geom"):
        out.append(Street(name_en, "", width, crs.from_geos(geom, metric_srid)))
    return out


def site_get(*, municipality: str, parcel_code: str) -> Site:
    """Return the active parcel with everything around it a permit needs."""
    parcel = active_parcel_get(municipality=municipality, parcel_code=parcel_code)
    place = parcel.municipality
    metric = place.metric_srid
    area = around(parcel.geom, STREETS_AROUND_M)
    parts = street_rows_near(municipality=place, area=around(parcel.geom, 100))
    codes = neighbours_of(parcel)
    neighbours = (Parcel.objects.filter(municipality=place, parcel_code__in=codes).order_by("parcel_code")
                  .values_list("parcel_code", "geom"))
    return Site(
        parcel=parcel, municipality=place, metric_srid=metric,
        geom=crs.from_geos(parcel.geom, metric),
        street_rows=shapely.union_all(parts) if parts else None,
        streets=streets_near(municipality=place, area=area, metric_srid=metric),
        neighbours=[(code, crs.from_geos(geom, metric)) for code, geom in neighbours],
        zoning=zoning_of(parcel),
        rules=rules_for(place, parcel.land_use),
    )
