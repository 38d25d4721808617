"""Deterministic generator of a demo city modelled on north Riyadh (Al-Malqa / Al-Narjis).

The city is laid out in EPSG:32638 (UTM 38N, metres) as four districts around the crossing of
King Salman Road and Abu Bakr As Siddiq Road, about 2 km x 2 km, and every layer is output in
EPSG:4326 (lon/lat). Geometry follows the default planning rules of ``/work/shared/DOMAIN.md``:
villa lots of about 25 m x 30-35 m (30 m wide on arterials) in blocks of two rows back to back, corner truncation (شطفة)
at street corners, residential streets 15-20 m, collectors 20-30 m, arterials 40-60 m.

Only shapely, pyproj, numpy and geopandas/pyogrio are used (no Django). The same seed gives the
same rows, attribute values and coordinates: all randomness comes from one
``numpy.random.default_rng(seed)`` and nothing depends on time, hashing or set order.

Usage::

    python -m data.demo_city OUT.gpkg [--seed 82]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import LineString, Polygon, box

__all__ = ["DemoCity", "generate", "write_gpkg", "LAYER_NAMES", "UTM_CRS", "OUTPUT_CRS"]

UTM_CRS = "EPSG:32638"
OUTPUT_CRS = "EPSG:4326"

# South-west corner of the city (centreline crossing of the two perimeter roads), in UTM 38N.
# Fixed here rather than projected at run time so the layout never depends on the PROJ
# version; it is about 46.6300 E, 24.8180 N.
ORIGIN_E_M = 664_740.0
ORIGIN_N_M = 2_745_780.0
CITY_SIZE_M = 1_950.0
MUNICIPALITY_MARGIN_M = 400.0
# Non-lot outlines are densified before projection so that long straight edges stay within a
# fraction of a millimetre of their UTM position after a round trip through lon/lat.
DENSIFY_M = 10.0
# Blocks on an arterial get wider lots: the front row is commercial.
COMMERCIAL_LOT_WIDTH_M = 30.0
MIN_LOT_DEPTH_M = 30.0

LAYER_NAMES = (
    "municipality",
    "districts",
    "blocks",
    "streets",
    "street_rows",
    "zoning",
    "parcels",
)

UNDEVELOPED_PLAN_NO = "90"
UNDEVELOPED_BLOCK_NO = "0"

ARABIC_DIGITS = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")

# Districts are the quadrants between the arterials: (code, name_en, name_ar, plan_no).
DISTRICTS = (
    ("MLQ", "Al Malqa", "حي الملقا", "82"),  # south-west
    ("YSM", "Al Yasmin", "حي الياسمين", "117"),  # south-east
    ("QRW", "Al Qirawan", "حي القيروان", "135"),  # north-west
    ("NRJ", "Al Narjis", "حي النرجس", "148"),  # north-east
)

ZONES = {
    "R1": ("Residential villas", "سكني فلل", "residential,public_facility,open_space"),
    "C1": ("Commercial on arterial frontage", "تجاري على الشوارع الرئيسية", "commercial,mixed,public_facility"),
    "M1": ("Mixed use on collector frontage", "استخدام مختلط على الشوارع التجميعية", "residential,commercial,mixed,public_facility"),
}

COLLECTOR_NAMES = (
    ("Al Dahna Street", "شارع الدهناء"),
    ("Al Nufud Street", "شارع النفود"),
    ("Tuwaiq Street", "شارع طويق"),
    ("Al Summan Street", "شارع الصمان"),
    ("Al Aridh Street", "شارع العارض"),
    ("Al Washm Street", "شارع الوشم"),
)

# Desert plants, as in the street names of Al-Narjis and Al-Yasmin.
LOCAL_NAMES = (
    ("Al Khuzama", "الخزامى"), ("Al Arfaj", "العرفج"), ("Al Shih", "الشيح"),
    ("Al Qaysum", "القيصوم"), ("Al Rimth", "الرمث"), ("Al Ghada", "الغضا"),
    ("Al Sidr", "السدر"), ("Al Talh", "الطلح"), ("Al Athl", "الأثل"),
    ("Al Samr", "السمر"), ("Al Nafal", "النفل"), ("Al Uqhuwan", "الأقحوان"),
    ("Al Rayhan", "الريحان"), ("Al Zanbaq", "الزنبق"), ("Al Arta", "الأرطى"),
    ("Al Salam", "السلم"), ("Al Markh", "المرخ"), ("Al Nakhil", "النخيل"),
    ("Al Ban", "البان"), ("Al Hanwah", "الحنوة"), ("Al Thumam", "الثمام"),
    ("Al Abal", "العبل"), ("Al Ushar", "العشر"), ("Al Jathjath", "الجثجاث"),
    ("Al Rughl", "الرغل"), ("Al Nasi", "النصي"), ("Al Shafallah", "الشفلح"),
    ("Al Dhamran", "الضمران"),
)


@dataclass(frozen=True)
class _Road:
    """A street centreline in local metres (origin at the city's south-west corner)."""

    name_en: str
    name_ar: str
    road_class: str  # arterial | collector | local
    width_m: float
    start: tuple[float, float]
    end: tuple[float, float]


@dataclass
class _Lot:
    geom: Polygon  # local metres
    plan_no: str
    block_no: str
    parcel_no: str
    district: str
    land_use: str
    facility: str = ""
    undeveloped: int = 0


@dataclass
class DemoCity:
    """The generated layers, each a GeoDataFrame in EPSG:4326 (lon/lat)."""

    municipality: gpd.GeoDataFrame
    districts: gpd.GeoDataFrame
    blocks: gpd.GeoDataFrame
    streets: gpd.GeoDataFrame
    street_rows: gpd.GeoDataFrame
    zoning: gpd.GeoDataFrame
    parcels: gpd.GeoDataFrame
    seed: int = 82
    stats: dict = field(default_factory=dict, compare=False)

    def layers(self) -> dict[str, gpd.GeoDataFrame]:
        """Return the layers by GeoPackage layer name, in writing order."""
        return {name: getattr(self, name) for name in LAYER_NAMES}


# --------------------------------------------------------------------------- geometry helpers


def _chamfer_leg_m(width_a_m: float, width_b_m: float) -> float:
    """Return the corner-truncation leg: 1/5 of the wider street, between 3 and 6 m."""
    return min(6.0, max(3.0, max(width_a_m, width_b_m) / 5.0))


def _chamfered_rect(x0: float, y0: float, x1: float, y1: float, *, sw=0.0, se=0.0, ne=0.0, nw=0.0) -> Polygon:
    """Return a counter-clockwise rectangle with its corners cut by the given legs."""
    pts: list[tuple[float, float]] = []
    if sw:
        pts += [(x0, y0 + sw), (x0 + sw, y0)]
    else:
        pts.append((x0, y0))
    if se:
        pts += [(x1 - se, y0), (x1, y0 + se)]
    else:
        pts.append((x1, y0))
    if ne:
        pts += [(x1, y1 - ne), (x1 - ne, y1)]
    else:
        pts.append((x1, y1))
    if nw:
        pts += [(x0 + nw, y1), (x0, y1 - nw)]
    else:
        pts.append((x0, y1))
    return Polygon(pts)


def _partition(length_m: float, first_m: float, last_m: float, nominal_m: float) -> list[float]:
    """Split a length into end lots of at least first/last and inner lots of at least nominal.

    The remainder is shared equally by all lots; widths are rounded to the centimetre as on a
    surveyed plan, and the last lot absorbs the rounding.
    """
    inner = max(0, math.floor((length_m - first_m - last_m) / nominal_m))
    widths = [first_m] + [nominal_m] * inner + [last_m]
    extra = (length_m - sum(widths)) / len(widths)
    widths = [round(w + extra, 2) for w in widths]
    widths[-1] = round(length_m - sum(widths[:-1]), 2)
    return widths


def _round2(v: float) -> float:
    return round(v, 2)


# --------------------------------------------------------------------------- the layout


class _Builder:
    """Lay the city out in local metres; all draws come from one generator, in a fixed order."""

    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)
        self.roads: list[_Road] = []
        self.lots: list[_Lot] = []
        self.blocks: list[tuple[str, str, str, Polygon]] = []  # plan, block, district, geom
        self.block_counter: dict[str, int] = {}
        local_order = self.rng.permutation(len(LOCAL_NAMES))
        self.local_names = [LOCAL_NAMES[i] for i in local_order]
        self.street_counter = 0

    # ------------------------------------------------------------------ roads

    def _major_roads(self) -> None:
        s = CITY_SIZE_M
        h = s / 2
        self.roads += [
            _Road("Anas Ibn Malik Road", "طريق أنس بن مالك", "arterial", 50.0, (0.0, 0.0), (s, 0.0)),
            _Road("King Salman Road", "طريق الملك سلمان", "arterial", 60.0, (0.0, h), (s, h)),
            _Road("Al Thumamah Road", "طريق الثمامة", "arterial", 40.0, (0.0, s), (s, s)),
            _Road("Al Diriyah Street", "شارع الدرعية", "collector", 30.0, (0.0, 0.0), (0.0, s)),
            _Road("Abu Bakr As Siddiq Road", "طريق أبو بكر الصديق", "arterial", 60.0, (h, 0.0), (h, s)),
            _Road("Uthman Ibn Affan Road", "طريق عثمان بن عفان", "arterial", 50.0, (s, 0.0), (s, s)),
        ]

    def _road_at_y(self, y: float) -> _Road:
        return next(r for r in self.roads if r.start[1] == r.end[1] == y)

    def _road_at_x(self, x: float) -> _Road:
        return next(r for r in self.roads if r.start[0] == r.end[0] == x)

    def _local_name(self) -> tuple[str, str]:
        self.street_counter += 1
        if self.local_names:
            en, ar = self.local_names.pop(0)
            return f"{en} Street", f"شارع {ar}"
        n = self.street_counter
        return f"Street {n}", f"شارع {str(n).translate(ARABIC_DIGITS)}"

    # ------------------------------------------------------------------ city

    def build(self) -> None:
        self._major_roads()
        h = CITY_SIZE_M / 2
        quadrants = [(0.0, 0.0), (h, 0.0), (0.0, h), (h, h)]  # MLQ, YSM, QRW, NRJ
        collector_names = [COLLECTOR_NAMES[i] for i in self.rng.permutation(len(COLLECTOR_NAMES))]
        superblocks = []
        for q, (qx, qy) in enumerate(quadrants):
            xc = qx + h / 2 + float(self.rng.integers(-8, 9)) * 5.0
            wc = float(self.rng.choice([20.0, 25.0, 30.0]))
            name_en, name_ar = collector_names[q]
            collector = _Road(name_en, name_ar, "collector", wc, (xc, qy), (xc, qy + h))
            self.roads.append(collector)
            west = self._road_at_x(qx)
            east = self._road_at_x(qx + h)
            south = self._road_at_y(qy)
            north = self._road_at_y(qy + h)
            superblocks.append((q, west, collector, south, north))
            superblocks.append((q, collector, east, south, north))

        # Raw land kept out of the plans: 3-5 superblocks each hold one undeveloped parcel.
        n_raw = int(self.rng.integers(4, 6))
        raw_superblocks = sorted(int(i) for i in self.rng.choice(len(superblocks), n_raw, replace=False))
        self.raw_count = 0
        for i, (q, west, east, south, north) in enumerate(superblocks):
            self._superblock(q, west, east, south, north, with_raw=i in raw_superblocks)

    def _superblock(self, q: int, west: _Road, east: _Road, south: _Road, north: _Road, *, with_raw: bool) -> None:
        rng = self.rng
        code, _, _, plan_no = DISTRICTS[q]
        x_w = west.start[0] + west.width_m / 2
        x_e = east.start[0] - east.width_m / 2
        y_s = south.start[1] + south.width_m / 2
        y_n = north.start[1] - north.width_m / 2

        # Plan parameters: villa lots at least 25 m wide and 30-35 m deep (nominal).
        lot_w = 25.0
        lot_d = float(rng.choice([32.5, 35.0]))
        local_widths = [15.0, 18.0, 20.0]

        # One north-south local street splits the superblock into two columns of blocks.
        xm = _round2((x_w + x_e) / 2 + float(rng.integers(-4, 5)) * 5.0)
        ns_w = float(rng.choice(local_widths))
        ns_name = self._local_name()
        ns_road = _Road(ns_name[0], ns_name[1], "local", ns_w, (xm, south.start[1]), (xm, north.start[1]))
        self.roads.append(ns_road)
        columns = [(x_w, xm - ns_w / 2, west, ns_road), (xm + ns_w / 2, x_e, ns_road, east)]

        # Rows of blocks separated by east-west local streets; depth stretched to fill.
        height = y_n - y_s
        mean_w = float(np.mean(local_widths))
        n_rows = max(1, round((height + mean_w) / (2 * lot_d + mean_w)))
        while True:
            ew_widths = [float(w) for w in rng.choice(local_widths, n_rows - 1)]
            depth = (height - sum(ew_widths)) / (2 * n_rows)
            if depth >= MIN_LOT_DEPTH_M or n_rows == 1:
                break
            n_rows -= 1
        rows: list[tuple[float, float]] = []
        y = y_s
        for r in range(n_rows):
            y1 = y_n if r == n_rows - 1 else _round2(y + 2 * depth)
            rows.append((y, y1))
            if r < n_rows - 1:
                y = y1 + ew_widths[r]

        # Undeveloped land: k consecutive rows of one column, never on the first or last row.
        raw = None
        if with_raw and n_rows >= 5:
            k = int(rng.integers(3, 5)) if n_rows >= 6 else 3
            k = min(k, n_rows - 2)
            r0 = int(rng.integers(1, n_rows - k))
            raw = (int(rng.integers(0, 2)), r0, r0 + k - 1)
        candidates = [
            (c, r) for r in range(1, n_rows - 1) for c in range(2)
            if not (raw and raw[0] == c and raw[1] - 1 <= r <= raw[2] + 1)
        ]
        # Three blocks of public facilities per superblock (mosques, schools, parks).
        picks = rng.choice(len(candidates), min(3, len(candidates)), replace=False)
        facilities = {candidates[int(i)]: int(rng.integers(0, 3)) for i in sorted(picks)}

        # East-west local streets: one continuous street unless the raw land interrupts it.
        ew_roads: list[_Road] = []
        for r in range(n_rows - 1):
            yc = rows[r][1] + ew_widths[r] / 2
            present = [not (raw and raw[0] == c and raw[1] <= r < raw[2]) for c in range(2)]
            spans = []
            if all(present):
                spans.append((west.start[0], east.start[0]))
            elif present[0]:
                spans.append((west.start[0], xm))
            elif present[1]:
                spans.append((xm, east.start[0]))
            for xa, xb in spans:
                en, ar = self._local_name()
                road = _Road(en, ar, "local", ew_widths[r], (xa, yc), (xb, yc))
                self.roads.append(road)
            ew_roads.append(road)

        def row_road(r: int, side: str) -> _Road:
            if side == "s":
                return south if r == 0 else ew_roads[r - 1]
            return north if r == n_rows - 1 else ew_roads[r]

        for c, (xa, xb, w_road, e_road) in enumerate(columns):
            if raw and raw[0] == c:
                ya, yb = rows[raw[1]][0], rows[raw[2]][1]
                self.raw_count += 1
                self.lots.append(_Lot(
                    box(xa, ya, xb, yb), UNDEVELOPED_PLAN_NO, UNDEVELOPED_BLOCK_NO, str(self.raw_count),
                    code, "residential", undeveloped=1,
                ))
            for r, (ya, yb) in enumerate(rows):
                if raw and raw[0] == c and raw[1] <= r <= raw[2]:
                    continue
                s_road, n_road = row_road(r, "s"), row_road(r, "n")
                self._block(
                    code, plan_no, xa, ya, xb, yb,
                    roads={"s": s_road, "n": n_road, "w": w_road, "e": e_road},
                    lot_w=lot_w, facility_kind=facilities.get((c, r)),
                )

    def _block(self, district: str, plan_no: str, x0: float, y0: float, x1: float, y1: float, *,
               roads: dict[str, _Road], lot_w: float, facility_kind: int | None) -> None:
        n = self.block_counter.get(plan_no, 0) + 1
        self.block_counter[plan_no] = n
        block_no = str(n)
        legs = {
            "sw": _chamfer_leg_m(roads["s"].width_m, roads["w"].width_m),
            "se": _chamfer_leg_m(roads["s"].width_m, roads["e"].width_m),
            "ne": _chamfer_leg_m(roads["n"].width_m, roads["e"].width_m),
            "nw": _chamfer_leg_m(roads["n"].width_m, roads["w"].width_m),
        }
        self.blocks.append((plan_no, block_no, district, _chamfered_rect(x0, y0, x1, y1, **legs)))
        length = x1 - x0

        def use_for(*fronting: _Road) -> str:
            classes = {r.road_class for r in fronting}
            if "arterial" in classes:
                return "commercial"
            if "collector" in classes:
                return "mixed"
            return "residential"

        parcel_no = 0
        if facility_kind is not None:
            # School, mosque and park across the full depth of the block.
            layouts = [
                [("school", "public_facility", 0.45), ("mosque", "public_facility", 0.2), ("park", "open_space", 0.35)],
                [("mosque", "public_facility", 0.25), ("park", "open_space", 0.75)],
                [("park", "open_space", 0.6), ("mosque", "public_facility", 0.4)],
            ][facility_kind]
            xs = [x0]
            acc = 0.0
            for _, _, frac in layouts[:-1]:
                acc += frac
                xs.append(_round2(x0 + acc * length))
            xs.append(x1)
            for i, (kind, use, _) in enumerate(layouts):
                parcel_no += 1
                geom = _chamfered_rect(
                    xs[i], y0, xs[i + 1], y1,
                    sw=legs["sw"] if i == 0 else 0.0, nw=legs["nw"] if i == 0 else 0.0,
                    se=legs["se"] if i == len(layouts) - 1 else 0.0, ne=legs["ne"] if i == len(layouts) - 1 else 0.0,
                )
                self.lots.append(_Lot(geom, plan_no, block_no, str(parcel_no), district, use, facility=kind))
            return

        # Two rows back to back sharing one partition, so the back line has the same vertices
        # on both sides. Corner lots are wider by the truncation leg to keep their frontage.
        if "arterial" in (roads["s"].road_class, roads["n"].road_class):
            lot_w = COMMERCIAL_LOT_WIDTH_M
        widths = _partition(length, lot_w + max(legs["sw"], legs["nw"]), lot_w + max(legs["se"], legs["ne"]), lot_w)
        xs = [x0]
        for w in widths[:-1]:
            xs.append(_round2(xs[-1] + w))
        xs.append(x1)
        ym = _round2((y0 + y1) / 2)
        last = len(widths) - 1
        # South row numbered west to east, north row east to west, as plans are usually read.
        for i in range(len(widths)):
            parcel_no += 1
            geom = _chamfered_rect(xs[i], y0, xs[i + 1], ym,
                                   sw=legs["sw"] if i == 0 else 0.0, se=legs["se"] if i == last else 0.0)
            fronting = [roads["s"]] + ([roads["w"]] if i == 0 else []) + ([roads["e"]] if i == last else [])
            self.lots.append(_Lot(geom, plan_no, block_no, str(parcel_no), district, use_for(*fronting)))
        for i in reversed(range(len(widths))):
            parcel_no += 1
            geom = _chamfered_rect(xs[i], ym, xs[i + 1], y1,
                                   nw=legs["nw"] if i == 0 else 0.0, ne=legs["ne"] if i == last else 0.0)
            fronting = [roads["n"]] + ([roads["w"]] if i == 0 else []) + ([roads["e"]] if i == last else [])
            self.lots.append(_Lot(geom, plan_no, block_no, str(parcel_no), district, use_for(*fronting)))


