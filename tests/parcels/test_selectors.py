import pytest
import shapely

from parcels.models import StreetRightOfWay
from parcels.selectors import around, street_rows_near
from tests.parcels.factories import make_parcel, metric_to_storage, rect, riyadh

pytestmark = pytest.mark.django_db


def test_street_rows_near_a_parcel_are_cut_to_its_surroundings():
    municipality = riyadh()
    parcel = make_parcel(municipality, "90-1-1", rect(0, 0, 30, 30))
    # A 12 m right-of-way 10 km long passing the parcel (a vertex every 25 m, as drawn data has), and one far away.
    long_row = shapely.segmentize(rect(-5000, -12, 10_000, 12), 25)
    StreetRightOfWay.objects.create(municipality=municipality, geom=metric_to_storage(long_row))
    StreetRightOfWay.objects.create(municipality=municipality, geom=metric_to_storage(rect(0, 3000, 30, 12)))
    area = around(parcel.geom, 100)
    rows = street_rows_near(municipality=municipality, area=area)
    assert len(rows) == 1
    row = rows[0]
    assert row.is_valid and row.geom_type in ("Polygon", "MultiPolygon")
    # Only the stretch near the parcel comes back, the whole width of it, in metres.
    minx, miny, maxx, maxy = row.bounds
    x0, y0 = rect(0, 0, 0, 0).bounds[:2]
    assert (miny, maxy) == pytest.approx((y0 - 12, y0), abs=1e-3)
    assert -1000 < minx - x0 < -100 and 130 < maxx - x0 < 1000
    # Frontage is measured on it as on the whole street: the parcel's southern edge faces it.
    assert shapely.length(shapely.intersection(shapely.buffer(row, 0.5), rect(0, 0, 30, 30).exterior)) >= 30
