"""The parcel importer: every GDAL format, upserts, repairs, rejects, and bad input."""

import zipfile

import geopandas as gpd
import pytest
import shapely
from django.core.management import CommandError, call_command
from django.db import connection

from parcels.importing import import_parcels
from parcels.models import Parcel, ParcelVersion
from tests.parcels.factories import RIYADH_ORIGIN, rect, riyadh

pytestmark = pytest.mark.django_db

X0, Y0 = RIYADH_ORIGIN


def source_frame(crs: str = "EPSG:32638") -> gpd.GeoDataFrame:
    lots = [rect(i * 25, 0, 25, 32) for i in range(3)]
    frame = gpd.GeoDataFrame({
        "parcel_code": ["82-1-1", "82-1-2", "82-1-3"],
        "plan_no": ["82"] * 3, "block_no": ["1"] * 3, "parcel_no": ["1", "2", "3"],
        "land_use": ["residential", "commercial", "residential"],
        "stated_area": [800.0, 800.0, 801.0],
    }, geometry=lots, crs="EPSG:32638")
    return frame.to_crs(crs)


def write(frame: gpd.GeoDataFrame, fmt: str, folder) -> str:
    if fmt == "geojson":
        path = folder / "parcels.geojson"
        frame.to_crs(4326).to_file(path, driver="GeoJSON")
    elif fmt == "shapefile-zip":
        shp = folder / "shp"
        shp.mkdir()
        frame.to_file(shp / "parcels.shp")
        path = folder / "parcels.zip"
        with zipfile.ZipFile(path, "w") as archive:
            for part in shp.iterdir():
                archive.write(part, part.name)
    elif fmt == "gpkg":
        path = folder / "parcels.gpkg"
        frame.to_file(path, layer="parcels", driver="GPKG")
    elif fmt == "fgb":
        path = folder / "parcels.fgb"
        frame.to_file(path, driver="FlatGeobuf")
    elif fmt == "kml":
        path = folder / "parcels.kml"
        frame.to_crs(4326).to_file(path, driver="KML")
    elif fmt == "csv":
        path = folder / "parcels.csv"
        plain = frame.to_crs(4326)
        plain.assign(WKT=plain.geometry.to_wkt(rounding_precision=-1)).drop(columns="geometry").to_csv(path, index=False)
    return str(path)


@pytest.mark.parametrize("fmt", ["geojson", "shapefile-zip", "gpkg", "fgb", "kml", "csv"])
def test_each_gdal_format_imports_the_same_parcels(fmt, tmp_path):
    municipality = riyadh()
    path = write(source_frame(), fmt, tmp_path)
    field_map = {"parcel_code": "Name"} if fmt == "kml" else None
    summary = import_parcels(path=path, municipality=municipality, field_map=field_map)
    assert (summary.read, summary.created, summary.rejected) == (3, 3, 0)
    areas = dict(Parcel.objects.values_list("parcel_code", "area_m2"))
    assert sorted(areas) == ["82-1-1", "82-1-2", "82-1-3"]
    for area in areas.values():
        assert area == pytest.approx(800, abs=0.05)
    if fmt != "kml":
        assert Parcel.objects.get(parcel_code="82-1-2").land_use == "commercial"
        assert Parcel.objects.get(parcel_code="82-1-3").stated_area_m2 == 801.0


def test_reimport_is_a_no_op_and_a_change_makes_a_new_version(tmp_path):
    municipality = riyadh()
    frame = source_frame()
    path = write(frame, "gpkg", tmp_path)
    import_parcels(path=path, municipality=municipality)
    again = import_parcels(path=path, municipality=municipality)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    assert ParcelVersion.objects.count() == 0

    frame.loc[1, "land_use"] = "mixed"
    frame.loc[2, "geometry"] = rect(50, 0, 30, 32)
    changed = write(frame, "geojson", tmp_path)
    summary = import_parcels(path=changed, municipality=municipality)
    assert (summary.created, summary.updated, summary.unchanged) == (0, 2, 1)
    assert Parcel.objects.get(parcel_code="82-1-2").version == 2
    third = Parcel.objects.get(parcel_code="82-1-3")
    assert third.area_m2 == pytest.approx(960, abs=0.05)
    assert (third.version, third.change) == (2, "updated")
    past, = third.versions.all()
    assert (past.version, past.change, past.valid_to) == (1, "created", third.updated_at)
    assert past.area_m2 == pytest.approx(800, abs=0.05)
    assert ParcelVersion.objects.count() == 2