# --------------------------------------------------------------------------- output


def _to_utm(geoms: np.ndarray) -> np.ndarray:
    return shapely.transform(geoms, lambda xy: xy + np.array([ORIGIN_E_M, ORIGIN_N_M]))


def _to_output(geoms, *, densify: bool) -> np.ndarray:
    """Project UTM geometries to lon/lat, densifying long edges first."""
    transformer = Transformer.from_crs(UTM_CRS, OUTPUT_CRS, always_xy=True)
    arr = np.asarray(geoms, dtype=object)
    if densify:
        arr = shapely.segmentize(arr, DENSIFY_M)

    def project(xy: np.ndarray) -> np.ndarray:
        lon, lat = transformer.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

    return shapely.transform(arr, project)


def _frame(records: list[dict], geoms, *, densify: bool = True) -> gpd.GeoDataFrame:
    columns = list(records[0]) if records else []
    return gpd.GeoDataFrame(records, columns=columns, geometry=_to_output(geoms, densify=densify), crs=OUTPUT_CRS)


def _polygons(geom) -> list[Polygon]:
    """Return the polygons of a (multi)polygon or collection, largest first then by position."""
    parts = [g for g in shapely.get_parts(geom) if isinstance(g, Polygon) and g.area > 0.01]
    return sorted(parts, key=lambda g: (-round(g.area, 3), round(g.bounds[0], 3), round(g.bounds[1], 3)))


