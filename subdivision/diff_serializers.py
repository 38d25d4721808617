"""The answer of GET /api/plans/{id}/versions/{n}/diff/ (subdivision.versions.version_diff), for the schema."""

from __future__ import annotations

from rest_framework import serializers

from gisportal.serializers import GeoJSONGeometryField, SourceOrderSerializer


class DiffFeatureSerializer(SourceOrderSerializer):
    """A feature only in one of the two versions."""

    kind = serializers.CharField(help_text="lot, road, open_space or utility")
    lot_no = serializers.CharField(allow_null=True)
    index = serializers.IntegerField(help_text="position in its version's file")
    area_m2 = serializers.FloatField(help_text="in the municipality's metric CRS, to 0.01 m²")
    geometry = GeoJSONGeometryField(help_text="EPSG:4326")


class DiffChangeSerializer(SourceOrderSerializer):
    """A feature in both versions whose shape changed by more than the tolerance."""

    kind = serializers.CharField()
    lot_no = serializers.CharField(allow_null=True)
    index_before = serializers.IntegerField()
    index_after = serializers.IntegerField()
    area_before_m2 = serializers.FloatField()
    area_after_m2 = serializers.FloatField()
    changed_area_m2 = serializers.FloatField(help_text="area of the symmetric difference of the two shapes")
    changed_geometry = GeoJSONGeometryField(help_text="the symmetric difference, EPSG:4326")


class DiffFindingSerializer(SourceOrderSerializer):
    code = serializers.CharField()
    severity = serializers.CharField()
    features = serializers.ListField(child=serializers.CharField(), help_text="labels of the features it names")
    message_en = serializers.CharField()
    message_ar = serializers.CharField()
    location = GeoJSONGeometryField(help_text="EPSG:4326")


class DiffCountsSerializer(SourceOrderSerializer):
    lots_added = serializers.IntegerField()
    lots_removed = serializers.IntegerField()
    lots_reshaped = serializers.IntegerField()
    lots_unchanged = serializers.IntegerField()
    other_added = serializers.IntegerField()
    other_removed = serializers.IntegerField()
    other_changed = serializers.IntegerField()
    other_unchanged = serializers.IntegerField()
    findings_resolved = serializers.IntegerField()
    findings_new = serializers.IntegerField()
    findings_still = serializers.IntegerField()


class DiffLotsSerializer(SourceOrderSerializer):
    """Lots matched by lot number."""

    added = DiffFeatureSerializer(many=True)
    removed = DiffFeatureSerializer(many=True)
    reshaped = DiffChangeSerializer(many=True)
    unchanged = serializers.IntegerField()


class DiffOtherFeaturesSerializer(SourceOrderSerializer):
    """Roads, open spaces, utilities and unnumbered lots, matched by overlap within their kind."""

    added = DiffFeatureSerializer(many=True)
    removed = DiffFeatureSerializer(many=True)
    changed = DiffChangeSerializer(many=True)
    unchanged = serializers.IntegerField()


class DiffFindingsSerializer(SourceOrderSerializer):
    """Findings matched by code and the features they name (by location where they name none)."""

    resolved = DiffFindingSerializer(many=True, help_text="in the earlier version only")
    new = DiffFindingSerializer(many=True, help_text="in the later version only")
    still = serializers.IntegerField(help_text="findings in both versions")


class VersionDiffSerializer(SourceOrderSerializer):
    """What changed from version ``from_version`` of a plan to ``to_version``."""

    plan = serializers.IntegerField()
    from_version = serializers.IntegerField()
    to_version = serializers.IntegerField()
    metric_srid = serializers.IntegerField(help_text="the CRS areas were measured in")
    tolerance_m2 = serializers.FloatField(help_text="a shape changed when its symmetric difference exceeds this")
    counts = DiffCountsSerializer()
    lots = DiffLotsSerializer()
    other_features = DiffOtherFeaturesSerializer()
    findings = DiffFindingsSerializer()