def test_invalid_geometry_is_repaired_or_rejected_with_a_reason(tmp_path):
    municipality = riyadh()
    # A square whose left side makes a tiny bow-tie loop: invalid, and make_valid moves its area 0.002 %.
    loop = [(0, 0), (40, 0), (40, 40), (0, 40), (0, 20.1), (0.3, 19.9), (0.3, 20.1), (0, 19.9), (0, 0)]
    ring_touching_itself = shapely.Polygon([(X0 + x, Y0 + y) for x, y in loop])
    bowtie = shapely.Polygon([(X0 + 100, Y0), (X0 + 140, Y0 + 40), (X0 + 140, Y0), (X0 + 100, Y0 + 40), (X0 + 100, Y0)])
    line = shapely.LineString([(X0, Y0 + 100), (X0 + 10, Y0 + 100)])
    frame = gpd.GeoDataFrame({"parcel_code": ["A", "B", "C", "D", "A"]},
                             geometry=[ring_touching_itself, bowtie, line, rect(200, 0, 20, 30), rect(300, 0, 20, 30)],
                             crs="EPSG:32638")
    path = write(frame, "gpkg", tmp_path)
    rejects = tmp_path / "rejects.csv"
    summary = import_parcels(path=path, municipality=municipality, rejects_path=str(rejects))
    assert (summary.read, summary.created, summary.repaired, summary.rejected) == (5, 2, 1, 3)
    assert sorted(Parcel.objects.values_list("parcel_code", flat=True)) == ["A", "D"]
    assert Parcel.objects.get(parcel_code="A").geom.valid
    text = rejects.read_text()
    assert "B,\"invalid geometry" in text and "over the 0.1% limit" in text
    assert "geometry is a LineString, not a polygon" in text
    assert "duplicate parcel code 'A' (first at row 1)" in text


def test_projected_file_without_crs_needs_srid(tmp_path):
    municipality = riyadh()
    frame = source_frame()
    path = tmp_path / "nocrs.csv"
    frame.assign(WKT=frame.geometry.to_wkt()).drop(columns="geometry").to_csv(path, index=False)
    with pytest.raises(CommandError, match="no CRS and its coordinates look projected.*pass --srid"):
        call_command("import_parcels", str(path), "--municipality", "RUH", "--no-progress")
    assert Parcel.objects.count() == 0
    call_command("import_parcels", str(path), "--municipality", "RUH", "--srid", "32638", "--no-progress")
    assert Parcel.objects.count() == 3
    assert municipality.parcels.get(parcel_code="82-1-1").area_m2 == pytest.approx(800, abs=0.01)


@pytest.mark.parametrize("case, args, message", [
    ("unreadable", ["{dir}/missing.gpkg"], "no such file"),
    ("garbage", ["{dir}/garbage.gpkg"], "cannot read"),
    ("empty", ["{dir}/empty.geojson"], "the file is empty"),
    ("unknown layer", ["{dir}/parcels.gpkg", "--layer", "nope"], "unknown layer 'nope'"),
    ("missing map field", ["{dir}/parcels.gpkg", "--map", "plan_no=PLAN_NUMBER"], "field 'PLAN_NUMBER' is not in layer"),
    ("unknown target", ["{dir}/parcels.gpkg", "--map", "colour=plan_no"], "unknown target 'colour'"),
    ("bad map syntax", ["{dir}/parcels.gpkg", "--map", "plan_no"], "--map takes target=source"),
    ("unknown municipality", ["{dir}/parcels.gpkg", "--municipality", "XXX"], "no municipality 'XXX'"),
    ("bad srid", ["{dir}/parcels.gpkg", "--srid", "999999"], "not a known EPSG code"),
])
def test_bad_input_is_one_line_and_writes_nothing(case, args, message, tmp_path):
    riyadh()
    write(source_frame(), "gpkg", tmp_path)
    (tmp_path / "garbage.gpkg").write_bytes(b"this is not a geopackage at all" * 100)
    (tmp_path / "empty.geojson").write_bytes(b"")
    argv = [a.format(dir=tmp_path) for a in args]
    if "--municipality" not in argv:
        argv += ["--municipality", "RUH"]
    with pytest.raises(CommandError) as info:
        call_command("import_parcels", *argv, "--no-progress", "--rejects", str(tmp_path / "rejects.csv"))
    assert message in str(info.value)
    assert "\n" not in str(info.value)
    assert Parcel.objects.count() == 0 and ParcelVersion.objects.count() == 0
    assert not (tmp_path / "rejects.csv").exists()