def generate(seed: int = 82) -> DemoCity:
    """Return the demo city for a seed; the same seed always gives the same layers."""
    started = time.perf_counter()
    builder = _Builder(seed)
    builder.build()
    s = CITY_SIZE_M
    h = s / 2

    # Municipality and districts (districts are bounded by road centrelines).
    m = MUNICIPALITY_MARGIN_M
    municipality = _frame(
        [{"code": "RUH", "name_en": "Riyadh (demo)", "name_ar": "الرياض (تجريبي)"}],
        _to_utm(np.array([box(-m, -m, s + m, s + m)])),
    )
    district_geoms_local = [box(qx, qy, qx + h, qy + h) for qx, qy in [(0.0, 0.0), (h, 0.0), (0.0, h), (h, h)]]
    districts = _frame(
        [{"code": c, "name_en": en, "name_ar": ar} for c, en, ar, _ in DISTRICTS],
        _to_utm(np.array(district_geoms_local)),
    )

    blocks = _frame(
        [{"plan_no": p, "block_no": b, "district": d} for p, b, d, _ in builder.blocks],
        _to_utm(np.array([g for *_, g in builder.blocks])),
    )

    road_lines = np.array([LineString([r.start, r.end]) for r in builder.roads])
    road_records = [
        {"name_en": r.name_en, "name_ar": r.name_ar, "road_class": r.road_class, "width_m": r.width_m}
        for r in builder.roads
    ]
    streets = _frame(road_records, _to_utm(road_lines))
    rows_local = shapely.buffer(road_lines, np.array([r.width_m / 2 for r in builder.roads]), cap_style="flat")
    street_rows = _frame(road_records, _to_utm(rows_local))

    # Zoning: commercial and mixed bands are the lots fronting arterials and collectors, closed
    # over the local streets between them; the rest of each district is villa residential.
    lots = builder.lots
    zone_of_use = {"commercial": "C1", "mixed": "M1"}
    closing_m = 10.5
    zone_records, zone_geoms = [], []
    for di, (code, *_rest) in enumerate(DISTRICTS):
        district_geom = district_geoms_local[di]
        taken = []
        for zone_code, use in (("C1", "commercial"), ("M1", "mixed")):
            members = [lot.geom for lot in lots if lot.district == code and lot.land_use == use]
            if not members:
                continue
            merged = shapely.union_all(members)
            closed = merged.buffer(closing_m, join_style="mitre").buffer(-closing_m, join_style="mitre")
            closed = shapely.union(closed.intersection(district_geom), merged)
            closed = closed.difference(shapely.union_all(taken)) if taken else closed
            taken.append(closed)
            for part in _polygons(closed):
                zone_records.append({"zone_code": zone_code, "district": code})
                zone_geoms.append(part)
        rest = district_geom.difference(shapely.union_all(taken)) if taken else district_geom
        for part in _polygons(rest):
            zone_records.append({"zone_code": "R1", "district": code})
            zone_geoms.append(part)
    zoning = _frame(
        [
            {"zone_code": z["zone_code"], "name_en": ZONES[z["zone_code"]][0], "name_ar": ZONES[z["zone_code"]][1],
             "allowed_uses": ZONES[z["zone_code"]][2], "district": z["district"]}
            for z in zone_records
        ],
        _to_utm(np.array(zone_geoms)),
    )

    lot_geoms_utm = _to_utm(np.array([lot.geom for lot in lots]))
    areas = shapely.area(lot_geoms_utm)
    parcel_records = [
        {
            "parcel_code": f"{lot.plan_no}-{lot.block_no}-{lot.parcel_no}",
            "plan_no": lot.plan_no,
            "block_no": lot.block_no,
            "parcel_no": lot.parcel_no,
            "district": lot.district,
            "land_use": lot.land_use,
            "zone_code": zone_of_use.get(lot.land_use, "R1"),
            "facility": lot.facility,
            "undeveloped": lot.undeveloped,
            "stated_area": round(float(area), 2),
        }
        for lot, area in zip(lots, areas)
    ]
    # Lot edges are at most a few tens of metres long: projecting the vertices alone keeps
    # shared boundaries identical between neighbours.
    parcels = _frame(parcel_records, lot_geoms_utm, densify=False)
    parcels["undeveloped"] = parcels["undeveloped"].astype("int32")

    elapsed = time.perf_counter() - started
    stats = {name: len(getattr(frame, "index")) for name, frame in zip(
        LAYER_NAMES, (municipality, districts, blocks, streets, street_rows, zoning, parcels))}
    stats["seconds"] = round(elapsed, 3)
    return DemoCity(
        municipality=municipality, districts=districts, blocks=blocks, streets=streets,
        street_rows=street_rows, zoning=zoning, parcels=parcels, seed=seed, stats=stats,
    )


def write_gpkg(city: DemoCity, path: str | Path) -> Path:
    """Write every layer of the city to a new GeoPackage, replacing any file at the path."""
    path = Path(path)
    if path.exists():
        path.unlink()
    for name, frame in city.layers().items():
        frame.to_file(path, layer=name, driver="GPKG", engine="pyogrio")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m data.demo_city", description=__doc__.split("\n")[0])
    parser.add_argument("out", help="GeoPackage to write (replaced if it exists)")
    parser.add_argument("--seed", type=int, default=82)
    args = parser.parse_args(argv)
    city = generate(args.seed)
    write_gpkg(city, args.out)
    summary = ", ".join(f"{k}={v}" for k, v in city.stats.items())
    print(f"wrote {args.out} (seed {args.seed}): {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
