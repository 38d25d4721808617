"""Read an uploaded subdivision plan file into plain features in their source CRS.

GeoJSON, zipped Shapefiles and GeoPackages are read with GDAL (pyogrio). KML/KMZ
is parsed here with the standard library because GDAL's KML driver ignores
``ExtendedData``, where surveyors keep lot attributes; the XML is first refused if
it declares a DTD or entity. DXF is read with ezdxf (see ``dxf.py``).

GeoJSON is also parsed with the standard library, for what GDAL loses: lot numbers
written as numbers too large for 64 bits (GDAL clamps them), NUL characters in text
(GDAL cuts the text there) and a legacy ``crs`` member naming an unknown CRS (GDAL
falls back to WGS 84 without a word).

Rings are checked, in every format, before anything is measured: a polygon ring must
be closed and have at least 4 points (RFC 7946, the KML and Simple Features specs);
GDAL passes unclosed rings through and GEOS refuses them.

Every upload is written to a private temporary directory that is removed on
success and on error alike.
"""

from __future__ import annotations

import gc
import json
import math
import os
import re
import struct
import tempfile
import xml.etree.ElementTree as ET
import zipfile
from collections import Counter
from dataclasses import dataclass, field, replace
from functools import lru_cache
from io import BytesIO
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO, Iterable, Mapping

import numpy as np
import pyogrio
import pyogrio.raw
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError
from shapely.geometry import LinearRing, LineString, Point, Polygon
from shapely.geometry.base import BaseGeometry

from gisportal.plan_kinds import DXF_LAYER_KINDS, PLAN_FEATURE_KINDS

from .errors import (
    BadAttribute,
    BadCoordinates,
    CorruptFile,
    CrsMissing,
    EmptyPlan,
    FileTooLarge,
    PlanFileError,
    UnknownCrs,
    UnsupportedFormat,
)
from .safety import ExtractBudget, Limits, check_archive, check_xml, read_limited
from .sniff import DXF, GEOJSON, GEOPACKAGE, KML, SUPPORTED, ZIP, sniff

# The kinds of plan feature a file may hold (a DXF layer may also map to "block": outlines, not features).
KINDS = PLAN_FEATURE_KINDS
# Joins a block number and a lot number where a plan numbers lots per block: "7/4" is lot 4 of block 7.
BLOCK_SEPARATOR = "/"
# What read_plan skipped lists at most, per kind of thing.
MAX_SKIPPED_NOTES = 20
ABSURD_COORDINATE = 1e8
# The widths of PlanFeature.lot_no and PlanFeature.land_use: longer text is refused on reading,
# so that a plan that validates can also be stored.
MAX_LOT_NO_CHARS = 32
MAX_LAND_USE_CHARS = 20
# Integers beyond this are not exact as floats; a lot number read as such a float has lost digits.
_EXACT_FLOAT_INT = 2 ** 53

# Attribute aliases, matched case-insensitively; first match wins.
_ALIASES = {
    "kind": ("kind", "type", "feature_type", "feat_type", "category"),
    "lot_no": ("lot_no", "lotno", "lot", "lot_number", "lot_num", "parcel_no", "parcelno",
               "parcel", "number", "no"),
    "stated_area": ("stated_area", "stated_are", "area", "area_m2", "area_sqm", "statedarea"),
    "land_use": ("land_use", "landuse", "use", "zoning"),
    "block_no": ("block_no", "blockno", "block", "block_number", "block_num", "blk", "quadra",
                 "manzana"),
}
_KIND_ALIASES = {"openspace": "open_space", "open": "open_space", "park": "open_space",
                 "street": "road", "roads": "road", "lots": "lot", "plot": "lot",
                 "utilities": "utility"}


@dataclass(frozen=True)
class RawFeature:
    """One feature of a plan as read, before any validation."""

    kind: str
    lot_no: str | None
    geom: BaseGeometry
    stated_area: float | None
    land_use: str | None
    index: int
    # The block the lot is numbered in, where the source numbers lots per block; lot_no then
    # reads "block/lot" (BLOCK_SEPARATOR), so lot numbers stay unique across blocks everywhere.
    block_no: str | None = None


@dataclass(frozen=True)
class RawPlan:
    """A plan file's features, in the CRS given by `srid`, and what reading skipped.

    `skipped` is small and JSON-ready: {"entities": {type: count}, "layers": {layer: count},
    "open_linework": count, "units": {...}, "notes": [text]}, each key only when it has something.
    """

    format: str
    srid: int
    features: tuple[RawFeature, ...]
    skipped: Mapping[str, Any] = field(default_factory=dict)


