"""Search a few orientations and offsets for the best compliant layout of a parent parcel (pure, metres).

Each candidate is drawn (``draw``), then validated by the real engine against the same context the service
will use; what the engine still finds is repaired (a failing lot becomes open space, a narrow road piece
becomes open space, a missing corner truncation is cut) and validated again, a few rounds at most. The
valid candidate with the most lots wins; ties go to the one found first, so the answer is deterministic
for a given input as long as the time budget is not reached.
"""
from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import shapely
import shapely.errors
from shapely.geometry.base import BaseGeometry

from subdivision.engine import (
    Budget,
    BudgetExceeded,
    ExistingParcel,
    PlanContext,
    PlanFeature,
    RuleSet,
    TooComplex,
    measure,
    validate,
)

from .draw import CONNECT_M, Candidate, Drawn, _reach_share, draw, open_features
from .lots import _tiled
from .targets import AREA_MARGIN, Dimensions, LayoutTargets, dimensions

DEFAULT_BUDGET_S = 10.0
MAX_CANDIDATES = 48
PATIENCE = 16  # stop after this many candidates in a row bring no more lots
REPAIR_ROUNDS = 4
GRID_M = 0.001
REPAIR_GRID_M = 0.01  # survey precision: what the round trip broke is redrawn with vertices 1 cm apart
FILE_REPAIR_ROUNDS = 3
MIN_AREA_M2 = 0.001  # smaller leftovers are dropped (the gap tolerance is 0.5 m²)
STREETS_AROUND_M = 60.0
SHARED_M = 0.001
DROP_SHARE = 0.5  # a scrap left uncovered stays under half the gap tolerance (GAP is judged per piece)
MAX_VERTICES = 50_000
CLAIMED_TWICE_FEATURES = 4  # the most features that can share a compact piece of land (at a lot corner)
OFFSETS_V = (0.0, 0.5, 0.25, 0.75)
LOT_CODES = frozenset({"LOT_AREA_MIN", "LOT_FRONTAGE_MIN", "NO_STREET_ACCESS", "LOT_DEPTH_RATIO",
                       "MISSING_LOT_NO", "STATED_AREA_MISMATCH"})


class NoLayout(Exception):
    """No valid layout was found; ``reasons`` say why, one sentence each."""

    def __init__(self, reasons: list[str]):
        super().__init__("; ".join(reasons))
        self.reasons = reasons


@dataclass(frozen=True)
class FileCRS:
    """How the plan file stores geometries: metric -> file CRS and back, as the writer and the validator do."""

    to_file: Callable[[list], list]
    from_file: Callable[[list], list]


@dataclass(frozen=True)
class LayoutFeature:
    kind: str  # lot | road | open_space
    lot_no: str | None
    geom: BaseGeometry  # metres, as the validator reads the file back
    land_use: str | None
    file_geom: BaseGeometry | None = None  # exactly what the file holds (file CRS), when a FileCRS was given


@dataclass
class Layout:
    features: list[LayoutFeature]
    candidate: Candidate
    dims: Dimensions
    lots: int
    public_share_pct: float
    candidates_tried: int
    seconds: float


def _segment_angles(geom: BaseGeometry, street_rows: list) -> list[tuple[float, float]]:
    """Return (angle deg, length facing a street) of the parent's boundary segments, longest facing first."""
    near = shapely.union_all(street_rows).buffer(CONNECT_M) if street_rows else shapely.Polygon()
    if near.is_empty:
        return []
    shapely.prepare(near)
    rings = shapely.get_rings(shapely.get_parts(geom))
    coords, ring = shapely.get_coordinates(rings, return_index=True)
    same = ring[1:] == ring[:-1]
    a, b = coords[:-1][same], coords[1:][same]
    # The facing length is sampled (five points a segment): exact intersections with a city's rights-of-way
    # cost seconds on parcels with thousands of vertices, and only the ranking of directions is needed here.
    fractions = np.array([0.1, 0.3, 0.5, 0.7, 0.9])
    pts = a[:, None, :] + (b - a)[:, None, :] * fractions[None, :, None]
    inside = shapely.intersects_xy(near, pts[..., 0].ravel(), pts[..., 1].ravel()).reshape(len(a), len(fractions))
    facing = np.hypot(*(b - a).T) * inside.mean(axis=1)
    angles = np.degrees(np.arctan2(b[:, 1] - a[:, 1], b[:, 0] - a[:, 0])) % 180.0
    order = np.argsort(-facing, kind="stable")
    return [(float(angles[i]), float(facing[i])) for i in order if facing[i] > 1.0]


