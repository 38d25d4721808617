"""Test drawings of the sample plan (tests/subdivision/plan_samples.py) as surveyors really draw them.

Each drawing holds the same four 20 m x 30 m lots (numbers 1-4) and the 80 m x 10 m road as
samples.sample_dxf, drawn another way: hatches, loose lines and arcs, blocks, bulges, other units,
no HEADER section, lot numbers per block, spot heights beside the labels. Written with ezdxf.
Where a drawing rounds lot 4's corner with an arc, ``rounded_rows`` gives the exact shape.
"""

from __future__ import annotations

import io
import math
import xml.etree.ElementTree as ET
import zipfile

import ezdxf
import shapely
from ezdxf.enums import TextEntityAlignment
from shapely.geometry import Point, box

from tests.subdivision import plan_samples as samples

ROUND_RADIUS_M = 5.0  # lot 4's lower right corner, rounded where the drawing has an arc
QUARTER_BULGE = math.tan(math.radians(90) / 4)  # a 90° arc, counter-clockwise


def _write(doc) -> bytes:
    stream = io.StringIO()
    doc.write(stream)
    return stream.getvalue().encode("utf-8")


def _corners(geom) -> list[tuple[float, float]]:
    return list(geom.exterior.coords)[:-1]


def _label(msp, row, layer: str = "LOT_NO", *, scale: float = 1.0) -> None:
    c = row["geometry"].centroid
    msp.add_text(row["lot_no"], dxfattribs={"layer": layer, "height": 2.0 / scale,
                                            "insert": (c.x / scale, c.y / scale)})


def rows() -> list[dict]:
    return samples.sample_rows()


def rounded_rows() -> list[dict]:
    """The sample plan with lot 4's lower right corner rounded (radius ROUND_RADIUS_M), exactly."""
    out = rows()
    lot4 = out[-1]
    _left, bottom, right, _top = lot4["geometry"].bounds
    r = ROUND_RADIUS_M
    corner = box(right - r, bottom, right, bottom + r)
    disc = Point(right - r, bottom + r).buffer(r, quad_segs=4096)
    lot4["geometry"] = lot4["geometry"].difference(corner).union(disc.intersection(corner))
    return out


def _rounded_lot4_path(row) -> list[tuple[float, float, float]]:
    """Lot 4's outline as (x, y, bulge), counter-clockwise, the arc starting at the bottom edge."""
    left, bottom, right, top = row["geometry"].bounds
    r = ROUND_RADIUS_M
    return [(left, bottom, 0.0), (right - r, bottom, QUARTER_BULGE), (right, bottom + r, 0.0),
            (right, top, 0.0), (left, top, 0.0)]


# --- hatches ---------------------------------------------------------------------------------------


def hatch_dxf() -> bytes:
    """Lots as HATCHes with polyline boundary paths on PARCELAS, the road as a HATCH with an edge path
    of lines on VIAS, lot 1 also outlined by a polyline (its hatch is then the same shape, read once)."""
    doc = ezdxf.new("R2010")
    msp = doc.modelspace()
    for row in rows():
        hatch = msp.add_hatch(color=3, dxfattribs={"layer": "PARCELAS" if row["kind"] == "lot" else "VIAS"})
        corners = _corners(row["geometry"])
        if row["kind"] == "lot":
            hatch.paths.add_polyline_path(corners, is_closed=True)
            _label(msp, row)
        else:
            edges = hatch.paths.add_edge_path()
            for a, b in zip(corners, corners[1:] + corners[:1]):
                edges.add_line(a, b)
    msp.add_lwpolyline(_corners(rows()[1]["geometry"]), close=True, dxfattribs={"layer": "PARCELAS"})
    return _write(doc)