def read_plan(data: bytes | str | os.PathLike | BinaryIO, *, filename: str,
              srid: int | None = None, limits: Limits = Limits(),
              dxf_layers: Mapping[str, str] | None = None, label_layers: Iterable[str] | None = None,
              units: str | None = None) -> RawPlan:
    """Return the plan read from an uploaded file, detecting its format by content.

    The CRS comes from the file, else from `srid`; DXF files always need `srid`. For DXF,
    `dxf_layers` maps layers to kinds, `label_layers` names the layers whose texts are lot
    numbers (all when None) and `units` overrides the drawing's $INSUNITS (see dxf.py).
    Raise a PlanFileError subclass for anything a surveyor must fix.
    """
    content = read_limited(data, limits=limits)
    kind = sniff(content, filename=filename)
    with tempfile.TemporaryDirectory(prefix="plan-upload-") as tmp:
        workdir = Path(tmp)
        if kind == GEOJSON:
            plan = _read_geojson(content, workdir, filename=filename, srid=srid, limits=limits)
        elif kind == GEOPACKAGE:
            path = workdir / "upload.gpkg"
            path.write_bytes(content)
            plan = _read_ogr(path, "geopackage", filename=filename, srid=srid, limits=limits)
        elif kind == KML:
            plan = _read_kml(content, filename=filename, limits=limits)
        elif kind == DXF:
            path = workdir / "upload.dxf"
            path.write_bytes(content)
            plan = _read_dxf(path, filename=filename, srid=srid, limits=limits,
                             dxf_layers=dxf_layers, label_layers=label_layers, units=units)
        elif kind == ZIP:
            plan = _read_zip(content, workdir, filename=filename, srid=srid, limits=limits)
        else:  # pragma: no cover - sniff returns only the kinds above
            raise UnsupportedFormat(f"{filename!r} is not a supported plan format ({SUPPORTED})")
    return plan


# --- GDAL-read formats -----------------------------------------------------------------


def _read_geojson(content: bytes, workdir: Path, *, filename: str, srid: int | None,
                  limits: Limits) -> RawPlan:
    document = _parse_geojson(content, filename=filename, limits=limits)
    path = workdir / "upload.geojson"
    path.write_bytes(content)
    # GeoJSON proper has one layer; listing the layers would make GDAL parse the file twice.
    return _read_ogr(path, "geojson", filename=filename, srid=srid, limits=limits,
                     layer=0 if document.is_geojson else None, geojson=document)


def _read_ogr(path: Path, fmt: str, *, filename: str, srid: int | None, limits: Limits,
              layer: str | int | None = None,
              geojson: _GeoJsonDocument | None = None) -> RawPlan:
    own_properties = geojson is not None and geojson.properties is not None
    try:
        if layer is None:
            layer = _choose_layer(path, filename=filename)
        # One pass over the file: read at most one feature past the limit, enough to refuse it.
        meta, _fids, wkbs, field_data = pyogrio.raw.read(
            path, layer=layer, max_features=limits.max_features + 1,
            columns=[] if own_properties else None)
        if len(wkbs) > limits.max_features:
            raise FileTooLarge(
                f"{filename!r} has more than {limits.max_features} features; the limit is {limits.max_features}")
    except PlanFileError:
        raise
    except Exception as exc:  # GDAL reports damage through many exception types
        # GDAL messages may quote the private temporary path; show the upload's name instead.
        detail = str(exc).replace(str(path), filename).replace(str(path.parent), "")
        raise CorruptFile(f"{filename!r} cannot be read as {_FORMAT_NAMES[fmt]}: {detail}") from exc
    if own_properties:
        properties = geojson.properties
        if len(properties) != len(wkbs):  # pragma: no cover - every non-Feature entry is refused
            raise CorruptFile(f"{filename!r} cannot be read as GeoJSON: GDAL found {len(wkbs)} "
                              f"features where the document lists {len(properties)}")
    else:
        names = [str(n) for n in meta["fields"]]
        columns = [list(col) for col in field_data]
        properties = [{name: columns[j][i] for j, name in enumerate(names)}
                      for i in range(len(wkbs))]
    wkbs = np.asarray(wkbs, dtype=object)
    # One GEOS call; None stays None, and WKB that GEOS refuses (an unclosed ring) becomes None.
    geoms = shapely.from_wkb(wkbs, on_invalid="ignore")
    refused = np.flatnonzero(shapely.is_missing(geoms) & np.not_equal(wkbs, None))
    if len(refused):
        index = int(refused[0])
        where = f"{_feature_label(index, properties[index])} in {filename!r}"
        raise BadCoordinates(f"{where}: {_wkb_problem(wkbs[index])}")
    records = list(zip(properties, geoms))
    if geojson is not None and geojson.has_crs:
        file_srid = geojson.srid
    else:
        file_srid = _epsg_from_crs(meta.get("crs"), filename=filename)
    return _build_plan(fmt, records, file_srid=file_srid, srid=srid, filename=filename)


# --- GeoJSON read with the standard library, for what GDAL loses -------------------------------

_GEOJSON_TYPES = {"featurecollection", "feature", "point", "multipoint", "linestring",
                  "multilinestring", "polygon", "multipolygon", "geometrycollection"}


@dataclass(frozen=True)
class _GeoJsonDocument:
    """What is taken from the GeoJSON text itself rather than from GDAL."""

    is_geojson: bool  # False for other JSON that GDAL reads (ESRI JSON, TopoJSON)
    has_crs: bool  # a legacy `crs` member is present (and not null)
    srid: int | None  # the EPSG code it names
    properties: list[Mapping[str, Any]] | None  # each Feature's, in order; None: GDAL's fields


