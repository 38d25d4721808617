"""Write one small sample subdivision plan into every supported upload format.

The plan: four 20 m x 30 m lots (numbers 1-4, stated 600 m²) and one 80 m x 10 m road,
in UTM zone 38N (EPSG:32638) near Riyadh (24.8°N, 46.65°E). Total area 3200 m².
Files are written with real writers (GDAL through pyogrio, ezdxf); KML is written with
ElementTree because GDAL's KML writer, driven through pyogrio 0.11, puts attribute
values under the wrong field names.
"""

from __future__ import annotations

import io
import tempfile
import warnings
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import ezdxf
import geopandas as gpd
import pyogrio
from pyproj import Transformer
from shapely.geometry import box

SRID = 32638
LOT_WIDTH_M, LOT_DEPTH_M, ROAD_WIDTH_M = 20.0, 30.0, 10.0
TOTAL_AREA_M2 = 4 * LOT_WIDTH_M * LOT_DEPTH_M + 4 * LOT_WIDTH_M * ROAD_WIDTH_M  # 3200

_to_utm = Transformer.from_crs(4326, SRID, always_xy=True)
_ORIGIN = tuple(round(v) for v in _to_utm.transform(46.65, 24.8))


def sample_rows() -> list[dict]:
    """Return the plan's features as dicts with UTM geometries."""
    x0, y0 = _ORIGIN
    rows = [{"kind": "road", "lot_no": None, "stated_area": 800.0, "land_use": None,
             "geometry": box(x0, y0, x0 + 4 * LOT_WIDTH_M, y0 + ROAD_WIDTH_M)}]
    for i in range(4):
        left = x0 + i * LOT_WIDTH_M
        rows.append({"kind": "lot", "lot_no": str(i + 1), "stated_area": 600.0,
                     "land_use": "residential",
                     "geometry": box(left, y0 + ROAD_WIDTH_M, left + LOT_WIDTH_M,
                                     y0 + ROAD_WIDTH_M + LOT_DEPTH_M)})
    return rows


def sample_frame(srid: int = SRID) -> gpd.GeoDataFrame:
    """Return the plan as a GeoDataFrame in `srid`."""
    frame = gpd.GeoDataFrame(sample_rows(), geometry="geometry", crs=SRID)
    return frame if srid == SRID else frame.to_crs(srid)


def _write_and_read(suffix: str, write) -> bytes:
    with tempfile.TemporaryDirectory(prefix="plan-sample-") as tmp:
        path = Path(tmp) / f"plan{suffix}"
        write(path)
        return path.read_bytes()


def sample_geojson(srid: int = SRID) -> bytes:
    """Return the plan as GeoJSON; a non-4326 CRS is written as a legacy `crs` member."""
    return _write_and_read(".geojson", lambda p: pyogrio.write_dataframe(
        sample_frame(srid), p, driver="GeoJSON"))


def sample_geopackage(layer: str = "plan") -> bytes:
    """Return the plan as a GeoPackage with one layer."""
    return _write_and_read(".gpkg", lambda p: pyogrio.write_dataframe(
        sample_frame(), p, driver="GPKG", layer=layer))


def sample_shapefile_zip(*, with_prj: bool = True, drop: tuple[str, ...] = ()) -> bytes:
    """Return the plan as a zipped Shapefile, optionally without its .prj or other parts."""
    with tempfile.TemporaryDirectory(prefix="plan-sample-") as tmp:
        shp = Path(tmp) / "plan.shp"
        with warnings.catch_warnings():  # "stated_area" is laundered to "stated_are"
            warnings.simplefilter("ignore", RuntimeWarning)
            pyogrio.write_dataframe(sample_frame(), shp, driver="ESRI Shapefile")
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for part in sorted(Path(tmp).iterdir()):
                ext = part.suffix.lower()
                if ext in drop or (ext == ".prj" and not with_prj):
                    continue
                zf.write(part, part.name)
        return buf.getvalue()


