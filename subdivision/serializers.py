"""The plan API's input and answers: the upload form, plans, their validation report, findings and features."""

from __future__ import annotations

import json

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import SkipField

from gisportal.plan_kinds import DXF_LAYER_KINDS
from gisportal.serializers import (
    GeoJSONFeatureSerializer,
    GeoJSONGeometryField,
    IsoDateTimeField,
    NumberField,
    PageLinksSerializer,
    SourceOrderSerializer,
)


class EpsgCodeField(serializers.IntegerField):
    """An EPSG code; a value that is not an integer is refused naming what was given."""

    def to_internal_value(self, data):
        try:
            return int(data)
        except (TypeError, ValueError):
            raise serializers.ValidationError(f"expected an EPSG code, got {data!r}") from None


class PlanUploadSerializer(serializers.Serializer):
    """The multipart form of POST /api/plans/ and /api/plans/validate/.

    Only the form's shape is checked here; the municipality, parents, title and land use are checked
    by the service, which names what is wrong with each (and an empty file is the plan reader's to refuse).
    """

    NO_FILE = "attach the plan file as multipart field 'file'"
    NO_PARENTS = "give one or more parent parcel codes, comma-separated"

    file = serializers.FileField(allow_empty_file=True,
                                 help_text="GeoJSON, zipped Shapefile, GeoPackage, KML/KMZ or DXF",
                                 error_messages={"required": NO_FILE, "null": NO_FILE, "invalid": NO_FILE})
    municipality = serializers.CharField(trim_whitespace=False, help_text="municipality code", error_messages={
        "required": "give the code of the plan's municipality", "blank": "give the code of the plan's municipality"})
    parents = serializers.CharField(trim_whitespace=False,
                                    help_text="parent parcel codes, comma-separated (at most 500)",
                                    error_messages={"required": NO_PARENTS, "blank": NO_PARENTS})
    title = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False,
                                  help_text="at most 200 characters; the file's name when absent")
    srid = EpsgCodeField(required=False, allow_null=True, default=None,
                         help_text="EPSG code, only when the file has no CRS")
    land_use = serializers.CharField(required=False, allow_blank=True, default="residential", trim_whitespace=False,
                                     help_text="residential (default), commercial, mixed, industrial, ...")
    # DXF drawings as surveyors draw them (subdivision/plan_files/dxf.py): which layer holds what.
    DXF_KINDS = DXF_LAYER_KINDS
    DXF_UNITS = ("m", "mm", "cm", "ft", "us_ft", "in")
    dxf_layers = serializers.CharField(
        required=False, allow_blank=True, default="", trim_whitespace=False,
        help_text='DXF only: JSON object layer -> lot, road, open_space, utility, building or block (a block '
                  'outline whose text numbers the lots inside), e.g. {"PARCELAS": "lot", "VIAS": "road"}; '
                  'replaces the default layers LOTS, ROADS, OPEN_SPACE, UTILITY')
    label_layers = serializers.CharField(
        required=False, allow_blank=True, default="", trim_whitespace=False,
        help_text='DXF only: JSON list of the layers whose texts are lot numbers, e.g. ["LOT_NO"]; '
                  "texts on other layers are not; all layers when absent")
    units = serializers.CharField(required=False, allow_blank=True, default="", trim_whitespace=False,
                                  help_text="DXF only: the drawing's unit, overriding $INSUNITS: m, mm, cm, ft, us_ft, in")

    def validate_dxf_layers(self, value: str) -> dict[str, str] | None:
        mapping = _json_form_value(value, dict, "a JSON object of layer -> kind")
        if mapping is None:
            return None
        for layer, kind in mapping.items():
            if not layer.strip() or kind not in self.DXF_KINDS:
                raise serializers.ValidationError(
                    f"layer {layer!r} maps to {kind!r}; the kinds are {', '.join(self.DXF_KINDS)}")
        return mapping

    def validate_label_layers(self, value: str) -> list[str] | None:
        layers = _json_form_value(value, list, "a JSON list of layer names")
        if layers is not None and not all(isinstance(name, str) and name.strip() for name in layers):
            raise serializers.ValidationError("expected a JSON list of layer names (non-empty strings)")
        return layers

    def validate_units(self, value: str) -> str | None:
        if not value.strip():
            return None
        if value.strip() not in self.DXF_UNITS:
            raise serializers.ValidationError(f"{value!r} is not one of {', '.join(self.DXF_UNITS)}")
        return value.strip()


