"""The WFS 2.0 endpoint at /wfs: django-gisserver's view over the layer registry, per caller.

Each request: who is calling (``layers.access.caller_for``: a partner key as ``Authorization:
Bearer`` or ``?key=``, an API token or a session), one throttle count, then gisserver parses,
filters (FES 2.0 to the ORM, never SQL text), pages and renders (GML 3.2 / GeoJSON, in PostGIS).
Every error, ours included, is an OGC ``ows:ExceptionReport``.
"""

from __future__ import annotations

from typing import ClassVar
from urllib.parse import urlencode

from django.conf import settings
from django.views.decorators.csrf import csrf_exempt
from gisserver.exceptions import WFSException
from gisserver.features import ServiceDescription
from gisserver.views import WFSView

from gisportal.errors import PlatformError
from layers import throttle
from layers.access import Caller, caller_for, check_layer, readable_layers
from layers.registry import LAYERS
from layers.wfs import gml
from layers.wfs.feature_types import (
    XML_NAMESPACE,
    XML_PREFIX,
    feature_types,
    metric_srids,
)
from layers.wfs.operations import OPERATIONS

gml.install()

# 401 answers name the scheme a partner key is sent with.
WWW_AUTHENTICATE = 'Bearer realm="gisportal"'


class LayerAccessError(WFSException):
    """A platform error (401, 403, 429) carried in the OGC exception format."""


def ows_error_response(exc: PlatformError, *, locator: str | None = None):
    """Answer the platform error EXC as an ows:ExceptionReport with its HTTP status and code."""
    response = LayerAccessError(exc.message.ljust(len(exc.code)), code=exc.code, locator=locator,
                                status_code=exc.http_status).as_response()
    if exc.http_status == 401:
        response["WWW-Authenticate"] = WWW_AUTHENTICATE
    retry_after_s = getattr(exc, "retry_after_s", None)  # Throttled
    if retry_after_s:
        response["Retry-After"] = str(int(retry_after_s))
    return response


class LayerWFSView(WFSView):
    """WFS 2.0 over the registry layers the caller may read."""

    xml_namespace = XML_NAMESPACE
    xml_namespace_aliases: ClassVar[dict] = {XML_PREFIX: XML_NAMESPACE}
    accept_operations: ClassVar[dict] = {"WFS": OPERATIONS}
    service_description = ServiceDescription(
        title="gisportal map layers (WFS 2.0)",
        abstract="The city's parcels, streets, zoning, blocks and districts; partner layers with a key.",
        keywords=["parcels", "cadastre", "zoning", "streets"],
        provider_name="gisportal",
    )
    caller: Caller

    @property
    def max_page_size(self) -> int:
        # Read per request (not at import, as gisserver's class attribute is) so tests can lower it.
        return settings.GISSERVER_DEFAULT_MAX_PAGE_SIZE

    @csrf_exempt  # reads only; a POST carries an XML query, not a form
    def dispatch(self, request, *args, **kwargs):
        try:
            self.caller = caller_for(request)
            throttle.check(self.caller, request)
        except PlatformError as exc:
            return self._no_store(ows_error_response(exc, locator="key" if "key" in request.GET else None))
        return self._no_store(super().dispatch(request, *args, **kwargs))

    def handle_exception(self, exc):
        if isinstance(exc, PlatformError):
            return ows_error_response(exc, locator="typeNames")
        return super().handle_exception(exc)

    @staticmethod
    def _no_store(response):
        # Answers depend on the caller's credentials (and may echo their ?key=): never cache them.
        response["Cache-Control"] = "no-store"
        return response

    def get_feature_types(self):
        """Return the feature types of the layers the caller may read, in registry order."""
        by_layer = feature_types(metric_srids())
        return [by_layer[layer.id] for layer in readable_layers(self.caller)]

    def check_layer_name(self, xml_name: str) -> None:
        """Raise 401/403 when XML_NAME is a registry layer the caller may not read."""
        for layer_id in LAYERS:
            if xml_name == f"{{{XML_NAMESPACE}}}{layer_id}":
                check_layer(self.caller, layer_id)

    def _key_query(self) -> str:
        key = self.request.GET.get("key")
        return urlencode({"key": key}) if key and self.caller.kind == "partner" else ""

    def advertised_url(self) -> str:
        """Return this endpoint's URL for the capabilities, with the caller's ?key= if they sent one.

        Clients such as QGIS and OWSLib call the URLs the capabilities advertise; a partner whose
        client cannot send a header would lose the key on the second request otherwise.
        """
        key_query = self._key_query()
        return f"{self.server_url}?{key_query}&" if key_query else self.server_url

    def get_xml_schema_url(self, feature_types) -> str:
        url = super().get_xml_schema_url(feature_types)
        key_query = self._key_query()
        return f"{url}&{key_query}" if key_query else url
