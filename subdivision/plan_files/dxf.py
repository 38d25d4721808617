"""Read closed polylines and their lot-number labels from a DXF drawing.

Read with ezdxf rather than GDAL's DXF driver: GDAL flattens a drawing into one
``entities`` layer and guesses which line work forms polygons, whereas ezdxf exposes
each polyline's *closed* flag, its bulges (arc segments, flattened here to 1 mm),
and TEXT/MTEXT insertion points and plain text, which is what a surveyor's plan
means. A polyline whose last vertex repeats its first is taken as closed too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import ezdxf
from ezdxf import path as dxf_path
from shapely import STRtree
from shapely.geometry import Point, Polygon

from .errors import CorruptFile, FileTooLarge

DEFAULT_LAYERS = {"LOTS": "lot", "ROADS": "road", "OPEN_SPACE": "open_space", "UTILITY": "utility"}
# Arc segments are flattened to chords that stray at most this far (drawing units, metres).
FLATTEN_DISTANCE = 0.001


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
    layer_kinds = {name.upper(): kind for name, kind in (layers or DEFAULT_LAYERS).items()}
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
    except FileTooLarge:
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
    if len(points) < 3:
        return None
    return Polygon(points)


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