def hatch_edges_dxf() -> bytes:
    """Lot 4 as a HATCH whose edge path has lines and an arc (its rounded corner); lot 3 as a HATCH whose
    edge path has a (straight, degree 1) spline for its bottom edge, and a hole (an inner polyline path)."""
    doc = ezdxf.new("R2010")
    msp = doc.modelspace()
    plan = rounded_rows()
    for row in plan[:3]:
        msp.add_lwpolyline(_corners(row["geometry"]), close=True,
                           dxfattribs={"layer": "LOTS" if row["kind"] == "lot" else "ROADS"})
        if row["lot_no"]:
            _label(msp, row)
    # Lot 3: bottom edge a straight spline (degree 1), right edge half of a flat ellipse: straight too.
    left, bottom, right, top = plan[3]["geometry"].bounds
    hatch = msp.add_hatch(dxfattribs={"layer": "LOTS"})
    edges = hatch.paths.add_edge_path()
    edges.add_spline(control_points=[(left, bottom), (left + 10, bottom), (right, bottom)], degree=1)
    edges.add_line((right, bottom), (right, top))
    edges.add_line((right, top), (left, top))
    edges.add_line((left, top), (left, bottom))
    hole = box(left + 5, bottom + 5, left + 8, bottom + 8)
    hatch.paths.add_polyline_path(_corners(hole), is_closed=True, flags=ezdxf.const.BOUNDARY_PATH_DEFAULT)
    _label(msp, plan[3])
    # Lot 4: lines and a counter-clockwise arc from -90° to 0°.
    lot4 = plan[4]
    left, bottom, right, top = lot4["geometry"].bounds
    r = ROUND_RADIUS_M
    hatch = msp.add_hatch(dxfattribs={"layer": "LOTS"})
    edges = hatch.paths.add_edge_path()
    edges.add_line((left, bottom), (right - r, bottom))
    edges.add_arc((right - r, bottom + r), r, -90, 0, ccw=True)
    edges.add_line((right, bottom + r), (right, top))
    edges.add_line((right, top), (left, top))
    edges.add_line((left, top), (left, bottom))
    _label(msp, lot4)
    return _write(doc)


LOT3_HOLE_M2 = 9.0
ELLIPSE_AXES_M = (10.0, 5.0)


def ellipse_hatch_dxf() -> bytes:
    """One lot: a HATCH whose edge path is a full ellipse (semi-axes ELLIPSE_AXES_M), labelled "E"."""
    doc = ezdxf.new("R2010")
    msp = doc.modelspace()
    x0, y0 = rows()[0]["geometry"].bounds[:2]
    a, b = ELLIPSE_AXES_M
    hatch = msp.add_hatch(dxfattribs={"layer": "LOTS"})
    hatch.paths.add_edge_path().add_ellipse((x0, y0), major_axis=(a, 0), ratio=b / a, start_angle=0,
                                            end_angle=360)
    msp.add_text("E", dxfattribs={"layer": "LOT_NO", "insert": (x0, y0)})
    return _write(doc)


# --- loose linework ---------------------------------------------------------------------------------


def linework_dxf(*, gap_m: float = 0.0006) -> bytes:
    """Every edge a LINE (shared edges drawn twice, the road's top edge in four pieces meeting the lots'
    corners end to end), except lot 3: an open LWPOLYLINE of three sides and a LINE; lot 4's last edge stops
    `gap_m` short of its corner. A dangling line and an ARC leading nowhere are open linework."""
    doc = ezdxf.new("R2010")
    msp = doc.modelspace()
    for row in rows():
        layer = "LOTS" if row["kind"] == "lot" else "ROADS"
        corners = _corners(row["geometry"])
        edges = list(zip(corners, corners[1:] + corners[:1]))
        if row["kind"] == "road":
            x0, y0, x1, y1 = row["geometry"].bounds
            edges = [((x0, y0), (x1, y0)), ((x1, y0), (x1, y1)), ((x0, y1), (x0, y0))]
            edges += [((x0 + 20 * (i + 1), y1), (x0 + 20 * i, y1)) for i in range(4)]
        if row["lot_no"] == "3":
            msp.add_lwpolyline([edges[0][0], edges[1][0], edges[2][0], edges[3][0]], dxfattribs={"layer": layer})
            msp.add_line(edges[3][0], edges[3][1], dxfattribs={"layer": layer})
        else:
            for n, (a, b) in enumerate(edges):
                if row["lot_no"] == "4" and n == len(edges) - 1:
                    b = (b[0] - gap_m, b[1])  # the last edge of lot 4 (westward) stops short of its corner
                msp.add_line(a, b, dxfattribs={"layer": layer})
        if row["lot_no"]:
            _label(msp, row)
    x0, y0 = rows()[0]["geometry"].bounds[:2]
    msp.add_line((x0 - 5, y0 - 5), (x0 - 30, y0 - 5), dxfattribs={"layer": "LOTS"})
    msp.add_arc((x0 - 50, y0 - 50), 5, 0, 90, dxfattribs={"layer": "LOTS"})
    msp.add_point((x0, y0), dxfattribs={"layer": "LOTS"})
    msp.add_line((x0, y0), (x0 + 1, y0 + 1), dxfattribs={"layer": "GRID"})
    return _write(doc)


