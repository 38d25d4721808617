"""Serializer pieces every API uses: the error body, paged answers, GeoJSON geometry, pass-through values."""

from __future__ import annotations

from datetime import date, datetime

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema_field
from rest_framework import serializers

# A GeoJSON geometry object (RFC 7946); coordinates nest by geometry type.
GEOJSON_GEOMETRY_SCHEMA = {
    "type": "object",
    "description": "GeoJSON geometry",
    "properties": {
        "type": {"type": "string", "example": "Polygon"},
        "coordinates": {"type": "array", "items": {}},
    },
    "required": ["type"],
}


class ErrorSerializer(serializers.Serializer):
    """The body of every 4xx/5xx answer under /api/."""

    code = serializers.CharField(help_text="CamelCase error code, e.g. InvalidParameter, PlanFileCorrupt")
    detail = serializers.CharField(help_text="what is wrong; for a bad parameter it starts with its name")


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    """Return the OpenAPI responses {status: the error body} for STATUSES."""
    meanings = {400: "bad parameter or file", 401: "not signed in", 403: "not allowed", 404: "not found",
                413: "upload too large", 415: "unsupported file format", 422: "plan cannot be validated"}
    return {status: OpenApiResponse(ErrorSerializer, description=meanings.get(status, "error"))
            for status in statuses}


@extend_schema_field(OpenApiTypes.NUMBER)
class NumberField(serializers.Field):
    """A number answered as given: an int stays an int, a float a float (no float() round-trip)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value):
        return value


@extend_schema_field(OpenApiTypes.DATETIME)
class IsoDateTimeField(serializers.Field):
    """A datetime as Python's isoformat() writes it (offset +00:00, microseconds kept)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value):
        return value.isoformat() if isinstance(value, (datetime, date)) else value


@extend_schema_field(GEOJSON_GEOMETRY_SCHEMA)
class GeoJSONGeometryField(serializers.Field):
    """A GeoJSON geometry: a parsed object, or the text PostGIS's ST_AsGeoJSON made (parsed here)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_representation(self, value):
        if isinstance(value, (str, bytes)):
            import json

            return json.loads(value)
        return value


class SourceOrderSerializer(serializers.Serializer):
    """Answer a dict's keys in the order the dict has them (e.g. a report as stored), declared fields only.

    The schema lists the declared fields; the answer keeps the bytes the dict would have given.
    """

    def to_representation(self, instance):
        out = super().to_representation(instance)
        if not isinstance(instance, dict):
            return out
        ordered = {key: out[key] for key in instance if key in out}
        ordered.update((key, value) for key, value in out.items() if key not in ordered)
        return ordered


class PageLinksSerializer(serializers.Serializer):
    """count, next and previous of a paged answer (gisportal.pagination.page_links)."""

    count = serializers.IntegerField(help_text="items on every page together")
    next = serializers.URLField(allow_null=True, help_text="the next page, keeping every other parameter")
    previous = serializers.URLField(allow_null=True, help_text="the previous page")


class GeoJSONFeatureSerializer(serializers.Serializer):
    """A GeoJSON Feature from a row: subclasses give ``id``, ``geometry`` and ``properties``."""

    type = serializers.SerializerMethodField()

    def get_type(self, row) -> str:
        return "Feature"
