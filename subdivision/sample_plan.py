"""Draw a sample subdivision plan for a rectangular parent parcel, as a surveyor's office would.

`manage.py sample_plan` no longer uses this: it asks the layout service (subdivision/layout/), which draws a
compliant plan for a parent of any shape, joined to the registry's streets. This simple drawer stays for tests
that need a plan for a bare rectangle with no streets around it.

Pure geometry (metres, any metric CRS): columns of lots 30 m deep, back to back, on 16 m roads
that run the parcel's length, and the remaining width as open space. Lots are about 20 m wide,
so every default residential rule of DOMAIN.md is met, public share included. Used for demos and end-to-end tests.
"""

from __future__ import annotations

import math

import shapely
from shapely.geometry.base import BaseGeometry

LOT_DEPTH_M = 30.0
LOT_WIDTH_M = 20.0
ROAD_WIDTH_M = 16.0
# One column of lots, a road, another column: repeated across the parcel's width.
BAND_M = 2 * LOT_DEPTH_M + ROAD_WIDTH_M


def _frame(parent: BaseGeometry):
    """Return (origin, unit along the long side, unit across, length, width) of a near-rectangle."""
    rectangle = shapely.oriented_envelope(parent)
    if parent.area < 0.99 * rectangle.area:
        raise ValueError("the sample plan needs a rectangular parent parcel")
    (x0, y0), (x1, y1), (x2, y2) = list(rectangle.exterior.coords)[:3]
    a = (x1 - x0, y1 - y0)
    b = (x2 - x1, y2 - y1)
    la, lb = math.hypot(*a), math.hypot(*b)
    if la >= lb:
        return (x0, y0), (a[0] / la, a[1] / la), (b[0] / lb, b[1] / lb), la, lb
    return (x1, y1), (b[0] / lb, b[1] / lb), (-a[0] / la, -a[1] / la), lb, la


def sample_plan(parent: BaseGeometry) -> list[dict]:
    """Return features {kind, lot_no, land_use, stated_area, geometry} covering PARENT exactly."""
    origin, along, across, length, width = _frame(parent)

    def piece(u0: float, u1: float, v0: float, v1: float):
        corners = [(u0, v0), (u1, v0), (u1, v1), (u0, v1)]
        return shapely.Polygon([(origin[0] + u * along[0] + v * across[0], origin[1] + u * along[1] + v * across[1])
                                for u, v in corners])

    features: list[dict] = []
    lots_per_column = max(1, int(length // LOT_WIDTH_M))
    lot_width = length / lots_per_column
    # As many bands as keep roads + open space at 34 % or more of the area (share = (W - 60 n) / W).
    bands = min(int(width // BAND_M), int(0.66 * width // (2 * LOT_DEPTH_M)))
    if bands < 1:
        raise ValueError(f"the parent is {width:.0f} m wide; a sample plan needs at least {BAND_M / 0.66:.0f} m")
    v = 0.0
    for _ in range(bands):
        for column_start in (v, v + LOT_DEPTH_M + ROAD_WIDTH_M):
            for k in range(lots_per_column):
                lot = piece(k * lot_width, (k + 1) * lot_width, column_start, column_start + LOT_DEPTH_M)
                features.append({"kind": "lot", "lot_no": str(sum(f["kind"] == "lot" for f in features) + 1),
                                 "land_use": "residential", "stated_area": round(lot.area, 2), "geometry": lot})
        road = piece(0, length, v + LOT_DEPTH_M, v + LOT_DEPTH_M + ROAD_WIDTH_M)
        features.append({"kind": "road", "lot_no": None, "land_use": None, "stated_area": None, "geometry": road})
        v += BAND_M
    if width - v > 0.01:
        rest = piece(0, length, v, width)
        features.append({"kind": "open_space", "lot_no": None, "land_use": None, "stated_area": None,
                         "geometry": rest})
    # Clip to the real parcel so that the plan covers it exactly, not its envelope.
    for feature in features:
        feature["geometry"] = shapely.intersection(feature["geometry"], parent)
    return [f for f in features if not f["geometry"].is_empty]
