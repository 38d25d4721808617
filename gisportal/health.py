"""GET /healthz: is the server up, and can it reach PostGIS?"""

from __future__ import annotations

from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache

from gisportal.exception_handler import error_response


@never_cache
def healthz(request):
    """Answer 200 with the PostGIS version, or 503 with the reason the database is unreachable."""
    if request.method not in ("GET", "HEAD"):
        return error_response(status=405, code="MethodNotAllowed", detail=f"{request.method}: use GET or HEAD",
                              headers={"Allow": "GET, HEAD"})
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
                             "code": "DatabaseUnavailable", "detail": f"database: {reason}"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok", "postgis": version})