def _parse_geojson(content: bytes, *, filename: str, limits: Limits) -> _GeoJsonDocument:
    """Return the CRS and the exact feature properties of a GeoJSON document.

    The upload is already limited in size; the parsed document is dropped once the
    properties are taken out of it.
    """
    try:
        doc = _json_loads(content)
    except RecursionError as exc:
        raise CorruptFile(f"{filename!r} cannot be read as GeoJSON: it is nested too deeply") from exc
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        raise CorruptFile(f"{filename!r} cannot be read as GeoJSON: {exc}") from exc
    doc_type = doc.get("type") if isinstance(doc, dict) else None
    if not isinstance(doc_type, str) or doc_type.lower() not in _GEOJSON_TYPES:
        # Not GeoJSON proper (ESRI JSON, TopoJSON): GDAL reads it alone.
        return _GeoJsonDocument(is_geojson=False, has_crs=False, srid=None, properties=None)
    has_crs = doc.get("crs") is not None
    srid = _geojson_crs(doc["crs"], filename=filename) if has_crs else None
    properties = None
    if doc_type.lower() == "featurecollection" and isinstance(doc.get("features"), list):
        entries = doc["features"]
        if len(entries) > limits.max_features:
            raise FileTooLarge(f"{filename!r} has {len(entries)} features; the limit is "
                               f"{limits.max_features}")
        for index, entry in enumerate(entries):
            # GDAL skips such entries without a word: a lot would vanish from the plan.
            if not (isinstance(entry, dict) and entry.get("type") == "Feature"):
                raise CorruptFile(
                    f"feature {index} in {filename!r} is {_json_kind(entry)}, not a GeoJSON "
                    f'Feature; each entry of "features" must be {{"type": "Feature", '
                    f'"geometry": ..., "properties": ...}} (RFC 7946)')
        properties = [_json_properties(entry) for entry in entries]
    elif doc_type.lower() == "feature":
        properties = [_json_properties(doc)]
    return _GeoJsonDocument(is_geojson=True, has_crs=has_crs, srid=srid, properties=properties)


def _json_loads(content: bytes) -> Any:
    # Parsing makes a great many small lists and dicts, and never a cycle: the cyclic collector
    # would only walk them again and again (three times slower on a plan of 50,000 lots).
    enabled = gc.isenabled()
    gc.disable()
    try:
        return json.loads(content)
    finally:
        if enabled:
            gc.enable()


def _json_properties(feature: Mapping[str, Any]) -> Mapping[str, Any]:
    props = feature.get("properties")
    return props if isinstance(props, dict) else {}


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, dict):
        kind = value.get("type")
        return f"a {kind!r} object" if isinstance(kind, str) else 'an object without "type"'
    return {list: "an array", str: "a string", bool: "a boolean"}.get(type(value), "a number")


# Legacy (GeoJSON 2008) CRS names, as OGC URNs, URLs or short codes.
_EPSG_NAME = re.compile(r"(?:urn:ogc:def:crs:epsg:[\d.]*:|epsg:{1,2}|"
                        r"https?://www\.opengis\.net/def/crs/epsg/[\d.]+/)(\d+)", re.IGNORECASE)
_OGC_NAME = re.compile(r"(?:urn:ogc:def:crs:ogc:[\d.]*:|ogc:|crs:|"
                       r"https?://www\.opengis\.net/def/crs/ogc/[\d.]+/)(?:crs)?(84|83|27)",
                       re.IGNORECASE)
# OGC's longitude-first twins of geographic EPSG CRSs; GDAL reads coordinates in that order.
_OGC_CRS = {"84": 4326, "83": 4269, "27": 4267}
_CRS_ADVICE = ("name a known EPSG code (e.g. urn:ogc:def:crs:EPSG::32638), or remove the "
               "\"crs\" member if the coordinates are WGS 84 longitude/latitude (RFC 7946)")


def _geojson_crs(member: Any, *, filename: str) -> int:
    """Return the EPSG code named by a legacy GeoJSON `crs` member; refuse one that is unknown."""
    name = None
    if isinstance(member, dict) and isinstance(member.get("properties"), dict):
        crs_type = str(member.get("type", "")).lower()
        props = member["properties"]
        if crs_type == "name":
            name = props.get("name")
        elif crs_type == "epsg" and props.get("code") is not None:
            name = f"EPSG:{props['code']}"
        elif crs_type == "link":
            raise UnknownCrs(f"{filename!r} gives its coordinate reference system as a link "
                             f"({_short(props.get('href'))}), which is not followed; {_CRS_ADVICE}")
    if not isinstance(name, str) or not name.strip():
        raise UnknownCrs(f"{filename!r} has a \"crs\" member that names no coordinate reference "
                         f"system: {json.dumps(member)[:80]}; {_CRS_ADVICE}")
    name = name.strip()
    if match := _OGC_NAME.fullmatch(name):
        return _OGC_CRS[match.group(1)]
    match = _EPSG_NAME.fullmatch(name)
    try:
        # Only CRS identifiers reach PROJ: a name is never read as a file or a PROJ string.
        parsed = CRS.from_epsg(int(match.group(1))) if match else CRS.from_wkt(name)
    except (CRSError, ValueError) as exc:
        raise UnknownCrs(f"{filename!r} names the coordinate reference system {_short(name)} in "
                         f"its \"crs\" member, which is not known; {_CRS_ADVICE}") from exc
    epsg = parsed.to_epsg() or parsed.to_epsg(min_confidence=70)
    if epsg is None:
        raise UnknownCrs(f"{filename!r} names the coordinate reference system {_short(name)} in "
                         f"its \"crs\" member, which matches no EPSG code; {_CRS_ADVICE}")
    return epsg


