"""Writes to the parcel registry. Every change keeps the parcel's current state as a past version first."""

from __future__ import annotations

from datetime import datetime

import shapely
from django.contrib.gis.geos import GEOSGeometry
from django.db import transaction
from django.utils import timezone

from gisportal import crs
from gisportal.errors import Conflict, InvalidParameter
from parcels.models import ChangeKind, Municipality, Parcel, ParcelStatus, ParcelVersion

VERSIONED_FIELDS = ("plan_no", "block_no", "parcel_no", "district", "land_use", "zone_code", "stated_area_m2",
                    "area_m2", "perimeter_m", "status", "geom")


def municipality_create(*, code: str, name_en: str, name_ar: str = "", boundary_wgs84=None,
                        metric_srid: int | None = None, centroid_lonlat: tuple[float, float] | None = None,
                        approval_target_days: int = 60) -> Municipality:
    """Create a municipality; its metric CRS is the UTM zone of its centroid unless given."""
    if Municipality.objects.filter(code=code).exists():
        raise Conflict(f"municipality {code!r} already exists")
    boundary = None
    if boundary_wgs84 is not None:
        boundary_storage = crs.transform(shapely.MultiPolygon(shapely.get_parts(boundary_wgs84)), 4326,
                                         crs.storage_srid())
        boundary = GEOSGeometry(memoryview(boundary_storage.wkb), srid=crs.storage_srid())
        centroid_lonlat = centroid_lonlat or (boundary_wgs84.centroid.x, boundary_wgs84.centroid.y)
    if metric_srid is None:
        if centroid_lonlat is None:
            raise InvalidParameter(f"municipality {code!r} needs a boundary, a centroid or a metric SRID")
        metric_srid = crs.utm_srid_for(*centroid_lonlat)
    municipality = Municipality(code=code, name_en=name_en, name_ar=name_ar, boundary=boundary,
                                metric_srid=metric_srid, approval_target_days=approval_target_days)
    municipality.full_clean()
    municipality.save()
    return municipality


def measure_in_place(parcel: Parcel, metric_srid: int) -> None:
    metric = parcel.geom.transform(metric_srid, clone=True)
    parcel.area_m2 = round(metric.area, 4)
    parcel.perimeter_m = round(metric.length, 4)


HISTORY_FIELDS = VERSIONED_FIELDS + ("change", "change_source", "changed_by")


def _archive_current_state(parcel: Parcel, *, until: datetime) -> ParcelVersion:
    """Keep the parcel's current state as a past version, valid until UNTIL."""
    return ParcelVersion.objects.create(
        parcel=parcel, version=parcel.version, valid_from=parcel.updated_at, valid_to=until,
        **{name: getattr(parcel, name) for name in HISTORY_FIELDS},
    )


def _begin_state(parcel: Parcel, *, change: str, at: datetime, source: str, by) -> None:
    parcel.version += 1
    parcel.updated_at = at
    parcel.change, parcel.change_source, parcel.changed_by = change, source[:200], by


@transaction.atomic
def parcel_create(*, municipality: Municipality, parcel_code: str, geom: GEOSGeometry, at: datetime | None = None,
                  source: str = "", by=None, created_by_plan=None, **fields) -> Parcel:
    """Create an active parcel and its first version."""
    at = at or timezone.now()
    parcel = Parcel(municipality=municipality, parcel_code=parcel_code, geom=geom, valid_from=at, updated_at=at,
                    created_by_plan=created_by_plan, change=ChangeKind.CREATED, change_source=source[:200],
                    changed_by=by, **fields)
    measure_in_place(parcel, municipality.metric_srid)
    parcel.full_clean(exclude=["created_by_plan", "retired_by_plan", "changed_by"])
    parcel.save()
    return parcel


@transaction.atomic
def parcel_update(*, parcel: Parcel, at: datetime | None = None, source: str = "", by=None, **changes) -> Parcel:
    """Change a parcel's fields or geometry, keeping the previous state as a version."""
    at = at or timezone.now()
    parcel = Parcel.objects.select_for_update().select_related("municipality").get(pk=parcel.pk)
    if parcel.status != ParcelStatus.ACTIVE:
        raise Conflict(f"parcel {parcel.parcel_code} is retired and cannot be changed")
    unknown = set(changes) - set(VERSIONED_FIELDS)
    if unknown:
        raise InvalidParameter(f"cannot change {', '.join(sorted(unknown))} of a parcel")
    _archive_current_state(parcel, until=at)
    for name, value in changes.items():
        setattr(parcel, name, value)
    measure_in_place(parcel, parcel.municipality.metric_srid)
    _begin_state(parcel, change=ChangeKind.UPDATED, at=at, source=source, by=by)
    parcel.save()
    return parcel


@transaction.atomic
def parcels_retire(*, parcels: list[Parcel], at: datetime | None = None, source: str = "", by=None,
                   retired_by_plan=None) -> None:
    """Retire parcels (never delete them): their last version ends, a retired version begins."""
    at = at or timezone.now()
    for parcel in Parcel.objects.select_for_update().filter(pk__in=[p.pk for p in parcels]):
        if parcel.status != ParcelStatus.ACTIVE:
            raise Conflict(f"parcel {parcel.parcel_code} is already retired")
        _archive_current_state(parcel, until=at)
        parcel.status = ParcelStatus.RETIRED
        parcel.valid_to = at
        parcel.retired_by_plan = retired_by_plan
        _begin_state(parcel, change=ChangeKind.RETIRED, at=at, source=source, by=by)
        parcel.save()
