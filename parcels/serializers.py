"""The parcel API's answers: GeoJSON features of parcel states, their detail and history.

They shape what parcels.selectors return (features whose properties are the state's columns, plus
measurements, neighbours, zoning and lineage for the detail); lineage is read from that answer,
never from model fields, so the registry's lineage may change underneath.
"""

from __future__ import annotations

from rest_framework import serializers

from gisportal.serializers import (
    GeoJSONGeometryField,
    IsoDateTimeField,
    NumberField,
    SourceOrderSerializer,
)


class ParcelPropertiesSerializer(SourceOrderSerializer):
    municipality = serializers.CharField(help_text="municipality code")
    parcel_code = serializers.CharField()
    plan_no = serializers.CharField(required=False)
    block_no = serializers.CharField(required=False)
    parcel_no = serializers.CharField(required=False)
    district_code = serializers.CharField(required=False, allow_null=True)
    land_use = serializers.CharField(required=False)
    zone_code = serializers.CharField(required=False)
    stated_area_m2 = NumberField(required=False, allow_null=True, help_text="area written in the source data")
    area_m2 = NumberField(required=False, allow_null=True, help_text="measured in the municipality's metric CRS")
    perimeter_m = NumberField(required=False, allow_null=True)
    status = serializers.CharField(required=False, help_text="active or retired")
    version = serializers.IntegerField(required=False, help_text="how many states the parcel has had")
    change = serializers.CharField(required=False, help_text="what opened this state")
    change_source = serializers.CharField(required=False, allow_blank=True)
    valid_from = IsoDateTimeField(required=False, help_text="start of the state shown")
    valid_to = IsoDateTimeField(required=False, allow_null=True, help_text="its end; null for the current state")


class ParcelFeatureSerializer(SourceOrderSerializer):
    type = serializers.CharField(help_text="Feature")
    id = serializers.CharField(help_text="municipality/parcel_code")
    geometry = GeoJSONGeometryField()
    properties = ParcelPropertiesSerializer()


class CrsSerializer(serializers.Serializer):
    """The GeoJSON 2008 crs member, given when ?srid= asks for another CRS than EPSG:4326."""

    type = serializers.CharField(help_text="name")
    properties = serializers.DictField(child=serializers.CharField(), help_text="{name: urn:ogc:def:crs:EPSG::<srid>}")


class ParcelPageSerializer(SourceOrderSerializer):
    type = serializers.CharField(help_text="FeatureCollection")
    count = serializers.IntegerField(help_text="parcels on every page together")
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    features = ParcelFeatureSerializer(many=True)
    crs = CrsSerializer(required=False)


class EdgeSerializer(SourceOrderSerializer):
    index = serializers.IntegerField()
    length_m = NumberField()
    bearing_deg = NumberField(help_text="true (geodesic) azimuth from north, clockwise, 0 to 360")
    on_street = serializers.BooleanField(help_text="the edge faces a street right-of-way")


class MeasurementsSerializer(SourceOrderSerializer):
    area_m2 = NumberField()
    perimeter_m = NumberField()
    frontage_m = NumberField()
    depth_m = NumberField(allow_null=True)
    edges = EdgeSerializer(many=True)
    crs = serializers.CharField(help_text="the metric CRS they were measured in, e.g. EPSG:32638")


class ZoningShareSerializer(SourceOrderSerializer):
    zone_code = serializers.CharField()
    name_en = serializers.CharField(required=False, allow_blank=True)
    name_ar = serializers.CharField(required=False, allow_blank=True)
    allowed_uses = serializers.JSONField(required=False)
    share_pct = NumberField(help_text="share of the parcel's area in this zone")


class LineageSerializer(SourceOrderSerializer):
    created_by_plan = serializers.IntegerField(allow_null=True, required=False)
    retired_by_plan = serializers.IntegerField(allow_null=True, required=False)
    parents = serializers.ListField(child=serializers.CharField(), help_text="codes of the parcels it came from")
    children = serializers.ListField(child=serializers.CharField(), help_text="codes of the parcels it became")


class LifetimeSerializer(SourceOrderSerializer):
    # "from" is a Python keyword: declared below.
    to = IsoDateTimeField(allow_null=True, help_text="retired at; null while active")

    def get_fields(self):
        fields = super().get_fields()
        return {"from": IsoDateTimeField(help_text="created at"), **fields}


class ParcelDetailPropertiesSerializer(ParcelPropertiesSerializer):
    measurements = MeasurementsSerializer()
    district_name_en = serializers.CharField(allow_null=True, required=False)
    neighbours = serializers.ListField(child=serializers.CharField(),
                                       help_text="codes of the active parcels within 0.5 m")
    zoning = ZoningShareSerializer(many=True)
    lineage = LineageSerializer()
    lifetime = LifetimeSerializer()


class ParcelDetailSerializer(ParcelFeatureSerializer):
    properties = ParcelDetailPropertiesSerializer()


class ParcelHistorySerializer(SourceOrderSerializer):
    type = serializers.CharField(help_text="FeatureCollection")
    count = serializers.IntegerField()
    features = ParcelFeatureSerializer(many=True, help_text="every state, the current one first")
