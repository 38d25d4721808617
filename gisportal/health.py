"""GET /healthz: is the server up, and can it reach PostGIS and Redis?

PostGIS down is 503: nothing works without it. Redis down is a degraded 200: the cache then
misses and throttling lets requests through, so the service still answers, only slower; a load
balancer must not take every server out of rotation because the cache they share is gone.
"""

from __future__ import annotations

from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache

from gisportal.cache import redis_ping
from gisportal.exception_handler import error_response


@never_cache
def healthz(request):
    """Answer 200 with the PostGIS version and Redis state ("degraded" without Redis), or 503 without the database."""
    if request.method not in ("GET", "HEAD"):
        return error_response(status=405, code="MethodNotAllowed", detail=f"{request.method}: use GET or HEAD",
                              headers={"Allow": "GET, HEAD"})
    redis_state = redis_ping()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT postgis_lib_version()")
            (version,) = cursor.fetchone()
    except DatabaseError as exc:
        # Drop the broken connection now so the next request reconnects by itself.
        connection.close_if_unusable_or_obsolete()
        try:
            connection.close()
        except DatabaseError:
            pass
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return JsonResponse({"status": "unavailable", "database": "unreachable", "reason": reason,
                             "redis": redis_state,
                             "code": "DatabaseUnavailable", "detail": f"database: {reason}"}, status=503)
    return JsonResponse({"status": "ok" if redis_state == "ok" else "degraded", "database": "ok",
                         "postgis": version, "redis": redis_state})
