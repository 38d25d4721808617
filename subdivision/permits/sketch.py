"""Draw the parcel sketch (كروكي): one A4 page, in Arabic and English, from a site report and its shapes.

fpdf2 writes the PDF; HarfBuzz (uharfbuzz) shapes the Arabic and the Unicode bidi algorithm puts it
right to left, and the fonts embed a ToUnicode map, so the text stays extractable in logical order.
Drawing only: the facts come measured (``report``), the shapes in the metric CRS (metres).
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass

import numpy as np
import shapely
import shapely.affinity
import shapely.ops
from fpdf import FPDF
from shapely.geometry.base import BaseGeometry

from subdivision.permits.fonts import SketchFonts
from subdivision.permits.geometry import Edge, Street

# fontTools logs every table it subsets at INFO: a dozen lines per PDF in the request log.
logging.getLogger("fontTools").setLevel(logging.WARNING)

PAGE_W, PAGE_H = 210.0, 297.0
MARGIN = 10.0
FRAME = (MARGIN, 29.0, PAGE_W - 2 * MARGIN, 138.0)  # x, y, width, height of the map, mm
STRIP_H = 12.0  # below the map: scale bar, legend and north arrow, never over the drawing
TABLES_Y = FRAME[1] + FRAME[3] + STRIP_H + 1.5
LABEL_ROOM_MM = 8.5  # kept free around the parcel for dimensions and corner numbers
SCALES = (100, 200, 250, 500, 1000, 1250, 2000, 2500, 5000, 10000, 20000, 25000, 50000, 100000)
SCALE_BAR_STEPS_M = (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000)
ARABIC = re.compile(r"[\u0600-\u06FF\u0750-\u077F\u08A0-\u08FF\uFB50-\uFDFF\uFE70-\uFEFF]")

PARCEL_FILL = (255, 246, 214)
STREET_FILL = (226, 226, 226)
NEIGHBOUR_LINE = (140, 140, 140)
BUILDABLE_LINE = (30, 90, 200)
DIMENSION_TEXT = (170, 20, 20)


@dataclass(frozen=True)
class SketchShapes:
    """What the sketch draws, in the metric CRS."""

    parcel: BaseGeometry
    neighbours: list[tuple[str, BaseGeometry]]
    streets: list[Street]
    street_rows: BaseGeometry | None
    edges: list[Edge]
    buildable: BaseGeometry


def map_scale(width_m: float, height_m: float, *, frame_w_mm: float, frame_h_mm: float) -> int:
    """Return the largest round scale (smallest denominator) at which the parcel fits the frame with room
    for its labels.

    >>> map_scale(20, 30, frame_w_mm=190, frame_h_mm=146)
    250
    """
    room_w, room_h = frame_w_mm - 2 * LABEL_ROOM_MM, frame_h_mm - 2 * LABEL_ROOM_MM
    for denominator in SCALES:
        if width_m * 1000 / denominator <= room_w and height_m * 1000 / denominator <= room_h:
            return denominator
    return SCALES[-1]


def scale_bar_m(denominator: int, *, longest_mm: float = 50.0) -> int:
    """Return the longest round length whose bar is at most LONGEST_MM on the page (at least 1 m)."""
    fitting = [s for s in SCALE_BAR_STEPS_M if s * 1000 / denominator <= longest_mm]
    return fitting[-1] if fitting else SCALE_BAR_STEPS_M[0]


def _upright_angle(dx: float, dy: float) -> float:
    """Return the page angle (degrees, counter-clockwise) of a direction, turned to read left to right."""
    angle = math.degrees(math.atan2(dy, dx))
    if angle > 90 + 1e-6:
        angle -= 180
    elif angle <= -90 + 1e-6:
        angle += 180  # vertical text reads bottom to top, as on drawings
    return angle


class _Page:
    """An A4 page with the two fonts, drawing in millimetres; text picks its font by script."""

    def __init__(self, fonts: SketchFonts):
        pdf = FPDF(orientation="portrait", unit="mm", format="A4")
        pdf.set_auto_page_break(False)
        pdf.set_margins(MARGIN, MARGIN, MARGIN)
        pdf.add_font("arabic", "", str(fonts.arabic))
        pdf.add_font("latin", "", str(fonts.latin))
        pdf.add_font("latin", "B", str(fonts.latin_bold))
        # Latin letters, digits and signs the Arabic font lacks come from the Latin font.
        pdf.set_fallback_fonts(["latin"])
        pdf.set_text_shaping(use_shaping_engine=True)  # direction from the text (Unicode bidi)
        pdf.add_page()
        self.pdf = pdf

    def font_for(self, text: str, size: float, bold: bool = False) -> None:
        if ARABIC.search(text):
            # Naskh is set a little larger than the Latin size to look the same size beside it.
            self.pdf.set_font("arabic", "", size * 1.15)
        else:
            self.pdf.set_font("latin", "B" if bold else "", size)

    def fit(self, text: str, width: float, size: float, bold: bool = False, smallest: float = 4.5) -> str:
        """Set the largest font size down to SMALLEST at which TEXT fits WIDTH; cut it with … if never."""
        while True:
            self.font_for(text, size, bold)
            if self.pdf.get_string_width(text) <= width or size <= smallest:
                break
            size -= 0.5
        while self.pdf.get_string_width(text) > width and len(text) > 2:
            text = text[:-2] + "…"
        return text

    def cell(self, x: float, y: float, w: float, h: float, text: str, *, size: float = 8, align: str = "L",
             bold: bool = False, color=(0, 0, 0)) -> None:
        text = self.fit(text, w - 0.6, size, bold)
        self.pdf.set_text_color(*color)
        self.pdf.set_xy(x, y)
        self.pdf.cell(w, h, text, align=align)
        self._forget_font()

    def _forget_font(self) -> None:
        """Make the next text set its font again.

        fpdf2 (2.8) writes a fallback font's Tf inside BT/ET as if ET ended it, but the font is part of
        the graphics state and stays: text written next in the same font and size, for which fpdf2 writes
        no Tf, would be drawn with the fallback font's glyphs ("البلدية" came out as "do7g-ca").
        """
        self.pdf.current_font_is_set_on_page = False

    def label(self, x: float, y: float, text: str, *, size: float = 7, angle: float = 0.0, color=(0, 0, 0),
              box: bool = False) -> None:
        """Write TEXT centred on (x, y), turned ANGLE degrees counter-clockwise."""
        pdf = self.pdf
        self.font_for(text, size)
        width = pdf.get_string_width(text)
        height = pdf.font_size
        with pdf.rotation(angle, x, y):
            if box:
                pdf.set_fill_color(255, 255, 255)
                pdf.set_draw_color(255, 255, 255)
                pdf.rect(x - width / 2 - 0.6, y - height / 2 - 0.3, width + 1.2, height + 0.6, style="F")
            pdf.set_text_color(*color)
            pdf.set_xy(x - width / 2 - 1, y - height / 2)
            pdf.cell(width + 2, height, text, align="C")
            self._forget_font()


def draw_sketch(*, report: dict, shapes: SketchShapes, fonts: SketchFonts) -> bytes:
    """Return the one-page PDF sketch of the parcel described by REPORT."""
    page = _Page(fonts)
    _header(page, report)
    denominator = _map(page, report, shapes)
    _identifiers(page, report, denominator)
    _coordinates(page, report)
    _footer(page, report)
    return bytes(page.pdf.output())


# ---- the parts of the page ----------------------------------------------------------------------------

def _header(page: _Page, report: dict) -> None:
    pdf = page.pdf
    place = report["municipality"]
    half = (PAGE_W - 2 * MARGIN) / 2
    page.cell(MARGIN, 9, half, 7, "Parcel sketch · Site report", size=12, bold=True)
    page.cell(MARGIN + half, 9, half, 7, "كروكي الموقع · تقرير قطعة الأرض", size=12, align="R")
    page.cell(MARGIN, 17, half, 6, f"{place['name_en']} ({place['code']}) · Parcel {report['parcel_code']}", size=9)
    arabic_place = place["name_ar"] or place["name_en"]
    # Arabic lines carry no codes or dates: those read left to right and sit in the English lines.
    page.cell(MARGIN + half, 17, half, 6, arabic_place, size=9, align="R")
    pdf.set_draw_color(0, 0, 0)
    pdf.set_line_width(0.3)
    pdf.line(MARGIN, 25.5, PAGE_W - MARGIN, 25.5)


def _map(page: _Page, report: dict, shapes: SketchShapes) -> int:
    """Draw the map frame: streets, neighbours, the parcel, its dimensions and corners, north and scale."""
    pdf = page.pdf
    fx, fy, fw, fh = FRAME
    minx, miny, maxx, maxy = shapes.parcel.bounds
    denominator = map_scale(maxx - minx, maxy - miny, frame_w_mm=fw, frame_h_mm=fh)
    mm_per_m = 1000.0 / denominator
    cx_m, cy_m = (minx + maxx) / 2, (miny + maxy) / 2
    cx, cy = fx + fw / 2, fy + fh / 2

    def to_page(xy: np.ndarray) -> np.ndarray:
        return np.column_stack([cx + (xy[:, 0] - cx_m) * mm_per_m, cy - (xy[:, 1] - cy_m) * mm_per_m])

    half_w_m, half_h_m = fw / 2 / mm_per_m, fh / 2 / mm_per_m
    view = shapely.box(cx_m - half_w_m, cy_m - half_h_m, cx_m + half_w_m, cy_m + half_h_m)

    def polygons(geom, *, style: str) -> None:
        for part in shapely.get_parts(shapely.intersection(geom, view)):
            if part.geom_type != "Polygon" or part.area <= 0:
                continue
            for ring in (part.exterior, *part.interiors):
                pdf.polygon([tuple(p) for p in to_page(np.asarray(ring.coords)[:, :2])], style=style)

    # Streets under everything.
    if shapes.street_rows is not None and not shapes.street_rows.is_empty:
        pdf.set_fill_color(*STREET_FILL)
        pdf.set_draw_color(*STREET_FILL)
        pdf.set_line_width(0.1)
        polygons(shapes.street_rows, style="FD")
    # Neighbours, outlined and named.
    pdf.set_draw_color(*NEIGHBOUR_LINE)
    pdf.set_line_width(0.2)
    for code, geom in shapes.neighbours:
        polygons(geom, style="D")
    for code, geom in shapes.neighbours:
        inside = shapely.intersection(geom, view.buffer(-4 / mm_per_m))
        if inside.area * mm_per_m ** 2 < 40:  # less than about 6 × 6 mm on the page: no room for a name
            continue
        spot = to_page(np.asarray(shapely.get_coordinates(shapely.point_on_surface(inside))))[0]
        page.label(spot[0], spot[1], code, size=6.5, color=(90, 90, 90))
    # The parcel, its building line (the setbacks) dashed.
    pdf.set_fill_color(*PARCEL_FILL)
    pdf.set_draw_color(0, 0, 0)
    pdf.set_line_width(0.6)
    polygons(shapes.parcel, style="FD")
    if not shapes.buildable.is_empty:
        pdf.set_draw_color(*BUILDABLE_LINE)
        pdf.set_line_width(0.25)
        pdf.set_dash_pattern(dash=1.2, gap=0.8)
        polygons(shapes.buildable, style="D")
        pdf.set_dash_pattern()
    # What street names must not cover (page mm): the parcel with its dimensions and corner numbers.
    parcel_page = shapely.Polygon(to_page(np.asarray(shapely.get_coordinates(shapely.convex_hull(shapes.parcel)))))
    circles = [shapely.Point(*spot).buffer(2.4) for _, _, spot in _corner_spots(shapes.edges, to_page)
               if spot is not None]
    dimensions = [_label_box(page, text, centre, angle, size)
                  for text, centre, angle, size in _dimension_spots(shapes.edges, to_page)]
    taken = [parcel_page.buffer(1.0), *circles, *dimensions]
    _street_names(page, shapes, view, to_page, mm_per_m, taken)
    _dimensions(page, shapes.edges, to_page)
    _corners(page, report, shapes.edges, to_page)
    # The frame, the north arrow and the scale bar on top.
    pdf.set_draw_color(0, 0, 0)
    pdf.set_line_width(0.3)
    pdf.rect(fx, fy, fw, fh)
    strip_y = fy + fh
    _scale_bar(page, fx + 2, strip_y + 5.5, denominator)
    _legend(page, fx + 100, strip_y + 2)
    _north_arrow(page, fx + fw - 6, strip_y + 1)
    return denominator


def _street_names(page: _Page, shapes: SketchShapes, view, to_page, mm_per_m: float, taken: list) -> None:
    """Name each street once, in its right-of-way: a street the parcel fronts beside the parcel (on the
    centreline when it is in view, else as far into the street as the frame allows, clear of the
    dimensions); another on its centreline where it is in the frame. A name that would cover the parcel,
    the frame's furniture or another name moves along the street, or is left out."""
    centre = shapes.parcel.centroid
    named: dict[str, Street] = {}
    for street in shapes.streets:
        key = street.name_en or street.name_ar
        if not key or street.geom.is_empty:
            continue
        is_line = street.geom.geom_type in ("LineString", "MultiLineString")
        current = named.get(key)
        current_is_line = current is not None and current.geom.geom_type in ("LineString", "MultiLineString")
        if current is None or (is_line and not current_is_line) or (
                is_line == current_is_line and street.geom.distance(shapes.parcel) < current.geom.distance(shapes.parcel)):
            named[key] = street
    inner = view.buffer(-3 / mm_per_m, join_style="mitre")
    frame = shapely.box(FRAME[0] + 1, FRAME[1] + 1, FRAME[0] + FRAME[2] - 1, FRAME[1] + FRAME[3] - 1)
    for street in sorted(named.values(), key=lambda st: st.geom.distance(shapes.parcel)):
        text = " · ".join(n for n in (street.name_en, f"{street.row_width_m:g} m" if street.row_width_m else "",
                                      street.name_ar) if n)
        candidates: list[np.ndarray] = []
        direction = np.array([1.0, 0.0])
        if street.geom.geom_type in ("LineString", "MultiLineString"):
            line = shapely.line_merge(street.geom) if street.geom.geom_type == "MultiLineString" else street.geom
            line = min(shapely.get_parts(line), key=lambda p: p.distance(centre))
            along = line.project(centre)
            on_line = line.interpolate(along)
            a, b = line.interpolate(max(0.0, along - 1.0)), line.interpolate(min(line.length, along + 1.0))
            direction = np.array([b.x - a.x, b.y - a.y])
            direction /= max(float(np.hypot(*direction)), 1e-12)
            if line.distance(shapes.parcel) > (street.row_width_m or 0) / 2 + 1.0:
                visible = shapely.intersection(line, inner)
                pieces = [p for p in shapely.get_parts(visible) if p.geom_type == "LineString" and p.length > 0]
                for piece in sorted(pieces, key=lambda p: p.distance(centre)):
                    for fraction in (0.5, 0.3, 0.7, 0.15, 0.85):
                        candidates.append(np.asarray(shapely.get_coordinates(
                            piece.interpolate(fraction, normalized=True)))[0])
            else:
                near = shapely.ops.nearest_points(shapes.parcel.boundary, on_line)[0]
                towards = np.array([on_line.x - near.x, on_line.y - near.y])
                reach = float(np.hypot(*towards))
                if reach < 1e-6:
                    continue
                towards /= reach
                # As far as the centreline, but inside the frame and at least 8 mm clear of the parcel.
                ray = shapely.LineString([(near.x, near.y),
                                          (near.x + towards[0] * reach, near.y + towards[1] * reach)])
                visible = shapely.intersection(ray, inner)
                farthest_mm = min(reach, visible.length if not visible.is_empty else 0.0) * mm_per_m
                offsets_mm = [farthest_mm] + [o for o in (farthest_mm * 0.6, 12.0, 9.0, 6.5, 5.6) if o < farthest_mm]
                start = np.array([near.x, near.y])
                candidates = [start + towards * offset / mm_per_m + direction * shift / mm_per_m
                              for shift in (0, 25, -25, 50, -50) for offset in offsets_mm if offset >= 5.6]
        else:
            clipped = shapely.intersection(street.geom, inner)
            if clipped.is_empty:
                continue
            candidates = [np.asarray(shapely.get_coordinates(shapely.point_on_surface(clipped)))[0]]
        angle = _upright_angle(direction[0], direction[1])
        for candidate in candidates:
            spot = to_page(np.array([candidate]))[0]
            box = _label_box(page, text, spot, angle, 7)
            if frame.contains(box) and not any(box.intersects(t) for t in taken):
                page.label(spot[0], spot[1], text, size=7, angle=angle, color=(60, 60, 60))
                taken.append(box)
                break


