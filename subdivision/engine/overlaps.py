"""Where plan features overlap, merged into connected regions with the features that share each.

One finding per pair grows with the square of the lot count (a file repeating one lot 1,000 times
has 499,500 pairs); one per connected region does not. Exact copies are grouped by their normalised
WKB first, so any number of copies costs one hash each; the remaining pairs are found with an STRtree
in chunks and capped, so a plan of thousands of *different* lots piled on each other stops with
``TooComplex`` instead of running for minutes.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

from .budget import UNLIMITED, Budget, TooComplex

QUERY_CHUNK = 1024
# Interiors may overlap where the features, each shrunk towards its centroid by this fraction, still
# intersect: one prepared "intersects" instead of GEOS's full relate ("touches") on every pair of
# neighbours, and a scaling of coordinates instead of a buffer. Neighbours that only share an edge
# come apart; an overlap thinner than ~1e-5 m is missed, far below any tolerance.
SHRINK = 1e-7
# A subdivision's lots touch a handful of neighbours (a road network spanning the plan adds one
# candidate per lot); this many pairs with overlapping bounding boxes is not a plan.
MAX_PAIRS_BASE = 50_000
MAX_PAIRS_PER_FEATURE = 40


@dataclass
class OverlapRegions:
    """Connected areas covered by two or more features, each with the indices of those features."""

    geoms: np.ndarray
    areas: np.ndarray
    members: list[np.ndarray]

    @property
    def total_area(self) -> float:
        return float(self.areas.sum()) if len(self.areas) else 0.0


def copies(geoms: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Return (index of the first of each distinct geometry, the indices of each group of copies)."""
    keys = shapely.to_wkb(shapely.normalize(geoms))
    first: dict[bytes, int] = {}
    groups: dict[int, list[int]] = {}
    for i, key in enumerate(keys):
        if key is None:
            continue
        j = first.setdefault(key, i)
        if j != i:
            groups.setdefault(j, [j]).append(i)
    return np.fromiter(first.values(), dtype=np.intp), [np.array(g, dtype=np.intp) for g in groups.values()]


def distinct_geometries(geoms: np.ndarray) -> np.ndarray:
    """Return the indices of the first of each group of identical geometries, in order."""
    return np.sort(copies(np.asarray(geoms, dtype=object))[0])


def _shrunk(geoms: np.ndarray) -> np.ndarray:
    """Return the (non-empty) geometries scaled by 1 - SHRINK about their centroids."""
    centres = shapely.get_coordinates(shapely.centroid(geoms))
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    moved = centres[owner] + (coords - centres[owner]) * (1.0 - SHRINK)
    return shapely.set_coordinates(geoms.copy(), moved)


def _pairs(geoms: np.ndarray, budget: Budget) -> tuple[np.ndarray, np.ndarray]:
    """Return index pairs (a < b) of geometries whose interiors may overlap (a superset of those that do).

    Candidates are counted by bounding box (cheap) before any exact predicate runs, so a pile
    of stacked features is refused after a bounded amount of work.
    """
    shrunk = _shrunk(geoms)
    tree = shapely.STRtree(shrunk)
    cap = MAX_PAIRS_BASE + MAX_PAIRS_PER_FEATURE * len(geoms)
    firsts, seconds, candidates = [], [], 0
    for start in range(0, len(geoms), QUERY_CHUNK):
        budget.check("finding overlapping features")
        chunk = shrunk[start:start + QUERY_CHUNK]
        a, b = tree.query(chunk)  # bounding boxes only: cheap, and bounds the exact work below
        candidates += int(np.count_nonzero(a + start < b))
        if candidates > cap:
            raise TooComplex(
                f"more than {cap:,} pairs of its {len(geoms):,} features lie on top of each other: the features "
                "are stacked (a layer exported twice, or lots drawn over each other); fix the drawing and upload it again")
        a, b = tree.query(chunk, predicate="intersects")
        a = a + start
        keep = a < b
        firsts.append(a[keep])
        seconds.append(b[keep])
    if not firsts:
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp)
    return np.concatenate(firsts), np.concatenate(seconds)


def overlap_regions(geoms: np.ndarray, budget: Budget = UNLIMITED) -> OverlapRegions:
    """Return the connected regions where two or more of ``geoms`` (valid polygons) overlap."""
    geoms = np.asarray(geoms, dtype=object)
    usable = np.flatnonzero(~shapely.is_empty(geoms) & (shapely.area(geoms) > 0))
    if len(usable) < 2:
        return OverlapRegions(np.zeros(0, dtype=object), np.zeros(0), [])
    distinct, copy_groups = copies(geoms[usable])
    copies_of = {int(g[0]): g for g in copy_groups}
    a, b = _pairs(geoms[usable][distinct], budget)
    a, b = distinct[a], distinct[b]
    budget.check("measuring overlaps")
    pieces = shapely.intersection(geoms[usable][a], geoms[usable][b])
    areas = shapely.area(pieces)
    keep = areas > 0
    a, b, pieces = a[keep], b[keep], pieces[keep]
    # A group of copies overlaps over the whole of the copied geometry.
    copy_firsts = np.array(sorted(copies_of), dtype=np.intp)
    all_pieces = np.concatenate([pieces, geoms[usable][copy_firsts]]).astype(object)
    if not len(all_pieces):
        return OverlapRegions(np.zeros(0, dtype=object), np.zeros(0), [])
    budget.check("merging overlaps")
    merged = shapely.union_all(all_pieces)
    parts = shapely.get_parts(merged)
    regions = parts[(shapely.get_type_id(parts) == shapely.GeometryType.POLYGON) & (shapely.area(parts) > 0)]
    if not len(regions):
        return OverlapRegions(np.zeros(0, dtype=object), np.zeros(0), [])
    # A piece may have several parts (two features overlapping in two places), each in its own region, and
    # each part lies in exactly one region: find it from a point inside the part.
    part_geoms, part_owner = shapely.get_parts(all_pieces, return_index=True)
    points = shapely.point_on_surface(part_geoms)
    tree = shapely.STRtree(regions)
    region_of = np.full(len(part_geoms), -1, dtype=np.intp)
    p_idx, r_idx = tree.query(points, predicate="intersects")
    region_of[p_idx] = r_idx
    lost = np.flatnonzero(region_of < 0)
    if len(lost):
        region_of[lost] = tree.query_nearest(points[lost], return_distance=False, all_matches=False)[1]
    members: list[set[int]] = [set() for _ in regions]
    for piece, region in zip(part_owner, region_of):
        if piece < len(pieces):
            members[region].update((int(a[piece]), int(b[piece])))
        else:
            members[region].add(int(copy_firsts[piece - len(pieces)]))
    # A region no part was found in (a sliver of 1e-9 m² the union kept apart from its piece) names no
    # features to report: leave it out rather than report an overlap of nobody.
    named = [k for k, group in enumerate(members) if group]
    regions = regions[named]
    # Expand every distinct geometry to all of its copies, back in the caller's indices.
    out = []
    for k in named:
        expanded = np.concatenate([copies_of.get(i, np.array([i], dtype=np.intp)) for i in sorted(members[k])])
        out.append(np.sort(usable[expanded]))
    return OverlapRegions(regions, shapely.area(regions), out)
