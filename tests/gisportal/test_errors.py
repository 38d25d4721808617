"""One error family: every error a CamelCase code of its own, DRF's answered in the same spelling."""

import re
import subprocess
import sys

import pytest
from django.test import Client

from gisportal import errors
from subdivision import plan_context, plan_files, services
from tests.support import ROOT

CAMEL_CASE = re.compile(r"^(?:[A-Z][a-z0-9]+)+$")
# Every error the API may answer with, and its status: the table of the README.
CODES = {
    "BadRequest": 400, "InvalidParameter": 400, "NotAuthenticated": 401, "AuthenticationFailed": 401,
    "PermissionDenied": 403, "NotFound": 404, "MethodNotAllowed": 405, "NotAcceptable": 406, "Conflict": 409,
    "UnsupportedMediaType": 415, "Throttled": 429, "ServerError": 500, "DatabaseUnavailable": 503,
    "PlanFileInvalid": 400, "PlanFileCorrupt": 400, "PlanFileEmpty": 400, "PlanFileUnsafe": 400,
    "PlanFileCrsMissing": 400, "PlanFileCrsUnknown": 400, "PlanFileBadCoordinates": 400,
    "PlanFileBadAttribute": 400, "PlanFileDxfLayersUnmapped": 400, "PlanFileTooLarge": 413,
    "PlanFileUnsupportedFormat": 415, "PlanTooComplex": 422, "PlanOutOfArea": 422, "PlanInvalid": 409,
    "NoValidLayout": 422,
}


def _family(cls=errors.PlatformError):
    for sub in cls.__subclasses__():
        yield sub
        yield from _family(sub)


def test_every_error_class_has_a_camel_case_code_of_its_own():
    classes = {cls for cls in _family() if cls.__module__.split(".")[0] in ("gisportal", "subdivision", "parcels")}
    # The plan errors are found by importing their modules.
    assert {services.PlanTooComplex, plan_context.PlanOutOfArea, plan_files.CorruptFile} <= classes
    by_code = {}
    for cls in classes:
        assert CAMEL_CASE.match(cls.code), f"{cls.__qualname__}: {cls.code!r}"
        assert cls.code not in by_code, f"{cls.__qualname__} and {by_code[cls.code].__qualname__} share {cls.code}"
        by_code[cls.code] = cls
    assert {code: cls.http_status for code, cls in by_code.items()} == CODES


@pytest.mark.slow  # starts Python
def test_plan_file_errors_are_platform_errors_and_import_no_django():
    assert issubclass(plan_files.PlanFileError, errors.PlatformError)
    script = ("import sys, subdivision.plan_files, gisportal.errors; "
              "print(sorted({m.split('.')[0] for m in sys.modules} & {'django', 'rest_framework'}))")
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.fixture
def client():
    return Client(raise_request_exception=False)


@pytest.mark.django_db
def test_drf_errors_answer_in_the_same_spelling(client, planner, surveyor):
    def answer(response):
        return response.status_code, response.json()["code"]

    assert answer(client.get("/api/me/")) == (401, "NotAuthenticated")
    assert answer(client.get("/api/me/", HTTP_AUTHORIZATION="Token nope")) == (401, "AuthenticationFailed")
    client.force_login(planner)
    assert answer(client.delete("/api/me/")) == (405, "MethodNotAllowed")
    assert answer(client.get("/api/me/", HTTP_ACCEPT="text/csv")) == (406, "NotAcceptable")
    client.force_login(surveyor)
    json_upload = client.post("/api/plans/validate/", {"municipality": "RUH"}, content_type="application/json")
    assert answer(json_upload) == (415, "UnsupportedMediaType")
    body = client.get("/api/me/", HTTP_ACCEPT="text/csv").json()
    assert set(body) == {"code", "detail"} and isinstance(body["detail"], str)


def test_a_django_validation_error_is_an_invalid_parameter_naming_each_message():
    from django.core.exceptions import ValidationError
    from rest_framework import exceptions

    from gisportal.exception_handler import exception_handler

    response = exception_handler(ValidationError(["too long", "bad"]), {})
    assert response.status_code == 400
    assert response.data == {"code": "InvalidParameter", "detail": "too long; bad"}
    response = exception_handler(exceptions.ValidationError({"title": ["too long"]}), {})
    assert response.data == {"code": "InvalidParameter", "detail": "title: too long"}
    response = exception_handler(exceptions.Throttled(wait=3), {})
    assert (response.status_code, response.data["code"], response["Retry-After"]) == (429, "Throttled", "3")


def test_extra_details_are_answered_beside_code_and_detail():
    from gisportal.exception_handler import exception_handler

    error = plan_files.DxfLayersUnmapped("no plan layers", extra={"layers": [], "layers_total": 0})
    response = exception_handler(error, {})
    assert response.status_code == 400
    assert response.data == {"code": "PlanFileDxfLayersUnmapped", "detail": "no plan layers", "layers": [],
                             "layers_total": 0}
