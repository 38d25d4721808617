"""The building-permit answers: the site report and the footprint check (their OpenAPI schemas too)."""

from __future__ import annotations

from rest_framework import serializers

from gisportal.serializers import (
    GeoJSONGeometryField,
    NumberField,
    SourceOrderSerializer,
)


class NamedSerializer(SourceOrderSerializer):
    code = serializers.CharField()
    name_en = serializers.CharField(allow_blank=True)
    name_ar = serializers.CharField(allow_blank=True)


class SiteZoningSerializer(SourceOrderSerializer):
    zone_code = serializers.CharField()
    name_en = serializers.CharField(allow_blank=True)
    name_ar = serializers.CharField(allow_blank=True)
    share_pct = NumberField(help_text="share of the parcel's area in this zone")


class CornerSerializer(SourceOrderSerializer):
    number = serializers.IntegerField(help_text="1, 2, ... clockwise from the north-westmost corner")
    x = NumberField(help_text="easting in the metric CRS, metres, rounded to the millimetre")
    y = NumberField(help_text="northing in the metric CRS, metres, rounded to the millimetre")


class SiteEdgeSerializer(SourceOrderSerializer):
    from_corner = serializers.IntegerField()
    to_corner = serializers.IntegerField()
    length_m = NumberField()
    bearing_deg = NumberField(help_text="grid bearing: degrees from grid north of the metric CRS, clockwise")
    fronts_street = serializers.BooleanField(help_text="more than half the edge lies along a street right-of-way")
    kind = serializers.CharField(help_text="front, side or rear (the rear is opposite the longest frontage)")
    street_name_en = serializers.CharField(allow_null=True, allow_blank=True, help_text="the street it fronts")


class FrontageSerializer(SourceOrderSerializer):
    street_name_en = serializers.CharField(allow_blank=True)
    street_name_ar = serializers.CharField(allow_blank=True)
    row_width_m = NumberField(allow_null=True, help_text="right-of-way width")
    frontage_m = NumberField(help_text="length of the parcel's boundary along this street")
    front_setback_m = NumberField(help_text="min(front_setback_ratio × row_width_m, front_setback_max_m)")


class SetbacksSerializer(SourceOrderSerializer):
    front_m = NumberField(help_text="on the longest frontage's street")
    front_ratio = NumberField(help_text="of the street's right-of-way width")
    front_max_m = NumberField()
    side_m = NumberField()
    rear_m = NumberField()


class CoverageSerializer(SourceOrderSerializer):
    max_pct = NumberField(help_text="largest building footprint, % of the parcel's area")
    max_m2 = NumberField()


class RuleSourceSerializer(SourceOrderSerializer):
    source = serializers.CharField(help_text="rule_set (the municipality's, for the land use) or default")
    description = serializers.CharField()


class SiteReportSerializer(SourceOrderSerializer):
    """What a building permit needs about a parcel, measured in the municipality's metric CRS."""

    municipality = NamedSerializer()
    parcel_code = serializers.CharField()
    plan_no = serializers.CharField(allow_blank=True)
    block_no = serializers.CharField(allow_blank=True)
    parcel_no = serializers.CharField(allow_blank=True)
    district = NamedSerializer(allow_null=True)
    crs = serializers.CharField(help_text="the metric CRS of every measurement and coordinate, e.g. EPSG:32638")
    area_m2 = NumberField()
    perimeter_m = NumberField()
    land_use = NamedSerializer()
    zoning = SiteZoningSerializer(many=True)
    corners = CornerSerializer(many=True)
    edges = SiteEdgeSerializer(many=True)
    frontages = FrontageSerializer(many=True)
    frontage_m = NumberField(help_text="all frontages together")
    setbacks = SetbacksSerializer()
    coverage = CoverageSerializer()
    buildable_area_m2 = NumberField(help_text="the parcel less its setbacks")
    rules = RuleSourceSerializer()
    neighbours = serializers.ListField(child=serializers.CharField(), help_text="codes of the active parcels around")
    date = serializers.CharField(help_text="the day of the report (YYYY-MM-DD)")


class FootprintRequestSerializer(serializers.Serializer):
    """A GeoJSON Polygon or MultiPolygon, or a Feature holding one; EPSG:4326 unless crs or srid says otherwise."""

    type = serializers.CharField(help_text="Polygon, MultiPolygon or Feature")
    coordinates = serializers.JSONField(required=False)
    geometry = serializers.JSONField(required=False, help_text="of a Feature")
    properties = serializers.JSONField(required=False)
    crs = serializers.JSONField(required=False, help_text='{"type": "name", "properties": {"name": '
                                                         '"urn:ogc:def:crs:EPSG::32638"}} or "EPSG:32638"')
    srid = serializers.IntegerField(required=False, help_text="EPSG code of the coordinates")


class FootprintFindingSerializer(SourceOrderSerializer):
    code = serializers.CharField(help_text="SETBACK_FRONT, SETBACK_SIDE, SETBACK_REAR, COVERAGE_EXCEEDED or "
                                           "FOOTPRINT_OUTSIDE_PARCEL")
    severity = serializers.CharField(help_text="error")
    message_en = serializers.CharField()
    message_ar = serializers.CharField()
    value = NumberField(allow_null=True, help_text="what was measured (m, m² or %)")
    limit = NumberField(allow_null=True, help_text="the rule's threshold")
    location = GeoJSONGeometryField(help_text="GeoJSON, EPSG:4326: the offending part of the footprint")


class FootprintCheckSerializer(SourceOrderSerializer):
    ok = serializers.BooleanField(help_text="true when no finding is an error")
    footprint_area_m2 = NumberField()
    coverage_pct = NumberField(help_text="footprint area / parcel area × 100")
    coverage_limit_pct = NumberField()
    buildable_area = GeoJSONGeometryField(help_text="the parcel less its setbacks, GeoJSON, EPSG:4326")
    buildable_area_m2 = NumberField()
    crs = serializers.CharField(help_text="the metric CRS the check measured in")
    findings = FootprintFindingSerializer(many=True)
