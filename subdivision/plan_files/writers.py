"""Write a plan back as a file in the format it came in, with the names the readers expect.

GeoJSON, GeoPackage (layer ``plan``) and zipped Shapefile go through GDAL (pyogrio) with the attributes
``kind``, ``lot_no``, ``stated_area`` (``stated_are`` in a Shapefile, which the readers accept) and
``land_use``; KML is written with ElementTree (GDAL's KML writer through pyogrio puts values under the
wrong field names), the lot number as the Placemark's name; DXF with ezdxf, one closed LWPOLYLINE per
polygon ring on the kind's layer (LOTS, ROADS, OPEN_SPACE, UTILITY unless a mapping is given) and the lot
number as a TEXT on layer LOT_NO inside the lot. A written plan reads back into the same features.
"""

from __future__ import annotations

import io
import tempfile
import warnings
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import ezdxf
import numpy as np
import shapely
from pyogrio.raw import write

from .dxf import DEFAULT_LAYERS
from .readers import RawPlan

KML_NS = "http://www.opengis.net/kml/2.2"
LOT_NO_LAYER = "LOT_NO"
TEXT_HEIGHT_M = 2.0


@dataclass(frozen=True)
class PlanFile:
    name: str
    media_type: str
    content: bytes


MEDIA_TYPES = {
    "geojson": ("geojson", "application/geo+json"),
    "geopackage": ("gpkg", "application/geopackage+sqlite3"),
    "shapefile": ("zip", "application/zip"),
    "kml": ("kml", "application/vnd.google-earth.kml+xml"),
    "dxf": ("dxf", "image/vnd.dxf"),
}
WRITABLE = tuple(MEDIA_TYPES)


def write_plan(plan: RawPlan, *, stem: str, dxf_layers: Mapping[str, str] | None = None) -> PlanFile:
    """Return PLAN written as a file of its own format (plan.format), named STEM + the format's extension."""
    if plan.format not in MEDIA_TYPES:
        raise ValueError(f"cannot write a plan of format {plan.format!r}; one of {', '.join(WRITABLE)}")
    ext, media_type = MEDIA_TYPES[plan.format]
    writer = {"geojson": _geojson, "geopackage": _geopackage, "shapefile": _shapefile, "kml": _kml,
              "dxf": lambda p: _dxf(p, dxf_layers or DEFAULT_LAYERS)}[plan.format]
    return PlanFile(f"{stem}.{ext}", media_type, writer(plan))


def _columns(plan: RawPlan) -> tuple[dict, np.ndarray]:
    features = plan.features
    geoms = np.empty(len(features), dtype=object)
    geoms[:] = [f.geom for f in features]
    columns = {
        "kind": np.array([f.kind for f in features], dtype=object),
        "lot_no": np.array([f.lot_no for f in features], dtype=object),
        "stated_area": np.array([np.nan if f.stated_area is None else f.stated_area for f in features], dtype=float),
        "land_use": np.array([f.land_use for f in features], dtype=object),
    }
    return columns, shapely.to_wkb(geoms)


def _ogr(plan: RawPlan, path: Path, driver: str, **options) -> None:
    columns, wkb = _columns(plan)
    with warnings.catch_warnings():  # "stated_area" is laundered to "stated_are" in a Shapefile
        warnings.simplefilter("ignore", RuntimeWarning)
        write(str(path), wkb, list(columns.values()), list(columns), driver=driver, crs=f"EPSG:{plan.srid}",
              geometry_type="Unknown" if driver != "ESRI Shapefile" else "MultiPolygon",
              promote_to_multi=driver == "ESRI Shapefile", **options)


def _in_tmp(plan: RawPlan, name: str, driver: str, **options) -> bytes:
    with tempfile.TemporaryDirectory(prefix="plan-write-") as tmp:
        path = Path(tmp) / name
        _ogr(plan, path, driver, **options)
        return path.read_bytes()


def _geojson(plan: RawPlan) -> bytes:
    return _in_tmp(plan, "plan.geojson", "GeoJSON")