def candidates(parent: BaseGeometry, street_rows: list, dims: Dimensions) -> list[Candidate]:
    """Return the candidates to try, most promising first: orientations along and across the longest
    street frontage and along the parent's minimum rotated rectangle, each at a few road offsets, with and
    without a spine road."""
    angles: list[float] = []

    def add(a: float):
        a = a % 180.0
        if all(min(abs(a - b), 180 - abs(a - b)) > 2.0 for b in angles):
            angles.append(a)

    facing = _segment_angles(parent, street_rows)
    if facing:
        add(facing[0][0] + 90.0)  # roads straight off the frontage street
        add(facing[0][0])  # roads along it, joined to it by a spine
    rect = np.asarray(shapely.oriented_envelope(parent).exterior.coords)
    edges = rect[1:3] - rect[0:2]
    for e in sorted(edges, key=lambda e: -np.hypot(*e)):
        add(math.degrees(math.atan2(e[1], e[0])))
    if len(facing) > 1:
        add(facing[1][0] + 90.0)
    out = []
    for spine in (None, 0.5, 0.2, 0.8):
        for off in OFFSETS_V:
            for angle in angles:  # every orientation early, so the search is never stuck on one
                out.append(Candidate(round(angle, 4), off, 0.0, spine))
    return out[:MAX_CANDIDATES]


def _context(features: list[LayoutFeature], parent: BaseGeometry, street_rows, existing: list,
             rules: RuleSet, parent_code: str) -> PlanContext:
    return PlanContext(
        features=tuple(PlanFeature(f.kind, f.lot_no, f.geom, round(f.geom.area, 2) if f.kind == "lot" else None,
                                   f.land_use, i) for i, f in enumerate(features)),
        parents=(ExistingParcel(parent_code, parent, "active"),),
        existing=tuple(existing),
        street_rows=tuple(street_rows),
        rules=rules,
    )


def features_of(drawn: Drawn, land_use: str, file_crs: FileCRS | None = None) -> list[LayoutFeature]:
    """Return the drawn plan as numbered features: lots 1..n in row order, then roads, then open spaces (the
    drawing's geometries are put on the 1 mm grid on the way; with FILE_CRS, each feature's geometry is what
    the plan file will read back as, and ``file_geom`` what it will hold)."""
    lots, roads, opens = ([g for g in _on_grid(geoms) if not g.is_empty]
                          for geoms in (drawn.lots, drawn.roads, drawn.open_spaces))
    # Cutting leaves hair-thin overlaps where a vertex of one feature lay on another's edge: lots keep their
    # shape, roads give way to lots, open space to both, so the features never overlap.
    if lots and (roads or opens):
        taken = shapely.union_all(lots)
        roads = [measure.polygonal(shapely.difference(g, taken)) for g in roads]
    if opens and (lots or roads):
        taken = shapely.union_all(lots + roads)
        opens = [measure.polygonal(shapely.difference(g, taken)) for g in opens]
    drawn.lots = lots
    drawn.roads = [g for g in roads if g.area > MIN_AREA_M2]
    drawn.open_spaces = [g for g in opens if g.area > MIN_AREA_M2]
    kinds = ["lot"] * len(drawn.lots) + ["road"] * len(drawn.roads) + ["open_space"] * len(drawn.open_spaces)
    geoms = drawn.lots + drawn.roads + drawn.open_spaces
    written: list = [None] * len(geoms)
    if file_crs is not None and geoms:
        written, geoms = read_back(geoms, file_crs)
    out, n = [], 0
    for kind, g, w in zip(kinds, geoms, written):
        n += kind == "lot"
        out.append(LayoutFeature(kind, str(n) if kind == "lot" else None, g,
                                 land_use if kind == "lot" else None, w))
    return out


def _clean(geom: BaseGeometry) -> BaseGeometry:
    """Return GEOM valid, polygonal and on the 1 cm grid (hair-thin parts collapse)."""
    try:
        return measure.polygonal(shapely.set_precision(shapely.make_valid(geom), REPAIR_GRID_M))
    except shapely.errors.GEOSException:
        return measure.polygonal(shapely.make_valid(geom))


def read_back(geoms: list, file_crs: FileCRS) -> tuple[list, list]:
    """Return (GEOMS as the file will hold them, as the validator will read them back in metres).

    Where the round trip breaks a geometry (a vertex moved onto an edge self-intersects), what was read back is
    repaired on the 1 cm grid and written instead, until what is written reads back valid: the validator then
    sees exactly what was checked here.
    """
    written = list(file_crs.to_file(geoms))
    back = list(file_crs.from_file(written))
    for _ in range(FILE_REPAIR_ROUNDS):
        bad = [i for i, (w, b) in enumerate(zip(written, back)) if not (w.is_valid and b.is_valid)]
        if not bad:
            break
        fixed = [_clean(back[i]) for i in bad]
        again = list(file_crs.to_file(fixed))
        for i, w, b in zip(bad, again, file_crs.from_file(again)):
            written[i], back[i] = w, b
    return written, back