def _short(value: Any, limit: int = 60) -> str:
    """Return repr(value), cut to about `limit` characters for a message."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"


_FORMAT_NAMES = {"geojson": "GeoJSON", "shapefile": "a Shapefile",
                 "geopackage": "a GeoPackage", "kml": "KML", "dxf": "DXF"}


def _choose_layer(path: Path, *, filename: str) -> str:
    """Return the layer named `plan` if there is one, else the first polygon layer."""
    layers = pyogrio.list_layers(path)
    if len(layers) == 0:
        raise EmptyPlan(f"{filename!r} has no layers")
    for name, _gtype in layers:
        if str(name).lower() == "plan":
            return str(name)
    for name, gtype in layers:
        if gtype and "polygon" in str(gtype).lower():
            return str(name)
    for name, gtype in layers:
        if gtype:
            return str(name)
    raise EmptyPlan(f"{filename!r} has no layer with geometries")


def _epsg_from_crs(crs: str | None, *, filename: str) -> int | None:
    if not crs:
        return None
    try:
        parsed = CRS.from_user_input(crs)
    except CRSError as exc:
        raise CrsMissing(f"{filename!r} has a coordinate reference system that cannot be "
                         f"understood ({exc}); pass srid") from exc
    epsg = parsed.to_epsg() or parsed.to_epsg(min_confidence=50)
    if epsg is None:
        raise CrsMissing(f"{filename!r} has a coordinate reference system ({parsed.name}) "
                         f"that matches no EPSG code; pass srid")
    return epsg


# --- zip archives: zipped Shapefile or KMZ -----------------------------------------------


def _read_zip(content: bytes, workdir: Path, *, filename: str, srid: int | None,
              limits: Limits) -> RawPlan:
    try:
        zf = zipfile.ZipFile(BytesIO(content))
    except (zipfile.BadZipFile, ValueError, EOFError) as exc:
        raise CorruptFile(f"{filename!r} is a damaged or truncated zip archive ({exc})") from exc
    with zf:
        members = check_archive(zf, limits=limits)
        members = [m for m in members if not _is_junk(m.filename)]
        budget = ExtractBudget(limits)
        try:
            by_ext: dict[str, list[zipfile.ZipInfo]] = {}
            for info in members:
                by_ext.setdefault(PurePosixPath(info.filename).suffix.lower(), []).append(info)
            if ".shp" in by_ext:
                return _read_zipped_shapefile(zf, members, by_ext[".shp"], budget, workdir,
                                              filename=filename, srid=srid, limits=limits)
            if ".kml" in by_ext:
                # Every document, doc.kml first; the extraction budget bounds them all together.
                kmls = sorted(by_ext[".kml"], key=lambda i: (i.filename.lower() != "doc.kml",
                                                             i.filename.count("/"), i.filename))
                return _read_kml_documents([(k.filename, budget.read_member(zf, k)) for k in kmls],
                                           filename=filename, limits=limits)
        except (zipfile.BadZipFile, EOFError, zipfile.LargeZipFile) as exc:
            raise CorruptFile(f"{filename!r} is a damaged zip archive ({exc})") from exc
        if "[content_types].xml" in {m.filename.lower() for m in members}:
            raise UnsupportedFormat(f"{filename!r} is an Office document, not a plan file "
                                    f"({SUPPORTED})")
        raise UnsupportedFormat(f"{filename!r} is a zip archive with no .shp or .kml inside "
                                f"({SUPPORTED})")


def _is_junk(name: str) -> bool:
    parts = PurePosixPath(name).parts
    return bool(parts) and (parts[0] == "__MACOSX" or parts[-1].startswith("._"))


_SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")


def _read_zipped_shapefile(zf: zipfile.ZipFile, members: list[zipfile.ZipInfo],
                           shps: list[zipfile.ZipInfo], budget: ExtractBudget, workdir: Path,
                           *, filename: str, srid: int | None, limits: Limits) -> RawPlan:
    shp = next((s for s in shps if PurePosixPath(s.filename).stem.lower() == "plan"), shps[0])
    stem = str(PurePosixPath(shp.filename).with_suffix("")).lower()
    parts = {}
    for info in members:
        p = PurePosixPath(info.filename)
        if str(p.with_suffix("")).lower() == stem and p.suffix.lower() in _SHAPEFILE_PARTS:
            parts[p.suffix.lower()] = info
    missing = [ext for ext in (".shx", ".dbf") if ext not in parts]
    if missing:
        raise CorruptFile(f"the shapefile {shp.filename!r} in {filename!r} is missing its "
                          f"{' and '.join(missing)} file; zip the .shp, .shx, .dbf and .prj together")
    # Names on disk are ours, never the archive's.
    for ext, info in parts.items():
        budget.extract_to(zf, info, workdir / f"plan{ext}")
    return _read_ogr(workdir / "plan.shp", "shapefile", filename=filename, srid=srid,
                     limits=limits, layer="plan")


# --- KML ------------------------------------------------------------------------------------


def _read_kml(content: bytes, *, filename: str, limits: Limits) -> RawPlan:
    return _read_kml_documents([(None, content)], filename=filename, limits=limits)


def _read_kml_documents(documents: list[tuple[str | None, bytes]], *, filename: str,
                        limits: Limits) -> RawPlan:
    """Return the placemarks of one KML document, or of every document of a KMZ, in order."""
    records: list = []
    skipped: Counter = Counter()
    for member, content in documents:
        name = filename if member is None else f"{member} in {filename!r}"
        _kml_records(content, name=name, filename=filename, limits=limits, records=records,
                     skipped=skipped)
    plan = _build_plan("kml", records, file_srid=4326, srid=None, filename=filename,
                       name_is_lot_no=True)
    out: dict[str, Any] = {}
    if skipped:
        out["entities"] = dict(skipped.most_common())
        out["notes"] = [f"{n} placemark{'' if n == 1 else 's'} with {what}: not read"
                        for what, n in skipped.most_common(MAX_SKIPPED_NOTES)]
    if len(documents) > 1:
        out.setdefault("notes", []).append(f"{len(documents)} KML documents read: "
                                           + ", ".join(str(m) for m, _ in documents[:MAX_SKIPPED_NOTES]))
    return replace(plan, skipped=out) if out else plan


# gx: (Google extension) geometries are tracks, i.e. lines over time: never a lot.
_KML_TRACKS = {"Track", "MultiTrack"}


def _kml_records(content: bytes, *, name: str, filename: str, limits: Limits, records: list,
                 skipped: Counter) -> None:
    check_xml(content, what=f"the KML in {name!r}" if name == filename else f"the KML {name}")
    try:
        root = ET.fromstring(content)
    except ET.ParseError as exc:
        raise CorruptFile(f"{name!r} is not well-formed KML ({exc})" if name == filename
                          else f"the KML {name} is not well-formed ({exc})") from exc
    for placemark in root.iter():
        if _local(placemark.tag) != "Placemark":
            continue
        if len(records) >= limits.max_features:
            raise FileTooLarge(f"{filename!r} has more than {limits.max_features} features")
        props: dict[str, Any] = {}
        geom_el = None
        for child in placemark:
            tag = _local(child.tag)
            if tag == "name":
                props["name"] = (child.text or "").strip()
            elif tag == "ExtendedData":
                for el in child.iter():
                    etag = _local(el.tag)
                    if etag == "SimpleData" and el.get("name"):
                        props[el.get("name")] = (el.text or "").strip()
                    elif etag == "Data" and el.get("name"):
                        value = next((v for v in el if _local(v.tag) == "value"), None)
                        props[el.get("name")] = ((value.text or "").strip()
                                                 if value is not None else "")
            elif geom_el is None and tag in _KML_GEOMETRIES:
                geom_el = child
            elif tag in _KML_TRACKS:
                skipped[f"gx:{tag} (a line)"] += 1
        if geom_el is not None and any(_local(c.tag) in _KML_TRACKS for c in geom_el.iter()):
            skipped[f"gx:Track in a {_local(geom_el.tag)} (a line)"] += 1
            geom_el = None
        geom = None
        if geom_el is not None:  # read after the attributes, so messages can name the lot
            where = (f"{_feature_label(len(records), props, name_is_lot_no=True)} "
                     f"in {filename!r}")
            geom = _kml_geometry(geom_el, where=where)
        records.append((props, geom))


_KML_GEOMETRIES = {"Point", "LineString", "LinearRing", "Polygon", "MultiGeometry"}


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _kml_coords(el: ET.Element, *, where: str) -> list[tuple[float, ...]]:
    node = next((c for c in el.iter() if _local(c.tag) == "coordinates"), None)
    text = (node.text or "") if node is not None else ""
    coords = []
    for tuple_text in text.split():
        try:
            values = tuple(float(v) for v in tuple_text.split(","))
        except ValueError as exc:
            raise BadCoordinates(f"{where} has an unreadable coordinate {tuple_text!r}") from exc
        if len(values) not in (2, 3):
            raise BadCoordinates(f"{where} has an unreadable coordinate {tuple_text!r} "
                                 f"(expected longitude,latitude[,altitude])")
        coords.append(values)
    return coords


def _kml_ring(el: ET.Element, *, where: str, ring: str) -> list[tuple[float, ...]]:
    """Return a ring's coordinates, refusing one that is not closed or too short (OGC KML 2.2)."""
    coords = _kml_coords(el, where=where)
    problem = _ring_problem(np.array([c[:2] for c in coords], dtype=float).reshape(-1, 2))
    if problem:
        raise BadCoordinates(f"{where}: {ring} {problem}")
    return coords