def t_junction_dxf(*, short_m: float) -> bytes:
    """The lots as one 80 m LINE in front, one behind, the two ends, and three dividing LINEs from the back
    line that stop `short_m` short of the front one (T-junctions); the road a closed polyline."""
    doc = ezdxf.new("R2010")
    msp = doc.modelspace()
    road, *lots = rows()
    msp.add_lwpolyline(_corners(road["geometry"]), close=True, dxfattribs={"layer": "ROADS"})
    left, bottom = lots[0]["geometry"].bounds[:2]
    right, top = lots[-1]["geometry"].bounds[2:]
    for a, b in [((left, bottom), (right, bottom)), ((right, top), (left, top)),
                 ((left, top), (left, bottom)), ((right, bottom), (right, top))]:
        msp.add_line(a, b, dxfattribs={"layer": "LOTS"})
    for row in lots[1:]:
        x = row["geometry"].bounds[0]
        msp.add_line((x, top), (x, bottom + short_m), dxfattribs={"layer": "LOTS"})
    for row in lots:
        _label(msp, row)
    return _write(doc)


# --- arcs: bulges and ARC entities --------------------------------------------------------------------


def rounded_dxf(how: str, *, version: str = "R2010") -> bytes:
    """The plan with lot 4's corner rounded, drawn as an LWPOLYLINE with a bulge ("lwpolyline"), a 2D POLYLINE
    with a bulge ("polyline") or LINEs and an ARC ("linework")."""
    doc = ezdxf.new(version)
    msp = doc.modelspace()
    for row in rows():
        layer = "LOTS" if row["kind"] == "lot" else "ROADS"
        if row["lot_no"] != "4":
            if how == "linework":
                corners = _corners(row["geometry"])
                for a, b in zip(corners, corners[1:] + corners[:1]):
                    msp.add_line(a, b, dxfattribs={"layer": layer})
            else:
                msp.add_lwpolyline(_corners(row["geometry"]), close=True, dxfattribs={"layer": layer})
        else:
            path = _rounded_lot4_path(row)
            if how == "lwpolyline":
                msp.add_lwpolyline(path, format="xyb", close=True, dxfattribs={"layer": layer})
            elif how == "polyline":
                polyline = msp.add_polyline2d([(x, y) for x, y, _ in path], close=True, dxfattribs={"layer": layer})
                for vertex, (_, _, bulge) in zip(polyline.vertices, path):
                    vertex.dxf.bulge = bulge
            else:
                left, bottom, right, top = row["geometry"].bounds
                r = ROUND_RADIUS_M
                msp.add_line((left, bottom), (right - r, bottom), dxfattribs={"layer": layer})
                msp.add_arc((right - r, bottom + r), r, 270, 0, dxfattribs={"layer": layer})
                for a, b in [((right, bottom + r), (right, top)), ((right, top), (left, top)),
                             ((left, top), (left, bottom))]:
                    msp.add_line(a, b, dxfattribs={"layer": layer})
        if row["lot_no"]:
            _label(msp, row)
    return _write(doc)