def _dimension_spots(edges: list[Edge], to_page) -> list[tuple[str, np.ndarray, float, float]]:
    """Return (text, centre, angle, font size) of each edge's length label: along the edge, 2.6 mm outside.

    An edge too short on the page for its label has none (its length is in the coordinate table).
    """
    out = []
    for edge in edges:
        a, b = to_page(np.array([edge.start, edge.end]))
        dx, dy = b[0] - a[0], b[1] - a[1]
        length_mm = math.hypot(dx, dy)
        text = f"{edge.length_m:.2f} m"
        if length_mm < 2.0 * len(text):  # about the label's width at 5.5 pt
            continue
        outwards = np.array([edge.outward[0], -edge.outward[1]])  # the page's y points down
        out.append((text, (a + b) / 2 + outwards * 2.6, _upright_angle(dx, -dy), 7 if length_mm >= 14 else 5.5))
    return out


def _label_box(page: _Page, text: str, centre, angle: float, size: float) -> BaseGeometry:
    """Return the page area a label covers (mm), turned like the label."""
    page.font_for(text, size)
    half_w, half_h = page.pdf.get_string_width(text) / 2 + 1, page.pdf.font_size / 2 + 0.3
    box = shapely.box(centre[0] - half_w, centre[1] - half_h, centre[0] + half_w, centre[1] + half_h)
    return shapely.affinity.rotate(box, -angle, origin=(centre[0], centre[1]))


