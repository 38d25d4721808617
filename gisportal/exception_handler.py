"""The one handler that answers errors as {code, detail}: the platform's, DRF's and Django's own."""

from __future__ import annotations

import re

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import (
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.views import defaults
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import set_rollback

from gisportal import errors
from gisportal.errors import is_api_path

# DRF's exceptions answered with the code of the platform error of the same meaning.
DRF_ERRORS: dict[type[exceptions.APIException], type[errors.PlatformError]] = {
    exceptions.ParseError: errors.BadRequest,
    exceptions.ValidationError: errors.InvalidParameter,
    exceptions.AuthenticationFailed: errors.AuthenticationFailed,
    exceptions.NotAuthenticated: errors.NotAuthenticated,
    exceptions.PermissionDenied: errors.PermissionDenied,
    exceptions.NotFound: errors.NotFound,
    exceptions.MethodNotAllowed: errors.MethodNotAllowed,
    exceptions.NotAcceptable: errors.NotAcceptable,
    exceptions.UnsupportedMediaType: errors.UnsupportedMediaType,
    exceptions.Throttled: errors.Throttled,
}
# Bad-request exceptions whose message is safe and useful to show to the caller.
_SHOWN_BAD_REQUESTS = (MultiPartParserError, RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent)


def _camel(snake: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[_\W]+", snake) if part) or "BadRequest"


def _drf_code(exc: exceptions.APIException) -> str:
    for cls in type(exc).__mro__:
        if cls in DRF_ERRORS:
            return DRF_ERRORS[cls].code
    return _camel(str(exc.default_code))


def _drf_detail(detail, field: str = "") -> str:
    """Return DRF's detail (a string, a list, or a dict by field) as one line naming each field."""
    if isinstance(detail, dict):
        return "; ".join(_drf_detail(value, str(name)) for name, value in detail.items())
    if isinstance(detail, list):
        return "; ".join(_drf_detail(value, field) for value in detail)
    text = str(detail)
    return f"{field}: {text}" if field and field != "non_field_errors" else text


def exception_handler(exc, context):
    """Answer platform errors and DRF's exceptions with {code, detail}; others are left to Django (500)."""
    if isinstance(exc, errors.PlatformError):
        return Response({"code": exc.code, "detail": exc.message, **exc.extra}, status=exc.http_status,
                        headers=exc.headers or None)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=exc.messages)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or None)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    if not isinstance(exc, exceptions.APIException):
        return None
    set_rollback()
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))
    return Response({"code": _drf_code(exc), "detail": _drf_detail(exc.detail)}, status=exc.status_code,
                    headers=headers)


# ---- errors Django answers itself (no route, an unhandled exception, a malformed body) --------

def error_response(*, status: int, code: str, detail: str, headers: dict | None = None) -> JsonResponse:
    """Return the platform's JSON error body {code, detail} with STATUS."""
    return JsonResponse({"code": code, "detail": detail}, status=status, headers=headers)


def handler400(request, exception):
    """Answer a malformed request (e.g. a broken multipart body)."""
    if not is_api_path(request.path_info):
        return defaults.bad_request(request, exception)
    detail = str(exception) if isinstance(exception, _SHOWN_BAD_REQUESTS) else "malformed request"
    return error_response(status=400, code=errors.BadRequest.code, detail=detail)


def handler403(request, exception):
    """Answer PermissionDenied raised outside DRF."""
    if not is_api_path(request.path_info):
        return defaults.permission_denied(request, exception)
    return error_response(status=403, code=errors.PermissionDenied.code, detail="you may not do this")


def handler404(request, exception):
    """Answer a URL that matches no route."""
    if not is_api_path(request.path_info):
        return defaults.page_not_found(request, exception)
    return error_response(status=404, code=errors.NotFound.code, detail=f"{request.path}: no such endpoint")


def handler500(request):
    """Answer an unhandled exception."""
    if not is_api_path(request.path_info):
        return defaults.server_error(request)
    # The exception itself is logged by django.request; the caller gets no internals.
    return error_response(status=500, code=errors.ServerError.code,
                          detail="internal server error; it has been logged")
