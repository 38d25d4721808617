"""Import the real Cambridge parcels (../shared/data) into PostGIS and check every count."""

import csv

import geopandas as gpd
import numpy as np
import pytest
import shapely
from django.core.management import call_command
from django.db import connection
from pyproj import Geod

from parcels.importing import import_parcels
from parcels.models import Municipality, Parcel, ParcelVersion
from parcels.services import municipality_create
from tests.conftest import CAMBRIDGE_IMPORT

pytestmark = [pytest.mark.django_db(transaction=False), pytest.mark.cambridge]


@pytest.fixture
def cambridge(cambridge_gpkg, tmp_path):
    municipality = municipality_create(code="CAM", name_en="Cambridge", centroid_lonlat=(-71.11, 42.37))
    summary = import_parcels(path=str(cambridge_gpkg), municipality=municipality,
                             rejects_path=str(tmp_path / "rejects.csv"), **CAMBRIDGE_IMPORT)
    return municipality, summary, tmp_path / "rejects.csv"


@pytest.fixture(scope="module")
def source_frame(cambridge_gpkg):
    return gpd.read_file(cambridge_gpkg, layer="parcels")


def test_every_row_is_created_or_rejected_and_invalid_ones_are_accounted_for(cambridge, source_frame):
    municipality, summary, rejects_path = cambridge
    assert summary.read == 13116
    assert summary.created + summary.rejected == summary.read
    assert summary.updated == 0 and summary.unchanged == 0
    assert Parcel.objects.filter(municipality=municipality).count() == summary.created
    # A new parcel's first state is the parcel itself: no past version yet.
    assert ParcelVersion.objects.filter(parcel__municipality=municipality).count() == 0
    assert set(Parcel.objects.filter(municipality=municipality).values_list("version", "change").distinct()) == {
        (1, "created")}

    geoms = source_frame.geometry.values
    invalid_or_empty = int((~shapely.is_valid(geoms)).sum() + shapely.is_empty(geoms).sum())
    assert invalid_or_empty == 38
    assert summary.repaired + summary.rejected == 38

    with open(rejects_path, newline="") as f:
        rejects = list(csv.DictReader(f))
    assert len(rejects) == summary.rejected
    assert all(row["reason"] for row in rejects)
    rejected_codes = {row["parcel_code"] for row in rejects}
    source_invalid = set(source_frame.loc[~shapely.is_valid(geoms) | shapely.is_empty(geoms), "id"].astype(str))
    assert rejected_codes <= source_invalid
    assert not Parcel.objects.filter(municipality=municipality, parcel_code__in=rejected_codes).exists()
    # Each repaired parcel stored valid, within 0.1 % of its source area.
    repaired_codes = source_invalid - rejected_codes
    assert len(repaired_codes) == summary.repaired
    assert all(p.geom.valid for p in Parcel.objects.filter(municipality=municipality, parcel_code__in=repaired_codes))


def test_reimport_changes_nothing(cambridge, cambridge_gpkg, tmp_path):
    municipality, first, _ = cambridge
    before = ParcelVersion.objects.count()
    again = import_parcels(path=str(cambridge_gpkg), municipality=municipality,
                           rejects_path=str(tmp_path / "again.csv"), **CAMBRIDGE_IMPORT)
    assert (again.created, again.updated, again.unchanged) == (0, 0, first.created)
    assert ParcelVersion.objects.count() == before


def test_area_agrees_with_geodesic_area_within_a_tenth_of_a_percent(cambridge, source_frame):
    municipality, _, _ = cambridge
    assert municipality.metric_srid == 32619
    geod = Geod(ellps="WGS84")
    sample = source_frame[shapely.is_valid(source_frame.geometry.values) & ~source_frame.geometry.is_empty]
    sample = sample.sample(300, random_state=1)
    stored = dict(Parcel.objects.filter(parcel_code__in=list(sample["id"].astype(str)))
                  .values_list("parcel_code", "area_m2"))
    errors = []
    for code, geom in zip(sample["id"].astype(str), sample.geometry):
        geodesic = abs(geod.geometry_area_perimeter(geom)[0])
        if geodesic > 1:
            errors.append(abs(stored[code] - geodesic) / geodesic)
    assert len(errors) > 250
    assert max(errors) < 0.001, f"worst relative area error {max(errors):.5f}"


def test_bbox_count_equals_an_independent_shapely_count(cambridge, source_frame, api_client, planner):
    municipality, _, rejects_path = cambridge
    with open(rejects_path, newline="") as f:
        rejected = {row["parcel_code"] for row in csv.DictReader(f)}
    bbox = (-71.125, 42.365, -71.105, 42.378)
    box = shapely.box(*bbox)
    frame = source_frame[~source_frame["id"].astype(str).isin(rejected)]
    expected = int(shapely.intersects(frame.geometry.values, box).sum())
    assert 500 < expected < 13000

    api_client.force_authenticate(planner)
    response = api_client.get("/api/parcels/", {"bbox": ",".join(map(str, bbox)), "municipality": "CAM",
                                                "page_size": 1000})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == expected
    assert len(body["features"]) == min(1000, expected)
    assert body["next"] is not None
    codes = {f["properties"]["parcel_code"] for f in body["features"]}
    # Every returned geometry really lies on the bbox.
    returned = shapely.from_geojson([__import__("json").dumps(f["geometry"]) for f in body["features"]])
    assert shapely.intersects(returned, box.buffer(1e-6)).all()
    assert len(codes) == len(body["features"])


def test_cli_imports_cambridge_and_prints_a_summary(cambridge_gpkg, tmp_path, capsys):
    call_command("import_parcels", str(cambridge_gpkg), "--municipality", "CAMX", "--create-municipality",
                 "--layer", "parcels", "--code-field", "id", "--map", "plan_no=MAP", "--map", "parcel_no=LOT",
                 "--rejects", str(tmp_path / "r.csv"), "--no-progress")
    out = capsys.readouterr().out
    assert "read 13116, created 13110, updated 0, unchanged 0, repaired 32, rejected 6" in out
    assert Municipality.objects.get(code="CAMX").metric_srid == 32619
    assert np.isclose(Parcel.objects.filter(municipality__code="CAMX", parcel_code="10002").get().area_m2,
                      294.36, atol=0.05)


def test_stored_area_and_perimeter_are_postgis_measures_in_the_metric_crs(cambridge):
    # Single rings are measured from the source coordinates in whole arrays, the rest (several parts,
    # holes, repaired) from their shapely geometry: both must be what PostGIS measures of the stored one
    # (to 1e-8: a source coordinate moved straight to the metric CRS differs from one moved through the
    # storage CRS by micrometres).
    municipality, _, _ = cambridge
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT count(*),
                   max(abs(area_m2 - ST_Area(ST_Transform(geom, %(metric)s))) / ST_Area(ST_Transform(geom, %(metric)s))),
                   max(abs(perimeter_m - ST_Perimeter(ST_Transform(geom, %(metric)s)))
                       / ST_Perimeter(ST_Transform(geom, %(metric)s))),
                   count(*) FILTER (WHERE ST_NumGeometries(geom) > 1 OR ST_NumInteriorRings(ST_GeometryN(geom, 1)) > 0)
            FROM parcels_parcel WHERE municipality_id = %(m)s AND ST_Area(geom) > 0""",
                       {"metric": municipality.metric_srid, "m": municipality.pk})
        count, area_error, perimeter_error, not_single = cursor.fetchone()
    assert count > 13000 and not_single > 10
    assert area_error < 1e-8 and perimeter_error < 1e-8
