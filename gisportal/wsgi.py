import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gisportal.settings")
application = get_wsgi_application()

# Load every URL module (and what they import: the CQL2 grammar of the OGC API alone takes over a
# second) when the worker boots, not on its first request.
from django.urls import get_resolver  # noqa: E402

_ = get_resolver().url_patterns

# Cached public tiles for anonymous callers are answered before Django (layers/tiles/fastpath.py);
# everything else, misses included, goes through Django as usual.
from gisportal.logging import log_wsgi_request  # noqa: E402 (after Django is set up)
from layers.tiles.fastpath import CachedTileFastPath  # noqa: E402

application = CachedTileFastPath(application, session_cookie=settings.SESSION_COOKIE_NAME, log=log_wsgi_request)