def headerless_dxf() -> bytes:
    """The rounded plan drawn with LINEs and an ARC in an R12 file cut down to its ENTITIES section: no HEADER,
    no TABLES, no BLOCKS, no handles, as some CAD exporters write."""
    text = rounded_dxf("linework", version="R12").decode()
    lines = text.splitlines()
    pairs = list(zip(lines[0::2], lines[1::2]))
    start = next(i for i, (c, v) in enumerate(pairs) if c.strip() == "2" and v == "ENTITIES") - 1
    end = next(i for i in range(start, len(pairs)) if pairs[i][1] == "ENDSEC")
    kept = [(c, v) for c, v in pairs[start:end + 1] if c.strip() != "5"]  # no handles
    kept.append(("  0", "EOF"))
    return ("\n".join(f"{c}\n{v}" for c, v in kept) + "\n").encode()


# --- blocks -------------------------------------------------------------------------------------------


def blocks_dxf() -> bytes:
    """Every shape an INSERT of one unit-square block: lot 1 scaled, lot 2 rotated 90°, lot 3 mirrored
    (negative x scale), lot 4 inside a nested block; lot numbers as ATTRIBs (1, 2), MTEXT (3) and TEXT
    (4, inside the nested block). The block draws on layer 0, so each shape takes its INSERT's layer."""
    doc = ezdxf.new("R2010")
    square = doc.blocks.new("UNIT")
    square.add_lwpolyline([(0, 0), (1, 0), (1, 1), (0, 1)], close=True, dxfattribs={"layer": "0"})
    plan = rows()
    road, lots = plan[0], plan[1:]
    msp = doc.modelspace()
    rx, ry = road["geometry"].bounds[:2]
    msp.add_blockref("UNIT", (rx, ry), dxfattribs={"layer": "ROADS", "xscale": 80, "yscale": 10})
    (l1, b1, _, _), (l2, b2, _, _), (l3, b3, _, _), (l4, b4, _, _) = (r["geometry"].bounds for r in lots)
    w, d = samples.LOT_WIDTH_M, samples.LOT_DEPTH_M
    one = msp.add_blockref("UNIT", (l1, b1), dxfattribs={"layer": "LOTS", "xscale": w, "yscale": d})
    one.add_attrib("LOT", "1", insert=lots[0]["geometry"].centroid.coords[0])
    # Rotated 90° counter-clockwise: the unit square's x axis points north, so it spans depth along x.
    two = msp.add_blockref("UNIT", (l2 + w, b2), dxfattribs={"layer": "LOTS", "xscale": d, "yscale": w,
                                                               "rotation": 90})
    two.add_attrib("LOT", "2", insert=lots[1]["geometry"].centroid.coords[0])
    msp.add_blockref("UNIT", (l3 + w, b3), dxfattribs={"layer": "LOTS", "xscale": -w, "yscale": d})
    c3 = lots[2]["geometry"].centroid
    msp.add_mtext("3", dxfattribs={"layer": "LOT_NO", "insert": (c3.x, c3.y)})
    nested = doc.blocks.new("LOT_WITH_NUMBER")
    nested.add_blockref("UNIT", (0, 0), dxfattribs={"layer": "0", "xscale": w / 2, "yscale": d / 2})
    nested.add_text("4", dxfattribs={"layer": "LOT_NO", "height": 1.0, "insert": (w / 4, d / 4)})
    msp.add_blockref("LOT_WITH_NUMBER", (l4, b4), dxfattribs={"layer": "LOTS", "xscale": 2, "yscale": 2})
    return _write(doc)


# --- units ----------------------------------------------------------------------------------------------

INSUNITS = {"in": 1, "ft": 2, "mm": 4, "cm": 5, "m": 6, "us_ft": 21}
UNIT_M = {"m": 1.0, "mm": 0.001, "cm": 0.01, "ft": 0.3048, "us_ft": 1200 / 3937, "in": 0.0254}