def _kml_geometry(el: ET.Element, *, where: str, polygon_no: int | None = None) -> BaseGeometry:
    tag = _local(el.tag)
    try:
        if tag == "Point":
            return Point(_kml_coords(el, where=where)[0])
        if tag in ("LineString",):
            return LineString(_kml_coords(el, where=where))
        if tag == "LinearRing":
            return LinearRing(_kml_ring(el, where=where, ring="the ring"))
        if tag == "Polygon":
            shell, holes = None, []
            for child in el:
                ctag = _local(child.tag)
                if ctag == "outerBoundaryIs":
                    shell = _kml_ring(child, where=where, ring=_ring_name(polygon_no, 0))
                elif ctag == "innerBoundaryIs":
                    holes.append(_kml_ring(child, where=where,
                                           ring=_ring_name(polygon_no, len(holes) + 1)))
            return Polygon(shell or [], holes)
        children = [c for c in el if _local(c.tag) in _KML_GEOMETRIES]
        parts = [_kml_geometry(c, where=where, polygon_no=i + 1) for i, c in enumerate(children)]
        if parts and all(p.geom_type == "Polygon" for p in parts):
            return shapely.MultiPolygon(parts)
        return shapely.GeometryCollection(parts)
    except (IndexError, ValueError, shapely.errors.GEOSException) as exc:
        raise CorruptFile(f"{where} has an invalid KML {tag}: {exc}") from exc


