"""A re-import skips the rows the last import read exactly so (their digest), and nothing else."""

from __future__ import annotations

import json

import geopandas as gpd
import pytest
from django.db import connection

from parcels import importing, sql
from parcels.importing import import_parcels
from parcels.layer_import import import_layer
from parcels.models import Parcel, ParcelVersion
from parcels.services import PROBE_ONLY, parcel_update
from tests.parcels.factories import metric_to_storage, rect, riyadh
from tests.parcels.test_import_stream import lots_frame, plain_frame, registry

pytestmark = pytest.mark.django_db


def geometry_rows(monkeypatch) -> list[int]:
    """Count the rows whose geometry an import checks (in this process)."""
    counted, check = [], importing._Preparer._checked_geometries

    def spy(self, moved):
        counted.append(len(moved.geoms))
        return check(self, moved)

    monkeypatch.setattr(importing._Preparer, "_checked_geometries", spy)
    return counted


def digests(municipality) -> dict[str, bytes | None]:
    return {code: bytes(d) if d is not None else None for code, d in
            Parcel.objects.filter(municipality=municipality).values_list("parcel_code", "source_digest")}


def test_a_reimport_skips_unchanged_rows_before_any_geometry_work(tmp_path, monkeypatch):
    municipality = riyadh()
    path = tmp_path / "lots.gpkg"
    lots_frame().to_file(path, layer="parcels")
    first = import_parcels(path=str(path), municipality=municipality, rejects_path=str(tmp_path / "r1.csv"))
    assert (first.created, first.skipped) == (36, 0)
    assert all(len(d) == 16 for d in digests(municipality).values())
    before = registry(municipality)

    counted = geometry_rows(monkeypatch)
    again = import_parcels(path=str(path), municipality=municipality, rejects_path=str(tmp_path / "r2.csv"))
    assert again.line().split(" (")[0] == "read 40, created 0, updated 0, unchanged 36, repaired 0, rejected 4"
    assert again.skipped == 36
    # Only the 4 rejected rows are looked at again: 3 bad geometries and the repeated code's row.
    assert sum(counted) == 4
    assert (tmp_path / "r1.csv").read_text() == (tmp_path / "r2.csv").read_text()
    assert registry(municipality) == before


@pytest.mark.django_db(transaction=True)
def test_reader_processes_skip_what_the_last_import_committed(tmp_path):
    municipality = riyadh()
    frame = plain_frame(30)
    path = tmp_path / "lots.gpkg"
    frame.to_file(path, layer="parcels")
    import_parcels(path=str(path), municipality=municipality, chunk_rows=4)
    frame.loc[3, "geometry"] = rect(66, 0, 21, 30)
    frame.to_file(path, layer="parcels")
    again = import_parcels(path=str(path), municipality=municipality, chunk_rows=4)  # several readers
    assert (again.read, again.updated, again.unchanged, again.skipped) == (30, 1, 29, 29)
    assert Parcel.objects.get(parcel_code="7-1-4").area_m2 == pytest.approx(630.0, abs=0.5)


def test_an_edit_by_anything_but_an_import_clears_the_digest_and_the_next_import_compares_in_full(tmp_path):
    municipality = riyadh()
    path = tmp_path / "lots.gpkg"
    plain_frame(5).to_file(path, layer="parcels")
    import_parcels(path=str(path), municipality=municipality)
    edited = Parcel.objects.get(municipality=municipality, parcel_code="7-1-2")
    parcel_update(parcel=edited, geom=metric_to_storage(rect(22, 0, 25, 30)), source="surveyor correction")
    assert digests(municipality)["7-1-2"] is None
    with connection.cursor() as cursor:  # any writer, even raw SQL
        cursor.execute("UPDATE parcels_parcel SET plan_no = 'x' WHERE parcel_code = '7-1-3'")
    assert digests(municipality)["7-1-3"] is None

    again = import_parcels(path=str(path), municipality=municipality)
    # The file wins again over the edits (as before digests), and each edit stays in the history.
    assert (again.updated, again.unchanged, again.skipped) == (2, 3, 3)
    assert Parcel.objects.get(parcel_code="7-1-2").area_m2 == pytest.approx(600.0, abs=0.5)
    assert ParcelVersion.objects.filter(parcel__parcel_code="7-1-2").count() == 2
    assert all(d is not None for d in digests(municipality).values())
    third = import_parcels(path=str(path), municipality=municipality)
    assert (third.updated, third.skipped) == (0, 5)


