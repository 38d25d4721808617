"""The signal receivers: each data change drops the cached tiles of exactly the layers built from it."""

import pytest
import shapely
from django.contrib.gis.geos import GEOSGeometry

from layers.tiles import cache
from layers.tiles.grid import HALF_WORLD_M, tile_size_m
from tests.parcels.factories import make_parcel, metric_to_storage, rect, riyadh

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("redis_cache")]
SOURCES = ("parcels", "parcel_history", "plans", "streets", cache.PUBLIC)


def _tile(geom: GEOSGeometry, z: int) -> tuple[int, int]:
    x, y = geom.centroid.coords
    return int((x + HALF_WORLD_M) // tile_size_m(z)), int((HALF_WORLD_M - y) // tile_size_m(z))


def _warm(z: int, tiles) -> None:
    for source in SOURCES:
        gen = cache.generation(source)
        for x, y in tiles:
            cache.tile_put(source, z, x, y, b"old", seen_generation=gen)


def _cached(z: int, x: int, y: int) -> set[str]:
    return {source for source in SOURCES if cache.tile_get(source, z, x, y) is not None}


def test_a_new_parcel_drops_parcel_tiles_and_the_public_tile_there_only(django_capture_on_commit_callbacks):
    municipality = riyadh()
    geom = metric_to_storage(rect(0, 0, 30, 30))
    z = 17
    near = _tile(geom, z)
    far = (near[0] + 40, near[1])
    _warm(z, [near, far])
    with django_capture_on_commit_callbacks(execute=True):
        make_parcel(municipality, "N-1", rect(0, 0, 30, 30))
    assert _cached(z, *near) == {"plans", "streets"}
    assert _cached(z, *far) == set(SOURCES)


def test_saving_a_plan_drops_the_plan_layer_tiles_over_its_features(surveyor, django_capture_on_commit_callbacks):
    from subdivision.models import Plan, PlanFeature

    municipality = riyadh()
    lot = metric_to_storage(rect(500, 500, 40, 40))
    z = 16
    near = _tile(lot, z)
    far = (near[0], near[1] + 30)
    _warm(z, [near, far])
    with django_capture_on_commit_callbacks(execute=True):
        plan = Plan.objects.create(municipality=municipality, title="t", submitted_by=surveyor, source_name="t.geojson",
                                   source_format="geojson", source_srid=4326)
        PlanFeature.objects.create(plan=plan, index=0, lot_no="1", geom=GEOSGeometry(lot.wkt, srid=lot.srid))
    assert _cached(z, *near) == set(SOURCES) - {"plans"}
    assert _cached(z, *far) == set(SOURCES)
    _warm(z, [near])
    with django_capture_on_commit_callbacks(execute=True):
        plan.delete()
    assert _cached(z, *near) == set(SOURCES) - {"plans"}


def test_shapely_boxes_from_an_import_are_accepted():
    from layers.tiles.invalidation import tiles_invalidate

    box = shapely.box(5191000.0, 2854000.0, 5191100.0, 2854100.0).bounds
    assert tiles_invalidate(layer_ids=("streets",), boxes=[box, None]) == 0  # nothing cached: nothing dropped


def test_editing_one_street_drops_street_tiles_where_it_was_and_where_it_is(django_capture_on_commit_callbacks):
    from django.contrib.gis.geos import MultiLineString

    from parcels.models import Street

    municipality = riyadh()
    z = 16
    old_line = metric_to_storage(shapely.LineString([(0, 0), (50, 0)]))
    new_line = metric_to_storage(shapely.LineString([(0, 3000), (50, 3000)]))
    street = Street.objects.create(municipality=municipality, name_en="Old Road",
                                   centreline=MultiLineString(GEOSGeometry(old_line.wkt, srid=old_line.srid)))
    was, now = _tile(GEOSGeometry(old_line.wkt, srid=3857), z), _tile(GEOSGeometry(new_line.wkt, srid=3857), z)
    far = (was[0] + 40, was[1])
    assert was != now
    _warm(z, [was, now, far])
    with django_capture_on_commit_callbacks(execute=True):
        street.centreline = MultiLineString(GEOSGeometry(new_line.wkt, srid=new_line.srid))
        street.save()
    assert _cached(z, *was) == set(SOURCES) - {"streets", cache.PUBLIC}
    assert _cached(z, *now) == set(SOURCES) - {"streets", cache.PUBLIC}
    assert _cached(z, *far) == set(SOURCES)
    _warm(z, [now])
    with django_capture_on_commit_callbacks(execute=True):
        street.delete()
    assert _cached(z, *now) == set(SOURCES) - {"streets", cache.PUBLIC}


def test_replacing_a_whole_layer_announces_it_once(django_capture_on_commit_callbacks):
    from parcels.signals import layer_changed

    sent = []
    layer_changed.connect(lambda sender, change, **kw: sent.append(change), weak=False, dispatch_uid="t-once")
    try:
        from django.contrib.gis.geos import MultiLineString

        from parcels.layer_edits import whole_layer_replaced
        from parcels.models import Street

        municipality = riyadh()
        line = metric_to_storage(shapely.LineString([(0, 0), (50, 0)]))
        with django_capture_on_commit_callbacks(execute=True):
            for i in range(3):
                Street.objects.create(municipality=municipality, name_en=f"S{i}",
                                      centreline=MultiLineString(GEOSGeometry(line.wkt, srid=line.srid)))
        assert [c.kind for c in sent] == ["streets"] * 3  # one edit, one announcement
        sent.clear()
        with django_capture_on_commit_callbacks(execute=True), whole_layer_replaced():
            Street.objects.filter(municipality=municipality).delete()
        assert sent == []
    finally:
        layer_changed.disconnect(dispatch_uid="t-once")
