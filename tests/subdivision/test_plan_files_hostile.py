"""Hostile and broken uploads: each is refused with a PlanFileError naming the problem."""

from __future__ import annotations

import io
import json
import os
import stat
import zipfile

import geopandas as gpd
import pyogrio
import pytest
from shapely.geometry import Polygon

from subdivision.plan_files import (
    BadCoordinates,
    CorruptFile,
    EmptyPlan,
    FileTooLarge,
    Limits,
    PlanFileError,
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
    assert PlanFileError.code == "PLAN_FILE_INVALID" and PlanFileError.http_status == 400
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