MAX_FORM_JSON_CHARS = 100_000


def _json_form_value(value: str, kind: type, expected: str):
    """Return a form field's JSON value (None when blank); refuse what is not `expected`."""
    if not value.strip():
        return None
    if len(value) > MAX_FORM_JSON_CHARS:
        raise serializers.ValidationError(f"{len(value):,} characters, at most {MAX_FORM_JSON_CHARS:,}")
    try:
        parsed = json.loads(value)
    except (ValueError, RecursionError):
        raise serializers.ValidationError(f"expected {expected}, got text that is not JSON") from None
    if not isinstance(parsed, kind):
        raise serializers.ValidationError(f"expected {expected}, got {type(parsed).__name__}")
    return parsed


class SummarySerializer(SourceOrderSerializer):
    """The plan's area budget, measured in the municipality's metric CRS."""

    parent_area_m2 = NumberField(required=False)
    lots_count = serializers.IntegerField(required=False)
    lots_area_m2 = NumberField(required=False)
    roads_area_m2 = NumberField(required=False)
    open_space_area_m2 = NumberField(required=False)
    utility_area_m2 = NumberField(required=False)
    public_share_pct = NumberField(required=False)
    overlap_area_m2 = NumberField(required=False, help_text="covered twice or more, counted once")
    uncovered_area_m2 = NumberField(required=False)
    outside_area_m2 = NumberField(required=False)


class FindingPropertiesSerializer(SourceOrderSerializer):
    code = serializers.CharField(help_text="rule code, e.g. OVERLAP, LOT_AREA_MIN")
    severity = serializers.CharField(help_text="error or warning")
    message_en = serializers.CharField()
    message_ar = serializers.CharField()
    features = serializers.ListField(child=serializers.CharField(),
                                     help_text="lot numbers or kind#position named (at most 100)")
    features_total = serializers.IntegerField(required=False, help_text="given when features is cut at 100")
    value = NumberField(allow_null=True, help_text="what was measured")
    limit = NumberField(allow_null=True, help_text="the rule's threshold")


class CorrectedFeatureSerializer(serializers.Serializer):
    label = serializers.CharField(help_text="lot number or kind#position")
    geometry = GeoJSONGeometryField(help_text="the feature's corrected geometry, GeoJSON, EPSG:4326")


class CorrectionSerializer(serializers.Serializer):
    """A suggested fix: the corrected geometries of the features involved and the largest vertex move."""

    features = CorrectedFeatureSerializer(many=True)
    max_displacement_m = NumberField(help_text="the furthest any vertex moves, metres")

    def get_attribute(self, instance):
        # Only findings a correction could close carry the key; the others leave it out (not null).
        if isinstance(instance, dict) and self.field_name not in instance:
            raise SkipField()
        return super().get_attribute(instance)


class FindingSerializer(FindingPropertiesSerializer):
    """One finding of a report; its location is exactly the offending area or line."""

    location = GeoJSONGeometryField(help_text="GeoJSON, EPSG:4326, rounded to 7 decimals")
    correction = CorrectionSerializer(
        required=False, allow_null=True,
        help_text="GAP, OVERLAP, SLIVER, OUTSIDE_PARENT, CORNER_TRUNCATION only: the suggested fix, or null when "
                  "it would move a vertex further than the rule set's snap tolerance (see correction_note)")
    correction_note = serializers.CharField(required=False, help_text="why there is no correction")
    correction_note_ar = serializers.CharField(required=False, help_text="the same, in Arabic")

    def get_fields(self):
        # location sits between features_total and value, as the report stores it.
        fields = super().get_fields()
        order = ["code", "severity", "message_en", "message_ar", "features", "features_total", "location",
                 "value", "limit", "correction", "correction_note",
                 "correction_note_ar"]
        return {name: fields[name] for name in order}


