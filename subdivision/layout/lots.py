"""Checks of candidate lots against the rule set, the same measures the validation engine uses (pure)."""
from __future__ import annotations

import numpy as np
import shapely

from subdivision.engine import RuleSet, measure

from .targets import AREA_MARGIN

THINNESS_MIN = 0.15  # the engine calls a part under 0.1 a sliver; lots keep clear of it
DEPTH_RATIO_SLACK = 0.02
FRONTAGE_SLACK_M = 0.05
TILE_M = 100.0


class Access:
    """The polygons a lot may front on: the layout's roads and the registry's street rights-of-way."""

    def __init__(self, roads: list, street_rows: list):
        geoms = [g for g in list(roads) + list(street_rows) if g is not None and not g.is_empty]
        self.geoms = _tiled(geoms)
        self.tree = shapely.STRtree(self.geoms)


def _tiled(geoms: list) -> np.ndarray:
    """Return GEOMS cut into tiles of TILE_M: a lot's edges then meet a few small polygons, not a road
    network's whole outline (the frontage sums lengths over polygons, so it does not change)."""
    out = []
    for g in geoms:
        minx, miny, maxx, maxy = g.bounds
        if max(maxx - minx, maxy - miny) <= TILE_M:
            out.append(g)
            continue
        xs = np.arange(minx, maxx, TILE_M)
        ys = np.arange(miny, maxy, TILE_M)
        cells = shapely.box(*np.meshgrid(xs, ys), *np.meshgrid(xs + TILE_M, ys + TILE_M)).ravel()
        shapely.prepare(g)
        cells = cells[shapely.intersects(g, cells)]
        out += [c for c in shapely.intersection(cells, g) if not c.is_empty and c.area > 0]
    arr = np.empty(len(out), dtype=object)
    arr[:] = out
    return arr


def frontage(lots, access: Access, rules: RuleSet) -> tuple[np.ndarray, np.ndarray]:
    """Return each lot's frontage (m) and main frontage direction, as the engine measures them."""
    arr = np.empty(len(lots), dtype=object)
    arr[:] = list(lots)
    return measure.frontage(arr, access.tree, access.geoms, rules.frontage_snap_m)


def lots_pass(lots, access: Access, rules: RuleSet) -> np.ndarray:
    """Return True for each candidate lot that meets every lot rule, with a margin."""
    arr = np.empty(len(lots), dtype=object)
    arr[:] = list(lots)
    if not len(arr):
        return np.zeros(0, dtype=bool)
    single = shapely.get_type_id(arr) == shapely.GeometryType.POLYGON
    area_ok = shapely.area(arr) >= rules.min_lot_area_m2 * AREA_MARGIN
    front_m, direction = frontage(arr, access, rules)
    front_ok = front_m >= rules.min_frontage_m + FRONTAGE_SLACK_M
    depth = measure.depth_along(arr, direction)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(front_m > 0, depth / front_m, np.inf)
    ratio_ok = ratio <= rules.max_depth_ratio - DEPTH_RATIO_SLACK
    shape_ok = (measure.thinness(arr) >= THINNESS_MIN) & ~measure.narrower_than(arr, 2 * rules.sliver_min_width_m)
    return single & area_ok & front_ok & ratio_ok & shape_ok


def is_sliver(geom, rules: RuleSet) -> bool:
    """Return True when the engine would call some part of GEOM a sliver (with a margin)."""
    parts, _ = measure.explode_polygons(np.array([geom], dtype=object))
    if not len(parts):
        return False
    return bool(((measure.thinness(parts) < rules.sliver_thinness * 1.2)
                 | measure.narrower_than(parts, rules.sliver_min_width_m * 1.2)).any())