def _on_grid(geoms: list) -> list:
    """Return GEOMS with every vertex on a 1 mm grid: the spikes and near-repeated vertices that cutting leaves
    (valid in metres, self-intersecting once written in degrees) collapse, and shared vertices stay shared."""
    if not geoms:
        return []
    arr = np.empty(len(geoms), dtype=object)
    arr[:] = list(geoms)
    try:
        return [measure.polygonal(g) for g in shapely.set_precision(arr, GRID_M)]
    except shapely.errors.GEOSException:  # one awkward polygon: repair it first, or leave it as drawn
        out = []
        for g in arr:
            try:
                out.append(measure.polygonal(shapely.set_precision(g, GRID_M)))
            except shapely.errors.GEOSException:
                try:
                    out.append(measure.polygonal(shapely.set_precision(shapely.make_valid(g), GRID_M)))
                except shapely.errors.GEOSException:
                    out.append(measure.polygonal(g))
        return out


def _array(geoms: list) -> np.ndarray:
    arr = np.empty(len(geoms), dtype=object)
    arr[:] = list(geoms)
    return arr


def _hand_over_sliver(drawn: Drawn, piece: BaseGeometry) -> bool:
    """Give PIECE (a sliver of open space or road) to the neighbour it shares most boundary with; return False
    when none borders it.

    Boundaries read back through the file's CRS agree to a few nanometres, not exactly: the boundary shared is
    what lies within SHARED_M of the neighbour. A road that takes a sliver grows a narrow piece (ROAD_WIDTH_MIN,
    then open space, then a sliver again): a lot or open space takes it where one borders it.
    """
    groups = [drawn.lots, drawn.open_spaces, drawn.roads]
    around = piece.buffer(SHARED_M)
    edge = piece.boundary
    shared = []
    for n, geoms in enumerate(groups):
        if not geoms:
            continue
        arr = _array(geoms)
        for i in np.flatnonzero(shapely.intersects(arr, around)):
            grown = arr[i].buffer(SHARED_M)
            if not grown.covers(piece):
                shared.append((shapely.intersection(edge, grown).length, n, int(i)))
    best = max([x for x in shared if x[1] != 2 and x[0] > 0] or shared, default=(0.0, -1, -1))
    if best[0] <= 0:
        return False
    for n in (1, 2):  # the piece leaves the open spaces and roads it was part of
        arr = _array(groups[n])
        for i in np.flatnonzero(shapely.intersects(arr, piece)) if len(arr) else ():
            groups[n][i] = measure.polygonal(shapely.difference(arr[i], piece))
    n, i = best[1], best[2]
    groups[n][i] = measure.polygonal(shapely.union(shapely.difference(groups[n][i], piece), piece))
    return True


def merge_open_slivers(drawn: Drawn, rules: RuleSet) -> None:
    """Hand the parts of open space the engine would call slivers to their neighbours, before validating."""
    if not drawn.open_spaces:
        return
    parts, _ = measure.explode_polygons(_array(drawn.open_spaces))
    if not len(parts):
        return
    thin = (measure.thinness(parts) < rules.sliver_thinness) | measure.narrower_than(parts, rules.sliver_min_width_m)
    for piece in parts[thin]:
        _hand_over_sliver(drawn, piece) or _drop_sliver(drawn, piece, rules)
    drawn.open_spaces = [g for g in drawn.open_spaces if not g.is_empty]


def _drop_sliver(drawn: Drawn, piece: BaseGeometry, rules: RuleSet) -> bool:
    """Leave out PIECE, a sliver of open space no feature borders (a stray scrap of the parent's own outline),
    when it is well under the gap tolerance; return False when it is not."""
    if piece.area > DROP_SHARE * rules.gap_overlap_tolerance_m2:
        return False
    around = piece.buffer(SHARED_M)
    if any(shapely.intersects(_array(g), around).any() for g in (drawn.lots, drawn.roads) if g):
        return False
    drawn.open_spaces = [o for o in (measure.polygonal(shapely.difference(o, around)) if o.intersects(piece) else o
                                     for o in drawn.open_spaces) if not o.is_empty]
    return True


