"""The platform's domain errors: one class per meaning, each with its HTTP status and CamelCase code.

Pure Python (no Django import), so pure modules such as ``subdivision.plan_files`` raise them too.
``gisportal.exception_handler`` answers them, and DRF's own exceptions, as ``{"code", "detail"}``.
"""

from __future__ import annotations

from typing import Any, Mapping


class PlatformError(Exception):
    """A client or server error that carries its HTTP status and a stable code.

    ``extra`` holds structured details answered beside ``code`` and ``detail`` (e.g. the layers
    of a DXF drawing); it is empty for most errors.
    """

    http_status: int = 400
    code: str = "BadRequest"

    def __init__(self, message: str, *, extra: Mapping[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.extra: dict[str, Any] = dict(extra or {})

    @property
    def headers(self) -> dict[str, str]:
        """HTTP headers the answer carries besides its body (e.g. Retry-After); none for most errors."""
        return {}


class BadRequest(PlatformError):
    """The request cannot be read (a malformed body)."""

    http_status = 400
    code = "BadRequest"


class InvalidParameter(PlatformError):
    """A parameter or form field is missing or wrong; the message starts with its name."""

    http_status = 400
    code = "InvalidParameter"


class NotAuthenticated(PlatformError):
    """The endpoint needs a signed-in caller and none was given."""

    http_status = 401
    code = "NotAuthenticated"


class AuthenticationFailed(PlatformError):
    """Credentials were given and are wrong (an unknown token, an inactive user)."""

    http_status = 401
    code = "AuthenticationFailed"


class PermissionDenied(PlatformError):
    """The caller is known but may not do this."""

    http_status = 403
    code = "PermissionDenied"


class NotFound(PlatformError):
    """No such thing, or none the caller may see."""

    http_status = 404
    code = "NotFound"


class MethodNotAllowed(PlatformError):
    http_status = 405
    code = "MethodNotAllowed"


class NotAcceptable(PlatformError):
    http_status = 406
    code = "NotAcceptable"


class Conflict(PlatformError):
    """The request contradicts the current state (e.g. changing a retired parcel)."""

    http_status = 409
    code = "Conflict"


class UnsupportedMediaType(PlatformError):
    http_status = 415
    code = "UnsupportedMediaType"


class Throttled(PlatformError):
    """Too many requests; RETRY_AFTER_S, when known, is answered as the Retry-After header."""

    http_status = 429
    code = "Throttled"

    def __init__(self, message: str, *, retry_after_s: int | None = None,
                 extra: Mapping[str, Any] | None = None):
        super().__init__(message, extra=extra)
        self.retry_after_s = None if retry_after_s is None else max(1, int(retry_after_s))

    @property
    def headers(self) -> dict[str, str]:
        return {} if self.retry_after_s is None else {"Retry-After": str(self.retry_after_s)}


class ServerError(PlatformError):
    """An unhandled exception; the caller gets no internals."""

    http_status = 500
    code = "ServerError"


class DatabaseUnavailable(PlatformError):
    http_status = 503
    code = "DatabaseUnavailable"


# The name used before the family had one spelling; the code is PermissionDenied.
Forbidden = PermissionDenied

# ---- which paths answer errors in JSON ---------------------------------------------------------
# Under these prefixes every answer is JSON {code, detail}; other paths keep Django's HTML pages.
API_PATH_PREFIXES = ("/api/", "/healthz", "/tiles/", "/styles/")


def is_api_path(path: str) -> bool:
    """Return True when PATH is answered in JSON (the API and the health check)."""
    return path.startswith(API_PATH_PREFIXES)
