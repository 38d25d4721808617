"""The pure parts of OGC API Features: parameters, CRSs and CQL2 checks (no server, no database)."""

from datetime import UTC, datetime

import pytest
import shapely

from gisportal import crs as gcrs
from gisportal.errors import InvalidParameter
from layers.ogc.cql import filter_q, parse_filter
from layers.ogc.crs import CRS84, epsg_crs, parse_crs
from layers.ogc.params import (
    MAX_LIMIT,
    parse_bbox,
    parse_datetime_param,
    parse_limit,
    parse_properties,
)
from layers.registry import LAYERS

PARCELS = LAYERS["parcels"]
OFFERED = [CRS84, epsg_crs(4326), epsg_crs(3857), epsg_crs(32638)]


def test_axis_order_comes_from_the_crs_definition():
    assert epsg_crs(4326).y_first and not epsg_crs(3857).y_first and not epsg_crs(32638).y_first
    assert not CRS84.y_first


@pytest.mark.parametrize("raw", ["http://www.opengis.net/def/crs/EPSG/0/4326", "EPSG:4326", "[EPSG:4326]"])
def test_crs_names_in_uri_and_curie_form(raw):
    assert parse_crs("crs", raw, OFFERED).srid == 4326


def test_a_crs_not_offered_is_refused():
    with pytest.raises(InvalidParameter, match="^crs: "):
        parse_crs("crs", "http://www.opengis.net/def/crs/EPSG/0/2039", OFFERED)


def test_bbox_in_4326_is_latitude_first_and_equals_the_crs84_one():
    lonlat = parse_bbox("46.60,24.70,46.70,24.80", CRS84)
    latlon = parse_bbox("24.70,46.60,24.80,46.70", epsg_crs(4326))
    assert lonlat.equals_exact(latlon, 1e-6)
    assert lonlat.srid == 3857
    expected = gcrs.transform_bounds((46.6, 24.7, 46.7, 24.8), 4326, 3857)
    assert lonlat.extent == pytest.approx(expected)


def test_bbox_across_the_antimeridian_is_two_boxes():
    area = parse_bbox("170,-10,-170,10", CRS84)
    assert area.geom_type == "MultiPolygon" and len(area) == 2


def test_bbox_with_heights_takes_the_horizontal_corners():
    assert parse_bbox("46.6,24.7,0,46.7,24.8,100", CRS84).equals_exact(parse_bbox("46.6,24.7,46.7,24.8", CRS84), 1e-9)


@pytest.mark.parametrize("raw", ["1,2,3", "a,b,c,d", "1,2,3,inf", "0,10,1,5", "-200,0,0,1", "0,89,1,90"])
def test_bad_bboxes_are_refused(raw):
    with pytest.raises(InvalidParameter, match="^bbox: "):
        parse_bbox(raw, CRS84)


def test_limit_is_capped_at_the_maximum():
    limit = parse_limit("50000")
    assert limit.applied == MAX_LIMIT and limit.requested == 50000 and limit.capped
    assert not parse_limit("10").capped and parse_limit(None).applied == 10


def test_datetime_instants_dates_and_open_intervals():
    utc = UTC
    assert parse_datetime_param("2020-01-01T10:00:00Z").start == datetime(2020, 1, 1, 10, tzinfo=utc)
    day = parse_datetime_param("2020-01-01")
    assert day.start == datetime(2020, 1, 1, tzinfo=utc) and day.end.date() == day.start.date()
    assert parse_datetime_param("../2020-01-01").start is None
    assert parse_datetime_param("2020-01-01/..").end is None


def test_properties_keep_the_layer_order_and_refuse_unknown_names():
    assert parse_properties("land_use,parcel_code", PARCELS.field_names()) == ("parcel_code", "land_use")
    with pytest.raises(InvalidParameter, match="^properties: "):
        parse_properties("owner", PARCELS.field_names())


@pytest.mark.parametrize("text", ["owner = 'x'", "area_m2 > 'big'", "land_use > 5", "geometry = 'x'",
                                  "area_m2 LIKE '1%'", "S_INTERSECTS(land_use, POINT(1 2))",
                                  "T_INTERSECTS(valid_from, valid_from)", "area_m2 + 1 > 2", "land_use ="])
def test_filters_naming_unknown_properties_or_mixing_types_are_refused(text):
    with pytest.raises(InvalidParameter, match="^filter"):
        parse_filter(text, language="cql2-text", layer=PARCELS)


def test_cql2_json_bbox_is_read_in_its_order_and_moved_to_the_storage_crs():
    tree = parse_filter('{"op": "s_intersects", "args": [{"property": "geometry"}, {"bbox": [46.6, 24.7, 46.7, 24.8]}]}',
                        language="cql2-json", layer=PARCELS)
    q = filter_q(tree, layer=PARCELS, filter_crs=CRS84)
    (lookup, value), = q.children
    assert lookup == "geom__intersects" and value.srid == 3857
    assert value.extent == pytest.approx(gcrs.transform_bounds((46.6, 24.7, 46.7, 24.8), 4326, 3857))


def test_filter_geometries_in_4326_are_latitude_first():
    text = "S_INTERSECTS(geometry, POINT(24.75 46.65))"
    q = filter_q(parse_filter(text, language="cql2-text", layer=PARCELS), layer=PARCELS, filter_crs=epsg_crs(4326))
    point = shapely.from_wkb(bytes(q.children[0][1].wkb))
    assert (point.x, point.y) == pytest.approx(gcrs.transformer(4326, 3857).transform(46.65, 24.75))