# --- DXF ------------------------------------------------------------------------------------


def _read_dxf(path: Path, *, filename: str, srid: int | None, limits: Limits,
              dxf_layers: Mapping[str, str] | None, label_layers: Iterable[str] | None = None,
              units: str | None = None) -> RawPlan:
    if srid is None:
        raise CrsMissing(f"{filename!r} is a DXF drawing: the file has no coordinate reference "
                         f"system; pass srid")
    # ezdxf is imported only when a DXF arrives, so start-up stays quick.
    from . import dxf as dxf_reader

    if dxf_layers is not None:
        allowed = DXF_LAYER_KINDS
        bad = {layer: kind for layer, kind in dxf_layers.items() if kind not in allowed}
        if bad:
            raise BadAttribute(f"dxf_layers maps to unknown kinds {bad}; use one of {allowed}")
    if units is not None and units not in dxf_reader.UNITS_M:
        raise BadAttribute(f"units {units!r} is not one of {', '.join(dxf_reader.UNITS_M)}")
    try:
        crs = CRS.from_epsg(srid)
    except CRSError as exc:
        raise CrsMissing(f"{filename!r}: EPSG:{srid} is not a known coordinate reference system") from exc
    crs_unit_m = None if crs.is_geographic else (crs.axis_info[0].unit_conversion_factor
                                                 if crs.axis_info else 1.0)
    drawing = dxf_reader.read_dxf(path, filename=filename, layers=dxf_layers,
                                  label_layers=label_layers, units=units, crs_unit_m=crs_unit_m,
                                  max_features=limits.max_features)
    records = [({"kind": s.kind, "lot_no": s.label, "block_no": s.block_no}, s.geom)
               for s in drawing.shapes]
    try:
        plan = _build_plan("dxf", records, file_srid=None, srid=srid, filename=filename)
    except PlanFileError as exc:
        notes = drawing.skipped.get("notes") or []
        if not notes:
            raise
        # Mislabelled units put a drawing far off: say so with the error.
        raise type(exc)(f"{exc.message}; note: {'; '.join(notes)}", extra=exc.extra) from exc
    return replace(plan, skipped=drawing.skipped)


# --- common -----------------------------------------------------------------------------------


def _build_plan(fmt: str, records: Iterable[tuple[Mapping[str, Any], BaseGeometry | None]], *,
                file_srid: int | None, srid: int | None, filename: str,
                name_is_lot_no: bool = False) -> RawPlan:
    resolved = file_srid if file_srid is not None else srid
    if resolved is None:
        raise CrsMissing(f"{filename!r}: the file has no coordinate reference system; pass srid")
    geographic = _is_geographic(resolved, filename=filename)
    records = list(records)
    geoms = np.empty(len(records), dtype=object)
    geoms[:] = [geom for _props, geom in records]
    present = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
    first_bad = _first_bad_geometry(geoms, present, geographic=geographic)
    flat = shapely.force_2d(geoms)
    features = []
    for index in np.flatnonzero(present):  # attribute-only rows carry nothing to validate
        index = int(index)
        props = records[index][0]
        if index == first_bad:  # raises, with the message of the first failing check
            where = f"{_feature_label(index, props, name_is_lot_no=name_is_lot_no)} in {filename!r}"
            _check_geometry(geoms[index], where=where, geographic=geographic)
        features.append(_make_feature(index, props, flat[index],
                                      filename=filename, name_is_lot_no=name_is_lot_no))
    if not features:
        raise EmptyPlan(f"{filename!r} has no features with geometries")
    if not any(f.geom.geom_type in ("Polygon", "MultiPolygon") for f in features):
        raise EmptyPlan(f"{filename!r} has no polygon features (lots must be polygons)")
    return RawPlan(format=fmt, srid=resolved, features=tuple(features))


def _is_geographic(srid: int, *, filename: str) -> bool:
    try:
        return CRS.from_epsg(srid).is_geographic
    except CRSError as exc:
        raise CrsMissing(f"{filename!r}: EPSG:{srid} is not a known coordinate reference "
                         f"system") from exc


def _first_bad_geometry(geoms: np.ndarray, present: np.ndarray, *, geographic: bool) -> int | None:
    """Return the index of the first present geometry that _check_geometry refuses, or None."""
    idx = np.flatnonzero(present)
    xy, owner = shapely.get_coordinates(geoms[idx], return_index=True)
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(xy).all(axis=1) | (np.abs(xy) > ABSURD_COORDINATE).any(axis=1)
        if geographic:
            bad |= (np.abs(xy[:, 0]) > 180) | (np.abs(xy[:, 1]) > 90)
    # GEOS reads a closed ring of 3 points from WKB: check the rings of polygons and of the
    # polygons inside multi-geometries, as _polygons() lists them.
    types = shapely.get_type_id(geoms[idx])
    multi = np.flatnonzero(np.isin(types, (6, 7)))
    parts, part_owner = shapely.get_parts(geoms[idx[multi]], return_index=True)
    in_multi = shapely.get_type_id(parts) == 3
    single = np.flatnonzero(types == 3)
    polygons = np.concatenate([geoms[idx[single]], parts[in_multi]])
    polygon_owner = np.concatenate([single, multi[part_owner[in_multi]]])
    rings, ring_owner = shapely.get_rings(polygons, return_index=True)
    short = shapely.get_num_coordinates(rings) < 4
    owners = np.concatenate([owner[bad], polygon_owner[ring_owner[short]]])
    return int(idx[owners.min()]) if len(owners) else None


