"""The platform's domain errors and the one handler that maps them to HTTP responses."""

from __future__ import annotations

from django.core.exceptions import (
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.views import defaults
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class PlatformError(Exception):
    """A domain error that carries its HTTP status and a stable code."""

    http_status = 400
    code = "BadRequest"

    def __init__(self, message: str, *, code: str | None = None, detail: dict | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.detail = detail or {}


class InvalidParameter(PlatformError):
    http_status = 400
    code = "InvalidParameter"


class NotFound(PlatformError):
    http_status = 404
    code = "NotFound"


class Conflict(PlatformError):
    http_status = 409
    code = "Conflict"


class Forbidden(PlatformError):
    http_status = 403
    code = "Forbidden"


def exception_handler(exc, context):
    """Answer domain errors with {code, detail}; let DRF answer its own exceptions."""
    if isinstance(exc, PlatformError):
        body = {"code": exc.code, "detail": exc.message, **exc.detail}
        return Response(body, status=exc.http_status)
    if isinstance(getattr(exc, "http_status", None), int) and isinstance(getattr(exc, "code", None), str):
        # Errors of pure modules (e.g. plan-file readers) carry their status and code the same way.
        return Response({"code": exc.code, "detail": str(exc), **getattr(exc, "extra", {})}, status=exc.http_status)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=exc.messages)
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(response.data, dict) and "code" not in response.data:
        response.data["code"] = getattr(exc, "default_code", "error")
    return response


# ---- errors Django answers itself (no route, an unhandled exception, a malformed body) --------
# Under these prefixes every answer is JSON {code, detail}; other paths keep Django's HTML pages.
API_PATH_PREFIXES = ("/api/", "/healthz")
# Bad-request exceptions whose message is safe and useful to show to the caller.
_SHOWN_BAD_REQUESTS = (MultiPartParserError, RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent)


def is_api_path(path: str) -> bool:
    """Return True when PATH is answered in JSON (the API and the health check)."""
    return path.startswith(API_PATH_PREFIXES)


def error_response(*, status: int, code: str, detail: str, headers: dict | None = None) -> JsonResponse:
    """Return the platform's JSON error body {code, detail} with STATUS."""
    return JsonResponse({"code": code, "detail": detail}, status=status, headers=headers)


def handler400(request, exception):
    """Answer a malformed request (e.g. a broken multipart body)."""
    if not is_api_path(request.path_info):
        return defaults.bad_request(request, exception)
    detail = str(exception) if isinstance(exception, _SHOWN_BAD_REQUESTS) else "malformed request"
    return error_response(status=400, code="BadRequest", detail=detail)


def handler403(request, exception):
    """Answer PermissionDenied raised outside DRF."""
    if not is_api_path(request.path_info):
        return defaults.permission_denied(request, exception)
    return error_response(status=403, code=Forbidden.code, detail="you may not do this")


def handler404(request, exception):
    """Answer a URL that matches no route."""
    if not is_api_path(request.path_info):
        return defaults.page_not_found(request, exception)
    return error_response(status=404, code=NotFound.code, detail=f"{request.path}: no such endpoint")


def handler500(request):
    """Answer an unhandled exception."""
    if not is_api_path(request.path_info):
        return defaults.server_error(request)
    # The exception itself is logged by django.request; the caller gets no internals.
    return error_response(status=500, code="ServerError", detail="internal server error; it has been logged")
