"""Request and response policy shared by every view: hostile input refused, answers marked."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.gis.admin import GISModelAdmin
from django.contrib.gis.forms.widgets import OpenLayersWidget

from gisportal.errors import InvalidParameter, is_api_path
from gisportal.exception_handler import error_response

# ---- NUL bytes ----------------------------------------------------------------------------
# PostgreSQL text cannot hold NUL ("A string literal cannot contain NUL (0x00) characters"), so a
# NUL anywhere in a parameter would reach the database only to fail there as a 500.
FORM_CONTENT_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _nul_parameter(request, view_args, view_kwargs) -> str | None:
    """Return the name of the first parameter of REQUEST that contains a NUL byte, or None."""
    for name, value in view_kwargs.items():
        if isinstance(value, str) and "\x00" in value:
            return name
    if any(isinstance(value, str) and "\x00" in value for value in view_args) or "\x00" in request.path_info:
        return "path"
    fields = [request.GET]
    if request.method == "POST" and request.content_type in FORM_CONTENT_TYPES and _form_is_read_here(request):
        fields += [request.POST, request.FILES]  # FILES: field names only, never file contents
    for params in fields:
        for name, values in params.lists():
            if "\x00" in name:
                return repr(name)
            if params is not request.FILES and any("\x00" in value for value in values):
                return name
    return None


def _form_is_read_here(request) -> bool:
    """Return False for a body larger than any view accepts: the view refuses it unread (413)."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return declared <= settings.PLAN_UPLOAD_MAX_BYTES + 64 * 1024


class RejectNulBytesMiddleware:
    """Answer 400 InvalidParameter, naming the parameter, when a path, query or form value holds NUL."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        # A malformed body raises here (MultiPartParserError, TooManyFieldsSent): Django answers
        # 400 through handler400, as it would when the view read the body.
        name = _nul_parameter(request, view_args, view_kwargs)
        if name is None:
            return None
        return error_response(status=400, code=InvalidParameter.code, detail=f"{name}: contains a NUL byte")


# ---- HEAD ----------------------------------------------------------------------------------
class HeadAsGetMiddleware:
    """Answer HEAD like GET on DRF function views, which @api_view(["GET"]) would refuse with 405.

    Django's class-based views (and DRF's APIView classes) already do this; the body of the answer
    is dropped by the server (gunicorn, runserver, the test client), as for those.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if getattr(request, "_head_as_get", False):
            request.method = "HEAD"  # for the request log
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        methods = getattr(getattr(view_func, "cls", None), "http_method_names", ())
        if request.method == "HEAD" and "get" in methods and "head" not in methods:
            request.method = "GET"
            request._head_as_get = True


# ---- response headers -----------------------------------------------------------------------
CONTENT_SECURITY_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    # Swagger UI's and Redoc's pages carry a <style> block, and Redoc's styled-components add more.
    "style-src": ["'self'", "'unsafe-inline'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'", "data:"],
    "connect-src": ["'self'"],
    # Redoc runs its search index in a worker made from a blob: URL.
    "worker-src": ["'self'", "blob:"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}


def _map_widget_policy() -> dict[str, list[str]]:
    """Return what Django's OpenLayers map widget of the GIS admin loads beyond this server."""
    hosts = {"script-src": set(), "style-src": set()}
    for url in OpenLayersWidget.Media.js:
        if urlsplit(url).netloc:
            hosts["script-src"].add(f"{urlsplit(url).scheme}://{urlsplit(url).netloc}")
    for url in OpenLayersWidget.Media.css["all"]:
        if urlsplit(url).netloc:
            hosts["style-src"].add(f"{urlsplit(url).scheme}://{urlsplit(url).netloc}")
    policy = {key: list(values) for key, values in CONTENT_SECURITY_POLICY.items()}
    # The widget starts itself with an inline <script> that Django renders without a nonce.
    policy["script-src"] += ["'unsafe-inline'", *sorted(hosts["script-src"])]
    policy["style-src"] += sorted(hosts["style-src"])
    # OSMWidget's base layer: OpenStreetMap tiles.
    policy["img-src"] += ["https://tile.openstreetmap.org", "https://*.tile.openstreetmap.org"]
    return policy


def _header(policy: dict[str, list[str]]) -> str:
    return "; ".join(f"{directive} {' '.join(sources)}" for directive, sources in policy.items())


CSP_HEADER = _header(CONTENT_SECURITY_POLICY)
CSP_HEADER_MAP_WIDGET = _header(_map_widget_policy())


def _shows_map_widget(request) -> bool:
    """Return True for the admin pages of GIS models, whose forms show an OpenLayers map."""
    match = getattr(request, "resolver_match", None)
    model_admin = getattr(match.func, "model_admin", None) if match else None
    return isinstance(model_admin, GISModelAdmin)


class ResponseHeadersMiddleware:
    """Mark API answers Cache-Control: no-store and give HTML pages a Content-Security-Policy."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if is_api_path(request.path_info) and not response.has_header("Cache-Control"):
            # Answers depend on the caller's roles and on parcel history that changes underneath.
            response["Cache-Control"] = "no-store"
        if response.get("Content-Type", "").startswith("text/html") and not response.has_header(
                "Content-Security-Policy"):
            response["Content-Security-Policy"] = CSP_HEADER_MAP_WIDGET if _shows_map_widget(request) else CSP_HEADER
        return response
