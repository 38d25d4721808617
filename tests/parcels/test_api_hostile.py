"""Hostile parameters on the parcel and plan lists: always a 400 that names the parameter, never a 500."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from gisportal.params import MAX_INT_PARAMETER, parse_positive_int
from tests.parcels.factories import make_parcel, rect, riyadh

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_planner(api_client, planner):
    municipality = riyadh()
    make_parcel(municipality, "82-1-1", rect(0, 0, 20, 30), plan_no="82", block_no="1", parcel_no="1")
    api_client.force_authenticate(planner)
    api_client.raise_request_exception = False
    return api_client


def assert_invalid(response, name: str, message: str = ""):
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "InvalidParameter"
    assert body["detail"].startswith(f"{name}:"), body
    assert message in body["detail"]


@pytest.mark.parametrize("query, name", [
    ("municipality=RUH%00", "municipality"),
    ("district=a%00b", "district"),
    ("land_use=residential%00", "land_use"),
    ("as_of=2024-01-01%00", "as_of"),
    ("bbox=46,24,47,25%00", "bbox"),
])
def test_nul_byte_in_a_query_parameter_is_a_400_naming_it(as_planner, query, name):
    assert_invalid(as_planner.get(f"/api/parcels/?{query}"), name, "contains a NUL byte")


@pytest.mark.parametrize("url, name", [
    ("/api/parcels/RUH%00/82-1-1/", "municipality"),
    ("/api/parcels/RUH/82-1-1%00/", "parcel_code"),
    ("/api/parcels/RUH/82%001/history/", "parcel_code"),
])
def test_nul_byte_in_a_path_segment_is_a_400_naming_it(as_planner, url, name):
    assert_invalid(as_planner.get(url), name, "contains a NUL byte")


def test_nul_byte_in_a_multipart_field_is_a_400_naming_it(api_client, surveyor):
    api_client.force_authenticate(surveyor)
    api_client.raise_request_exception = False
    response = api_client.post("/api/plans/", {
        "municipality": "RUH\x00", "parents": "90-0-1",
        "file": SimpleUploadedFile("plan.geojson", b'{"type": "FeatureCollection", "features": []}'),
    }, format="multipart")
    assert_invalid(response, "municipality", "contains a NUL byte")


def test_nul_byte_inside_an_uploaded_file_is_left_to_the_plan_reader(api_client, surveyor):
    """File contents are not parameters: a NUL in them is the plan reader's business, not the middleware's."""
    make_parcel(riyadh(), "90-0-1", rect(0, 0, 80, 40))  # so the upload gets as far as the reader
    api_client.force_authenticate(surveyor)
    api_client.raise_request_exception = False
    response = api_client.post("/api/plans/validate/", {
        "municipality": "RUH", "parents": "90-0-1", "file": SimpleUploadedFile("plan.geojson", b'{"a": "\x00"}'),
    }, format="multipart")
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "PlanFileCorrupt"  # the reader's answer, not InvalidParameter
    assert "NUL" not in response.json()["detail"]


@pytest.mark.parametrize("page", ["9223372036854775807", "1000001", "9" * 5000, "0", "-1"])
def test_page_out_of_range_is_a_400_on_the_parcel_list(as_planner, page):
    response = as_planner.get("/api/parcels/", {"page": page})
    assert_invalid(response, "page")
    assert len(response.json()["detail"]) < 200  # a huge number is not echoed back whole


@pytest.mark.parametrize("page", ["9223372036854775807", "1000001"])
def test_page_out_of_range_is_a_400_on_the_plan_list(api_client, planner, page):
    api_client.force_authenticate(planner)
    api_client.raise_request_exception = False
    assert_invalid(api_client.get("/api/plans/", {"page": page}), "page", "must be between 1 and")


def test_largest_page_is_an_empty_page_not_an_error(as_planner):
    response = as_planner.get("/api/parcels/", {"page": MAX_INT_PARAMETER, "page_size": 1000})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 1 and body["features"] == [] and body["next"] is None


def test_parse_positive_int_keeps_its_explicit_maximum_and_caps_the_rest():
    assert parse_positive_int("page_size", "500", 50, 500) == 500
    assert parse_positive_int("page", None, 1) == 1
    assert parse_positive_int("page", str(MAX_INT_PARAMETER), 1) == MAX_INT_PARAMETER
    with pytest.raises(Exception, match="page: must be between 1 and"):
        parse_positive_int("page", str(MAX_INT_PARAMETER + 1), 1)


@pytest.mark.parametrize("as_of", ["9999-12-31", "9999-12-31T23:59:59", "9999-12-31T23:59:59-12:00",
                                   "0001-01-01", "0001-01-01T00:00:00", "0001-01-01T00:00:00+14:00"])
def test_as_of_at_the_ends_of_the_calendar_is_answered(as_planner, as_of):
    response = as_planner.get("/api/parcels/", {"as_of": as_of})
    # PostgreSQL's timestamptz reaches far past both ends (an offset moves them past year 9999 or before 1).
    assert response.status_code == 200, response.content
    # The demo parcel exists now, so it exists at the end of time and not at its start.
    assert response.json()["count"] == (1 if as_of.startswith("9999") else 0)


def test_as_of_past_the_calendar_is_a_400_naming_it(as_planner):
    assert_invalid(as_planner.get("/api/parcels/", {"as_of": "10000-01-01"}), "as_of")