def sample_kml() -> bytes:
    """Return the plan as KML (EPSG:4326) with attributes in ExtendedData/SchemaData."""
    ns = "http://www.opengis.net/kml/2.2"
    ET.register_namespace("", ns)
    kml = ET.Element(f"{{{ns}}}kml")
    doc = ET.SubElement(kml, f"{{{ns}}}Document")
    schema = ET.SubElement(doc, f"{{{ns}}}Schema", name="plan", id="plan")
    for field, ftype in (("kind", "string"), ("stated_area", "float"), ("land_use", "string")):
        ET.SubElement(schema, f"{{{ns}}}SimpleField", name=field, type=ftype)
    folder = ET.SubElement(doc, f"{{{ns}}}Folder")
    to_wgs84 = Transformer.from_crs(SRID, 4326, always_xy=True)
    for row in sample_rows():
        ring_coords = [to_wgs84.transform(x, y) for x, y in row["geometry"].exterior.coords]
        pm = ET.SubElement(folder, f"{{{ns}}}Placemark")
        if row["lot_no"]:
            ET.SubElement(pm, f"{{{ns}}}name").text = row["lot_no"]
        ext = ET.SubElement(pm, f"{{{ns}}}ExtendedData")
        data = ET.SubElement(ext, f"{{{ns}}}SchemaData", schemaUrl="#plan")
        for field in ("kind", "stated_area", "land_use"):
            if row[field] is not None:
                ET.SubElement(data, f"{{{ns}}}SimpleData", name=field).text = str(row[field])
        poly = ET.SubElement(pm, f"{{{ns}}}Polygon")
        ring = ET.SubElement(ET.SubElement(poly, f"{{{ns}}}outerBoundaryIs"), f"{{{ns}}}LinearRing")
        # An altitude of 0 on every vertex, as Google Earth writes it (tests Z dropping).
        ET.SubElement(ring, f"{{{ns}}}coordinates").text = " ".join(
            f"{x:.10f},{y:.10f},0" for x, y in ring_coords)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(kml)


def sample_kmz() -> bytes:
    """Return the plan as KMZ (doc.kml zipped)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("doc.kml", sample_kml())
    return buf.getvalue()


def sample_dxf(*, lot_layer: str = "LOTS", road_layer: str = "ROADS", mtext: bool = False) -> bytes:
    """Return the plan as DXF: closed LWPOLYLINEs, lot numbers as TEXT (or MTEXT) inside."""
    doc = ezdxf.new("R2010")
    msp = doc.modelspace()
    for row in sample_rows():
        layer = lot_layer if row["kind"] == "lot" else road_layer
        msp.add_lwpolyline(list(row["geometry"].exterior.coords)[:-1], close=True,
                           dxfattribs={"layer": layer})
        if row["lot_no"]:
            c = row["geometry"].centroid
            if mtext:
                msp.add_mtext(row["lot_no"], dxfattribs={"layer": "LOT_NO", "insert": (c.x, c.y)})
            else:
                msp.add_text(row["lot_no"], dxfattribs={"layer": "LOT_NO", "height": 2.0,
                                                        "insert": (c.x, c.y)})
    # A stray open polyline and a label outside any lot must both be ignored.
    x0, y0 = _ORIGIN
    msp.add_lwpolyline([(x0, y0 - 5), (x0 + 80, y0 - 5)], dxfattribs={"layer": lot_layer})
    msp.add_text("NORTH", dxfattribs={"insert": (x0 - 50, y0 - 50)})
    stream = io.StringIO()
    doc.write(stream)
    return stream.getvalue().encode("utf-8")


ALL_FORMATS = {
    "geojson": ("plan.geojson", sample_geojson),
    "shapefile": ("plan.zip", sample_shapefile_zip),
    "geopackage": ("plan.gpkg", sample_geopackage),
    "kml": ("plan.kml", sample_kml),
    "kmz": ("plan.kmz", sample_kmz),
    "dxf": ("plan.dxf", sample_dxf),
}
