"""The streaming importer: chunks change nothing, one transaction, zoning by overlay, one writer, one signal."""

from __future__ import annotations

import csv
import json
from contextlib import contextmanager

import geopandas as gpd
import pytest
import shapely
from django.core.management import CommandError, call_command
from django.db import connection

from parcels.importing import import_parcels
from parcels.layer_import import import_layer
from parcels.models import Parcel, ParcelVersion, ZoningDistrict
from parcels.services import parcel_update, parcels_retire
from parcels.signals import merge_boxes, parcels_changed
from tests.parcels.factories import RIYADH_ORIGIN, make_parcel, rect, riyadh

pytestmark = pytest.mark.django_db

X0, Y0 = RIYADH_ORIGIN


def lots_frame(n: int = 40) -> gpd.GeoDataFrame:
    """N lots in a row, with a repairable bow-tie, a hopeless one, a line, an empty geometry and a repeated code."""
    codes = [f"7-1-{i + 1}" for i in range(n)]
    geoms = [rect(i * 22, 0, 20, 30) for i in range(n)]
    loop = [(0, 0), (20, 0), (20, 30), (0, 30), (0, 15.1), (0.3, 14.9), (0.3, 15.1), (0, 14.9), (0, 0)]
    geoms[5] = shapely.Polygon([(X0 + 5 * 22 + x, Y0 + y) for x, y in loop])  # repaired
    geoms[12] = shapely.Polygon([(X0 + 264, Y0), (X0 + 284, Y0 + 30), (X0 + 284, Y0), (X0 + 264, Y0 + 30)])  # rejected
    geoms[20] = shapely.LineString([(X0, Y0 + 100), (X0 + 10, Y0 + 100)])  # rejected
    geoms[27] = None  # rejected
    codes[33] = codes[2]  # duplicate: rejected
    return gpd.GeoDataFrame({"parcel_code": codes, "plan_no": ["7"] * n, "land_use": ["residential"] * n,
                             "stated_area": [600.0] * n}, geometry=geoms, crs="EPSG:32638")


def plain_frame(n: int) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"parcel_code": [f"7-1-{i + 1}" for i in range(n)]},
                            geometry=[rect(i * 22, 0, 20, 30) for i in range(n)], crs="EPSG:32638")


