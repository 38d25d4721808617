import pytest
from django.http import QueryDict

from gisportal.errors import InvalidParameter
from parcels.queries import parse_parcel_query


@pytest.mark.parametrize("params, name", [
    ("as_of=2024-13-01", "as_of"),
    ("as_of=yesterday", "as_of"),
    ("land_use=castle", "land_use"),
    ("status=gone", "status"),
    ("srid=999999", "srid"),
    ("srid=abc", "srid"),
    ("page=0", "page"),
    ("page_size=5000", "page_size"),
    ("colour=red", "colour"),
])
def test_every_bad_parameter_is_named(params, name):
    with pytest.raises(InvalidParameter) as info:
        parse_parcel_query(QueryDict(params))
    assert str(info.value).startswith(f"{name}:")