def _dimensions(page: _Page, edges: list[Edge], to_page) -> None:
    """Write each edge's length along it, outside the parcel."""
    for text, centre, angle, size in _dimension_spots(edges, to_page):
        page.label(centre[0], centre[1], text, size=size, angle=angle, color=DIMENSION_TEXT, box=True)


def _corner_spots(edges: list[Edge], to_page) -> list[tuple[int, np.ndarray, np.ndarray | None]]:
    """Return (number, corner, where its number goes) on the page: 4.2 mm outwards along the corner's
    bisector; None where the number would cover an earlier one (it is in the coordinate table)."""
    arriving = {e.to_corner: e for e in edges}
    out, placed = [], []
    for edge in edges:
        previous = arriving.get(edge.from_corner, edge)
        bisector = edge.outward + previous.outward
        norm = np.hypot(*bisector)
        bisector = bisector / norm if norm > 1e-9 else edge.outward
        corner = to_page(np.array([edge.start]))[0]
        spot = corner + np.array([bisector[0], -bisector[1]]) * 4.2
        if any(np.hypot(*(spot - other)) < 4.0 for other in placed):
            out.append((edge.from_corner, corner, None))
            continue
        placed.append(spot)
        out.append((edge.from_corner, corner, spot))
    return out


def _corners(page: _Page, report: dict, edges: list[Edge], to_page) -> None:
    """Mark each corner with a dot and its number in a circle, pushed outwards along the corner's bisector."""
    pdf = page.pdf
    for number, corner, spot in _corner_spots(edges, to_page):
        pdf.set_fill_color(0, 0, 0)
        pdf.circle(x=corner[0], y=corner[1], radius=0.55, style="F")
        if spot is None:
            continue
        pdf.set_fill_color(255, 255, 255)
        pdf.set_draw_color(0, 0, 0)
        pdf.set_line_width(0.2)
        pdf.circle(x=spot[0], y=spot[1], radius=1.9, style="FD")
        page.label(spot[0], spot[1], str(number), size=6.5)


