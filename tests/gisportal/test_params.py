"""The shared request-parameter parsers: a bad value is an InvalidParameter naming the parameter."""

import pytest

from gisportal.errors import InvalidParameter
from gisportal.params import parse_as_of, parse_bbox


def test_bbox_parses_lon_lat_order():
    assert parse_bbox("46.6,24.8,46.7,24.9") == (46.6, 24.8, 46.7, 24.9)


@pytest.mark.parametrize("raw, fragment", [
    ("1,2,3", "four numbers"),
    ("a,b,c,d", "four numbers"),
    ("1,2,3,nan", "four numbers"),
    ("46.7,24.8,46.6,24.9", "minimum greater than maximum"),
    ("24.8,46.6,24.9,200", "within ±180"),
])
def test_bad_bbox_names_the_parameter(raw, fragment):
    with pytest.raises(InvalidParameter) as info:
        parse_bbox(raw)
    assert str(info.value).startswith("bbox:") and fragment in str(info.value)


def test_as_of_a_date_means_the_end_of_that_day():
    end = parse_as_of("2025-03-01")
    assert (end.year, end.month, end.day, end.hour, end.minute) == (2025, 3, 1, 23, 59)