def registry(municipality) -> list[tuple]:
    """Return every current and past state of the municipality's parcels, comparable across municipalities."""
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT p.parcel_code, p.version, p.change, p.status, p.plan_no, p.land_use, p.zone_code,
                   p.stated_area_m2, p.area_m2, p.perimeter_m, encode(ST_AsBinary(p.geom), 'hex'), NULL, NULL
            FROM parcels_parcel p WHERE p.municipality_id = %(m)s
            UNION ALL
            SELECT p.parcel_code, v.version, v.change, v.status, v.plan_no, v.land_use, v.zone_code,
                   v.stated_area_m2, v.area_m2, v.perimeter_m, encode(ST_AsBinary(v.geom), 'hex'),
                   v.valid_from, v.valid_to
            FROM parcels_parcelversion v JOIN parcels_parcel p ON p.id = v.parcel_id WHERE p.municipality_id = %(m)s
            ORDER BY 1, 2""", {"m": municipality.pk})
        return cursor.fetchall()


@contextmanager
def signals():
    """Collect the parcels_changed payloads sent inside the block."""
    sent = []

    def receiver(sender, change, **kwargs):
        sent.append(change)

    parcels_changed.connect(receiver)
    try:
        yield sent
    finally:
        parcels_changed.disconnect(receiver)


def storage_box(*geoms_metric) -> tuple[float, float, float, float]:
    from gisportal import crs

    moved = [crs.transform(g, 32638, 3857) for g in geoms_metric]
    return tuple(shapely.total_bounds(moved))


def covers(boxes, box, tol=1e-6) -> bool:
    return any(b[0] <= box[0] + tol and b[1] <= box[1] + tol and b[2] >= box[2] - tol and b[3] >= box[3] - tol
               for b in boxes)


# ---- chunks ---------------------------------------------------------------------------------------------

# Committed between imports (transaction=True), as in real use: reader processes read the registry
# through connections of their own, so they see what the last import committed.
@pytest.mark.django_db(transaction=True)
def test_an_import_in_chunks_of_seven_gives_the_same_registry_as_one_chunk(tmp_path):
    frame = lots_frame()
    path = tmp_path / "lots.gpkg"
    frame.to_file(path, layer="parcels")
    one, seven = riyadh("ONE"), riyadh("SEV")
    at = {"at": None}
    first = import_parcels(path=str(path), municipality=one, rejects_path=str(tmp_path / "one.csv"), **at)
    chunked = import_parcels(path=str(path), municipality=seven, rejects_path=str(tmp_path / "sev.csv"),
                             chunk_rows=7, **at)
    assert first.line().split(" (")[0] == chunked.line().split(" (")[0] == (
        "read 40, created 36, updated 0, unchanged 0, repaired 1, rejected 4")
    assert first.rejects == chunked.rejects
    assert (tmp_path / "one.csv").read_text() == (tmp_path / "sev.csv").read_text()
    assert [r[0] for r in first.rejects] == [13, 21, 28, 34]
    assert registry(one) == registry(seven)  # no history yet: the current states only

    # A second file changes three lots and adds one: the same versions either way.
    frame.loc[0, "land_use"] = "commercial"
    frame.loc[1, "geometry"] = rect(22, 0, 21, 30)
    frame.loc[8, "stated_area"] = 601.0
    frame = gpd.GeoDataFrame(frame, geometry="geometry", crs="EPSG:32638")
    extra = gpd.GeoDataFrame({"parcel_code": ["7-1-99"], "plan_no": ["7"], "land_use": ["residential"],
                              "stated_area": [None]}, geometry=[rect(2000, 0, 20, 30)], crs="EPSG:32638")
    changed = tmp_path / "changed.gpkg"
    gpd.GeoDataFrame(pd_concat([frame, extra]), crs="EPSG:32638").to_file(changed, layer="parcels")
    again = import_parcels(path=str(changed), municipality=one, rejects_path=str(tmp_path / "one2.csv"))
    again_chunked = import_parcels(path=str(changed), municipality=seven, rejects_path=str(tmp_path / "sev2.csv"),
                                   chunk_rows=7)
    assert again.line().split(" (")[0] == again_chunked.line().split(" (")[0] == (
        # The repaired lot is unchanged: skipped by its digest, so not repaired again.
        "read 41, created 1, updated 3, unchanged 33, repaired 0, rejected 4")
    strip_times = [row[:11] for row in registry(one)]
    assert strip_times == [row[:11] for row in registry(seven)]
    assert ParcelVersion.objects.filter(parcel__municipality=one).count() == 3


def pd_concat(frames):
    import pandas as pd

    return pd.concat(frames, ignore_index=True)


@pytest.mark.cambridge
@pytest.mark.slow
def test_cambridge_in_chunks_equals_one_chunk(cambridge_gpkg, tmp_path):
    from gisportal.crs import utm_srid_for
    from parcels.services import municipality_create

    subset = tmp_path / "cambridge_600.gpkg"
    gpd.read_file(cambridge_gpkg, layer="parcels", rows=600).to_file(subset, layer="parcels")
    kwargs = {"path": str(subset), "code_field": "id", "field_map": {"plan_no": "MAP", "parcel_no": "LOT"}}
    one = municipality_create(code="CA1", name_en="c", metric_srid=utm_srid_for(-71.1, 42.37))
    many = municipality_create(code="CA2", name_en="c", metric_srid=utm_srid_for(-71.1, 42.37))
    a = import_parcels(municipality=one, rejects_path=str(tmp_path / "a.csv"), **kwargs)
    b = import_parcels(municipality=many, rejects_path=str(tmp_path / "b.csv"), chunk_rows=7, **kwargs)
    assert a.line().split(" (")[0] == b.line().split(" (")[0]
    assert a.read == 600 and a.created + a.rejected == 600
    assert registry(one) == registry(many)


# ---- one transaction --------------------------------------------------------------------------------

def test_a_bad_row_in_a_late_chunk_rolls_back_the_whole_import(tmp_path):
    municipality = riyadh()
    good = lots_frame()
    good_path = tmp_path / "good.gpkg"
    good.to_file(good_path, layer="parcels")
    import_parcels(path=str(good_path), municipality=municipality, rejects_path=str(tmp_path / "r0.csv"))
    before = registry(municipality)

    bad = lots_frame()
    bad["land_use"] = "commercial"  # every row would change ...
    bad.loc[38, "plan_no"] = "P" * 40  # ... but row 39, in the last chunk of 7, cannot be stored
    bad_path = tmp_path / "bad.gpkg"
    bad.to_file(bad_path, layer="parcels")
    with signals() as sent, pytest.raises(CommandError, match=r"row 39: plan_no 'P+' is longer than 32"):
        call_command("import_parcels", str(bad_path), "--municipality", "RUH", "--chunk-rows", "7",
                     "--no-progress", "--rejects", str(tmp_path / "r1.csv"))
    assert registry(municipality) == before
    assert ParcelVersion.objects.count() == 0
    assert not (tmp_path / "r1.csv").exists()
    assert sent == []
    # Into an empty municipality: nothing at all.
    empty = riyadh("EMP")
    with pytest.raises(CommandError):
        call_command("import_parcels", str(bad_path), "--municipality", "EMP", "--chunk-rows", "7", "--no-progress")
    assert not Parcel.objects.filter(municipality=empty).exists()


# ---- zoning by overlay ------------------------------------------------------------------------------

def test_a_parcel_takes_the_zone_covering_most_of_it(tmp_path):
    municipality = riyadh()
    zones = gpd.GeoDataFrame({"zone_code": ["R1", "C2"]},
                             geometry=[rect(0, -50, 100, 200), rect(100, -50, 100, 200)], crs="EPSG:32638")
    zones.to_file(tmp_path / "zoning.gpkg", layer="zoning")
    import_layer(kind="zoning", path=str(tmp_path / "zoning.gpkg"), municipality=municipality)
    assert ZoningDistrict.objects.count() == 2
    lots = gpd.GeoDataFrame({"parcel_code": ["in-r1", "mostly-r1", "mostly-c2", "in-c2", "outside"]},
                            geometry=[rect(10, 0, 20, 30), rect(70, 0, 40, 30), rect(90, 0, 40, 30),
                                      rect(150, 0, 20, 30), rect(500, 0, 20, 30)], crs="EPSG:32638")
    lots.to_file(tmp_path / "lots.gpkg", layer="parcels")
    import_parcels(path=str(tmp_path / "lots.gpkg"), municipality=municipality, chunk_rows=2)
    assert dict(Parcel.objects.values_list("parcel_code", "zone_code")) == {
        "in-r1": "R1", "mostly-r1": "R1", "mostly-c2": "C2", "in-c2": "C2", "outside": ""}
    # A zone field in the source wins over the overlay.
    lots["zone"] = ["X9"] * 5
    lots.to_file(tmp_path / "zoned.gpkg", layer="parcels")
    summary = import_parcels(path=str(tmp_path / "zoned.gpkg"), municipality=municipality)
    assert summary.updated == 5
    assert set(Parcel.objects.values_list("zone_code", flat=True)) == {"X9"}


# ---- one writer, one signal -------------------------------------------------------------------------

def test_an_import_sends_one_signal_with_the_boxes_of_old_and_new_geometry(tmp_path,
                                                                          django_capture_on_commit_callbacks):
    municipality = riyadh()
    frame = plain_frame(10)
    path = tmp_path / "lots.gpkg"
    frame.to_file(path, layer="parcels")
    with signals() as sent, django_capture_on_commit_callbacks(execute=True):
        summary = import_parcels(path=str(path), municipality=municipality, chunk_rows=3)
    assert len(sent) == 1
    change = sent[0]
    assert (change.operation, change.created, change.updated, change.municipality_code) == (
        "import", summary.created, 0, "RUH")
    with connection.cursor() as cursor:
        cursor.execute("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
                       "(SELECT ST_Extent(geom)::geometry e FROM parcels_parcel) x")
        extent = cursor.fetchone()
    assert change.extent == pytest.approx(extent)
    assert change.srid == 3857
    for parcel in Parcel.objects.all():
        assert covers(change.bboxes, parcel.geom.extent)

    # Unchanged: no signal. One parcel moved: one signal covering where it was and where it is.
    with signals() as sent, django_capture_on_commit_callbacks(execute=True):
        import_parcels(path=str(path), municipality=municipality)
    assert sent == []
    frame.loc[1, "geometry"] = rect(500, 500, 20, 30)
    frame.to_file(path, layer="parcels")
    with signals() as sent, django_capture_on_commit_callbacks(execute=True):
        summary = import_parcels(path=str(path), municipality=municipality)
    assert summary.updated == 1 and len(sent) == 1
    assert (sent[0].created, sent[0].updated) == (0, 1)
    assert covers(sent[0].bboxes, storage_box(rect(22, 0, 20, 30)))
    assert covers(sent[0].bboxes, storage_box(rect(500, 500, 20, 30)))
    assert sent[0].extent == pytest.approx(storage_box(rect(22, 0, 20, 30), rect(500, 500, 20, 30)))
    assert ParcelVersion.objects.count() == 1


def test_a_layer_import_changes_no_parcel_and_sends_no_parcel_signal(tmp_path, django_capture_on_commit_callbacks):
    municipality = riyadh()
    make_parcel(municipality, "1-1-1", rect(0, 0, 20, 30))
    zones = gpd.GeoDataFrame({"zone_code": ["R1"]}, geometry=[rect(-50, -50, 200, 200)], crs="EPSG:32638")
    zones.to_file(tmp_path / "zoning.gpkg", layer="zoning")
    with signals() as sent, django_capture_on_commit_callbacks(execute=True):
        import_layer(kind="zoning", path=str(tmp_path / "zoning.gpkg"), municipality=municipality)
    assert sent == [] and ParcelVersion.objects.count() == 0


def test_service_calls_keep_history_and_send_one_signal_each(django_capture_on_commit_callbacks):
    municipality = riyadh()
    with signals() as sent, django_capture_on_commit_callbacks(execute=True):
        parcel = make_parcel(municipality, "1-1-1", rect(0, 0, 20, 30))
    assert [(c.operation, c.created) for c in sent] == [("create", 1)]
    assert sent[0].bboxes == (pytest.approx(storage_box(rect(0, 0, 20, 30))),)

    from tests.parcels.factories import metric_to_storage

    with signals() as sent, django_capture_on_commit_callbacks(execute=True):
        parcel_update(parcel=parcel, geom=metric_to_storage(rect(100, 0, 20, 30)), source="correction")
    assert [(c.operation, c.updated) for c in sent] == [("update", 1)]
    assert covers(sent[0].bboxes, storage_box(rect(0, 0, 20, 30)))
    assert covers(sent[0].bboxes, storage_box(rect(100, 0, 20, 30)))
    assert ParcelVersion.objects.filter(parcel=parcel).count() == 1

    other = make_parcel(municipality, "1-1-2", rect(300, 0, 20, 30))
    with signals() as sent, django_capture_on_commit_callbacks(execute=True):
        parcels_retire(parcels=[Parcel.objects.get(pk=parcel.pk), other], source="plan")
    assert [(c.operation, c.retired) for c in sent] == [("retire", 2)]
    assert sent[0].extent == pytest.approx(storage_box(rect(100, 0, 20, 30), rect(300, 0, 20, 30)))
    assert ParcelVersion.objects.count() == 3


def test_an_admin_edit_keeps_history_and_sends_one_signal(admin_client, django_capture_on_commit_callbacks):
    municipality = riyadh()
    parcel = make_parcel(municipality, "1-1-1", rect(0, 0, 20, 30), land_use="residential")
    url = f"/admin/parcels/parcel/{parcel.pk}/change/"
    assert admin_client.get(url).status_code == 200
    form = {"plan_no": "1", "block_no": "1", "parcel_no": "1", "district": "", "land_use": "commercial",
            "zone_code": "", "stated_area_m2": "", "geom": json.dumps(json.loads(parcel.geom.json) | {
                "crs": {"type": "name", "properties": {"name": "EPSG:3857"}}})}
    with signals() as sent, django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:2000]
    parcel.refresh_from_db()
    assert (parcel.land_use, parcel.version, parcel.change_source) == ("commercial", 2, "admin")
    past, = ParcelVersion.objects.filter(parcel=parcel)
    assert past.land_use == "residential"
    assert len(sent) == 1 and (sent[0].operation, sent[0].updated) == ("update", 1)
    assert covers(sent[0].bboxes, parcel.geom.extent)


def test_merged_boxes_cover_every_box():
    import numpy as np

    rng = np.random.default_rng(1)
    lower = rng.uniform(0, 1000, size=(5000, 2))
    boxes = np.hstack([lower, lower + rng.uniform(1, 5, size=(5000, 2))])
    merged = merge_boxes(boxes, max_boxes=64)
    assert len(merged) <= 64
    assert all(covers(merged, tuple(b)) for b in boxes[::50])


def test_the_rejects_file_lists_every_rejected_row_with_its_reason(tmp_path):
    municipality = riyadh()
    lots_frame().to_file(tmp_path / "lots.gpkg", layer="parcels")
    summary = import_parcels(path=str(tmp_path / "lots.gpkg"), municipality=municipality, chunk_rows=7,
                             rejects_path=str(tmp_path / "r.csv"))
    with open(tmp_path / "r.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["row"]) for r in rows] == [13, 21, 28, 34]
    assert summary.read == summary.created + summary.rejected
    assert "duplicate parcel code '7-1-3' (first at row 3)" in rows[3]["reason"]
    assert rows[2]["reason"] == "no geometry"