def _north_arrow(page: _Page, x: float, y: float) -> None:
    """Draw a north arrow (grid north: up the page), 10 mm tall from (x, y), its letters to its left."""
    pdf = page.pdf
    pdf.set_draw_color(0, 0, 0)
    pdf.set_line_width(0.2)
    pdf.set_fill_color(0, 0, 0)
    pdf.polygon([(x, y + 0.5), (x - 2.4, y + 10), (x, y + 8)], style="FD")
    pdf.set_fill_color(255, 255, 255)
    pdf.polygon([(x, y + 0.5), (x + 2.4, y + 10), (x, y + 8)], style="FD")
    page.label(x - 7, y + 3.2, "N", size=8)
    page.label(x - 7, y + 7.4, "شمال", size=6.5)


def _scale_bar(page: _Page, x: float, y: float, denominator: int) -> None:
    """Draw a scale bar of a round length in four parts, the scale written beside it."""
    pdf = page.pdf
    length_m = scale_bar_m(denominator)
    length_mm = length_m * 1000 / denominator
    pdf.set_draw_color(0, 0, 0)
    pdf.set_line_width(0.2)
    for i in range(4):
        pdf.set_fill_color(*((0, 0, 0) if i % 2 == 0 else (255, 255, 255)))
        pdf.rect(x + i * length_mm / 4, y, length_mm / 4, 1.6, style="FD")
    for i, value in ((0, 0), (2, length_m / 2), (4, length_m)):
        text = f"{value:g} m" if i == 4 else f"{value:g}"
        page.label(x + i * length_mm / 4, y + 3.8, text, size=6)
    page.cell(x + length_mm + 6, y - 3.2, 30, 4, f"Scale 1:{denominator:,}", size=7.5, bold=True)
    page.cell(x + length_mm + 6, y + 0.8, 30, 4, "مقياس الرسم", size=6.5)