def _check_geometry(geom: BaseGeometry, *, where: str, geographic: bool) -> None:
    xy = shapely.get_coordinates(geom)
    if not np.isfinite(xy).all():
        raise BadCoordinates(f"{where} has NaN or infinite coordinates")
    if (np.abs(xy) > ABSURD_COORDINATE).any():
        raise BadCoordinates(f"{where} has absurd coordinates (beyond ±{ABSURD_COORDINATE:.0e})")
    if geographic and ((np.abs(xy[:, 0]) > 180).any() or (np.abs(xy[:, 1]) > 90).any()):
        raise BadCoordinates(f"{where} has coordinates outside ±180° longitude / ±90° latitude; "
                             f"is the CRS right?")
    for polygon_no, polygon in _polygons(geom):
        for ring_no, ring in enumerate([polygon.exterior, *polygon.interiors]):
            problem = _ring_problem(shapely.get_coordinates(ring))
            if problem:
                raise BadCoordinates(f"{where}: {_ring_name(polygon_no, ring_no)} {problem}")


def _polygons(geom: BaseGeometry) -> list[tuple[int | None, Polygon]]:
    """Return the polygons of a geometry with their number in it (None for a lone polygon)."""
    if geom.geom_type == "Polygon":
        return [(None, geom)]
    if hasattr(geom, "geoms"):
        return [(i + 1, part) for i, part in enumerate(geom.geoms) if part.geom_type == "Polygon"]
    return []


def _ring_name(polygon_no: int | None, ring_no: int) -> str:
    ring = "the outer ring" if ring_no == 0 else f"hole {ring_no}"
    return ring if polygon_no is None else f"{ring} of polygon {polygon_no}"


def _ring_problem(xy: np.ndarray) -> str | None:
    """Return what keeps these coordinates from being a polygon ring, or None."""
    points = len(xy)
    if points < 4:
        return (f"has {points} point{'' if points == 1 else 's'}, a ring needs at least 4 "
                f"(the last repeating the first)")
    if not np.array_equal(xy[0, :2], xy[-1, :2]):
        return "is not closed (its last point must repeat its first)"
    return None


def _wkb_problem(wkb: bytes) -> str:
    """Return what makes GEOS refuse a feature's WKB, naming the ring when a ring is at fault."""
    rings: list[tuple[int | None, int, np.ndarray]] = []
    try:
        _wkb_rings(memoryview(wkb), 0, rings, None)
    except (struct.error, ValueError, KeyError, RecursionError):
        pass  # still report the rings read so far, else GEOS's own words
    for polygon_no, ring_no, xy in rings:
        problem = _ring_problem(xy)
        if problem:
            return f"{_ring_name(polygon_no, ring_no)} {problem}"
    try:
        shapely.from_wkb(wkb)
    except Exception as exc:  # GEOS reports through several exception types
        return f"the geometry cannot be read ({exc})"
    return "the geometry cannot be read"  # pragma: no cover - GEOS refused it a moment ago


def _wkb_rings(buf: memoryview, pos: int, rings: list, polygon_no: int | None) -> int:
    """Append the polygon rings of the (ISO or extended) WKB geometry at `pos`; return its end."""
    order = "<" if buf[pos] == 1 else ">"
    (code,) = struct.unpack_from(order + "I", buf, pos + 1)
    pos += 5
    if code & 0x20000000:  # EWKB: an SRID follows
        pos += 4
    iso_dims, kind = divmod(code & 0x0FFFFFFF, 1000)
    dims = 2 + bool(code & 0x80000000) + bool(code & 0x40000000) + {0: 0, 1: 1, 2: 1, 3: 2}[iso_dims]
    if kind == 1:
        return pos + 8 * dims
    (count,) = struct.unpack_from(order + "I", buf, pos)
    pos += 4
    if kind == 2:
        return pos + 8 * dims * count
    if kind == 3:
        for ring_no in range(count):
            (points,) = struct.unpack_from(order + "I", buf, pos)
            pos += 4
            xy = np.frombuffer(buf, dtype=order + "f8", count=points * dims, offset=pos)
            rings.append((polygon_no, ring_no, xy.reshape(points, dims)[:, :2]))
            pos += 8 * dims * points
        return pos
    if kind in (4, 5, 6, 7):
        for part in range(count):
            pos = _wkb_rings(buf, pos, rings, part + 1 if kind in (6, 7) else polygon_no)
        return pos
    raise ValueError(f"WKB geometry type {code} is not read here")


@lru_cache(maxsize=256)
def _aliases_present(keys: tuple, field: str, extra: tuple[str, ...] = ()) -> tuple[tuple[str, Any], ...]:
    """Return (alias, property key) for each alias of FIELD that a feature with KEYS has, in order.

    Keys are matched stripped and lower-cased (the last of two that match wins). Features of one
    file share their keys, so this runs once per file and field, not once per feature.
    """
    lowered = {str(k).strip().lower(): k for k in keys}
    return tuple((alias, lowered[alias]) for alias in _ALIASES[field] + extra if alias in lowered)


