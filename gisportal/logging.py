"""Structured logging: one JSON line per request, and JSON for every other log record."""

from __future__ import annotations

import json
import logging
import re
import time
from datetime import datetime, timezone

request_logger = logging.getLogger("gisportal.request")


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON object on one line."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "ts": datetime.fromtimestamp(record.created, tz=timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        line.update(getattr(record, "fields", {}))
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


# Query parameters that carry credentials (partner keys in tile and WFS URLs): never logged.
SECRET_PARAMETERS = ("key", "token", "access_token", "api_key", "apikey")
_SECRET_IN_QUERY = re.compile(r"(?i)(^|&)(" + "|".join(SECRET_PARAMETERS) + r")=[^&]*")


def redact_query(query: str) -> str:
    """Return QUERY with the values of credential parameters replaced by "***"."""
    return _SECRET_IN_QUERY.sub(lambda m: f"{m.group(1)}{m.group(2)}=***", query)


class RequestLogMiddleware:
    """Log each request once, after its response, with status, duration and user."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        user = getattr(request, "user", None)
        request_logger.info(
            "request",
            extra={
                "fields": {
                    "method": request.method,
                    "path": request.path,
                    "query": redact_query(request.META.get("QUERY_STRING", "")),
                    "status": response.status_code,
                    "ms": round((time.perf_counter() - started) * 1000, 1),
                    "user": user.username if user is not None and user.is_authenticated else None,
                    "remote": request.META.get("REMOTE_ADDR"),
                    "bytes": len(response.content) if not response.streaming else None,
                }
            },
        )
        return response


def log_wsgi_request(environ, status: int, started: float, nbytes: int) -> None:
    """Log a request answered before Django (the cached-tile fast path) like RequestLogMiddleware does."""
    request_logger.info(
        "request",
        extra={
            "fields": {
                "method": environ.get("REQUEST_METHOD"),
                "path": environ.get("PATH_INFO", ""),
                "query": redact_query(environ.get("QUERY_STRING", "")),
                "status": status,
                "ms": round((time.perf_counter() - started) * 1000, 1),
                "user": None,
                "remote": environ.get("REMOTE_ADDR"),
                "bytes": nbytes,
            }
        },
    )
