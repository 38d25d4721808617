"""The tile cache in Redis: exact invalidation by box and zoom, bounded, and no stale write after a change."""

import pytest

from layers.tiles import cache
from layers.tiles.grid import tile_bounds, tile_range

pytestmark = pytest.mark.usefixtures("redis_cache")
MARGIN = 256 / 4096


def _fill(source, z, xs, ys):
    gen = cache.generation(source)
    for x in xs:
        for y in ys:
            assert cache.tile_put(source, z, x, y, f"{x}/{y}".encode(), seen_generation=gen)


def _cached(source, z, xs, ys):
    return {(x, y) for x in xs for y in ys if cache.tile_get(source, z, x, y) is not None}


def test_a_put_tile_is_got_back_with_the_etag_of_its_bytes():
    gen = cache.generation("parcels")
    cache.tile_put("parcels", 16, 5, 7, b"mvt-bytes", seen_generation=gen)
    got = cache.tile_get("parcels", 16, 5, 7)
    assert got.body == b"mvt-bytes" and got.etag == cache.etag_of(b"mvt-bytes")
    assert cache.tile_get("parcels", 16, 5, 8) is None and cache.tile_get("streets", 16, 5, 7) is None
    cache.tile_put("parcels", 16, 9, 9, b"", seen_generation=gen)  # an empty tile is cached too
    assert cache.tile_get("parcels", 16, 9, 9).body == b""


@pytest.mark.parametrize("z, span", [(14, 12), (18, 150)])  # at z18 the area spans three 64x64 blocks
def test_invalidation_drops_exactly_the_tiles_a_box_touches(z, span):
    x0, y0 = 40000 >> (18 - z), 27000 >> (18 - z)
    xs, ys = range(x0, x0 + span), range(y0 + span // 2 - 3, y0 + span // 2 + 4)
    _fill("parcels", z, xs, ys)
    _fill("streets", z, xs, ys)
    a = tile_bounds(z, x0 + 62, y0 + span // 2) if span > 64 else tile_bounds(z, x0 + 4, y0 + span // 2)
    box = (a[0] + 10, a[1] + 10, a[0] + 600, a[1] + 40)  # a street-block-sized box, across a block edge at z18
    dropped = cache.invalidate("parcels", zooms=range(z, z + 1), boxes=[box], margin=MARGIN)
    xmin, ymin, xmax, ymax = tile_range(box, z, margin=MARGIN)
    expected_gone = {(x, y) for x in range(xmin, xmax + 1) for y in range(ymin, ymax + 1)}
    assert expected_gone and dropped == len(expected_gone)
    assert _cached("parcels", z, xs, ys) == {(x, y) for x in xs for y in ys} - expected_gone
    assert len(_cached("streets", z, xs, ys)) == len(xs) * len(ys)  # another layer: untouched


def test_a_box_larger_than_the_cache_scans_the_cached_blocks_instead():
    z = 20
    _fill("parcels", z, range(600000, 600003), range(400000, 400002))
    world = (-2.0e7, -2.0e7, 2.0e7, 2.0e7)  # 2^14 x 2^14 blocks at z20: far too many to name
    assert cache.invalidate("parcels", zooms=range(z, z + 1), boxes=[world], margin=MARGIN) == 6
    assert not _cached("parcels", z, range(600000, 600003), range(400000, 400002))


def test_a_tile_rendered_before_a_change_is_not_stored_after_it():
    seen = cache.generation("parcels")  # a rendering starts...
    cache.invalidate("parcels", zooms=range(16, 17), boxes=[(0.0, 0.0, 1.0, 1.0)], margin=MARGIN)  # ...data changes
    assert not cache.tile_put("parcels", 16, 1, 1, b"stale", seen_generation=seen)
    assert cache.tile_get("parcels", 16, 1, 1) is None
    assert cache.tile_put("parcels", 16, 1, 1, b"fresh", seen_generation=cache.generation("parcels"))
