"""Read an uploaded subdivision plan file into plain features in their source CRS.

GeoJSON, zipped Shapefiles and GeoPackages are read with GDAL (pyogrio). KML/KMZ
is parsed here with the standard library because GDAL's KML driver ignores
``ExtendedData``, where surveyors keep lot attributes; the XML is first refused if
it declares a DTD or entity. DXF is read with ezdxf (see ``dxf.py``).

Every upload is written to a private temporary directory that is removed on
success and on error alike.
"""

from __future__ import annotations

import math
import os
import re
import tempfile
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass
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

from . import dxf as dxf_reader
from .errors import (
    BadAttribute,
    BadCoordinates,
    CorruptFile,
    CrsMissing,
    EmptyPlan,
    FileTooLarge,
    PlanFileError,
    UnsupportedFormat,
)
from .safety import ExtractBudget, Limits, check_archive, check_xml, read_limited
from .sniff import DXF, GEOJSON, GEOPACKAGE, KML, SUPPORTED, ZIP, sniff

KINDS = ("lot", "road", "open_space", "utility")
ABSURD_COORDINATE = 1e8

# Attribute aliases, matched case-insensitively; first match wins.
_ALIASES = {
    "kind": ("kind", "type", "feature_type", "feat_type", "category"),
    "lot_no": ("lot_no", "lotno", "lot", "lot_number", "lot_num", "parcel_no", "parcelno",
               "parcel", "number", "no"),
    "stated_area": ("stated_area", "stated_are", "area", "area_m2", "area_sqm", "statedarea"),
    "land_use": ("land_use", "landuse", "use", "zoning"),
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


@dataclass(frozen=True)
class RawPlan:
    """A plan file's features, in the CRS given by `srid`."""

    format: str
    srid: int
    features: tuple[RawFeature, ...]


def read_plan(data: bytes | str | os.PathLike | BinaryIO, *, filename: str,
              srid: int | None = None, limits: Limits = Limits(),
              dxf_layers: Mapping[str, str] | None = None) -> RawPlan:
    """Return the plan read from an uploaded file, detecting its format by content.

    The CRS comes from the file, else from `srid`; DXF files always need `srid`.
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
                             dxf_layers=dxf_layers)
        elif kind == ZIP:
            plan = _read_zip(content, workdir, filename=filename, srid=srid, limits=limits)
        else:  # pragma: no cover - sniff returns only the kinds above
            raise UnsupportedFormat(f"{filename!r} is not a supported plan format ({SUPPORTED})")
    return plan


# --- GDAL-read formats -----------------------------------------------------------------


def _read_geojson(content: bytes, workdir: Path, *, filename: str, srid: int | None,
                  limits: Limits) -> RawPlan:
    path = workdir / "upload.geojson"
    path.write_bytes(content)
    return _read_ogr(path, "geojson", filename=filename, srid=srid, limits=limits)


def _read_ogr(path: Path, fmt: str, *, filename: str, srid: int | None, limits: Limits,
              layer: str | None = None) -> RawPlan:
    try:
        if layer is None:
            layer = _choose_layer(path, filename=filename)
        # One pass over the file: read at most one feature past the limit, enough to refuse it.
        meta, _fids, wkbs, field_data = pyogrio.raw.read(path, layer=layer,
                                                         max_features=limits.max_features + 1)
        if len(wkbs) > limits.max_features:
            raise FileTooLarge(
                f"{filename!r} has more than {limits.max_features} features; the limit is {limits.max_features}")
    except PlanFileError:
        raise
    except Exception as exc:  # GDAL reports damage through many exception types
        # GDAL messages may quote the private temporary path; show the upload's name instead.
        detail = str(exc).replace(str(path), filename).replace(str(path.parent), "")
        raise CorruptFile(f"{filename!r} cannot be read as {_FORMAT_NAMES[fmt]}: {detail}") from exc
    names = [str(n) for n in meta["fields"]]
    columns = [list(col) for col in field_data]
    geoms = shapely.from_wkb(np.asarray(wkbs, dtype=object))  # one GEOS call; None stays None
    records = [({name: columns[j][i] for j, name in enumerate(names)}, geoms[i]) for i in range(len(geoms))]
    file_srid = _epsg_from_crs(meta.get("crs"), filename=filename)
    return _build_plan(fmt, records, file_srid=file_srid, srid=srid, filename=filename)


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
                kmls = sorted(by_ext[".kml"], key=lambda i: (i.filename.lower() != "doc.kml",
                                                             i.filename.count("/")))
                kml_bytes = budget.read_member(zf, kmls[0])
                return _read_kml(kml_bytes, filename=filename, limits=limits)
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
    check_xml(content, what=f"the KML in {filename!r}")
    try:
        root = ET.fromstring(content)
    except ET.ParseError as exc:
        raise CorruptFile(f"{filename!r} is not well-formed KML ({exc})") from exc
    records = []
    for placemark in root.iter():
        if _local(placemark.tag) != "Placemark":
            continue
        if len(records) >= limits.max_features:
            raise FileTooLarge(f"{filename!r} has more than {limits.max_features} features")
        props: dict[str, Any] = {}
        geom = None
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
            elif geom is None and tag in _KML_GEOMETRIES:
                geom = _kml_geometry(child, filename=filename, index=len(records))
        records.append((props, geom))
    return _build_plan("kml", records, file_srid=4326, srid=None, filename=filename,
                       name_is_lot_no=True)


_KML_GEOMETRIES = {"Point", "LineString", "LinearRing", "Polygon", "MultiGeometry"}


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _kml_coords(el: ET.Element, *, filename: str, index: int) -> list[tuple[float, ...]]:
    node = next((c for c in el.iter() if _local(c.tag) == "coordinates"), None)
    text = (node.text or "") if node is not None else ""
    coords = []
    for tuple_text in text.split():
        try:
            coords.append(tuple(float(v) for v in tuple_text.split(",")))
        except ValueError as exc:
            raise BadCoordinates(f"feature {index} in {filename!r} has an unreadable "
                                 f"coordinate {tuple_text!r}") from exc
    return coords


def _kml_geometry(el: ET.Element, *, filename: str, index: int) -> BaseGeometry:
    tag = _local(el.tag)
    try:
        if tag == "Point":
            return Point(_kml_coords(el, filename=filename, index=index)[0])
        if tag in ("LineString",):
            return LineString(_kml_coords(el, filename=filename, index=index))
        if tag == "LinearRing":
            return LinearRing(_kml_coords(el, filename=filename, index=index))
        if tag == "Polygon":
            shell, holes = None, []
            for child in el:
                ctag = _local(child.tag)
                if ctag == "outerBoundaryIs":
                    shell = _kml_coords(child, filename=filename, index=index)
                elif ctag == "innerBoundaryIs":
                    holes.append(_kml_coords(child, filename=filename, index=index))
            return Polygon(shell or [], holes)
        parts = [_kml_geometry(c, filename=filename, index=index)
                 for c in el if _local(c.tag) in _KML_GEOMETRIES]
        if parts and all(p.geom_type == "Polygon" for p in parts):
            return shapely.MultiPolygon(parts)
        return shapely.GeometryCollection(parts)
    except (IndexError, ValueError, shapely.errors.GEOSException) as exc:
        raise CorruptFile(f"feature {index} in {filename!r} has an invalid KML {tag}: {exc}") from exc


# --- DXF ------------------------------------------------------------------------------------


def _read_dxf(path: Path, *, filename: str, srid: int | None, limits: Limits,
              dxf_layers: Mapping[str, str] | None) -> RawPlan:
    if srid is None:
        raise CrsMissing(f"{filename!r} is a DXF drawing: the file has no coordinate reference "
                         f"system; pass srid")
    if dxf_layers is not None:
        bad = {layer: kind for layer, kind in dxf_layers.items() if kind not in KINDS}
        if bad:
            raise BadAttribute(f"dxf_layers maps to unknown kinds {bad}; use one of {KINDS}")
    shapes = dxf_reader.read_dxf_shapes(path, filename=filename, layers=dxf_layers,
                                        max_features=limits.max_features)
    records = [({"kind": s.kind, "lot_no": s.label}, s.geom) for s in shapes]
    return _build_plan("dxf", records, file_srid=None, srid=srid, filename=filename)


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
    first_bad = _first_bad_coordinates(geoms, present, geographic=geographic)
    flat = shapely.force_2d(geoms)
    features = []
    for index in np.flatnonzero(present):  # attribute-only rows carry nothing to validate
        index = int(index)
        if index == first_bad:  # raises, with the message of the first failing check
            _check_coordinates(geoms[index], index=index, geographic=geographic, filename=filename)
        features.append(_make_feature(index, records[index][0], flat[index],
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


def _first_bad_coordinates(geoms: np.ndarray, present: np.ndarray, *, geographic: bool) -> int | None:
    """Return the index of the first present geometry that _check_coordinates refuses, or None."""
    idx = np.flatnonzero(present)
    xy, owner = shapely.get_coordinates(geoms[idx], return_index=True)
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(xy).all(axis=1) | (np.abs(xy) > ABSURD_COORDINATE).any(axis=1)
        if geographic:
            bad |= (np.abs(xy[:, 0]) > 180) | (np.abs(xy[:, 1]) > 90)
    return int(idx[owner[bad].min()]) if bad.any() else None


def _check_coordinates(geom: BaseGeometry, *, index: int, geographic: bool, filename: str) -> None:
    xy = shapely.get_coordinates(geom)
    if not np.isfinite(xy).all():
        raise BadCoordinates(f"feature {index} in {filename!r} has NaN or infinite coordinates")
    if (np.abs(xy) > ABSURD_COORDINATE).any():
        raise BadCoordinates(f"feature {index} in {filename!r} has absurd coordinates "
                             f"(beyond ±{ABSURD_COORDINATE:.0e})")
    if geographic and ((np.abs(xy[:, 0]) > 180).any() or (np.abs(xy[:, 1]) > 90).any()):
        raise BadCoordinates(f"feature {index} in {filename!r} has coordinates outside "
                             f"±180° longitude / ±90° latitude; is the CRS right?")


def _lowered(props: Mapping[str, Any]) -> dict[str, Any]:
    return {str(k).strip().lower(): v for k, v in props.items()}


def _lookup(lowered: Mapping[str, Any], field: str, extra: tuple[str, ...] = ()) -> Any:
    """Return the first non-blank alias of FIELD in LOWERED (keys already stripped and lower-cased)."""
    for alias in _ALIASES[field] + extra:
        value = lowered.get(alias)
        if not _blank(value):
            return value
    return None


def _blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _as_text(value: Any) -> str | None:
    if _blank(value):
        return None
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        value = int(value)
    return str(value).strip()


def _make_feature(index: int, props: Mapping[str, Any], geom: BaseGeometry, *, filename: str,
                  name_is_lot_no: bool) -> RawFeature:
    props = _lowered(props)
    raw_kind = _lookup(props, "kind")
    kind = "lot"
    if raw_kind is not None:
        kind = re.sub(r"[\s\-]+", "_", str(raw_kind).strip().lower())
        kind = _KIND_ALIASES.get(kind.replace("_", ""), kind)
        if kind not in KINDS:
            raise BadAttribute(f"feature {index} in {filename!r} has an unknown kind "
                               f"{raw_kind!r}; use one of {', '.join(KINDS)}")
    lot_no = _as_text(_lookup(props, "lot_no", ("name",) if name_is_lot_no else ()))
    raw_area = _lookup(props, "stated_area")
    stated_area = None
    if raw_area is not None:
        try:
            stated_area = float(str(raw_area).replace(",", "")) if isinstance(raw_area, str) \
                else float(raw_area)
        except (TypeError, ValueError) as exc:
            raise BadAttribute(f"feature {index} in {filename!r} has a stated area that is not "
                               f"a number: {raw_area!r}") from exc
        if not math.isfinite(stated_area):
            raise BadAttribute(f"feature {index} in {filename!r} has a non-finite stated area")
    return RawFeature(kind=kind, lot_no=lot_no, geom=geom, stated_area=stated_area,
                      land_use=_as_text(_lookup(props, "land_use")), index=index)