def _geopackage(plan: RawPlan) -> bytes:
    return _in_tmp(plan, "plan.gpkg", "GPKG", layer="plan")


def _shapefile(plan: RawPlan) -> bytes:
    with tempfile.TemporaryDirectory(prefix="plan-write-") as tmp:
        _ogr(plan, Path(tmp) / "plan.shp", "ESRI Shapefile")
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for part in sorted(Path(tmp).iterdir()):
                zf.write(part, part.name)
        return buf.getvalue()


def _kml_ring(parent: ET.Element, tag: str, ring) -> None:
    el = ET.SubElement(ET.SubElement(parent, f"{{{KML_NS}}}{tag}"), f"{{{KML_NS}}}LinearRing")
    ET.SubElement(el, f"{{{KML_NS}}}coordinates").text = " ".join(f"{x:.10f},{y:.10f}" for x, y in
                                                                  np.asarray(ring.coords)[:, :2])


def _kml_polygon(parent: ET.Element, polygon) -> None:
    el = ET.SubElement(parent, f"{{{KML_NS}}}Polygon")
    _kml_ring(el, "outerBoundaryIs", polygon.exterior)
    for hole in polygon.interiors:
        _kml_ring(el, "innerBoundaryIs", hole)


def _kml(plan: RawPlan) -> bytes:
    if plan.srid != 4326:
        raise ValueError("KML is written in EPSG:4326 only")
    ET.register_namespace("", KML_NS)
    kml = ET.Element(f"{{{KML_NS}}}kml")
    doc = ET.SubElement(kml, f"{{{KML_NS}}}Document")
    schema = ET.SubElement(doc, f"{{{KML_NS}}}Schema", name="plan", id="plan")
    for field, ftype in (("kind", "string"), ("stated_area", "float"), ("land_use", "string")):
        ET.SubElement(schema, f"{{{KML_NS}}}SimpleField", name=field, type=ftype)
    folder = ET.SubElement(doc, f"{{{KML_NS}}}Folder")
    for f in plan.features:
        pm = ET.SubElement(folder, f"{{{KML_NS}}}Placemark")
        if f.lot_no:
            ET.SubElement(pm, f"{{{KML_NS}}}name").text = f.lot_no
        data = ET.SubElement(ET.SubElement(pm, f"{{{KML_NS}}}ExtendedData"), f"{{{KML_NS}}}SchemaData",
                             schemaUrl="#plan")
        for field, value in (("kind", f.kind), ("stated_area", f.stated_area), ("land_use", f.land_use)):
            if value is not None:
                ET.SubElement(data, f"{{{KML_NS}}}SimpleData", name=field).text = str(value)
        polygons = list(shapely.get_parts(f.geom))
        if len(polygons) == 1:
            _kml_polygon(pm, polygons[0])
        else:
            multi = ET.SubElement(pm, f"{{{KML_NS}}}MultiGeometry")
            for polygon in polygons:
                _kml_polygon(multi, polygon)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(kml)


def _dxf(plan: RawPlan, layers: Mapping[str, str]) -> bytes:
    layer_of = {}
    for layer, kind in layers.items():
        layer_of.setdefault(kind, layer)
    doc = ezdxf.new("R2010")
    msp = doc.modelspace()
    for f in plan.features:
        layer = layer_of.get(f.kind, f.kind.upper())
        for polygon in shapely.get_parts(f.geom):
            for ring in (polygon.exterior, *polygon.interiors):
                msp.add_lwpolyline(np.asarray(ring.coords)[:-1, :2].tolist(), close=True, dxfattribs={"layer": layer})
            if f.lot_no:
                at = polygon.representative_point()
                msp.add_text(f.lot_no, dxfattribs={"layer": LOT_NO_LAYER, "height": TEXT_HEIGHT_M,
                                                   "insert": (at.x, at.y)})
    stream = io.StringIO()
    doc.write(stream)
    return stream.getvalue().encode("utf-8")