def _repair(drawn: Drawn, findings: list, rules: RuleSet, share_pct: float, parent_area: float) -> bool:
    """Apply what the engine found to DRAWN; return False when nothing could be done."""
    labels = {str(n): n - 1 for n in range(1, len(drawn.lots) + 1)}
    to_open: set[int] = set()
    extra_open = []
    changed = False
    for f in findings:
        lot_idx = [labels[x] for x in f.features if x in labels]
        if f.code in LOT_CODES or (f.code == "SLIVER" and lot_idx):
            to_open.update(lot_idx)
        elif f.code == "ROAD_WIDTH_MIN" and f.location is not None:
            drawn.roads = [measure.polygonal(shapely.difference(r, f.location)) for r in drawn.roads]
            extra_open.append(f.location)
            changed = True
        elif f.code == "CORNER_TRUNCATION" and f.location is not None:
            for i in lot_idx or range(len(drawn.lots)):
                if drawn.lots[i].intersects(f.location):
                    drawn.lots[i] = measure.polygonal(shapely.difference(drawn.lots[i], f.location))
            extra_open.append(f.location)
            changed = True
        elif f.code == "SLIVER" and f.location is not None:
            # An open-space sliver: hand it to a neighbour (a lot that then fails a rule becomes open space in
            # the next round).
            changed |= _hand_over_sliver(drawn, f.location) or _drop_sliver(drawn, f.location, rules)
    if to_open:
        extra_open += [drawn.lots[i] for i in sorted(to_open)]
        drawn.lots = [g for i, g in enumerate(drawn.lots) if i not in to_open]
        changed = True
    if extra_open:
        drawn.open_spaces = open_features(drawn.open_spaces + extra_open, rules)
    if any(f.code == "PUBLIC_SHARE_MIN" for f in findings):
        drawn.lots, drawn.open_spaces = _reach_share(drawn.lots, drawn.open_spaces, drawn.roads, parent_area,
                                                     share_pct + 0.5)
        drawn.open_spaces = open_features(drawn.open_spaces, rules)
        changed = True
    return changed


def design_layout(parent: BaseGeometry, *, street_rows: list, rules: RuleSet, targets: LayoutTargets,
                  existing: list | None = None, parent_code: str = "parent",
                  budget_s: float = DEFAULT_BUDGET_S, file_crs: FileCRS | None = None) -> Layout:
    """Return the best valid layout of PARENT (metric CRS), or raise NoLayout with the reasons.

    FILE_CRS, when given, maps metric geometries to the plan file's CRS (e.g. EPSG:4326) and back, so that what
    is validated here is what the validator will read.
    """
    started = time.monotonic()
    parent = measure.polygonal(shapely.make_valid(parent))
    dims = dimensions(rules, targets)
    existing = list(existing or [])
    if parent.is_empty:
        raise NoLayout(["the parcel has no area"])
    if parent.area < rules.min_lot_area_m2 * AREA_MARGIN:
        raise NoLayout([(f"the parcel measures {parent.area:,.0f} m², under the minimum lot area of "
                         f"{rules.min_lot_area_m2:g} m²: no lot fits")])
    vertices = len(shapely.get_coordinates(parent))
    if vertices > MAX_VERTICES:
        raise NoLayout([(f"the parcel's boundary has {vertices:,} vertices, over the {MAX_VERTICES:,} a layout "
                         "is drawn for: simplify or split it first")])
    # Only the rights-of-way around the parent matter; real ones are city-wide polygons, so clip them first.
    minx, miny, maxx, maxy = parent.bounds
    box = (minx - STREETS_AROUND_M, miny - STREETS_AROUND_M, maxx + STREETS_AROUND_M, maxy + STREETS_AROUND_M)
    rows = [measure.polygonal(shapely.make_valid(shapely.clip_by_rect(s, *box))) for s in street_rows]
    rows = [g for g in rows if not g.is_empty]
    near = shapely.union_all(rows).buffer(CONNECT_M) if rows else shapely.Polygon()
    if near.is_empty or not parent.intersects(near):
        raise NoLayout([(f"the parcel lies more than {CONNECT_M:g} m from every street right-of-way in the "
                         "registry: a layout could not be connected to the street network")])
    # Only neighbours that reach into the parent's box can conflict with the plan or pin its vertices.
    envelope = shapely.box(*parent.bounds).buffer(1.0)
    existing = [e for e in existing if e.geom.intersects(envelope)]
    claimed = registry_conflicts(parent, existing, rules)
    if claimed:
        code, area_m2 = claimed[0]
        raise NoLayout([(f"the registry gives {area_m2:,.1f} m² of the parcel to existing parcel {code} as well "
                         f"({len(claimed)} such piece{'s' if len(claimed) > 1 else ''}, each more than a plan's "
                         f"features could share under the {rules.gap_overlap_tolerance_m2:g} m² overlap tolerance): "
                         "every plan covering the parcel would overlap it; correct the registry first")])
    # A city's right-of-way is one polygon of 100,000 vertices: each lot edge tested against it costs all of them.
    # Cut into 100 m tiles it covers the same ground (frontage sums lengths over polygons) at a few vertices each.
    rows_tiled = _tiled(rows)
    best: Layout | None = None
    failures: Counter = Counter()
    tried = 0
    since_best = 0
    budget = Budget(budget_s)
    out_of_time = False
    for cand in candidates(parent, rows, dims):
        if best is not None and since_best >= PATIENCE:
            break
        tried += 1
        since_best += 1
        try:
            budget.check("drawing a layout")
            drawn = draw(parent, rows, rules, dims, cand, check=budget.check)
            merge_open_slivers(drawn, rules)
            for _ in range(REPAIR_ROUNDS + 1):
                features = features_of(drawn, targets.land_use, file_crs)
                budget.check("validating a layout")
                report = validate(_context(features, parent, rows_tiled, existing, rules, parent_code), budget=budget)
                if not report.findings:
                    break
                if not _repair(drawn, report.findings, rules, dims.public_share_pct, parent.area):
                    break
        except (BudgetExceeded, TooComplex):
            out_of_time = True
            break
        except shapely.errors.GEOSException as exc:  # a candidate GEOS cannot draw is a failed candidate
            failures.update({f"GEOS: {str(exc)[:60]}"})
            continue
        lots = sum(f.kind == "lot" for f in features)
        if report.findings or lots == 0:
            failures.update({f.code for f in report.findings} or {"NO_LOT"})
            continue
        if best is None or lots > best.lots:
            since_best = 0
            best = Layout(features, cand, dims, lots, float(report.summary.get("public_share_pct") or 0.0), tried,
                          0.0)
    if best is None:
        reasons = _reasons(failures, parent, rules, dims) if failures else []
        if out_of_time:
            reasons.insert(0, f"the search ran out of its {budget_s:g} s budget before a valid layout was found "
                              f"for the {parent.area / 1e4:,.1f} ha parcel ({tried} layouts tried): split it first")
        raise NoLayout(reasons)
    best.candidates_tried = tried
    best.seconds = round(time.monotonic() - started, 3)
    return best


