"""Valid subdivision plans for the workflow tests: a 14 m road along the south edge of a parent and a row of
lots 26 m deep behind it, in UTM 38N (the parent is tests.parcels.factories.rect(x, y, sum(widths), 40))."""

from __future__ import annotations

import json

import shapely
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from gisportal import crs
from gisportal.accounts.roles import PLANNER, SURVEYOR
from subdivision.models import MunicipalityPlanner, OfficeMember, SurveyingOffice
from tests.parcels.factories import rect

ROAD_M, DEPTH_M = 14.0, 26.0


def plan_features(x: float, y: float, widths=(22, 22, 22, 22)) -> list[tuple[str, str | None, object]]:
    """Return (kind, lot number, UTM geometry) of the plan's road and lots."""
    out = [("road", None, rect(x, y, sum(widths), ROAD_M))]
    left = x
    for i, width in enumerate(widths):
        out.append(("lot", str(i + 1), rect(left, y + ROAD_M, width, DEPTH_M)))
        left += width
    return out


def plan_geojson(x: float = 0.0, y: float = 0.0, widths=(22, 22, 22, 22)) -> bytes:
    """Return the plan as GeoJSON (EPSG:4326)."""
    features = [{
        "type": "Feature",
        "properties": {"kind": kind, **({"lot_no": lot, "stated_area": round(shapely.area(geom), 2)} if lot else {})},
        "geometry": shapely.geometry.mapping(crs.transform(geom, 32638, 4326)),
    } for kind, lot, geom in plan_features(x, y, widths)]
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def user(username: str, role: str, *, office: SurveyingOffice | None = None, municipalities=()):
    """Create an active user in ROLE, in OFFICE (surveyors) or planning MUNICIPALITIES (planners)."""
    person = get_user_model().objects.create_user(username, email=f"{username}@example.org", password="x")
    person.groups.add(Group.objects.get_or_create(name=role)[0])
    if office is not None:
        OfficeMember.objects.create(user=person, office=office)
    for municipality in municipalities:
        MunicipalityPlanner.objects.create(user=person, municipality=municipality)
    return person


__all__ = ["plan_features", "plan_geojson", "user", "PLANNER", "SURVEYOR"]
