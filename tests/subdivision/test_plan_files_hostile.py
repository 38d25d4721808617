"""Hostile and broken uploads: each is refused with a PlanFileError naming the problem."""

from __future__ import annotations

import io
import json
import os
import re
import sqlite3
import stat
import struct
import zipfile

import ezdxf
import geopandas as gpd
import pyogrio
import pytest
from shapely.geometry import Polygon

from subdivision.plan_files import (
    MAX_LAND_USE_CHARS,
    MAX_LOT_NO_CHARS,
    BadAttribute,
    BadCoordinates,
    CorruptFile,
    DxfLayersUnmapped,
    EmptyPlan,
    FileTooLarge,
    Limits,
    PlanFileError,
    UnknownCrs,
    UnsafeArchive,
    UnsupportedFormat,
    read_plan,
)
from tests.subdivision import plan_samples as samples

pytestmark = pytest.mark.usefixtures("private_tempdir")


def _zip(members: dict[str, bytes], *, compression=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _shapefile_members() -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(samples.sample_shapefile_zip())) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def test_errors_carry_status_and_code():
    assert FileTooLarge.http_status == 413 and UnsupportedFormat.http_status == 415
    assert PlanFileError.code == "PlanFileInvalid" and PlanFileError.http_status == 400
    assert issubclass(UnsafeArchive, PlanFileError)


def test_truncated_geopackage():
    data = samples.sample_geopackage()
    with pytest.raises(CorruptFile, match="truncated GeoPackage"):
        read_plan(data[: len(data) // 2], filename="plan.gpkg")


def test_truncated_zip():
    data = samples.sample_shapefile_zip()
    with pytest.raises(CorruptFile, match="zip"):
        read_plan(data[: len(data) // 2], filename="plan.zip")


def test_truncated_geojson():
    data = samples.sample_geojson()
    with pytest.raises(CorruptFile, match="GeoJSON"):
        read_plan(data[: len(data) // 2], filename="plan.geojson")


def test_truncated_dxf():
    data = samples.sample_dxf()
    with pytest.raises(CorruptFile, match="DXF"):
        read_plan(data[: len(data) // 2], filename="plan.dxf", srid=samples.SRID)


def test_empty_file():
    with pytest.raises(EmptyPlan, match="empty"):
        read_plan(b"", filename="plan.geojson")


def test_png_named_geojson():
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    with pytest.raises(UnsupportedFormat, match="PNG image") as info:
        read_plan(png, filename="plan.geojson")
    assert info.value.http_status == 415


def test_unknown_format_docx():
    docx = _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})
    with pytest.raises(UnsupportedFormat, match="Office document"):
        read_plan(docx, filename="report.docx")


def test_unknown_text_format():
    with pytest.raises(UnsupportedFormat, match="not a supported plan format"):
        read_plan(b"lot,area\n1,600\n", filename="plan.txt")


def test_no_features_at_all():
    data = json.dumps({"type": "FeatureCollection", "features": []}).encode()
    with pytest.raises(EmptyPlan, match="no features"):
        read_plan(data, filename="plan.geojson")


def test_no_polygons():
    data = json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {},
         "geometry": {"type": "Point", "coordinates": [46.65, 24.8]}}]}).encode()
    with pytest.raises(EmptyPlan, match="no polygon"):
        read_plan(data, filename="plan.geojson")


def test_nan_coordinates(tmp_path):
    frame = gpd.GeoDataFrame(
        {"lot_no": ["1", "2"]},
        geometry=[Polygon([(0, 0), (10, 0), (10, 10)]),
                  Polygon([(0, 0), (float("nan"), 0), (10, 10)])], crs=samples.SRID)
    path = tmp_path / "nan.gpkg"
    pyogrio.write_dataframe(frame, path, driver="GPKG", layer="plan")
    with pytest.raises(BadCoordinates, match="feature 1 .*NaN"):
        read_plan(path.read_bytes(), filename="nan.gpkg")


def test_absurd_projected_coordinates():
    data = json.dumps({"type": "FeatureCollection",
                       "crs": {"type": "name", "properties": {"name": "EPSG:32638"}},
                       "features": [{"type": "Feature", "properties": {}, "geometry": {
                           "type": "Polygon",
                           "coordinates": [[[0, 0], [5e8, 0], [5e8, 5e8], [0, 0]]]}}]}).encode()
    with pytest.raises(BadCoordinates, match="feature 0 .*absurd"):
        read_plan(data, filename="plan.geojson")


def test_projected_coordinates_in_rfc7946_geojson():
    ring = [[666000, 2743000], [666100, 2743000], [666100, 2743100], [666000, 2743000]]
    data = json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {},
        "geometry": {"type": "Polygon", "coordinates": [ring]}}]}).encode()
    with pytest.raises(BadCoordinates, match="±180"):
        read_plan(data, filename="plan.geojson")