def units_dxf(unit: str, *, insunits: int | None = None) -> bytes:
    """The plan drawn in `unit` (coordinates divided by the unit's metres); $INSUNITS says `insunits`,
    the unit's own code when None."""
    doc = ezdxf.new("R2010")
    doc.header["$INSUNITS"] = INSUNITS[unit] if insunits is None else insunits
    scale = UNIT_M[unit]
    msp = doc.modelspace()
    for row in rows():
        corners = [(x / scale, y / scale) for x, y in _corners(row["geometry"])]
        msp.add_lwpolyline(corners, close=True, dxfattribs={"layer": "LOTS" if row["kind"] == "lot" else "ROADS"})
        if row["lot_no"]:
            _label(msp, row, scale=scale)
    return _write(doc)


# --- labels: spot heights, blocks -------------------------------------------------------------------


def spot_heights_dxf() -> bytes:
    """The plain plan, with lot numbers off the lots' centres and a spot height (e.g. "26.621") at each
    lot's centre on layer SPOT_HEIGHTS, nearer than the number: only label_layers tells them apart."""
    doc = ezdxf.new("R2010")
    msp = doc.modelspace()
    for n, row in enumerate(rows()):
        msp.add_lwpolyline(_corners(row["geometry"]), close=True,
                           dxfattribs={"layer": "PARCEL" if row["kind"] == "lot" else "STREET"})
        c = row["geometry"].centroid
        if row["lot_no"]:
            msp.add_text(row["lot_no"], height=2.0, dxfattribs={"layer": "LOT_NO"}).set_placement(
                (c.x - 5, c.y + 8), align=TextEntityAlignment.MIDDLE_CENTER)
        msp.add_text(f"26.{621 + n}", dxfattribs={"layer": "SPOT_HEIGHTS", "height": 1.0, "insert": (c.x, c.y)})
    return _write(doc)


def per_block_dxf() -> bytes:
    """Lots 1-2 in block (quadra) 7 and lots 3-4 in block 8, both numbered 1 and 2 within their block;
    each block outlined on QUADRAS with its number ("QUADRA 7") inside the outline but in no lot."""
    doc = ezdxf.new("R2010")
    msp = doc.modelspace()
    plan = rows()
    msp.add_lwpolyline(_corners(plan[0]["geometry"]), close=True, dxfattribs={"layer": "VIAS"})
    for block, pair in (("7", plan[1:3]), ("8", plan[3:5])):
        for n, row in enumerate(pair):
            msp.add_lwpolyline(_corners(row["geometry"]), close=True, dxfattribs={"layer": "LOTES"})
            c = row["geometry"].centroid
            msp.add_text(str(n + 1), dxfattribs={"layer": "NUMEROS", "height": 2.0, "insert": (c.x, c.y)})
        outline = shapely.union_all([r["geometry"] for r in pair]).envelope
        left, bottom, right, top = outline.bounds
        msp.add_lwpolyline(_corners(box(left, bottom, right, top + 8)), close=True, dxfattribs={"layer": "QUADRAS"})
        msp.add_text(f"QUADRA {block}", dxfattribs={"layer": "NUMEROS", "height": 2.0,
                                                    "insert": ((left + right) / 2 - 5, top + 3)})
    return _write(doc)


PER_BLOCK_LOTS = ["7/1", "7/2", "8/1", "8/2"]


def buildings_dxf() -> bytes:
    """The plain plan on Spanish layer names, with a building footprint inside each lot on EDIFICIOS."""
    doc = ezdxf.new("R2010")
    msp = doc.modelspace()
    for row in rows():
        msp.add_lwpolyline(_corners(row["geometry"]), close=True,
                           dxfattribs={"layer": "PARCELAS" if row["kind"] == "lot" else "VIAS"})
        if row["lot_no"]:
            _label(msp, row)
            left, bottom, right, top = row["geometry"].bounds
            msp.add_lwpolyline(_corners(box(left + 3, bottom + 6, right - 3, top - 4)), close=True,
                               dxfattribs={"layer": "EDIFICIOS"})
    msp.add_aligned_dim(p1=(0, 0), p2=(10, 0), distance=1).render()  # a DIMENSION: skipped, counted
    return _write(doc)


