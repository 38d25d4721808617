"""Read closed polylines and their lot-number labels from a DXF drawing.

Read with ezdxf rather than GDAL's DXF driver: GDAL flattens a drawing into one
``entities`` layer and guesses which line work forms polygons, whereas ezdxf exposes
each polyline's *closed* flag, its bulges (arc segments, flattened here to 1 mm),
and TEXT/MTEXT insertion points and plain text, which is what a surveyor's plan
means. A polyline whose last vertex repeats its first is taken as closed too.

When no closed polyline lies on a mapped layer, the error lists the drawing's layers
with what each holds, so the surveyor can see which to map.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import ezdxf
from ezdxf import path as dxf_path
from shapely import STRtree
from shapely.geometry import Point, Polygon

from .errors import CorruptFile, DxfLayersUnmapped, FileTooLarge

DEFAULT_LAYERS = {"LOTS": "lot", "ROADS": "road", "OPEN_SPACE": "open_space", "UTILITY": "utility"}
# Arc segments are flattened to chords that stray at most this far (drawing units, metres).
FLATTEN_DISTANCE = 0.001
# How many layers the "no plan layers" message names, and the structured detail lists.
LAYERS_IN_MESSAGE = 20
LAYERS_IN_DETAIL = 200
LAYERS_SETTING = "GISPORTAL_DXF_LAYERS"


@dataclass(frozen=True)
class DxfShape:
    """A closed polyline on a plan layer, with its label when it is a lot."""

    kind: str
    geom: Polygon
    label: str | None


def read_dxf_shapes(path: Path, *, filename: str, layers: Mapping[str, str] | None = None,
                    max_features: int = 100_000) -> list[DxfShape]:
    """Return the closed polylines on plan layers, in drawing order, lots labelled.

    `layers` maps DXF layer names (case-insensitive) to kinds and replaces
    DEFAULT_LAYERS when given.
    """
    mapping = layers or DEFAULT_LAYERS
    layer_kinds = {name.upper(): kind for name, kind in mapping.items()}
    try:
        doc = ezdxf.readfile(path)
        msp = doc.modelspace()
        polygons: list[tuple[str, Polygon]] = []
        texts: list[tuple[Point, str]] = []
        for entity in msp:
            dxftype = entity.dxftype()
            if dxftype in ("LWPOLYLINE", "POLYLINE"):
                kind = layer_kinds.get(entity.dxf.layer.upper())
                if kind is None:
                    continue
                polygon = _closed_polygon(entity)
                if polygon is not None:
                    polygons.append((kind, polygon))
                    if len(polygons) > max_features:
                        raise FileTooLarge(
                            f"{filename!r} has more than {max_features} closed polylines")
            elif dxftype == "TEXT":
                texts.append((Point(entity.dxf.insert.x, entity.dxf.insert.y),
                              entity.dxf.text))
            elif dxftype == "MTEXT":
                texts.append((Point(entity.dxf.insert.x, entity.dxf.insert.y),
                              entity.plain_text()))
        if not polygons:
            raise _unmapped(msp, mapping, filename=filename)
    except (FileTooLarge, DxfLayersUnmapped):
        raise
    except (ezdxf.DXFError, UnicodeDecodeError, ValueError, OSError, AttributeError) as exc:
        raise CorruptFile(f"{filename!r} cannot be read as DXF: {exc}") from exc
    return _label_lots(polygons, texts)


def _closed_polygon(entity) -> Polygon | None:
    if entity.dxftype() == "POLYLINE" and (entity.is_poly_face_mesh or entity.is_polygon_mesh):
        return None
    closed = entity.closed if entity.dxftype() == "LWPOLYLINE" else entity.is_closed
    points = [(v.x, v.y) for v in dxf_path.make_path(entity).flattening(FLATTEN_DISTANCE)]
    if not closed and not (len(points) > 3 and points[0] == points[-1]):
        return None
    corners = points[:-1] if points and points[0] == points[-1] else points
    if len(corners) < 3:  # a closed polyline of two vertices is a line, not a shape
        return None
    return Polygon(corners)


def _layer_census(msp) -> list[dict[str, Any]]:
    """Return the layers holding entities, each with its closed shapes and texts, most shapes first.

    A closed shape is what read_dxf_shapes would read on a mapped layer. Layer names
    are grouped case-insensitively, as DXF compares them, under their first spelling.
    """
    names: dict[str, str] = {}
    shapes: Counter[str] = Counter()
    texts: Counter[str] = Counter()
    entities: Counter[str] = Counter()
    for entity in msp:
        layer = str(entity.dxf.get("layer", "0"))
        key = layer.upper()
        names.setdefault(key, layer)
        entities[key] += 1
        dxftype = entity.dxftype()
        if dxftype in ("LWPOLYLINE", "POLYLINE") and _closed_polygon(entity) is not None:
            shapes[key] += 1
        elif dxftype in ("TEXT", "MTEXT"):
            texts[key] += 1
    census = [{"name": names[key], "closed_shapes": shapes[key], "texts": texts[key],
               "entities": entities[key]} for key in entities]
    census.sort(key=lambda c: (-c["closed_shapes"], -c["texts"], c["name"].upper()))
    return census


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
                        f"setting {LAYERS_SETTING}, e.g. {LAYERS_SETTING}='{example}'; lot "
                        f"numbers are read from texts on any layer.")
        else:
            message += ("None holds a closed polyline: draw lots as closed polylines "
                        "(LWPOLYLINE or POLYLINE with the closed flag).")
    return DxfLayersUnmapped(message, extra={
        "layers": census[:LAYERS_IN_DETAIL], "layers_total": len(census),
        "layer_mapping": dict(mapping)})


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _label_lots(polygons: list[tuple[str, Polygon]],
                texts: list[tuple[Point, str]]) -> list[DxfShape]:
    """Give each lot the label inside it; of several, the one nearest its centre."""
    lot_positions = [i for i, (kind, _) in enumerate(polygons) if kind == "lot"]
    labels: dict[int, tuple[float, str]] = {}
    if lot_positions and texts:
        tree = STRtree([polygons[i][1] for i in lot_positions])
        points = [p for p, _ in texts]
        pairs = tree.query(points, predicate="within")  # rows: text index, lot index
        for text_i, tree_i in zip(*pairs):
            lot_i = lot_positions[int(tree_i)]
            point, text = texts[int(text_i)]
            text = text.strip()
            if not text:
                continue
            distance = polygons[lot_i][1].centroid.distance(point)
            if lot_i not in labels or distance < labels[lot_i][0]:
                labels[lot_i] = (distance, text)
    return [DxfShape(kind=kind, geom=geom, label=labels[i][1] if i in labels else None)
            for i, (kind, geom) in enumerate(polygons)]