def _legend(page: _Page, x: float, y: float) -> None:
    """Explain the lines of the drawing: the parcel, its building line (the setbacks), streets."""
    pdf = page.pdf
    pdf.set_draw_color(0, 0, 0)
    pdf.set_line_width(0.6)
    pdf.set_fill_color(*PARCEL_FILL)
    pdf.rect(x, y + 0.8, 6, 2.6, style="FD")
    page.cell(x + 7, y, 30, 4, "parcel · القطعة", size=6.5)
    pdf.set_draw_color(*BUILDABLE_LINE)
    pdf.set_line_width(0.25)
    pdf.set_dash_pattern(dash=1.2, gap=0.8)
    pdf.line(x, y + 6.6, x + 6, y + 6.6)
    pdf.set_dash_pattern()
    page.cell(x + 7, y + 4.6, 50, 4, "building line (setbacks) · خط البناء", size=6.5)
    pdf.set_fill_color(*STREET_FILL)
    pdf.set_draw_color(*STREET_FILL)
    pdf.rect(x + 40, y + 0.8, 6, 2.6, style="F")
    page.cell(x + 47, y, 30, 4, "street · الشارع", size=6.5)


def _identifiers(page: _Page, report: dict, denominator: int) -> None:
    """The table of identifiers and limits: English label, value (English, then Arabic), Arabic label."""
    pdf = page.pdf
    place = report["municipality"]
    district = report["district"]
    land = report["land_use"]
    setbacks, coverage = report["setbacks"], report["coverage"]
    zoning_en = "; ".join(f"{z['zone_code']} {z['name_en']}".strip()
                          + (f" ({z['share_pct']:g} %)" if z["share_pct"] < 99.99 else "") for z in report["zoning"])
    rows = [
        ("Municipality", f"{place['name_en']} ({place['code']})", "البلدية", place["name_ar"]),
        ("District", f"{district['name_en']} ({district['code']})" if district else "—", "الحي",
         district["name_ar"] if district else ""),
        ("Parcel code", report["parcel_code"], "رمز القطعة", ""),
        ("Plan / block / parcel", " / ".join(report[k] or "—" for k in ("plan_no", "block_no", "parcel_no")),
         "المخطط / البلك / القطعة", ""),
        ("Area", f"{report['area_m2']:,.2f} m²", "المساحة", ""),
        ("Perimeter", f"{report['perimeter_m']:,.2f} m", "المحيط", ""),
        ("Land use", land["name_en"], "استخدام الأرض", land["name_ar"]),
        ("Zoning", zoning_en or "—", "النطاق التنظيمي", "؛ ".join(z["name_ar"] for z in report["zoning"]
                                                                  if z["name_ar"])),
    ]
    frontages = report["frontages"] or [None]
    for i, f in enumerate(frontages[:3]):
        label = "Frontage" if len(frontages) == 1 else f"Frontage {i + 1}"
        if f is None:
            rows.append((label, "none: the parcel fronts no street", "الواجهة", ""))
            continue
        width = f" ({f['row_width_m']:g} m)" if f["row_width_m"] else ""
        rows.append((label, f"{f['street_name_en'] or 'street'}{width}: {f['frontage_m']:.2f} m", "الواجهة",
                     f["street_name_ar"]))
    front = report["frontages"][0] if report["frontages"] else None
    rule = f"{setbacks['front_ratio']:g} × street width, at most {setbacks['front_max_m']:g} m"
    if len(report["frontages"]) > 1:
        front_value = " / ".join(f"{f['front_setback_m']:.2f}" for f in report["frontages"][:3]) + f" m ({rule})"
    elif front and front["row_width_m"]:
        front_value = (f"{front['front_setback_m']:.2f} m = min({setbacks['front_ratio']:g} × {front['row_width_m']:g} m,"
                       f" {setbacks['front_max_m']:g} m)")
    else:
        front_value = f"{setbacks['front_m']:.2f} m ({rule})"
    rows += [
        ("Front setback", front_value, "الارتداد الأمامي", ""),
        ("Side / rear setback", f"{setbacks['side_m']:g} m / {setbacks['rear_m']:g} m", "الارتداد الجانبي / الخلفي", ""),
        ("Max. building coverage", f"{coverage['max_pct']:g} % = {coverage['max_m2']:,.2f} m²",
         "نسبة البناء القصوى", ""),
        ("Buildable area", f"{report['buildable_area_m2']:,.2f} m² (inside the building line)",
         "مساحة البناء المتاحة", ""),
        ("Rules", "municipality's rule set" if report["rules"]["source"] == "rule_set" else "default rules",
         "مصدر الاشتراطات", "اشتراطات البلدية" if report["rules"]["source"] == "rule_set" else "الاشتراطات الافتراضية"),
        ("Neighbours", ", ".join(report["neighbours"]) or "—", "القطع المجاورة", ""),
        ("Scale · CRS", f"1:{denominator:,} · {report['crs']}", "المقياس · نظام الإحداثيات", ""),
        ("Date", report["date"], "التاريخ", ""),
    ]
    x, y = MARGIN, TABLES_Y
    row_h = min(5.6, (PAGE_H - 14 - y) / len(rows))
    widths = (30.0, 72.0, 30.0)  # English label, value, Arabic label
    pdf.set_line_width(0.15)
    pdf.set_draw_color(160, 160, 160)
    for i, (label_en, value, label_ar, value_ar) in enumerate(rows):
        top = y + i * row_h
        if i % 2 == 0:
            pdf.set_fill_color(245, 245, 245)
            pdf.rect(x, top, sum(widths), row_h, style="F")
        page.cell(x, top, widths[0], row_h, label_en, size=6.8, bold=True)
        if value_ar:
            # Two values, English then Arabic, each in its own part of the cell and its own direction.
            split = widths[1] * 0.62
            page.cell(x + widths[0], top, split - 1.5, row_h, value, size=6.8)
            page.cell(x + widths[0] + split, top, widths[1] - split, row_h, value_ar, size=6.8, align="R")
        else:
            page.cell(x + widths[0], top, widths[1], row_h, value, size=6.8)
        page.cell(x + widths[0] + widths[1], top, widths[2], row_h, label_ar, size=6.8, align="R")
    pdf.rect(x, y, sum(widths), row_h * len(rows))