@pytest.mark.parametrize("evil", ["../evil.shp", "/etc/evil.shp", "a/../../evil.shp",
                                  "..\\evil.shp", "C:/evil.shp"])
def test_zip_path_traversal(evil):
    members = _shapefile_members()
    members[evil] = b"x"
    with pytest.raises(UnsafeArchive, match="evil"):
        read_plan(_zip(members), filename="plan.zip")


def test_zip_symlink_member():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in _shapefile_members().items():
            zf.writestr(name, data)
        link = zipfile.ZipInfo("plan.cpg")
        link.create_system = 3
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")
    with pytest.raises(UnsafeArchive, match="symbolic link"):
        read_plan(buf.getvalue(), filename="plan.zip")


def test_zip_bomb_by_compression_ratio():
    members = _shapefile_members()
    members["padding.bin"] = b"\x00" * (20 * 1024 * 1024)
    with pytest.raises(UnsafeArchive, match="compression ratio"):
        read_plan(_zip(members), filename="plan.zip")


def test_zip_bomb_by_declared_total():
    members = _shapefile_members()
    members["padding.bin"] = os.urandom(300_000)
    limits = Limits(max_uncompressed_bytes=200_000)
    with pytest.raises(UnsafeArchive, match="expand"):
        read_plan(_zip(members), filename="plan.zip", limits=limits)


def test_zip_member_lying_about_its_size():
    # The central directory says 10 bytes; the streaming counter must not trust it.
    members = _shapefile_members()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    raw = bytearray(buf.getvalue())
    with zipfile.ZipFile(io.BytesIO(bytes(raw))) as zf:
        dbf = next(i for i in zf.infolist() if i.filename.endswith(".dbf"))
    # Patch the uncompressed size in the central directory and the local header.
    cd = raw.rfind(b"PK\x01\x02", 0, len(raw))
    while cd != -1:
        name_len = int.from_bytes(raw[cd + 28:cd + 30], "little")
        if raw[cd + 46:cd + 46 + name_len].decode().endswith(".dbf"):
            raw[cd + 24:cd + 28] = (10).to_bytes(4, "little")
            break
        cd = raw.rfind(b"PK\x01\x02", 0, cd)
    raw[dbf.header_offset + 22:dbf.header_offset + 26] = (10).to_bytes(4, "little")
    with pytest.raises((CorruptFile, UnsafeArchive), match="plan.dbf"):
        read_plan(bytes(raw), filename="plan.zip")


def test_too_many_zip_members():
    members = _shapefile_members()
    members.update({f"extra/{i}.txt": b"" for i in range(20)})
    with pytest.raises(UnsafeArchive, match="members"):
        read_plan(_zip(members), filename="plan.zip", limits=Limits(max_zip_members=10))


def test_upload_over_limit_bytes():
    with pytest.raises(FileTooLarge) as info:
        read_plan(samples.sample_geojson(), filename="plan.geojson",
                  limits=Limits(max_upload_bytes=100))
    assert info.value.http_status == 413


class _Endless(io.RawIOBase):
    """A file object that never ends; reading it all would never return."""

    def __init__(self):
        self.served = 0

    def readable(self):
        return True

    def read(self, size=-1):
        size = 65536 if size is None or size < 0 else size
        self.served += size
        return b"{" * size


def test_upload_over_limit_file_object_is_not_read_all():
    stream = _Endless()
    with pytest.raises(FileTooLarge):
        read_plan(stream, filename="plan.geojson", limits=Limits(max_upload_bytes=1000))
    assert stream.served <= 1001