def test_import_layer_streets_and_zoning_replaces_only_when_changed(tmp_path):
    municipality = riyadh()
    streets = gpd.GeoDataFrame({"name_en": ["A Street", "B Street"], "width_m": [20, 15]},
                               geometry=[shapely.LineString([(X0, Y0 - 10), (X0 + 100, Y0 - 10)]),
                                         shapely.LineString([(X0 - 10, Y0), (X0 - 10, Y0 + 100)])], crs="EPSG:32638")
    path = tmp_path / "streets.gpkg"
    streets.to_file(path, layer="streets")
    first = call_command("import_layer", "streets", str(path), "--municipality", "RUH")
    assert municipality.streets.count() == 2
    assert sorted(municipality.streets.values_list("row_width_m", flat=True)) == [15, 20]
    ids = set(municipality.streets.values_list("id", flat=True))
    call_command("import_layer", "streets", str(path), "--municipality", "RUH")
    assert set(municipality.streets.values_list("id", flat=True)) == ids
    with pytest.raises(CommandError, match="unknown layer 'roads'"):
        call_command("import_layer", "streets", str(path), "--municipality", "RUH", "--layer", "roads")
    assert first is None or "imported 2" in first


def test_a_retired_parcel_is_refused_not_changed(tmp_path):
    from parcels.services import parcels_retire

    municipality = riyadh()
    path = write(source_frame(), "gpkg", tmp_path)
    import_parcels(path=path, municipality=municipality)
    parcels_retire(parcels=[Parcel.objects.get(parcel_code="82-1-2")])
    before = Parcel.objects.get(parcel_code="82-1-2")
    summary = import_parcels(path=path, municipality=municipality, rejects_path=str(tmp_path / "r.csv"))
    assert (summary.unchanged, summary.rejected) == (2, 1)
    assert "'82-1-2' is retired" in summary.rejects[0][2]
    after = Parcel.objects.get(parcel_code="82-1-2")
    assert (after.status, after.version, after.updated_at) == ("retired", before.version, before.updated_at)


@pytest.mark.parametrize("srid", [32638, 4326, 3857])  # the metric CRS, lon/lat, the storage CRS
def test_area_and_perimeter_are_postgis_measures_whatever_the_source_crs(srid, tmp_path):
    # A single ring (measured in whole arrays), two parts, a hole and a repaired bow-tie (from their geometry).
    bow_tie = [(0, 0), (20, 0), (20, 30), (0, 30), (0, 15.1), (0.3, 14.9), (0.3, 15.1), (0, 14.9), (0, 0)]
    lots = [rect(0, 0, 25, 32), shapely.MultiPolygon([rect(30, 0, 10, 10), rect(45, 0, 10, 10)]),
            shapely.Polygon(rect(60, 0, 30, 30).exterior.coords, [rect(70, 10, 10, 10).exterior.coords]),
            shapely.Polygon([(X0 + 100 + x, Y0 + y) for x, y in bow_tie])]
    frame = gpd.GeoDataFrame({"parcel_code": ["A", "B", "C", "D"]}, geometry=lots, crs="EPSG:32638")
    path = tmp_path / "lots.gpkg"
    frame.to_crs(f"EPSG:{srid}").to_file(path, layer="parcels")
    municipality = riyadh()
    summary = import_parcels(path=str(path), municipality=municipality)
    assert (summary.created, summary.repaired, summary.rejected) == (4, 1, 0)
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT parcel_code, area_m2, ST_Area(ST_Transform(geom, 32638)), perimeter_m,
                   ST_Perimeter(ST_Transform(geom, 32638))
            FROM parcels_parcel WHERE municipality_id = %s ORDER BY parcel_code""", [municipality.pk])
        rows = cursor.fetchall()
    for code, area, postgis_area, perimeter, postgis_perimeter in rows:
        assert area == pytest.approx(postgis_area, rel=1e-8), code
        assert perimeter == pytest.approx(postgis_perimeter, rel=1e-8), code
    assert [round(area) for _, area, *_ in rows] == [800, 200, 800, 600]
    assert [round(perimeter) for *_, perimeter, _ in rows] == [114, 80, 160, 100]