class ReportCrsSerializer(SourceOrderSerializer):
    measurements = serializers.CharField(help_text="metric CRS of the summary and values")
    source = serializers.CharField(help_text="CRS of the uploaded file")
    locations = serializers.CharField(help_text="CRS of the finding locations (EPSG:4326)")


class ReportSerializer(SourceOrderSerializer):
    """A validation report: at most findings_per_code_shown findings of each code; findings_url pages all."""

    valid = serializers.BooleanField(help_text="true when no finding is an error")
    summary = SummarySerializer()
    crs = ReportCrsSerializer()
    finding_counts = serializers.DictField(child=serializers.IntegerField(), help_text="every finding, by code")
    findings_total = serializers.IntegerField()
    findings_per_code_shown = serializers.IntegerField()
    findings_url = serializers.CharField(allow_null=True, help_text="where all findings page (stored plans)")
    findings = FindingSerializer(many=True)
    skipped = serializers.DictField(
        required=False, help_text="what reading the file skipped: entities (type -> count), layers (DXF layer -> "
        "entities drawn on it, unmapped), open_linework (DXF lines closing no shape), units (how DXF units were "
        "read), notes (e.g. a likely mislabelled unit, KML tracks)")


class PlanFileSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="the uploaded file's name with -snapped")
    media_type = serializers.CharField(help_text="e.g. application/geo+json, application/zip (Shapefile)")
    srid = serializers.IntegerField(help_text="EPSG code of the file's coordinates (give it again with a DXF)")
    base64 = serializers.CharField(help_text="the file's bytes, base64")


class PlanValidateSerializer(ReportSerializer):
    """The answer of POST /api/plans/validate/: the upload's report; with ?fix=snap also the corrected plan as a
    file in the format uploaded (base64) and the report of that file as read back."""

    corrections_applied = serializers.IntegerField(required=False,
                                                   help_text="?fix=snap: findings whose correction the file carries")
    corrected_report = ReportSerializer(required=False, help_text="?fix=snap: the corrected file's report")
    file = PlanFileSerializer(required=False, help_text="?fix=snap: the corrected plan")


class PlanFixActionSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, max_length=4000,
                                    help_text="for the plan's history; says how many corrections when absent")


class PlanSourceSerializer(serializers.Serializer):
    name = serializers.CharField(source="source_name")
    format = serializers.CharField(source="source_format")
    srid = serializers.IntegerField(source="source_srid")


class SlaSerializer(serializers.Serializer):
    """The plan's clock against its municipality's target (subdivision.sla)."""

    target_days = serializers.IntegerField()
    counting = serializers.CharField(help_text="calendar or working days")
    days_used = serializers.IntegerField(help_text="days the plan has been with the municipality")
    days_left = serializers.IntegerField(help_text="target minus days used; negative when late")
    running = serializers.BooleanField(help_text="the plan is with the municipality now")
    overdue = serializers.BooleanField(help_text="open and past the target")


class PlanSerializer(serializers.Serializer):
    """A plan as its list shows it: never the report. ``context["clocks"]`` maps plan ids to their SLA clock."""

    id = serializers.IntegerField(source="pk")
    title = serializers.CharField()
    status = serializers.CharField(
        help_text="draft, submitted, under_review, returned, resubmitted, approved, rejected or withdrawn")
    valid = serializers.BooleanField(help_text="the current version has no error")
    version = serializers.IntegerField(help_text="the current version")
    plan_number = serializers.CharField(allow_null=True, help_text="given on approval")
    municipality = serializers.CharField(source="municipality.code")
    office = serializers.CharField(source="office.code", allow_null=True, default=None)
    land_use = serializers.CharField()
    parents = serializers.SerializerMethodField()
    submitted_by = serializers.CharField(source="submitted_by.username")
    assigned_to = serializers.CharField(source="assigned_to.username", allow_null=True, default=None)
    source = PlanSourceSerializer(source="*")
    created_at = IsoDateTimeField()
    submitted_at = IsoDateTimeField(allow_null=True)
    decided_at = IsoDateTimeField(allow_null=True)
    sla = serializers.SerializerMethodField()
    summary = SummarySerializer()
    finding_counts = serializers.DictField(child=serializers.IntegerField())
    findings_total = serializers.IntegerField()

    def get_parents(self, plan) -> list[str]:
        return sorted(p.parcel_code for p in plan.parents.all())

    @extend_schema_field(SlaSerializer)
    def get_sla(self, plan) -> dict:
        return SlaSerializer(self.context["clocks"][plan.pk]).data