def registry_conflicts(parent: BaseGeometry, existing: list, rules: RuleSet) -> list[tuple[str, float]]:
    """Return (code, m²) of the pieces of PARENT that active EXISTING parcels also cover, largest first, that no
    plan's features can share under the overlap tolerance each: over four times the tolerance (four features
    meet at a lot corner), and so wide (mean width 2·area/perimeter) that a stretch of one lot frontage holds more
    than the tolerance. Land the registry gives twice, not a drafting hair the lot lines cut small."""
    active = [e for e in existing if e.status == "active" and not e.geom.is_empty]
    if not active:
        return []
    geoms = np.empty(len(active), dtype=object)
    geoms[:] = measure.repair_all([e.geom for e in active])
    shapely.prepare(parent)
    hit = np.flatnonzero(shapely.intersects(parent, geoms))
    if not len(hit):
        return []
    parts, owner = measure.explode_polygons(shapely.intersection(parent, geoms[hit]))
    tol = rules.gap_overlap_tolerance_m2
    areas = shapely.area(parts)
    mean_width_m = 2 * areas / np.maximum(shapely.length(parts), 1e-12)
    big = (areas > CLAIMED_TWICE_FEATURES * tol) & (mean_width_m * rules.min_frontage_m > tol)
    found = [(active[hit[o]].code, float(a)) for o, a in zip(owner[big], shapely.area(parts[big]))]
    return sorted(found, key=lambda x: -x[1])


def _reasons(failures: Counter, parent: BaseGeometry, rules: RuleSet, dims: Dimensions) -> list[str]:
    if failures.get("NO_LOT"):
        lead = (f"no lot of at least {rules.min_lot_area_m2:g} m² with {rules.min_frontage_m:g} m of street "
                f"frontage fits in the {parent.area:,.0f} m² parcel once roads of {dims.road_width_m:g} m and a "
                f"public share of {dims.public_share_pct:.1f} % are taken")
    else:
        lead = "every layout tried still broke a rule"
    rest = sorted(c for c in failures if c != "NO_LOT")
    return [lead] + ([f"findings left in the layouts tried: {', '.join(rest)}"] if rest else [])
