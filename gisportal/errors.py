"""The platform's domain errors and the one handler that maps them to HTTP responses."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
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
        return Response({"code": exc.code, "detail": str(exc)}, status=exc.http_status)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=exc.messages)
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(response.data, dict) and "code" not in response.data:
        response.data["code"] = getattr(exc, "default_code", "error")
    return response