def _lookup(props: Mapping[str, Any], field: str,
            extra: tuple[str, ...] = (), keys: tuple | None = None) -> tuple[str | None, Any]:
    """Return (alias, value) for the first non-blank alias of FIELD in PROPS, else (None, None).

    KEYS, when given, is tuple(PROPS), computed once by a caller that looks up several fields."""
    for alias, key in _aliases_present(tuple(props) if keys is None else keys, field, extra):
        value = props[key]
        if not _blank(value):
            return alias, value
    return None, None


def _blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _feature_label(index: int, props: Mapping[str, Any], *, name_is_lot_no: bool = False) -> str:
    """Return "feature 3 (lot 12)" for messages, or "feature 3" when the lot number is unusable."""
    _alias, lot = _lookup(props, "lot_no", ("name",) if name_is_lot_no else ())
    return _label(index, lot)


def _label(index: int, lot: Any) -> str:
    if isinstance(lot, (float, np.floating)) and float(lot).is_integer() \
            and abs(lot) < _EXACT_FLOAT_INT:
        lot = int(lot)
    text = str(lot).strip() if isinstance(lot, (str, int, float, np.number)) else ""
    if not text or len(text) > MAX_LOT_NO_CHARS or "\x00" in text:
        return f"feature {index}"
    return f"feature {index} (lot {text})"


def _attribute_text(alias: str | None, value: Any, *, where: str, what: str,
                    max_chars: int) -> str | None:
    """Return an attribute as stripped text; refuse one the database could not store as read."""
    if _blank(value):
        return None
    if isinstance(value, (dict, list)):
        raise BadAttribute(f"{where}: the {what} (attribute {alias!r}) is a JSON "
                           f"{'object' if isinstance(value, dict) else 'array'}; give text or a number")
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        if abs(value) >= _EXACT_FLOAT_INT:
            raise BadAttribute(f"{where}: the {what} (attribute {alias!r}) is the number "
                               f"{float(value):g}, too large to keep every digit; write it as text")
        value = int(value)
    text = str(value).strip()
    if len(text) > max_chars:
        raise BadAttribute(f"{where}: the {what} {_short(text, 40)} (attribute {alias!r}) is "
                           f"{len(text)} characters long; the maximum is {max_chars}")
    return text


@lru_cache(maxsize=64)
def _kind_name(raw_kind: str) -> str:
    """Return the kind a file's text means ("Open Space", "park" -> open_space); plans repeat a few values."""
    kind = re.sub(r"[\s\-]+", "_", raw_kind.strip().lower())
    return _KIND_ALIASES.get(kind.replace("_", ""), kind)


def _kind_name_of(raw_kind: Any) -> str:
    return _kind_name(str(raw_kind))


def _make_feature(index: int, props: Mapping[str, Any], geom: BaseGeometry, *, filename: str,
                  name_is_lot_no: bool) -> RawFeature:
    keys = tuple(props)
    found = {
        "kind": _lookup(props, "kind", keys=keys),
        "lot number": _lookup(props, "lot_no", ("name",) if name_is_lot_no else (), keys=keys),
        "stated area": _lookup(props, "stated_area", keys=keys),
        "land use": _lookup(props, "land_use", keys=keys),
        "block number": _lookup(props, "block_no", keys=keys),
    }
    where = f"{_label(index, found['lot number'][1])} in {filename!r}"
    for what, (alias, value) in found.items():
        if isinstance(value, str) and "\x00" in value:  # PostgreSQL text cannot hold NUL
            raise BadAttribute(f"{where}: the {what} (attribute {alias!r}) contains a NUL "
                               f"character, which cannot be stored; remove it")
    _alias, raw_kind = found["kind"]
    kind = "lot"
    if raw_kind is not None:
        kind = _kind_name(raw_kind) if isinstance(raw_kind, str) else _kind_name_of(raw_kind)
        if kind not in KINDS:
            raise BadAttribute(f"{where} has an unknown kind {raw_kind!r}; "
                               f"use one of {', '.join(KINDS)}")
    lot_no = _attribute_text(*found["lot number"], where=where, what="lot number",
                             max_chars=MAX_LOT_NO_CHARS)
    land_use = _attribute_text(*found["land use"], where=where, what="land use",
                               max_chars=MAX_LAND_USE_CHARS)
    block_no = _attribute_text(*found["block number"], where=where, what="block number",
                               max_chars=MAX_LOT_NO_CHARS)
    if block_no is not None and lot_no is not None:
        lot_no = f"{block_no}{BLOCK_SEPARATOR}{lot_no}"
        if len(lot_no) > MAX_LOT_NO_CHARS:
            raise BadAttribute(f"{where}: the lot number with its block, {_short(lot_no, 40)}, is "
                               f"{len(lot_no)} characters long; the maximum is {MAX_LOT_NO_CHARS}")
    _alias, raw_area = found["stated area"]
    stated_area = None
    if raw_area is not None:
        try:
            stated_area = float(str(raw_area).replace(",", "")) if isinstance(raw_area, str) \
                else float(raw_area)
        except (TypeError, ValueError) as exc:
            raise BadAttribute(f"{where} has a stated area that is not a number: "
                               f"{raw_area!r}") from exc
        if not math.isfinite(stated_area):
            raise BadAttribute(f"{where} has a non-finite stated area")
    return RawFeature(kind=kind, lot_no=lot_no, geom=geom, stated_area=stated_area,
                      land_use=land_use, index=index, block_no=block_no)