def test_upload_over_limit_path_checked_before_reading(tmp_path):
    path = tmp_path / "big.geojson"
    with open(path, "wb") as fh:
        fh.truncate(2000)  # sparse; size alone must refuse it
    with pytest.raises(FileTooLarge, match="2000 bytes"):
        read_plan(path, filename="big.geojson", limits=Limits(max_upload_bytes=1000))


def test_too_many_features():
    with pytest.raises(FileTooLarge, match="features"):
        read_plan(samples.sample_geopackage(), filename="plan.gpkg", limits=Limits(max_features=3))


_BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE kml [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">]>
<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><name>&lol2;</name>
<Polygon><outerBoundaryIs><LinearRing><coordinates>46.65,24.8 46.66,24.8 46.66,24.81 46.65,24.8
</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark></kml>"""


def test_kml_with_doctype_and_entities():
    with pytest.raises(UnsafeArchive, match="DOCTYPE"):
        read_plan(_BILLION_LAUGHS, filename="plan.kml")


def test_kml_with_entity_only():
    data = _BILLION_LAUGHS.replace(b"<!DOCTYPE kml [", b"").replace(b"]>\n", b"\n", 1)
    with pytest.raises(UnsafeArchive, match="ENTITY"):
        read_plan(data, filename="plan.kml")


def test_utf16_kml_with_doctype():
    data = _BILLION_LAUGHS.decode().replace('version="1.0"', 'version="1.0" encoding="UTF-16"')
    with pytest.raises(UnsafeArchive, match="DOCTYPE"):
        read_plan(data.encode("utf-16"), filename="plan.kml")


def test_kmz_with_doctype():
    with pytest.raises(UnsafeArchive, match="DOCTYPE"):
        read_plan(_zip({"doc.kml": _BILLION_LAUGHS}), filename="plan.kmz")


def test_malformed_kml():
    with pytest.raises(CorruptFile, match="KML"):
        read_plan(b'<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark>', filename="plan.kml")


@pytest.mark.parametrize("missing", [".shx", ".dbf"])
def test_shapefile_zip_missing_part(missing):
    with pytest.raises(CorruptFile, match=f"missing its {missing}"):
        read_plan(samples.sample_shapefile_zip(drop=(missing,)), filename="plan.zip")


def test_zip_without_plan_inside():
    with pytest.raises(UnsupportedFormat, match="no .shp or .kml"):
        read_plan(_zip({"readme.txt": b"hello"}), filename="plan.zip")


def test_bare_shp_is_refused_with_advice():
    with zipfile.ZipFile(io.BytesIO(samples.sample_shapefile_zip())) as zf:
        shp = zf.read("plan.shp")
    with pytest.raises(UnsupportedFormat, match="upload a .zip"):
        read_plan(shp, filename="plan.shp")


# --- rings that are not rings: refused, naming the feature, its lot and the ring -----------------

_SQUARE = [[46.65, 24.8], [46.6502, 24.8], [46.6502, 24.8002], [46.65, 24.8002], [46.65, 24.8]]
_HOLE = [[46.65005, 24.80005], [46.65015, 24.80005], [46.65015, 24.80015], [46.65005, 24.80015],
         [46.65005, 24.80005]]


def _geojson(*geometries, props=None, crs=None) -> bytes:
    """Return a FeatureCollection: a good lot 11 first, then one feature per geometry (lot 12, 13...)."""
    features = [{"type": "Feature", "properties": {"lot_no": "11"},
                 "geometry": {"type": "Polygon", "coordinates": [_SQUARE]}}]
    for i, geometry in enumerate(geometries):
        features.append({"type": "Feature", "properties": props or {"lot_no": str(12 + i)},
                         "geometry": geometry})
    doc = {"type": "FeatureCollection", "features": features}
    if crs is not None:
        doc["crs"] = crs
    return json.dumps(doc).encode()


def _polygon(*rings):
    return {"type": "Polygon", "coordinates": list(rings)}


@pytest.mark.parametrize("rings, message", [
    ([_SQUARE[:-1]], "the outer ring is not closed"),
    ([[_SQUARE[0], _SQUARE[1], _SQUARE[0]]], "the outer ring has 3 points, a ring needs at least 4"),
    ([_SQUARE[:2]], "the outer ring has 2 points, a ring needs at least 4"),
    ([_SQUARE, _HOLE[:-1]], "hole 1 is not closed"),
    ([_SQUARE, _HOLE, _HOLE[:3]], "hole 2 has 3 points"),
], ids=["unclosed", "3 points", "2 points", "unclosed hole", "short hole"])
def test_geojson_ring_that_is_not_a_ring(rings, message):
    with pytest.raises(BadCoordinates, match=rf"^feature 1 \(lot 12\) in 'plan.geojson': {message}") as info:
        read_plan(_geojson(_polygon(*rings)), filename="plan.geojson")
    assert info.value.http_status == 400 and info.value.code == "PlanFileBadCoordinates"


def test_geojson_multipolygon_names_the_polygon_of_the_ring():
    multi = {"type": "MultiPolygon", "coordinates": [[_SQUARE], [_SQUARE, _HOLE[:-1]]]}
    with pytest.raises(BadCoordinates, match=r"feature 1 \(lot 12\) .*: hole 1 of polygon 2 is not closed"):
        read_plan(_geojson(multi), filename="plan.geojson")


def test_geopackage_unclosed_ring(tmp_path):
    """Any GDAL format: a GeoPackage whose second feature's ring is not closed."""
    path = tmp_path / "plan.gpkg"
    path.write_bytes(samples.sample_geopackage())
    x, y = samples.sample_rows()[2]["geometry"].exterior.coords[0]
    ring = [(x, y), (x + 20, y), (x + 20, y + 30), (x, y + 30)]  # no closing point
    wkb = struct.pack("<BIII", 1, 3, 1, len(ring)) + b"".join(struct.pack("<dd", *p) for p in ring)
    blob = b"GP\x00\x01" + struct.pack("<i", samples.SRID) + wkb  # GeoPackage header, no envelope
    with sqlite3.connect(path) as db:
        # The spatial index triggers call SpatiaLite functions that plain sqlite3 lacks.
        for (trigger,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
            db.execute(f'DROP TRIGGER "{trigger}"')
        db.execute("UPDATE plan SET geom = ? WHERE fid = 3", (blob,))
    with pytest.raises(BadCoordinates,
                       match=r"feature 2 \(lot 2\) in 'plan.gpkg': the outer ring is not closed"):
        read_plan(path.read_bytes(), filename="plan.gpkg")


_KML_PLACEMARK = """<Placemark><name>{name}</name><Polygon>
<outerBoundaryIs><LinearRing><coordinates>{outer}</coordinates></LinearRing></outerBoundaryIs>
{holes}</Polygon></Placemark>"""


def _kml(*placemarks: tuple[str, list, list]) -> bytes:
    def coords(ring):
        return " ".join(f"{x},{y},0" for x, y in ring)
    body = "".join(_KML_PLACEMARK.format(
        name=name, outer=coords(outer),
        holes="".join(f"<innerBoundaryIs><LinearRing><coordinates>{coords(h)}</coordinates>"
                      f"</LinearRing></innerBoundaryIs>" for h in holes))
        for name, outer, holes in placemarks)
    return (f'<?xml version="1.0" encoding="UTF-8"?><kml xmlns="http://www.opengis.net/kml/2.2">'
            f"<Document>{body}</Document></kml>").encode()


@pytest.mark.parametrize("outer, holes, message", [
    (_SQUARE[:-1], [], "the outer ring is not closed"),
    ([_SQUARE[0], _SQUARE[1], _SQUARE[0]], [], "the outer ring has 3 points, a ring needs at least 4"),
    (_SQUARE, [_HOLE[:-1]], "hole 1 is not closed"),
], ids=["unclosed", "3 points", "unclosed hole"])
def test_kml_ring_that_is_not_a_ring(outer, holes, message):
    data = _kml(("11", _SQUARE, []), ("12", outer, holes))
    with pytest.raises(BadCoordinates, match=rf"^feature 1 \(lot 12\) in 'plan.kml': {message}"):
        read_plan(data, filename="plan.kml")


def test_closed_rings_with_holes_are_read():
    plan = read_plan(_geojson(_polygon(_SQUARE, _HOLE)), filename="plan.geojson")
    assert len(plan.features[1].geom.interiors) == 1
    plan = read_plan(_kml(("11", _SQUARE, [_HOLE])), filename="plan.kml")
    assert len(plan.features[0].geom.interiors) == 1


# --- attributes the database could not store as read ---------------------------------------------


def test_text_limits_are_the_database_columns():
    from subdivision.models import PlanFeature

    assert PlanFeature._meta.get_field("lot_no").max_length == MAX_LOT_NO_CHARS == 32
    assert PlanFeature._meta.get_field("land_use").max_length == MAX_LAND_USE_CHARS == 20


def test_lot_number_longer_than_the_column():
    props = {"lot_no": "7" * MAX_LOT_NO_CHARS}
    assert read_plan(_geojson(_polygon(_SQUARE), props=props),
                     filename="plan.geojson").features[1].lot_no == "7" * 32
    props = {"Parcel_No": "L" * 33}
    with pytest.raises(BadAttribute, match=r"^feature 1 in 'plan.geojson': the lot number 'LLL.*"
                                           r"\(attribute 'parcel_no'\) is 33 characters long; "
                                           r"the maximum is 32$") as info:
        read_plan(_geojson(_polygon(_SQUARE), props=props), filename="plan.geojson")
    assert info.value.http_status == 400 and info.value.code == "PlanFileBadAttribute"


def test_land_use_longer_than_the_column():
    props = {"lot_no": "12", "land_use": "residential-commercial"}  # 22 characters
    with pytest.raises(BadAttribute, match=r"feature 1 \(lot 12\) .*the land use "
                                           r"'residential-commercial' \(attribute 'land_use'\) "
                                           r"is 22 characters long; the maximum is 20"):
        read_plan(_geojson(_polygon(_SQUARE), props=props), filename="plan.geojson")


def test_kml_name_longer_than_the_column():
    with pytest.raises(BadAttribute, match=r"feature 0 .*\(attribute 'name'\) is 40 characters long"):
        read_plan(_kml(("Lot 12, Block B, Phase 3 - corner parcel", _SQUARE, [])), filename="plan.kml")


@pytest.mark.parametrize("props, what", [
    ({"lot_no": "12\u000034"}, "lot number"),
    ({"lot_no": "12", "land_use": "resi\u0000dential"}, "land use"),
])
def test_nul_character_in_text_is_refused(props, what):
    # GDAL would cut the text at the NUL: the lot would be stored as "12".
    with pytest.raises(BadAttribute, match=rf"feature 1 .*the {what} .*contains a NUL character"):
        read_plan(_geojson(_polygon(_SQUARE), props=props), filename="plan.geojson")


def test_huge_integer_lot_number_keeps_its_digits():
    data = _geojson(_polygon(_SQUARE), props={"lot_no": 12}).replace(
        b'"lot_no": 12}', b'"lot_no": 123456789012345678901234567890}')
    plan = read_plan(data, filename="plan.geojson")
    assert plan.features[1].lot_no == "123456789012345678901234567890"  # not 9223372036854775807


def test_numeric_lot_numbers_read_as_text():
    data = _geojson(_polygon(_SQUARE), _polygon(_SQUARE), _polygon(_SQUARE), props={"lot_no": 0})
    data = data.replace(b'"lot_no": 0}', b'"lot_no": 12.0}', 1).replace(b'"lot_no": 0}', b'"lot_no": 7}', 1)
    data = data.replace(b'"lot_no": 0}', b'"lot_no": 12.5}', 1)
    assert [f.lot_no for f in read_plan(data, filename="plan.geojson").features] == ["11", "12", "7", "12.5"]


def test_huge_float_lot_number_is_refused():
    data = _geojson(_polygon(_SQUARE), props={"lot_no": 12}).replace(
        b'"lot_no": 12}', b'"lot_no": 123456789012345678901234567890.0}')
    with pytest.raises(BadAttribute, match=r"feature 1 .*the lot number .*1\.23457e\+29, too large "
                                           r"to keep every digit; write it as text"):
        read_plan(data, filename="plan.geojson")


def test_geojson_entry_that_is_not_a_feature_is_refused():
    # GDAL skips it without a word, and the lot would vanish from the plan.
    doc = json.loads(_geojson())
    doc["features"].append(_polygon(_SQUARE))
    with pytest.raises(CorruptFile, match=r"feature 1 in 'plan.geojson' is a 'Polygon' object, "
                                          r"not a GeoJSON Feature"):
        read_plan(json.dumps(doc).encode(), filename="plan.geojson")


# --- the legacy GeoJSON crs member ---------------------------------------------------------------

def _named_crs(name: str) -> dict:
    return {"type": "name", "properties": {"name": name}}


@pytest.mark.parametrize("crs, named", [
    (_named_crs("urn:ogc:def:crs:EPSG::999999"), "'urn:ogc:def:crs:EPSG::999999'"),
    (_named_crs("EPSG:999999"), "'EPSG:999999'"),
    (_named_crs("Clarke 1880 local grid"), "'Clarke 1880 local grid'"),
    ({"type": "EPSG", "properties": {"code": 999999}}, "'EPSG:999999'"),
])
def test_geojson_unknown_crs_is_refused(crs, named):
    # GDAL reads such a file as WGS 84 without a word.
    with pytest.raises(UnknownCrs, match=rf"'plan.geojson' names the coordinate reference system "
                                         rf"{re.escape(named)} in its \"crs\" member") as info:
        read_plan(_geojson(crs=crs), filename="plan.geojson", srid=4326)
    assert info.value.http_status == 400 and info.value.code == "PlanFileCrsUnknown"


@pytest.mark.parametrize("crs", [{"type": "link", "properties": {"href": "http://example.com/crs.prj"}},
                                 {"type": "name", "properties": {}}, "EPSG:4326"])
def test_geojson_crs_member_naming_nothing_usable_is_refused(crs):
    with pytest.raises(UnknownCrs, match="RFC 7946"):
        read_plan(_geojson(crs=crs), filename="plan.geojson")


@pytest.mark.parametrize("name, srid", [
    ("urn:ogc:def:crs:EPSG::4326", 4326), ("EPSG:4326", 4326),
    ("urn:ogc:def:crs:OGC:1.3:CRS84", 4326), ("http://www.opengis.net/def/crs/OGC/1.3/CRS84", 4326),
    ("http://www.opengis.net/def/crs/EPSG/0/4326", 4326),
])
def test_geojson_known_geographic_crs(name, srid):
    assert read_plan(_geojson(crs=_named_crs(name)), filename="plan.geojson").srid == srid


@pytest.mark.parametrize("name", ["urn:ogc:def:crs:EPSG::32638", "EPSG:32638"])
def test_geojson_known_projected_crs(name):
    doc = json.loads(samples.sample_geojson())
    doc["crs"] = _named_crs(name)
    plan = read_plan(json.dumps(doc).encode(), filename="plan.geojson")
    assert plan.srid == samples.SRID and len(plan.features) == 5


def test_geojson_epsg_type_crs_member():
    doc = json.loads(samples.sample_geojson())
    doc["crs"] = {"type": "EPSG", "properties": {"code": samples.SRID}}
    assert read_plan(json.dumps(doc).encode(), filename="plan.geojson").srid == samples.SRID


# --- a DXF drawing without the plan layers: its layers are listed --------------------------------


def _surveyor_dxf(extra_layers: int = 0) -> bytes:
    """Return a drawing as surveyors send them: lots on PARCEL_BOUNDARY, numbers on LOT_NUMBERS."""
    doc = ezdxf.new("R2010")
    msp = doc.modelspace()
    rows = [r for r in samples.sample_rows() if r["kind"] == "lot"]
    for row in rows[:3]:
        msp.add_lwpolyline(list(row["geometry"].exterior.coords)[:-1], close=True,
                           dxfattribs={"layer": "PARCEL_BOUNDARY"})
        c = row["geometry"].centroid
        msp.add_text(row["lot_no"], dxfattribs={"layer": "LOT_NUMBERS", "insert": (c.x, c.y)})
    x0, y0 = rows[0]["geometry"].bounds[:2]
    msp.add_lwpolyline([(x0, y0), (x0 + 80, y0)], dxfattribs={"layer": "PARCEL_BOUNDARY"})  # open
    msp.add_lwpolyline([(x0, y0), (x0 + 5, y0)], close=True,  # two vertices: a line, not a shape
                       dxfattribs={"layer": "PARCEL_BOUNDARY"})
    msp.add_mtext("4", dxfattribs={"layer": "lot_numbers", "insert": (x0 + 70, y0 + 25)})
    msp.add_polyline2d([(x0 - 10, y0 - 10), (x0 + 90, y0 - 10), (x0 + 90, y0 + 50)], close=True,
                       dxfattribs={"layer": "SITE"})
    msp.add_line((x0, y0), (x0 + 1, y0 + 1))
    msp.add_text("NORTH", dxfattribs={"insert": (x0 - 50, y0 - 50)})
    for i in range(extra_layers):
        msp.add_lwpolyline([(x0, y0), (x0 + 1, y0), (x0 + 1, y0 + 1)], close=True,
                           dxfattribs={"layer": f"EXTRA_{i:02d}"})
    stream = io.StringIO()
    doc.write(stream)
    return stream.getvalue().encode()


def test_dxf_without_plan_layers_lists_its_layers():
    with pytest.raises(DxfLayersUnmapped) as info:
        read_plan(_surveyor_dxf(), filename="survey.dxf", srid=samples.SRID)
    error = info.value
    assert isinstance(error, EmptyPlan) and error.http_status == 400
    assert error.code == "PlanFileDxfLayersUnmapped"
    message = str(error)
    assert message.startswith("'survey.dxf' has no closed polylines on the layers read as the plan: "
                              "LOTS (lot), ROADS (road), OPEN_SPACE (open_space), UTILITY (utility).")
    assert ("The drawing's layers: PARCEL_BOUNDARY: 3 closed shapes, 0 texts; "
            "SITE: 1 closed shape, 0 texts; LOT_NUMBERS: 0 closed shapes, 4 texts; "
            "0: 0 closed shapes, 1 text.") in message
    assert """GISPORTAL_DXF_LAYERS='{"PARCEL_BOUNDARY": "lot"}'""" in message
    assert error.extra["layers"] == [
        {"name": "PARCEL_BOUNDARY", "closed_shapes": 3, "texts": 0, "entities": 5},
        {"name": "SITE", "closed_shapes": 1, "texts": 0, "entities": 1},
        {"name": "LOT_NUMBERS", "closed_shapes": 0, "texts": 4, "entities": 4},
        {"name": "0", "closed_shapes": 0, "texts": 1, "entities": 2},
    ]
    assert error.extra["layers_total"] == 4


def test_dxf_mapped_as_the_message_says():
    plan = read_plan(_surveyor_dxf(), filename="survey.dxf", srid=samples.SRID,
                     dxf_layers={"PARCEL_BOUNDARY": "lot"})
    assert [(f.kind, f.lot_no) for f in plan.features] == [("lot", "1"), ("lot", "2"), ("lot", "3")]


def test_dxf_layer_list_is_capped():
    with pytest.raises(DxfLayersUnmapped) as info:
        read_plan(_surveyor_dxf(extra_layers=25), filename="survey.dxf", srid=samples.SRID)
    message = str(info.value)
    # PARCEL_BOUNDARY, then the 1-shape layers by name: EXTRA_00 ... EXTRA_18 make 20.
    assert "EXTRA_18: 1 closed shape" in message and "EXTRA_19" not in message
    assert "; … and 9 more." in message
    assert info.value.extra["layers_total"] == 29


def test_dxf_with_an_empty_model_space():
    stream = io.StringIO()
    ezdxf.new("R2010").write(stream)
    with pytest.raises(DxfLayersUnmapped, match="model space is empty") as info:
        read_plan(stream.getvalue().encode(), filename="blank.dxf", srid=samples.SRID)
    assert info.value.extra["layers"] == []
