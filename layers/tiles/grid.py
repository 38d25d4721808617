"""The Web Mercator tile grid (EPSG:3857, the storage SRID): tile bounds and the tiles a box covers.

Pure Python, no Django: the views check z/x/y with ``tile_check`` and the cache invalidation asks
``tiles_covering`` which tiles a changed bounding box touches.

>>> tile_bounds(0, 0, 0) == (-HALF_WORLD_M, -HALF_WORLD_M, HALF_WORLD_M, HALF_WORLD_M)
True
>>> tile_range((-1.0, -1.0, 1.0, 1.0), 1)
(0, 0, 1, 1)
"""

from __future__ import annotations

import math

HALF_WORLD_M = 20037508.342789244  # half the side of the EPSG:3857 square, in metres
MAX_ZOOM = 30  # ST_TileEnvelope's limit; layers declare much lower maxima

Box = tuple[float, float, float, float]


def tile_check(z: int, x: int, y: int) -> str | None:
    """Return why Z/X/Y is not a tile of the grid, or None when it is."""
    if not 0 <= z <= MAX_ZOOM:
        return f"z: must be between 0 and {MAX_ZOOM}, not {z}"
    side = 1 << z
    if not 0 <= x < side:
        return f"x: must be between 0 and {side - 1} at zoom {z}, not {x}"
    if not 0 <= y < side:
        return f"y: must be between 0 and {side - 1} at zoom {z}, not {y}"
    return None


def tile_size_m(z: int) -> float:
    """Return the side of a tile at zoom Z, in EPSG:3857 metres."""
    return 2 * HALF_WORLD_M / (1 << z)


def tile_bounds(z: int, x: int, y: int) -> Box:
    """Return (minx, miny, maxx, maxy) of tile Z/X/Y in EPSG:3857 (y counts down from the north, XYZ)."""
    size = tile_size_m(z)
    minx = -HALF_WORLD_M + x * size
    maxy = HALF_WORLD_M - y * size
    return (minx, maxy - size, minx + size, maxy)


def tile_range(box: Box, z: int, *, margin: float = 0.0) -> tuple[int, int, int, int]:
    """Return (xmin, ymin, xmax, ymax), inclusive, of the tiles at zoom Z whose bounds grown by MARGIN
    (a fraction of the tile side: the tile buffer) intersect BOX, an EPSG:3857 box.

    A box that only touches a tile's edge counts: a feature on the edge appears in both tiles.
    """
    minx, miny, maxx, maxy = box
    size = tile_size_m(z)
    last = (1 << z) - 1
    grow = margin * size

    def col(value: float) -> float:
        return (value + HALF_WORLD_M) / size

    def row(value: float) -> float:
        return (HALF_WORLD_M - value) / size

    xmin = max(0, math.floor(col(minx - grow)))
    xmax = min(last, math.floor(col(maxx + grow)))
    ymin = max(0, math.floor(row(maxy + grow)))
    ymax = min(last, math.floor(row(miny - grow)))
    return (xmin, ymin, xmax, ymax)


def range_size(tiles: tuple[int, int, int, int]) -> int:
    """Return how many tiles the inclusive range TILES holds (0 when empty)."""
    xmin, ymin, xmax, ymax = tiles
    return max(0, xmax - xmin + 1) * max(0, ymax - ymin + 1)


def in_range(x: int, y: int, tiles: tuple[int, int, int, int]) -> bool:
    xmin, ymin, xmax, ymax = tiles
    return xmin <= x <= xmax and ymin <= y <= ymax
