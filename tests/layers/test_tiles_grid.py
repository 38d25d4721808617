"""The tile grid: z/x/y checks and the tiles a box covers, against tile bounds as the oracle."""

import random

import pytest

from layers.tiles.grid import (
    HALF_WORLD_M,
    range_size,
    tile_bounds,
    tile_check,
    tile_range,
)


@pytest.mark.parametrize("z, x, y, problem", [
    (0, 0, 0, None), (22, 4194303, 4194303, None), (31, 0, 0, "z: must be between 0 and 30"),
    (3, 8, 0, "x: must be between 0 and 7"), (3, 0, 8, "y: must be between 0 and 7"), (-1, 0, 0, "z: must"),
])
def test_tile_check(z, x, y, problem):
    found = tile_check(z, x, y)
    assert (found is None) if problem is None else problem in found


def test_tile_bounds_tile_the_world_north_to_south():
    assert tile_bounds(1, 0, 0) == (-HALF_WORLD_M, 0.0, 0.0, HALF_WORLD_M)
    assert tile_bounds(1, 1, 1) == (0.0, -HALF_WORLD_M, HALF_WORLD_M, 0.0)


def _overlaps(a, b):
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


@pytest.mark.parametrize("margin", [0.0, 256 / 4096])
def test_tile_range_is_exactly_the_tiles_whose_buffered_bounds_meet_the_box(margin):
    rng = random.Random(9)
    centre_x, centre_y = 5191900.0, 2854400.0  # north Riyadh
    for _ in range(200):
        z = rng.randint(12, 19)
        w, h = rng.uniform(1, 3000), rng.uniform(1, 3000)
        x0, y0 = centre_x + rng.uniform(-5000, 5000), centre_y + rng.uniform(-5000, 5000)
        box = (x0, y0, x0 + w, y0 + h)
        xmin, ymin, xmax, ymax = tile_range(box, z, margin=margin)
        for x in range(xmin - 2, xmax + 3):
            for y in range(ymin - 2, ymax + 3):
                b = tile_bounds(z, x, y)
                grow = margin * (b[2] - b[0])
                buffered = (b[0] - grow, b[1] - grow, b[2] + grow, b[3] + grow)
                inside = xmin <= x <= xmax and ymin <= y <= ymax
                assert inside == _overlaps(buffered, box), (z, x, y)
        assert range_size((xmin, ymin, xmax, ymax)) >= 1