def test_new_zoning_makes_the_next_import_look_at_every_row_again(tmp_path):
    municipality = riyadh()
    path = tmp_path / "lots.gpkg"
    plain_frame(4).to_file(path, layer="parcels")
    import_parcels(path=str(path), municipality=municipality)
    assert set(Parcel.objects.values_list("zone_code", flat=True)) == {""}
    zones = gpd.GeoDataFrame({"zone_code": ["R1"]}, geometry=[rect(-10, -10, 52, 60)], crs="EPSG:32638")
    zones.to_file(tmp_path / "zoning.gpkg", layer="zoning")
    import_layer(kind="zoning", path=str(tmp_path / "zoning.gpkg"), municipality=municipality)

    again = import_parcels(path=str(path), municipality=municipality)
    assert (again.updated, again.skipped) == (2, 0)  # the two lots inside R1 take it; the rest are compared
    assert dict(Parcel.objects.values_list("parcel_code", "zone_code")) == {
        "7-1-1": "R1", "7-1-2": "R1", "7-1-3": "", "7-1-4": ""}
    assert import_parcels(path=str(path), municipality=municipality).skipped == 4


def test_another_field_mapping_is_compared_in_full_and_then_skipped(tmp_path):
    municipality = riyadh()
    frame = plain_frame(3)
    frame["ref"] = frame["parcel_code"]
    path = tmp_path / "lots.gpkg"
    frame.to_file(path, layer="parcels")
    import_parcels(path=str(path), municipality=municipality)
    by_ref = import_parcels(path=str(path), municipality=municipality, code_field="ref")
    assert (by_ref.unchanged, by_ref.skipped) == (3, 0)  # the same parcels, read another way
    assert import_parcels(path=str(path), municipality=municipality, code_field="ref").skipped == 3


@pytest.mark.slow
@pytest.mark.parametrize("statistics", ["none", "other municipality"])
def test_the_digest_lookup_probes_the_code_index_whatever_the_statistics(tmp_path, statistics):
    """With the statistics of a registry a first import has just filled (never analysed, or analysed before this
    municipality existed), the lookup once scanned the whole municipality through the (municipality, status)
    index for every row: 200 s instead of 2 s at 210k parcels. (On a few hundred rows that plan is as cheap as
    any, so the registry here holds 20,000.)"""
    other, municipality = riyadh("OLD"), riyadh("NEW")
    path = tmp_path / "lots.gpkg"
    plain_frame(20_000).to_file(path, layer="parcels")
    with connection.cursor() as cursor:
        if statistics == "other municipality":
            import_parcels(path=str(path), municipality=other)
            cursor.execute("ANALYZE parcels_parcel")
        import_parcels(path=str(path), municipality=municipality)
        if statistics == "none":
            cursor.execute("DELETE FROM pg_statistic WHERE starelid = 'parcels_parcel'::regclass")
            cursor.execute("UPDATE pg_class SET reltuples = -1, relpages = 0 WHERE oid = 'parcels_parcel'::regclass")
        cursor.execute(PROBE_ONLY)
        cursor.execute(sql.load("known_create"))
        cursor.execute("INSERT INTO parcel_known VALUES (0, %s, '7-1-1', '\\x00'::bytea)", [municipality.pk])
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql.load("known_digests"))
        plan = json.dumps(cursor.fetchone()[0])
    assert '"Index Name": "parcel_code_unique"' in plan, plan
    assert '"Relation Name": "parcel_known"' in plan and plan.index("parcel_known") < plan.index("parcel_code_unique")