# --- KML with gx: tracks, KMZ of several documents ----------------------------------------------------

_KML = "http://www.opengis.net/kml/2.2"
_GX = "http://www.google.com/kml/ext/2.2"


def _kml_document(rows_: list[dict], *, track: bool = False) -> bytes:
    ET.register_namespace("", _KML)
    ET.register_namespace("gx", _GX)
    from pyproj import Transformer

    to_wgs84 = Transformer.from_crs(samples.SRID, 4326, always_xy=True)
    kml = ET.Element(f"{{{_KML}}}kml")
    doc = ET.SubElement(kml, f"{{{_KML}}}Document")
    for row in rows_:
        placemark = ET.SubElement(doc, f"{{{_KML}}}Placemark")
        if row["lot_no"]:
            ET.SubElement(placemark, f"{{{_KML}}}name").text = row["lot_no"]
        data = ET.SubElement(placemark, f"{{{_KML}}}ExtendedData")
        for key in ("kind", "lot_no"):
            if row[key]:
                d = ET.SubElement(data, f"{{{_KML}}}Data", name=key)
                ET.SubElement(d, f"{{{_KML}}}value").text = row[key]
        polygon = ET.SubElement(placemark, f"{{{_KML}}}Polygon")
        ET.SubElement(polygon, f"{{{_GX}}}altitudeMode").text = "clampToSeaFloor"
        ring = ET.SubElement(ET.SubElement(polygon, f"{{{_KML}}}outerBoundaryIs"), f"{{{_KML}}}LinearRing")
        coords = [to_wgs84.transform(x, y) for x, y in row["geometry"].exterior.coords]
        ET.SubElement(ring, f"{{{_KML}}}coordinates").text = " ".join(f"{x!r},{y!r},0" for x, y in coords)
    if track:
        placemark = ET.SubElement(doc, f"{{{_KML}}}Placemark")
        ET.SubElement(placemark, f"{{{_KML}}}name").text = "survey walk"
        gx_track = ET.SubElement(placemark, f"{{{_GX}}}Track")
        for x, y in rows_[0]["geometry"].exterior.coords[:3]:
            lon, lat = to_wgs84.transform(x, y)
            ET.SubElement(gx_track, f"{{{_GX}}}coord").text = f"{lon} {lat} 0"
        multi = ET.SubElement(doc, f"{{{_KML}}}Placemark")
        ET.SubElement(multi, f"{{{_GX}}}MultiTrack").append(ET.Element(f"{{{_GX}}}Track"))
    return ET.tostring(kml, xml_declaration=True, encoding="utf-8")


def gx_kml() -> bytes:
    """The plan as KML with gx:altitudeMode in each polygon and two gx:Track placemarks (lines)."""
    return _kml_document(rows(), track=True)


def multi_document_kmz() -> bytes:
    """A KMZ of three documents: doc.kml (the road), lots/a.kml (lots 1-2), lots/b.kml (lots 3-4)."""
    plan = rows()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("doc.kml", _kml_document(plan[:1]))
        zf.writestr("lots/a.kml", _kml_document(plan[1:3]))
        zf.writestr("lots/b.kml", _kml_document(plan[3:5], track=True))
    return buffer.getvalue()


def per_block_geojson() -> bytes:
    """The plan as GeoJSON (UTM) with lots numbered 1-2 within blocks 7 and 8 (attribute block_no)."""
    import json

    features = []
    for n, row in enumerate(rows()):
        props = {"kind": row["kind"]}
        if row["lot_no"]:
            props.update(lot_no=str((n - 1) % 2 + 1), block_no="7" if n <= 2 else "8")
        features.append({"type": "Feature", "properties": props,
                         "geometry": shapely.geometry.mapping(row["geometry"])})
    return json.dumps({"type": "FeatureCollection", "features": features,
                       "crs": {"type": "name", "properties": {"name": f"EPSG:{samples.SRID}"}}}).encode()
