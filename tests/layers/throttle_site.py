"""Settings and URLs of a server with one throttled probe endpoint, for the throttle's live tests.

No protocol view calls the throttle in these tests' place, so this module is both the settings
(DJANGO_SETTINGS_MODULE) and the URLconf of a gunicorn started by tests/layers/test_throttle.py:
GET /api/throttle-probe/ runs caller_for and throttle.check exactly as the layer views do.
"""

import os

from gisportal.settings import *  # noqa: F403 (a settings module extending the real one)
from gisportal.settings import MIDDLEWARE

ROOT_URLCONF = __name__
MIDDLEWARE = [*MIDDLEWARE, f"{__name__}.worker_header"]


def worker_header(get_response):
    """Name the gunicorn worker (its pid) on every answer, 429s included."""
    def middleware(request):
        response = get_response(request)
        response["X-Worker-Pid"] = str(os.getpid())
        return response
    return middleware


def _probe(request):
    import time

    from rest_framework.response import Response

    from layers import throttle
    from layers.access import caller_for

    caller = caller_for(request)
    verdict = throttle.check(caller, request)
    time.sleep(0.05)  # long enough that concurrent requests are spread over every worker
    return Response({"caller": caller.identity, "count": verdict.count if verdict else None})


def _urlpatterns():
    from django.urls import path
    from rest_framework.decorators import (
        api_view,
        authentication_classes,
        permission_classes,
    )

    def drf(view):
        return api_view(["GET"])(authentication_classes([])(permission_classes([])(view)))

    return [path("api/throttle-probe/", drf(_probe)), path("api/worker-hold/", drf(_hold))]


def _hold(request):
    """Keep a worker busy for a moment, uncounted: the test waits until every worker has answered."""
    import time

    from rest_framework.response import Response

    time.sleep(0.3)
    return Response({})


def __getattr__(name):
    # The URLconf is read after the apps are ready; building it at import would load DRF during settings.
    if name == "urlpatterns":
        return _urlpatterns()
    raise AttributeError(name)
