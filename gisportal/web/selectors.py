"""What the map page reads: the city's extent, the first date of the parcel history, and search hits."""

from __future__ import annotations

import re

from django.contrib.gis.db.models import Extent, Union
from django.contrib.gis.geos import GEOSGeometry, Polygon
from django.db.models import Min, Q

from gisportal import crs
from gisportal.accounts.roles import PLANNER, SURVEYOR, has_role
from parcels.models import Parcel, ParcelStatus, Street

SEARCH_LIMIT = 8
WORLD = (-180.0, -85.0, 180.0, 85.0)


def _lonlat_bbox(extent: tuple[float, float, float, float] | None, srid: int) -> list[float] | None:
    """Return EXTENT (in SRID) as [minlon, minlat, maxlon, maxlat], rounded to about a metre."""
    if not extent:
        return None
    box = Polygon.from_bbox(extent)
    box.srid = srid
    return [round(v, 6) for v in crs.from_geos(box, crs.WGS84).bounds]


def map_extent() -> list[float]:
    """Return the lon/lat box of every municipality's parcels (the whole world when there are none)."""
    extent = Parcel.objects.filter(status=ParcelStatus.ACTIVE).aggregate(box=Extent("geom"))["box"]
    srid = Parcel._meta.get_field("geom").srid
    return _lonlat_bbox(extent, srid) or list(WORLD)


def first_parcel_date():
    """Return the day the oldest parcel came into being, or None."""
    first = Parcel.objects.aggregate(first=Min("valid_from"))["first"]
    return first.date() if first else None


def _geom_bbox(geom: GEOSGeometry | None) -> list[float] | None:
    return _lonlat_bbox(geom.extent, geom.srid) if geom is not None and not geom.empty else None


def search(*, user, text: str) -> list[dict]:
    """Return up to SEARCH_LIMIT parcels (by code), streets (by name) and plans (by number, only those
    USER may see) matching TEXT, each with a lon/lat bbox to fly to."""
    text = text.strip()
    if len(text) < 2:
        return []
    hits: list[dict] = []
    parcels = (Parcel.objects.filter(status=ParcelStatus.ACTIVE, parcel_code__istartswith=text)
               .select_related("municipality").order_by("parcel_code")[:SEARCH_LIMIT])
    for parcel in parcels:
        hits.append({"kind": "parcel", "label": parcel.parcel_code, "municipality": parcel.municipality.code,
                     "code": parcel.parcel_code, "bbox": _geom_bbox(parcel.geom)})
    if has_role(user, PLANNER) or has_role(user, SURVEYOR):
        # Imported here: the plans' app sits above the parcels the rest of this module reads.
        from subdivision.selectors import plans_visible_to

        number = Q(plan_number__icontains=text)
        if re.fullmatch(r"\d{1,9}", text):
            number |= Q(pk=int(text))
        for plan in plans_visible_to(user).filter(number).order_by("-pk")[:SEARCH_LIMIT]:
            parents = plan.parents.aggregate(geom=Union("geom"))["geom"]
            hits.append({"kind": "plan", "label": plan.plan_number or f"#{plan.pk} {plan.title}",
                         "municipality": plan.municipality.code, "id": plan.pk, "bbox": _geom_bbox(parents)})
    streets = (Street.objects.filter(Q(name_en__icontains=text) | Q(name_ar__icontains=text))
               .select_related("municipality").order_by("name_en", "pk")[:SEARCH_LIMIT])
    for street in streets:
        hits.append({"kind": "street", "label_en": street.name_en, "label_ar": street.name_ar,
                     "label": street.name_en or street.name_ar, "municipality": street.municipality.code,
                     "bbox": _geom_bbox(street.centreline)})
    return [hit for hit in hits if hit["bbox"]]