class PlanEventSerializer(SourceOrderSerializer):
    at = IsoDateTimeField()
    actor = serializers.CharField(source="actor.username")
    action = serializers.CharField(help_text="create, submit, assign, return, resubmit, approve, reject, withdraw")
    from_status = serializers.CharField(allow_blank=True)
    to_status = serializers.CharField()
    version = serializers.IntegerField()
    comment = serializers.CharField(allow_blank=True)


class PlanDetailSerializer(PlanSerializer):
    """A plan with its report, its history and the actions the caller may take (``context["actions"]``)."""

    actions = serializers.SerializerMethodField()
    history = PlanEventSerializer(many=True, source="history_events")
    report = ReportSerializer(help_text="at most 50 findings of each code; all of them at findings/")

    def get_actions(self, plan) -> list[str]:
        return self.context["actions"]


class PlanVersionSerializer(SourceOrderSerializer):
    number = serializers.IntegerField()
    uploaded_by = serializers.CharField(source="uploaded_by.username")
    created_at = IsoDateTimeField()
    source = PlanSourceSerializer(source="*")
    valid = serializers.BooleanField()
    summary = SummarySerializer()
    finding_counts = serializers.DictField(child=serializers.IntegerField())
    findings_total = serializers.IntegerField()


class PlanVersionDetailSerializer(PlanVersionSerializer):
    report = ReportSerializer()


class PlanActionSerializer(serializers.Serializer):
    """The body of POST /api/plans/{id}/{action}/ (JSON or form)."""

    comment = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False,
                                    help_text="required to return or reject; at most 4,000 characters")
    assignee = serializers.CharField(required=False, allow_blank=True,
                                     help_text="assign: the planner's username (you when absent)")


class PlanResubmitSerializer(PlanUploadSerializer):
    """The multipart form of POST /api/plans/{id}/resubmit/: a new version of the file."""

    municipality = None
    parents = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False,
                                    help_text="parent parcel codes; the plan's parents when absent")
    land_use = None
    comment = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)


class PlanPageSerializer(PageLinksSerializer):
    results = PlanSerializer(many=True)


class PlanCreatedSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    status = serializers.CharField()
    report = ReportSerializer()


class PlanFeaturePropertiesSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="position in the uploaded file")
    kind = serializers.CharField(help_text="lot, road, open_space or utility")
    lot_no = serializers.CharField(allow_blank=True)
    stated_area_m2 = NumberField(allow_null=True)
    area_m2 = NumberField(allow_null=True)
    land_use = serializers.CharField(allow_blank=True)
    findings = serializers.ListField(child=serializers.CharField(), source="finding_codes",
                                     help_text="codes of the findings that name this feature")


class PlanFeatureSerializer(GeoJSONFeatureSerializer):
    """A row of the plan's features (with its geometry as GeoJSON text) as a GeoJSON Feature."""

    id = serializers.IntegerField(source="index")
    geometry = GeoJSONGeometryField(source="geometry_json")
    properties = PlanFeaturePropertiesSerializer(source="*")


class PlanFindingFeatureSerializer(GeoJSONFeatureSerializer):
    """A stored finding as a GeoJSON Feature at its location; id is its position in the report."""

    id = serializers.IntegerField(source="seq")
    geometry = GeoJSONGeometryField(source="location")
    properties = FindingPropertiesSerializer(source="*")

    def to_representation(self, instance):
        if instance.get("features_total") is None:  # given only when the feature list is cut
            instance = {key: value for key, value in instance.items() if key != "features_total"}
        return super().to_representation(instance)


class FeatureCollectionPageSerializer(serializers.Serializer):
    type = serializers.SerializerMethodField()
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)

    def get_type(self, page) -> str:
        return "FeatureCollection"


class PlanFeaturePageSerializer(FeatureCollectionPageSerializer):
    features = PlanFeatureSerializer(many=True)


class PlanFindingPageSerializer(FeatureCollectionPageSerializer):
    features = PlanFindingFeatureSerializer(many=True)
