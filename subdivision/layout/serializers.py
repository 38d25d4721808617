"""The layout request and answer (their OpenAPI schemas too)."""
from __future__ import annotations

from rest_framework import serializers

from gisportal.serializers import NumberField, SourceOrderSerializer
from parcels.models import LandUse
from subdivision.serializers import ReportSerializer


class LayoutRequestSerializer(serializers.Serializer):
    """Every target is optional; the defaults come from the municipality's rule set for the land use."""

    lot_area_m2 = serializers.FloatField(required=False, help_text="target lot area (at least the rule set's "
                                                                   "minimum, at most 20,000 m²)")
    road_width_m = serializers.FloatField(required=False, help_text="width of the new roads (at least the rule "
                                                                    "set's minimum road width, at most 60 m; 16 m "
                                                                    "by default)")
    public_share_pct = serializers.FloatField(required=False, help_text="share of roads and open space to reach "
                                                                        "(at least the rule set's minimum, at most "
                                                                        "80 %)")
    land_use = serializers.ChoiceField(choices=LandUse.choices, required=False, default=LandUse.RESIDENTIAL)


class LayoutSummarySerializer(SourceOrderSerializer):
    lots = serializers.IntegerField()
    lots_per_ha = NumberField()
    public_share_pct = NumberField()
    parent_area_m2 = NumberField()
    lots_area_m2 = NumberField()
    roads_area_m2 = NumberField()
    open_space_area_m2 = NumberField()
    lot_width_m = NumberField(help_text="frontage of a regular lot")
    lot_depth_m = NumberField()
    road_width_m = NumberField()
    orientation_deg = NumberField(help_text="direction of the parallel roads, degrees counter-clockwise from the "
                                            "metric CRS's x axis")
    candidates_tried = serializers.IntegerField()
    seconds = NumberField(help_text="time the search took")


class LayoutSerializer(SourceOrderSerializer):
    plan = serializers.JSONField(help_text="the plan as a GeoJSON FeatureCollection in EPSG:4326 with kind, lot_no, "
                                           "stated_area and land_use properties: upload it as it is")
    report = ReportSerializer(help_text="the plan's validation report against the registry as it is now")
    summary = LayoutSummarySerializer()
