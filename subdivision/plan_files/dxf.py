"""Read a DXF drawing as surveyors draw it: lots, roads and the rest, with their lot numbers.

Read with ezdxf rather than GDAL's DXF driver: GDAL flattens a drawing into one
``entities`` layer and guesses which line work forms polygons, whereas ezdxf exposes
each polyline's *closed* flag, its bulges, hatch boundaries, blocks and texts, which is
what a surveyor's plan means. On the layers mapped to a plan kind, a shape is:

- a closed LWPOLYLINE or POLYLINE (bulges, i.e. arcs at truncated corners, flattened from
  the true circle to chords within 0.1 mm), a CIRCLE, or a polyline whose last vertex repeats
  its first;
- a HATCH, from its boundary paths (polyline paths and edge paths of lines, arcs,
  ellipses and splines; inner paths are holes), unless a polyline already draws it;
- a face closed by LINE, ARC, ELLIPSE, SPLINE and open polyline segments whose ends meet
  within 1 mm, or end within 1 mm of another line (a T-junction): ends are merged, the
  linework noded and polygonized with shapely (polygonize_full: what closes nothing is
  counted as open linework).

Blocks (INSERT, MINSERT, nested, scaled, rotated, mirrored) are exploded with ezdxf's
``virtual_entities``; what a block draws on layer 0 takes the INSERT's layer. Lot numbers
are TEXT, MTEXT (plain text) or ATTRIB inside a lot, the nearest to its centre; with
``label_layers`` only texts on those layers count, so spot heights on other layers are never
lot numbers. A layer mapped to ``block`` outlines a block: its text (e.g. "QUADRA 7") numbers
the lots inside, which are read as "7/4".

Drawing units come from ``$INSUNITS`` unless ``units`` overrides them; coordinates are scaled
to the CRS's unit. Lot areas far from plausible sizes add a note naming the likely unit.
A drawing without a HEADER section is read as it is (ezdxf needs none), a damaged one through
ezdxf's recovery mode.

What is not read is counted in ``skipped``: entity types, unmapped layers, open linework.
Every count of entities, block explosions and flattened vertices is bounded.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median
from typing import Any

import ezdxf
import numpy as np
import shapely
from ezdxf import recover
from ezdxf.entities.boundary_paths import (
    ArcEdge,
    EdgePath,
    EllipseEdge,
    LineEdge,
    PolylinePath,
    SplineEdge,
)
from ezdxf.math import (
    BSpline,
    ConstructionArc,
    Vec3,
    bulge_to_arc,
    fit_points_to_cad_cv,
)
from shapely import STRtree
from shapely.geometry import Point, Polygon

from gisportal.plan_kinds import BLOCK_KIND, DXF_LAYER_KINDS  # noqa: F401 (the kinds a layer maps to)

from .errors import CorruptFile, DxfLayersUnmapped, FileTooLarge

DEFAULT_LAYERS = {"LOTS": "lot", "ROADS": "road", "OPEN_SPACE": "open_space", "UTILITY": "utility"}
# Arcs, ellipses and splines are flattened to chords that stray at most this far (metres): a 5 m
# corner arc loses about 5 cm² of area (1 mm would lose 50 cm², half a survey's 0.01 m²).
FLATTEN_M = 0.0001
# Segment ends this close (metres) are one point when linework is closed into faces.
SNAP_M = 0.001
# How many layers the "no plan layers" message names, and the structured detail lists.
LAYERS_IN_MESSAGE = 20
LAYERS_IN_DETAIL = 200
LAYERS_SETTING = "GISPORTAL_DXF_LAYERS"
# Bounds on crafted drawings: entities visited (blocks exploded included), block nesting, vertices.
MAX_ENTITIES = 1_000_000
MAX_EXPLODED = 200_000  # entities made by exploding blocks (ezdxf copies each: about 30 µs apiece)
MAX_BLOCK_DEPTH = 16
MAX_VERTICES = 5_000_000
MAX_NOTES = 20

# Drawing units: name -> metres. The `units` form field takes these names.
UNITS_M = {"m": 1.0, "mm": 0.001, "cm": 0.01, "ft": 0.3048, "us_ft": 1200 / 3937, "in": 0.0254}
UNIT_NAMES = {"m": "metres", "mm": "millimetres", "cm": "centimetres", "ft": "feet",
              "us_ft": "US survey feet", "in": "inches"}
# $INSUNITS codes (AutoCAD) of the units above.
INSUNITS = {1: "in", 2: "ft", 4: "mm", 5: "cm", 6: "m", 21: "us_ft"}
# A median lot area outside this range (m²) is implausible: the units are probably wrong.
PLAUSIBLE_LOT_M2 = (20.0, 200_000.0)
TYPICAL_LOT_M2 = 500.0

_LINEWORK = {"LINE", "ARC", "ELLIPSE", "SPLINE"}
_TEXTS = {"TEXT", "MTEXT", "ATTRIB"}
_BLOCK_WORDS = re.compile(r"^(?:block|blk|blq|bloque|bloco|bloc|quadra|qd|manzana|mz|mza)\.?\s*[:#-]?\s*",
                          re.IGNORECASE)


@dataclass(frozen=True)
class DxfShape:
    """A closed shape on a plan layer, with its label (and block) when it is a lot."""

    kind: str
    geom: Polygon
    label: str | None
    block_no: str | None = None


@dataclass
class DxfDrawing:
    """What read_dxf found: the shapes, in drawing order, and what it skipped."""

    shapes: list[DxfShape]
    skipped: dict[str, Any] = field(default_factory=dict)


class _Budget:
    """Counts entities and vertices; refuses a drawing that would take more than the bounds."""

    def __init__(self, filename: str):
        self.filename = filename
        self.entities = 0
        self.exploded = 0
        self.vertices = 0

    def entity(self, *, exploded: bool = False) -> None:
        self.entities += 1
        self.exploded += exploded
        if self.entities > MAX_ENTITIES or self.exploded > MAX_EXPLODED:
            raise FileTooLarge(f"{self.filename!r} has more than {MAX_ENTITIES:,} entities, or its blocks "
                               f"explode into more than {MAX_EXPLODED:,}")

    def arc(self, radius: float, degrees: float, flatten: float) -> None:
        """Refuse, before flattening it, an arc that would take more vertices than are left."""
        if not (radius > 0 and math.isfinite(radius)) or flatten >= radius:
            return
        step = 2 * math.acos(1 - flatten / radius)
        needed = math.radians(degrees) / step if step > 0 else math.inf
        if self.vertices + needed > MAX_VERTICES:
            raise FileTooLarge(f"{self.filename!r} needs more than {MAX_VERTICES:,} vertices to draw its "
                               f"curves within {FLATTEN_M * 1000:g} mm (an arc of radius {radius:.6g})")

    def points(self, points: Iterable) -> list[tuple[float, float]]:
        out = []
        for v in points:
            self.vertices += 1
            if self.vertices > MAX_VERTICES:
                raise FileTooLarge(f"{self.filename!r} needs more than {MAX_VERTICES:,} vertices to "
                                   f"draw its curves within {FLATTEN_M * 1000:g} mm")
            out.append((v.x, v.y))
        return out


@dataclass
class _Collected:
    polygons: list[tuple[str, Any, str]] = field(default_factory=list)  # kind, geometry, source type
    lines: dict[str, list[list[tuple[float, float]]]] = field(default_factory=dict)  # kind -> open linework
    texts: list[tuple[Point, str, str]] = field(default_factory=list)  # point, text, layer (upper)
    entities: Counter = field(default_factory=Counter)  # skipped entity types
    layers: Counter = field(default_factory=Counter)  # skipped layers (drawn entities on unmapped layers)
    layer_names: dict[str, str] = field(default_factory=dict)


def read_dxf(path: Path, *, filename: str, layers: Mapping[str, str] | None = None,
             label_layers: Iterable[str] | None = None, units: str | None = None,
             crs_unit_m: float | None = 1.0, max_features: int = 100_000) -> DxfDrawing:
    """Return the shapes on plan layers, lots labelled, in the CRS's unit; and what was skipped.

    `layers` maps DXF layer names (case-insensitive) to kinds and replaces DEFAULT_LAYERS when
    given. `units` (a UNITS_M name) overrides $INSUNITS; `crs_unit_m` is the CRS's unit in metres
    (None: a geographic CRS, coordinates are not scaled).
    """
    mapping = layers or DEFAULT_LAYERS
    layer_kinds = {name.upper(): kind for name, kind in mapping.items()}
    labels_from = {str(name).upper() for name in label_layers} if label_layers is not None else None
    budget = _Budget(filename)
    notes: list[str] = []
    try:
        doc = _open(path, filename=filename, notes=notes)
        msp = doc.modelspace()
        unit, unit_source = _drawing_unit(doc, units, has_header=_has_header(path))
        unit_m = UNITS_M.get(unit, 1.0) if unit else (crs_unit_m or 1.0)
        scale = unit_m / crs_unit_m if crs_unit_m else 1.0
        flatten = FLATTEN_M / unit_m
        found = _Collected()
        for entity in _exploded(msp, budget, found):
            _collect(entity, layer_kinds, found, budget, flatten=flatten, max_features=max_features)
        polygons = _dedupe(found.polygons, tolerance=SNAP_M / unit_m, skipped=found.entities)
        open_linework = 0
        for kind, lines in found.lines.items():
            faces, loose = _faces(lines, tolerance=SNAP_M / unit_m)
            polygons.extend((kind, face) for face in faces)
            open_linework += loose
        if len(polygons) > max_features:
            raise FileTooLarge(f"{filename!r} has more than {max_features} closed shapes")
        if not any(kind != BLOCK_KIND for kind, _ in polygons):
            raise _unmapped(msp, mapping, filename=filename)
    except (FileTooLarge, DxfLayersUnmapped, CorruptFile):
        raise
    except (ezdxf.DXFError, UnicodeDecodeError, ValueError, OSError, AttributeError, TypeError,
            RecursionError, shapely.errors.GEOSException) as exc:
        raise CorruptFile(f"{filename!r} cannot be read as DXF: {exc}") from exc
    if scale != 1.0:
        polygons = [(kind, shapely.transform(geom, lambda xy: xy * scale)) for kind, geom in polygons]
        found.texts = [(Point(p.x * scale, p.y * scale), text, layer) for p, text, layer in found.texts]
    texts = [(p, t, layer) for p, t, layer in found.texts if labels_from is None or layer in labels_from]
    block_texts = [(p, t, layer) for p, t, layer in found.texts
                   if labels_from is None or layer in labels_from or layer_kinds.get(layer) == BLOCK_KIND]
    shapes = _label_lots(polygons, texts, block_texts)
    unit_note = _unit_note(shapes, unit=unit, unit_source=unit_source, unit_m=unit_m,
                           crs_unit_m=crs_unit_m)
    if unit_note:
        notes.append(unit_note)
    skipped: dict[str, Any] = {}
    if found.entities:
        skipped["entities"] = dict(found.entities.most_common())
    if found.layers:
        skipped["layers"] = {found.layer_names[key]: n for key, n in found.layers.most_common(LAYERS_IN_DETAIL)}
    if open_linework:
        skipped["open_linework"] = open_linework
    skipped["units"] = {"read_as": unit or "crs", "source": unit_source}
    if notes:
        skipped["notes"] = notes[:MAX_NOTES]
    return DxfDrawing(shapes=shapes, skipped=skipped)


def read_dxf_shapes(path: Path, *, filename: str, layers: Mapping[str, str] | None = None,
                    max_features: int = 100_000) -> list[DxfShape]:
    """Return the shapes of read_dxf alone (drawing units taken as the CRS's)."""
    return read_dxf(path, filename=filename, layers=layers, max_features=max_features).shapes


# --- opening, units ---------------------------------------------------------------------------


def _open(path: Path, *, filename: str, notes: list[str]):
    """Open the drawing with ezdxf; a damaged one through ezdxf's recovery mode, with a note."""
    try:
        return ezdxf.readfile(path)
    except ezdxf.DXFStructureError as first:
        try:
            doc, auditor = recover.readfile(path)
        except (ezdxf.DXFError, UnicodeDecodeError, ValueError, OSError) as exc:
            raise CorruptFile(f"{filename!r} cannot be read as DXF: {first}") from exc
        if not any(True for _ in doc.modelspace()):
            raise CorruptFile(f"{filename!r} cannot be read as DXF: {first}")
        notes.append(f"the drawing is damaged ({first}); it was read in ezdxf's recovery mode "
                     f"({len(auditor.fixes)} fixes): check the result")
        return doc


_HEADER_SECTION = re.compile(rb"SECTION[ \t]*\r?\n[ \t]*2[ \t]*\r?\n[ \t]*HEADER\b")


def _has_header(path: Path) -> bool:
    """Return whether the drawing has a HEADER section (ezdxf fills in defaults for one that has none)."""
    with open(path, "rb") as fh:
        return _HEADER_SECTION.search(fh.read(64 * 1024)) is not None


def _drawing_unit(doc, units: str | None, *, has_header: bool = True) -> tuple[str | None, str]:
    """Return the drawing unit (a UNITS_M name, or None: the CRS's) and where it came from."""
    if units:
        return units, "units field"
    if not has_header:
        return None, "no HEADER section"
    code = doc.header.get("$INSUNITS", 0) if doc.header is not None else 0
    try:
        code = int(code)
    except (TypeError, ValueError):
        code = 0
    if code in INSUNITS:
        return INSUNITS[code], f"$INSUNITS={code}"
    return None, "unset" if code == 0 else f"$INSUNITS={code} (not read)"


def _unit_note(shapes: list[DxfShape], *, unit: str | None, unit_source: str, unit_m: float,
               crs_unit_m: float | None) -> str | None:
    """Return a note naming the likely unit when the lots' median area is implausible, else None."""
    if crs_unit_m is None:
        return None
    areas = [s.geom.area * crs_unit_m ** 2 for s in shapes if s.kind == "lot" and not s.geom.is_empty]
    if not areas:
        return None
    typical = median(areas)
    low, high = PLAUSIBLE_LOT_M2
    if low <= typical <= high or typical <= 0:
        return None
    candidates = {name: typical * (m / unit_m) ** 2 for name, m in UNITS_M.items()}
    likely = min(candidates, key=lambda n: abs(math.log10(candidates[n] / TYPICAL_LOT_M2)))
    read_as = UNIT_NAMES.get(unit, "the CRS's unit") if unit else "the CRS's unit (no $INSUNITS)"
    note = (f"the lots' median area is {typical:.4g} m² with the drawing read in {read_as} "
            f"({unit_source}), implausible for lots")
    if likely != unit and low <= candidates[likely] <= high:
        note += (f"; the drawing is likely in {UNIT_NAMES[likely]} (median {candidates[likely]:.4g} m²): "
                 f"upload it again with units={likely}")
    return note


# --- walking the drawing ----------------------------------------------------------------------


def _exploded(entities, budget: _Budget, found: _Collected, depth: int = 0,
              layer: str | None = None) -> Iterator:
    """Yield the drawing's entities with blocks exploded; ATTRIBs yielded as texts."""
    for entity in entities:
        budget.entity(exploded=depth > 0)
        dxftype = entity.dxftype()
        if layer is not None and str(entity.dxf.get("layer", "0")) == "0":
            entity.dxf.layer = layer  # a virtual copy: what a block draws on layer 0 takes the INSERT's
        if dxftype != "INSERT":
            yield entity
            continue
        for attrib in getattr(entity, "attribs", ()):
            budget.entity()
            yield attrib
        if depth >= MAX_BLOCK_DEPTH:
            found.entities[f"INSERT nested deeper than {MAX_BLOCK_DEPTH}"] += 1
            continue
        inserts = entity.multi_insert() if entity.mcount > 1 else (entity,)
        insert_layer = str(entity.dxf.get("layer", "0"))
        for insert in inserts:
            try:
                yield from _exploded(insert.virtual_entities(), budget, found, depth + 1, insert_layer)
            except (ezdxf.DXFError, ValueError, ZeroDivisionError, ArithmeticError) as exc:
                found.entities[f"INSERT not exploded ({type(exc).__name__})"] += 1


def _collect(entity, layer_kinds: Mapping[str, str], found: _Collected, budget: _Budget, *,
             flatten: float, max_features: int) -> None:
    dxftype = entity.dxftype()
    layer = str(entity.dxf.get("layer", "0"))
    key = layer.upper()
    if dxftype in _TEXTS:
        text = entity.plain_text() if dxftype == "MTEXT" else _text_of(entity)
        found.texts.append((_text_point(entity), text, key))
        return
    kind = layer_kinds.get(key)
    drawn = dxftype in ("LWPOLYLINE", "POLYLINE", "HATCH", "CIRCLE") or dxftype in _LINEWORK
    if not drawn:
        found.entities[dxftype] += 1
        return
    if kind is None:
        found.layers[key] += 1
        found.layer_names.setdefault(key, layer)
        return
    if dxftype == "HATCH":
        geom = _hatch_polygon(entity, budget, flatten)
        if geom is None:
            found.entities["HATCH without a boundary"] += 1
        else:
            found.polygons.append((kind, geom, "HATCH"))
    elif dxftype == "CIRCLE":
        budget.arc(entity.dxf.radius, 360.0, flatten)
        points = budget.points(entity.flattening(flatten))
        found.polygons.append((kind, Polygon(points[:-1]), dxftype))
    elif dxftype == "POLYLINE" and (entity.is_poly_face_mesh or entity.is_polygon_mesh):
        found.entities["POLYLINE mesh"] += 1
    else:
        points = _curve_points(entity, budget, flatten)
        closed = dxftype in ("LWPOLYLINE", "POLYLINE") and (
            entity.closed if dxftype == "LWPOLYLINE" else entity.is_closed)
        if closed or (len(points) > 3 and points[0] == points[-1]):
            corners = points[:-1] if points[0] == points[-1] else points
            if len(corners) >= 3:  # a closed polyline of two vertices is a line, not a shape
                found.polygons.append((kind, Polygon(corners), dxftype))
            else:
                found.entities[f"{dxftype} closed with fewer than 3 vertices"] += 1
            return
        if len(points) >= 2:
            found.lines.setdefault(kind, []).append(points)
            if len(found.lines[kind]) > max_features:
                raise FileTooLarge(f"{budget.filename!r} has more than {max_features} line segments "
                                   f"on the plan layers")


def _curve_points(entity, budget: _Budget, flatten: float) -> list[tuple[float, float]]:
    """Return the WCS points of a LINE, ARC, ELLIPSE, SPLINE or polyline, arcs flattened within `flatten`.

    Arcs (bulges, ARC) are flattened from the true circle, not from ezdxf's Bézier approximation of it
    (ezdxf.path), which strays up to 0.03 % of the radius: 1.5 cm on a 50 m curve.
    """
    dxftype = entity.dxftype()
    if dxftype == "LINE":
        return [(entity.dxf.start.x, entity.dxf.start.y), (entity.dxf.end.x, entity.dxf.end.y)]
    if dxftype == "ARC":
        span = (entity.dxf.end_angle - entity.dxf.start_angle) % 360 or 360
        budget.arc(entity.dxf.radius, span, flatten)
        return budget.points(entity.flattening(flatten))
    if dxftype == "ELLIPSE":
        budget.arc(Vec3(entity.dxf.major_axis).magnitude, 360.0, flatten)
        return budget.points(entity.flattening(flatten))
    if dxftype == "SPLINE":
        return budget.points(entity.flattening(flatten))
    if dxftype == "LWPOLYLINE":
        vertices = [(x, y, b) for x, y, b in entity.get_points("xyb")]
        elevation = entity.dxf.elevation
    elif entity.is_2d_polyline:
        vertices = [(v.dxf.location.x, v.dxf.location.y, v.dxf.bulge) for v in entity.vertices]
        elevation = entity.dxf.elevation.z
    else:  # a 3D polyline: WCS, no bulges
        return budget.points(v.dxf.location for v in entity.vertices)
    closed = entity.closed if dxftype == "LWPOLYLINE" else entity.is_closed
    return _to_wcs(entity.ocs(), elevation, _bulged(vertices, closed=closed, budget=budget, flatten=flatten))


def _to_wcs(ocs, elevation: float, points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Return OCS points (of a polyline or hatch) in WCS; a mirrored block's copy has its extrusion reversed."""
    if not ocs.transform:
        return points
    return [(p.x, p.y) for p in ocs.points_to_wcs(Vec3(x, y, elevation) for x, y in points)]


def _bulged(vertices: list[tuple[float, float, float]], *, closed: bool, budget: _Budget,
            flatten: float) -> list[tuple[float, float]]:
    """Return a polyline's points (OCS) with each bulge (an arc) flattened to chords within `flatten`."""
    if not vertices:
        return []
    out = [(vertices[0][0], vertices[0][1])]
    count = len(vertices)
    for i in range(count if closed else count - 1):
        x, y, bulge = vertices[i]
        end = (vertices[(i + 1) % count][0], vertices[(i + 1) % count][1])
        if bulge and abs(bulge) > 1e-9 and (x, y) != end:
            center, start_angle, end_angle, radius = bulge_to_arc((x, y), end, bulge)
            budget.arc(radius, math.degrees(end_angle - start_angle) % 360, flatten)
            arc = ConstructionArc(center, radius, math.degrees(start_angle), math.degrees(end_angle))
            points = budget.points(arc.flattening(flatten))
            if bulge < 0:  # clockwise: bulge_to_arc answers the counter-clockwise arc from end to start
                points.reverse()
            out.extend(points[1:-1])
        out.append(end)
        budget.vertices += 1
    return out


def _text_of(entity) -> str:
    try:
        return entity.plain_text()
    except (AttributeError, ValueError):
        return str(entity.dxf.get("text", ""))


def _text_point(entity) -> Point:
    """Return where a text stands: its alignment point when aligned, else its insertion point."""
    if entity.dxftype() != "MTEXT":
        aligned = entity.dxf.get("halign", 0) or entity.dxf.get("valign", 0)
        point = entity.dxf.get("align_point") if aligned else None
        if point is not None:
            return Point(point.x, point.y)
    insert = entity.dxf.insert
    return Point(insert.x, insert.y)


def _hatch_polygon(hatch, budget: _Budget, flatten: float):
    """Return a HATCH's area from its boundary paths (even-odd: inner paths are holes), or None."""
    ocs, elevation = hatch.ocs(), hatch.dxf.elevation.z
    rings = []
    for boundary in hatch.paths:
        if isinstance(boundary, PolylinePath):
            points = _bulged([tuple(v) for v in boundary.vertices], closed=True, budget=budget, flatten=flatten)
        elif isinstance(boundary, EdgePath):
            points = _edge_loop(boundary, budget, flatten)
        else:  # pragma: no cover - ezdxf knows only these two
            continue
        points = _to_wcs(ocs, elevation, points)
        if len(points) >= 3:
            ring = Polygon(points)
            rings.append(ring if ring.is_valid else shapely.make_valid(ring))
    if not rings:
        return None
    area = rings[0]
    for ring in rings[1:]:
        area = area.symmetric_difference(ring)
    area = shapely.normalize(area)
    if area.is_empty:
        return None
    return area.geoms[0] if area.geom_type == "MultiPolygon" and len(area.geoms) == 1 else area


def _edge_loop(boundary: EdgePath, budget: _Budget, flatten: float) -> list[tuple[float, float]]:
    """Return the OCS points of a hatch edge path: its edges flattened and chained end to start.

    ezdxf stores clockwise arcs and ellipses as counter-clockwise ones, so an edge may run backwards:
    it is reversed where its end meets the loop (as ezdxf.path.from_hatch_edge_path chains them).
    """
    loop: list[tuple[float, float]] = []
    for edge in boundary.edges:
        if isinstance(edge, LineEdge):
            points = [(edge.start[0], edge.start[1]), (edge.end[0], edge.end[1])]
        elif isinstance(edge, ArcEdge):
            if edge.radius <= 0:
                continue
            tool = edge.construction_tool()
            budget.arc(edge.radius, (tool.end_angle - tool.start_angle) % 360 or 360, flatten)
            points = budget.points(tool.flattening(flatten))
        elif isinstance(edge, EllipseEdge):
            tool = edge.construction_tool()
            budget.arc(Vec3(tool.major_axis).magnitude, 360.0, flatten)
            points = budget.points(tool.flattening(flatten))
        elif isinstance(edge, SplineEdge):
            if len(edge.control_points):
                spline = BSpline(control_points=edge.control_points, order=edge.degree + 1,
                                 knots=edge.knot_values or None, weights=edge.weights or None)
            elif len(edge.fit_points):
                spline = fit_points_to_cad_cv(edge.fit_points)
            else:
                continue
            points = budget.points(spline.flattening(flatten))
        else:  # pragma: no cover
            continue
        if len(points) < 2:
            continue
        if not loop:
            loop = points
        elif _close(loop[-1], points[0]):
            loop.extend(points[1:])
        elif _close(loop[-1], points[-1]):
            loop.extend(reversed(points[:-1]))
        elif _close(loop[0], points[-1]):
            loop[:0] = points[:-1]
        elif _close(loop[0], points[0]):
            loop[:0] = list(reversed(points[1:]))
        else:  # a gap: the path is not one loop; keep what is chained
            continue
    return loop


def _close(a, b, tolerance: float = 1e-6) -> bool:
    return abs(a[0] - b[0]) <= tolerance and abs(a[1] - b[1]) <= tolerance


def _dedupe(polygons: list[tuple[str, Any, str]], *, tolerance: float,
            skipped: Counter) -> list[tuple[str, Any]]:
    """Drop a HATCH that fills a shape a polyline of the same kind already draws."""
    outlines = [(kind, geom) for kind, geom, source in polygons if source != "HATCH"]
    if len(outlines) == len(polygons):
        return outlines
    tree = STRtree([geom for _, geom in outlines]) if outlines else None
    out = []
    for kind, geom, source in polygons:
        if source == "HATCH" and tree is not None:
            near = tree.query(geom, predicate="intersects")
            if any(outlines[i][0] == kind and outlines[i][1].hausdorff_distance(geom) <= 10 * tolerance
                   for i in near):
                skipped["HATCH filling a polyline's shape"] += 1
                continue
        out.append((kind, geom))
    return out


def _faces(lines: list[list[tuple[float, float]]], *, tolerance: float) -> tuple[list[Polygon], int]:
    """Return the faces closed by linework whose ends meet within `tolerance`, and the open pieces left.

    Ends within the tolerance of each other are moved onto one of them; an end that meets no other end
    but stops within the tolerance of another line (a T-junction drawn short) is moved onto that line.
    The linework is then noded (lines that cross or touch split there) and polygonized.
    """
    ends = np.array([c for line in lines for c in (line[0], line[-1])], dtype=float)
    tree = STRtree(shapely.points(ends))
    near_a, near_b = tree.query(shapely.points(ends), predicate="dwithin", distance=tolerance)
    pair = near_a < near_b  # each pair once, no end with itself
    near_a, near_b = near_a[pair].tolist(), near_b[pair].tolist()
    parent = list(range(len(ends)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in zip(near_a, near_b):
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    roots = np.array([root(i) for i in range(len(ends))])
    snapped_ends = ends[roots]
    coords = [list(line) for line in lines]
    for n, line in enumerate(coords):
        line[0], line[-1] = tuple(snapped_ends[2 * n]), tuple(snapped_ends[2 * n + 1])
    # Free ends (no other end near) within the tolerance of another line: onto that line.
    free = np.flatnonzero(np.bincount(roots, minlength=len(ends))[roots] == 1)
    if len(free):
        geoms = _linestrings(coords)
        line_tree = STRtree(geoms)
        points = shapely.points(snapped_ends[free])
        hits_point, hits_line = line_tree.query(points, predicate="dwithin", distance=tolerance)
        moved: set[int] = set()
        for k, j in zip(hits_point, hits_line):
            end_i = int(free[k])
            if end_i in moved or int(j) == end_i // 2:
                continue
            target = shapely.line_interpolate_point(geoms[j], shapely.line_locate_point(geoms[j], points[k]))
            coords[end_i // 2][0 if end_i % 2 == 0 else -1] = (target.x, target.y)
            moved.add(end_i)
    kept = [line for line in coords if not (len(line) == 2 and line[0] == line[1])]
    if not kept:
        return [], 0
    noded = shapely.union_all(_linestrings(kept))
    polygons, cuts, dangles, invalid = shapely.polygonize_full([noded])
    loose = sum(shapely.get_num_geometries(g) for g in (cuts, dangles, invalid))
    return list(polygons.geoms), int(loose)


def _linestrings(lines: list[list[tuple[float, float]]]) -> np.ndarray:
    """Return the lines (each of 2 points or more) as shapely LineStrings, made in one call."""
    flat = np.asarray([point for line in lines for point in line], dtype=float)
    owners = np.repeat(np.arange(len(lines)), [len(line) for line in lines])
    return shapely.linestrings(flat, indices=owners)


# --- labels -----------------------------------------------------------------------------------


def _label_lots(polygons: list[tuple[str, Any]], texts: list[tuple[Point, str, str]],
                block_texts: list[tuple[Point, str, str]]) -> list[DxfShape]:
    """Give each lot the label inside it (of several, the one nearest its centre), and its block's."""
    shapes = [(kind, geom) for kind, geom in polygons if kind != BLOCK_KIND]
    blocks = [geom for kind, geom in polygons if kind == BLOCK_KIND]
    labels = _nearest_inside([geom for _, geom in shapes], texts,
                             [i for i, (kind, _) in enumerate(shapes) if kind == "lot"])
    lot_geoms = [geom for kind, geom in shapes if kind == "lot"]
    block_of: dict[int, str] = {}
    if blocks:
        # A block's number: a text inside the block outline but in no lot.
        lot_tree = STRtree(lot_geoms) if lot_geoms else None
        free = [t for t in block_texts
                if lot_tree is None or not len(lot_tree.query(t[0], predicate="within"))]
        block_labels = _nearest_inside(blocks, free, list(range(len(blocks))))
        block_tree = STRtree(blocks)
        for i, (kind, geom) in enumerate(shapes):
            if kind != "lot":
                continue
            inside = block_tree.query(geom.representative_point(), predicate="within")
            for b in inside:
                if int(b) in block_labels:
                    block_of[i] = _BLOCK_WORDS.sub("", block_labels[int(b)]).strip() or block_labels[int(b)]
                    break
    return [DxfShape(kind=kind, geom=geom, label=labels.get(i), block_no=block_of.get(i))
            for i, (kind, geom) in enumerate(shapes)]


def _nearest_inside(geoms: list, texts: list[tuple[Point, str, str]], wanted: list[int]) -> dict[int, str]:
    """Return {index in geoms: the non-blank text inside it nearest its centre} for the wanted indexes."""
    labels: dict[int, tuple[float, str]] = {}
    if not wanted or not texts:
        return {}
    tree = STRtree([geoms[i] for i in wanted])
    pairs = tree.query([p for p, _, _ in texts], predicate="within")  # rows: text index, geometry index
    for text_i, tree_i in zip(*pairs):
        geom_i = wanted[int(tree_i)]
        point, text, _layer = texts[int(text_i)]
        text = text.strip()
        if not text:
            continue
        distance = geoms[geom_i].centroid.distance(point)
        if geom_i not in labels or distance < labels[geom_i][0]:
            labels[geom_i] = (distance, text)
    return {i: text for i, (_, text) in labels.items()}


# --- when nothing lies on the mapped layers ---------------------------------------------------


def _layer_census(msp) -> list[dict[str, Any]]:
    """Return the layers holding entities, each with its closed shapes and texts, most shapes first.

    A closed shape is a closed polyline or a HATCH, as read_dxf reads them on a mapped layer.
    Layer names are grouped case-insensitively, as DXF compares them, under their first spelling.
    """
    names: dict[str, str] = {}
    shapes: Counter[str] = Counter()
    texts: Counter[str] = Counter()
    entities: Counter[str] = Counter()
    for n, entity in enumerate(msp):
        if n >= MAX_ENTITIES:
            break
        layer = str(entity.dxf.get("layer", "0"))
        key = layer.upper()
        names.setdefault(key, layer)
        entities[key] += 1
        dxftype = entity.dxftype()
        if dxftype == "HATCH" or (dxftype in ("LWPOLYLINE", "POLYLINE") and _is_closed(entity)):
            shapes[key] += 1
        elif dxftype in ("TEXT", "MTEXT"):
            texts[key] += 1
    census = [{"name": names[key], "closed_shapes": shapes[key], "texts": texts[key],
               "entities": entities[key]} for key in entities]
    census.sort(key=lambda c: (-c["closed_shapes"], -c["texts"], c["name"].upper()))
    return census


def _is_closed(entity) -> bool:
    if entity.dxftype() == "POLYLINE" and (entity.is_poly_face_mesh or entity.is_polygon_mesh):
        return False
    closed = entity.closed if entity.dxftype() == "LWPOLYLINE" else entity.is_closed
    if closed:
        return len(entity) >= 3
    points = [(v[0], v[1]) for v in (entity.get_points("xy") if entity.dxftype() == "LWPOLYLINE"
                                     else (v.dxf.location for v in entity.vertices))]
    return len(points) > 3 and points[0] == points[-1]


def _unmapped(msp, mapping: Mapping[str, str], *, filename: str) -> DxfLayersUnmapped:
    census = _layer_census(msp)
    mapped = ", ".join(f"{name} ({kind})" for name, kind in mapping.items())
    message = (f"{filename!r} has no closed polylines on the layers read as the plan: {mapped}. ")
    if not census:
        message += "The drawing's model space is empty."
    else:
        listed = "; ".join(
            f"{c['name']}: {_count(c['closed_shapes'], 'closed shape')}, {_count(c['texts'], 'text')}"
            for c in census[:LAYERS_IN_MESSAGE])
        more = len(census) - LAYERS_IN_MESSAGE
        listed += f"; … and {more} more" if more > 0 else ""
        message += f"The drawing's layers: {listed}. "
        with_shapes = [c["name"] for c in census if c["closed_shapes"]]
        if with_shapes:
            example = json.dumps({with_shapes[0]: "lot"})
            message += (f"Map the layers that hold lots, roads, open space and utilities with the "
                        f"upload's form field dxf_layers or the setting {LAYERS_SETTING}, e.g. "
                        f"{LAYERS_SETTING}='{example}'; lot numbers are read from texts on any "
                        f"layer unless the form field label_layers names them.")
        else:
            message += ("None holds a closed polyline: draw lots as closed polylines "
                        "(LWPOLYLINE or POLYLINE with the closed flag), hatches, or lines that meet "
                        "end to end, and map their layers with the form field dxf_layers.")
    return DxfLayersUnmapped(message, extra={
        "layers": census[:LAYERS_IN_DETAIL], "layers_total": len(census),
        "layer_mapping": dict(mapping)})


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
