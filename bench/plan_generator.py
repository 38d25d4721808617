"""Generate large, valid synthetic subdivision plans for benchmarking the engine."""
from __future__ import annotations

import math

import numpy as np
import shapely

from subdivision.engine import ExistingParcel, PlanContext, PlanFeature, RuleSet

ROAD_WIDTH_M = 15.0
LOT_DEPTH_M = 30.0
LOTS_PER_ROW = 4
BLOCK_WIDTH_M = 90.0  # 4 lots of 20-25 m frontage
BLOCK_HEIGHT_M = 2 * LOT_DEPTH_M
PARK_EVERY = 8  # every 8th block is open space, keeping the public share near 40 %


def _lot_widths(rng: np.random.Generator) -> np.ndarray:
    """Return 4 frontages >= 20 m summing to the block width."""
    extra = rng.dirichlet(np.ones(LOTS_PER_ROW)) * (BLOCK_WIDTH_M - 20.0 * LOTS_PER_ROW)
    widths = 20.0 + np.round(extra, 2)
    widths[-1] = BLOCK_WIDTH_M - widths[:-1].sum()
    return widths


def generate_plan(n_lots: int, origin: tuple[float, float] = (500_000.0, 2_700_000.0), seed: int = 0) -> PlanContext:
    """Return a valid plan of ``n_lots`` lots in 2 x 4 blocks on a 15 m road grid.

    The single parent parcel covers exactly lots + roads + open space; blocks that are
    parks, and lot slots beyond ``n_lots`` in the last block, become open space.
    """
    rng = np.random.default_rng(seed)
    x0, y0 = origin
    lots_per_block = 2 * LOTS_PER_ROW
    lot_blocks = math.ceil(n_lots / lots_per_block)
    blocks = lot_blocks + lot_blocks // (PARK_EVERY - 1) + 1
    cols = math.ceil(math.sqrt(blocks * BLOCK_HEIGHT_M / BLOCK_WIDTH_M))
    rows = math.ceil(blocks / cols)
    pitch_x, pitch_y = BLOCK_WIDTH_M + ROAD_WIDTH_M, BLOCK_HEIGHT_M + ROAD_WIDTH_M
    width, height = cols * pitch_x + ROAD_WIDTH_M, rows * pitch_y + ROAD_WIDTH_M

    features: list[PlanFeature] = []

    def add(kind, no, geom, stated=None, use=None):
        features.append(PlanFeature(kind, no, geom, stated_area=stated, land_use=use, index=len(features)))

    # Roads: full-width east-west strips, and north-south pieces between them (added after the lots, once
    # they have taken the corner truncation triangles of the lots beside them).
    for r in range(rows + 1):
        y = y0 + r * pitch_y
        add("road", f"R-EW{r}", shapely.box(x0, y, x0 + width, y + ROAD_WIDTH_M), use="road")
    ns_roads = {}
    for r in range(rows):
        y = y0 + r * pitch_y + ROAD_WIDTH_M
        for c in range(cols + 1):
            x = x0 + c * pitch_x
            ns_roads[r, c] = [shapely.box(x, y, x + ROAD_WIDTH_M, y + BLOCK_HEIGHT_M)]

    def cut_corner(geom, corner, inward, leg, road):
        """Cut the corner truncation (شطفة) of a block's corner lot and give the triangle to ROAD."""
        (cx, cy), (dx, dy) = corner, inward
        triangle = shapely.Polygon([(cx, cy), (cx + dx * leg, cy), (cx, cy + dy * leg)])
        ns_roads[road].append(triangle)
        return shapely.difference(geom, triangle)

    lot_no = 0
    block = 0
    for r in range(rows):
        for c in range(cols):
            bx = x0 + c * pitch_x + ROAD_WIDTH_M
            by = y0 + r * pitch_y + ROAD_WIDTH_M
            block += 1
            if block % PARK_EVERY == 0 or lot_no >= n_lots:
                add("open_space", f"OS{block}", shapely.box(bx, by, bx + BLOCK_WIDTH_M, by + BLOCK_HEIGHT_M), use="park")
                continue
            for row in range(2):
                edges = bx + np.r_[0.0, np.cumsum(_lot_widths(rng))]
                ly = by + row * LOT_DEPTH_M
                for k in range(LOTS_PER_ROW):
                    geom = shapely.box(edges[k], ly, edges[k + 1], ly + LOT_DEPTH_M)
                    # A block's corner lots front two streets: 1/5 of the wider one's width, 3 to 6 m. The
                    # first column's west road runs beside the 20 m right-of-way: a 35 m street.
                    cy, dy = (ly, 1.0) if row == 0 else (ly + LOT_DEPTH_M, -1.0)
                    if k == 0:
                        geom = cut_corner(geom, (edges[0], cy), (1.0, dy), 6.0 if c == 0 else 3.0, (r, c))
                    if k == LOTS_PER_ROW - 1:
                        geom = cut_corner(geom, (edges[-1], cy), (-1.0, dy), 3.0, (r, c + 1))
                    if lot_no < n_lots:
                        lot_no += 1
                        add("lot", str(lot_no), geom, stated=round(geom.area, 1), use="residential")
                    else:
                        add("open_space", f"OS{block}-{row}-{k}", geom, use="park")

    for (r, c), pieces in ns_roads.items():
        add("road", f"R-NS{r}-{c}", shapely.union_all(pieces), use="road")

    parent = shapely.box(x0, y0, x0 + width, y0 + height)
    neighbour = shapely.box(x0 + width, y0, x0 + width + 50, y0 + 50)
    return PlanContext(
        features=tuple(features),
        parents=(ExistingParcel("PARENT-1", parent, "active"),),
        existing=(ExistingParcel("NEIGHBOUR-1", neighbour, "active"),),
        street_rows=(shapely.box(x0 - 20, y0, x0, y0 + height),),
        municipality_boundary=shapely.box(x0 - 10_000, y0 - 10_000, x0 + width + 10_000, y0 + height + 10_000),
        rules=RuleSet(min_road_width_m=12, min_public_share_pct=33.4),
    )
