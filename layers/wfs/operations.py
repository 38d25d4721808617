"""django-gisserver's WFS 2.0 operations, each taught who may read which layer.

The view offers only the layers the caller may read, so the capabilities document, the stored
query descriptions and a DescribeFeatureType without TYPENAMES list nothing else. A type name
that is a registry layer the caller may not read is then answered 401 or 403 (as every protocol
does, ``layers.access.check_layer``) instead of gisserver's 400 "Typename doesn't exist".
"""

from __future__ import annotations

from contextlib import contextmanager

from gisserver.exceptions import InvalidParameterValue
from gisserver.operations import wfs20
from gisserver.parsers.values import fix_type_name


class LayerAccessMixin:
    """Resolve a type name among the caller's layers; a hidden registry layer is a 401/403."""

    def resolve_feature_type(self, type_name: str, locator: str = "typeNames"):
        try:
            return super().resolve_feature_type(type_name, locator=locator)
        except InvalidParameterValue:
            self.view.check_layer_name(fix_type_name(type_name, self.view.xml_namespace))
            raise


class QueryInputMixin:
    """Refuse, as 400s, the query input gisserver would otherwise let through to a 500."""

    def validate_request(self, ows_request):
        if ows_request.count is not None and ows_request.count < 0:
            raise InvalidParameterValue("COUNT must be zero or more", locator="count")
        with _unsupported_as_400():
            super().validate_request(ows_request)

    def process_request(self, ows_request):
        with _unsupported_as_400():  # the query is built here; rows are streamed later
            return super().process_request(ows_request)


@contextmanager
def _unsupported_as_400():
    try:
        yield
    except NotImplementedError as exc:  # e.g. an XPath function in PROPERTYNAME
        raise InvalidParameterValue(f"Not supported: {exc}", locator="propertyName") from None


class GetCapabilities(wfs20.GetCapabilities):
    def get_context_data(self) -> dict:
        # The advertised operation URLs carry the caller's ?key= (see LayerWFSView.advertised_url).
        return {**super().get_context_data(), "server_url": self.view.advertised_url()}


class DescribeFeatureType(LayerAccessMixin, wfs20.DescribeFeatureType):
    pass


class GetFeature(QueryInputMixin, LayerAccessMixin, wfs20.GetFeature):
    pass


class GetPropertyValue(QueryInputMixin, LayerAccessMixin, wfs20.GetPropertyValue):
    pass


OPERATIONS = {
    "GetCapabilities": GetCapabilities,
    "DescribeFeatureType": DescribeFeatureType,
    "GetFeature": GetFeature,
    "GetPropertyValue": GetPropertyValue,
    "ListStoredQueries": wfs20.ListStoredQueries,
    "DescribeStoredQueries": wfs20.DescribeStoredQueries,
}