def _coordinates(page: _Page, report: dict) -> None:
    """The corner coordinates in the metric CRS, with the length of the edge to the next corner."""
    pdf = page.pdf
    x, top = MARGIN + 136, TABLES_Y
    width = PAGE_W - MARGIN - x
    bottom = PAGE_H - 14
    widths = (7.0, 18.0, 19.5, width - 44.5)
    page.cell(x, top, width, 5, f"Corner coordinates · {report['crs']}", size=7, bold=True)
    page.cell(x, top + 4.6, width, 5, "إحداثيات الأركان", size=7, align="R")
    head_y = top + 10
    headers = (("No.", "رقم"), ("E (m)", "شرقيات"), ("N (m)", "شماليات"), ("to next", "الطول"))
    left = x
    for w, (en, ar) in zip(widths, headers):
        page.cell(left, head_y, w, 3.6, en, size=6, bold=True, align="C")
        page.cell(left, head_y + 3.4, w, 3.8, ar, size=6, align="C")
        left += w
    corners = report["corners"]
    length_from = {e["from_corner"]: e["length_m"] for e in report["edges"]}
    first_row = head_y + 7.6
    available = bottom - first_row
    row_h = min(4.4, max(2.6, available / max(len(corners), 1)))
    shown = int(available // row_h)
    rows = corners if len(corners) <= shown else corners[:shown - 1]
    size = 6.5 if row_h >= 3.6 else 5
    pdf.set_draw_color(160, 160, 160)
    pdf.set_line_width(0.15)
    for i, corner in enumerate(rows):
        y = first_row + i * row_h
        if i % 2 == 0:
            pdf.set_fill_color(245, 245, 245)
            pdf.rect(x, y, width, row_h, style="F")
        values = (str(corner["number"]), f"{corner['x']:.3f}", f"{corner['y']:.3f}",
                  f"{length_from.get(corner['number'], 0):.2f}")
        left = x
        for w, value, align in zip(widths, values, ("C", "R", "R", "R")):
            page.cell(left, y, w, row_h, value, size=size, align=align)
            left += w
    if len(rows) < len(corners):
        y = first_row + len(rows) * row_h
        page.cell(x, y, width, row_h, f"… {len(corners) - len(rows)} more corners in the JSON site report",
                  size=5.5)
    pdf.rect(x, head_y, width, first_row - head_y + row_h * (len(rows) + (len(rows) < len(corners))))


def _footer(page: _Page, report: dict) -> None:
    pdf = page.pdf
    pdf.set_draw_color(0, 0, 0)
    pdf.set_line_width(0.2)
    pdf.line(MARGIN, PAGE_H - 11, PAGE_W - MARGIN, PAGE_H - 11)
    half = (PAGE_W - 2 * MARGIN) / 2
    page.cell(MARGIN, PAGE_H - 10.5, half, 5,
              f"Issued {report['date']} · lengths in metres · bearings from grid north", size=6.5)
    page.cell(MARGIN + half, PAGE_H - 10.5, half, 5, "الأطوال بالمتر · الاتجاهات من الشمال الشبكي", size=6.5,
              align="R")
