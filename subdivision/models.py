"""Subdivision plans submitted by surveyors, their features and validation reports."""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.db import models
from django.contrib.postgres.fields import ArrayField

from parcels.models import LandUse, Municipality, Parcel, Record
from subdivision.plan_files import (  # the readers refuse longer text
    MAX_LAND_USE_CHARS,
    MAX_LOT_NO_CHARS,
)

SRID = settings.STORAGE_SRID


def _friday_saturday() -> list[int]:
    return [4, 5]


class PlanStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    UNDER_REVIEW = "under_review", "Under review"
    RETURNED = "returned", "Returned"
    RESUBMITTED = "resubmitted", "Resubmitted"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    WITHDRAWN = "withdrawn", "Withdrawn"


class SurveyingOffice(models.Model):
    """A licensed surveying office; its surveyors see and move only the office's plans."""

    code = models.CharField(max_length=32, unique=True)
    name_en = models.CharField(max_length=200)
    name_ar = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name_en}"


class OfficeMember(models.Model):
    """A surveyor's office: a surveyor belongs to one office."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="office_membership")
    office = models.ForeignKey(SurveyingOffice, on_delete=models.CASCADE, related_name="members")

    def __str__(self) -> str:
        return f"{self.user} at {self.office.code}"


class MunicipalityPlanner(models.Model):
    """A planner's municipality: planners act only on the plans of the municipalities they belong to."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="planner_of")
    municipality = models.ForeignKey(Municipality, on_delete=models.CASCADE, related_name="planners")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "municipality"], name="municipality_planner_unique")]

    def __str__(self) -> str:
        return f"{self.user} plans {self.municipality.code}"


class SlaCounting(models.TextChoices):
    CALENDAR = "calendar", "Calendar days"
    WORKING = "working", "Working days"


class ApprovalCalendar(models.Model):
    """How a municipality counts its approval target (Municipality.approval_target_days)."""

    municipality = models.OneToOneField(Municipality, on_delete=models.CASCADE, related_name="approval_calendar")
    counting = models.CharField(max_length=10, choices=SlaCounting.choices, default=SlaCounting.CALENDAR)
    # Python weekdays (Monday 0 ... Sunday 6); Friday and Saturday is the Saudi weekend.
    weekend_days = ArrayField(models.PositiveSmallIntegerField(), default=_friday_saturday, blank=True)

    def __str__(self) -> str:
        return f"{self.municipality.code}: {self.get_counting_display()}"


class Holiday(models.Model):
    """A public holiday: not a working day where the municipality counts working days."""

    municipality = models.ForeignKey(Municipality, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField()
    name_en = models.CharField(max_length=200, blank=True)
    name_ar = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["municipality", "date"]
        constraints = [models.UniqueConstraint(fields=["municipality", "date"], name="holiday_unique")]

    def __str__(self) -> str:
        return f"{self.municipality.code} {self.date} {self.name_en}"


class FeatureKind(models.TextChoices):
    LOT = "lot", "Lot"
    ROAD = "road", "Road"
    OPEN_SPACE = "open_space", "Open space"
    UTILITY = "utility", "Utility"
    BUILDING = "building", "Building"  # a footprint, checked against setbacks; never a lot


class Plan(models.Model):
    municipality = models.ForeignKey(Municipality, on_delete=models.PROTECT, related_name="plans")
    title = models.CharField(max_length=200)
    status = models.CharField(max_length=12, choices=PlanStatus.choices, default=PlanStatus.DRAFT)
    office = models.ForeignKey(SurveyingOffice, null=True, blank=True, on_delete=models.PROTECT, related_name="plans")
    assigned_to = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="assigned_plans")
    version = models.PositiveIntegerField(default=1, help_text="The current version (its features and findings)")
    plan_number = models.CharField(max_length=32, null=True, blank=True,
                                   help_text="The approved plan number (MUNICIPALITY-YEAR-NNNN), set on approval")
    submitted_at = models.DateTimeField(null=True, blank=True, help_text="First submission: the SLA clock starts")
    decided_at = models.DateTimeField(null=True, blank=True)
    land_use = models.CharField(max_length=20, choices=LandUse.choices, default=LandUse.RESIDENTIAL)
    parents = models.ManyToManyField(Parcel, related_name="plans")
    # Set when the plan is approved: the record that retires its parents and creates its lots.
    record = models.OneToOneField(Record, null=True, blank=True, on_delete=models.PROTECT, related_name="plan")
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="plans")
    source_name = models.CharField(max_length=255)
    source_format = models.CharField(max_length=20)
    source_srid = models.PositiveIntegerField()
    valid = models.BooleanField(default=False)
    # What a list shows, kept apart from the report so a list never reads a report.
    summary = models.JSONField(default=dict, help_text="Area budget of the plan (report's summary)")
    finding_counts = models.JSONField(default=dict, help_text="Number of findings by code")
    findings_total = models.PositiveIntegerField(default=0)
    # The report with at most FINDINGS_PER_CODE findings of each code; every finding is a PlanFinding.
    report = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["municipality", "plan_number"], name="plan_number_unique")]
        indexes = [models.Index(fields=["municipality", "status"], name="plan_municipality_status_idx")]

    def __str__(self) -> str:
        return f"plan {self.pk}: {self.title}"


class PlanVersion(models.Model):
    """One uploaded file of a plan and its report; version 1 is the first upload, each resubmission adds one."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    source_name = models.CharField(max_length=255)
    source_format = models.CharField(max_length=20)
    source_srid = models.PositiveIntegerField()
    valid = models.BooleanField(default=False)
    summary = models.JSONField(default=dict)
    finding_counts = models.JSONField(default=dict)
    findings_total = models.PositiveIntegerField(default=0)
    report = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["plan", "number"]
        constraints = [models.UniqueConstraint(fields=["plan", "number"], name="plan_version_unique")]


class PlanEvent(models.Model):
    """One step of a plan's history: who moved it, when, from which status to which, and why.

    Append-only: the database refuses to change or delete a row (trigger in migration 0004).
    """

    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=16)
    from_status = models.CharField(max_length=12, choices=PlanStatus.choices, blank=True)
    to_status = models.CharField(max_length=12, choices=PlanStatus.choices)
    version = models.PositiveIntegerField()
    comment = models.TextField(blank=True)

    class Meta:
        ordering = ["plan", "at", "id"]
        indexes = [models.Index(fields=["plan", "at"], name="plan_event_plan_at_idx")]


class PlanFeature(models.Model):
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="features")
    version = models.PositiveIntegerField(default=1)
    index = models.PositiveIntegerField(help_text="Position in the uploaded file")
    kind = models.CharField(max_length=12, choices=FeatureKind.choices, default=FeatureKind.LOT)
    lot_no = models.CharField(max_length=MAX_LOT_NO_CHARS, blank=True)
    stated_area_m2 = models.FloatField(null=True, blank=True)
    area_m2 = models.FloatField(null=True, blank=True)
    land_use = models.CharField(max_length=MAX_LAND_USE_CHARS, blank=True)
    finding_codes = models.JSONField(default=list, help_text="Codes of the findings that name this feature")
    geom = models.GeometryField(srid=SRID)

    class Meta:
        ordering = ["plan", "version", "index"]
        indexes = [models.Index(fields=["plan", "version", "index"], name="plan_feature_version_idx")]


class PlanFinding(models.Model):
    """One finding of a plan's validation report, in report order (``seq``)."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="findings")
    version = models.PositiveIntegerField(default=1)
    seq = models.PositiveIntegerField()
    code = models.CharField(max_length=40)
    severity = models.CharField(max_length=10)
    message_en = models.TextField()
    message_ar = models.TextField()
    features = models.JSONField(default=list, help_text="Labels of the features named (the first 100)")
    features_total = models.PositiveIntegerField(null=True, blank=True, help_text="Set when features is cut")
    value = models.FloatField(null=True, blank=True)
    limit = models.FloatField(null=True, blank=True)
    location = models.JSONField(null=True, blank=True, help_text="GeoJSON geometry, EPSG:4326")
    correction = models.JSONField(null=True, blank=True, help_text="Suggested fix: {features: [{label, geometry}], "
                                  "max_displacement_m}, geometries GeoJSON EPSG:4326")
    correction_note = models.TextField(blank=True, help_text="Why a finding that could be corrected has no correction")
    correction_note_ar = models.TextField(blank=True, help_text="The same, in Arabic")

    class Meta:
        ordering = ["plan", "version", "seq"]
        constraints = [models.UniqueConstraint(fields=["plan", "version", "seq"], name="plan_finding_seq_unique")]
        indexes = [models.Index(fields=["plan", "version", "code", "seq"], name="plan_finding_code_idx")]


class PlanningRuleSet(models.Model):
    """The planning limits of one municipality for one land use (defaults: ../shared/DOMAIN.md)."""

    municipality = models.ForeignKey(Municipality, on_delete=models.CASCADE, related_name="rule_sets")
    land_use = models.CharField(max_length=20, choices=LandUse.choices, default=LandUse.RESIDENTIAL)
    min_lot_area_m2 = models.FloatField(default=400, help_text="One Amana's sample zoning record")
    min_frontage_m = models.FloatField(default=20, help_text="One Amana's sample zoning record")
    max_depth_ratio = models.FloatField(default=3, help_text="Common practice")
    min_road_width_m = models.FloatField(default=12, help_text="One Amana's split checklist (street ≥ 12 m)")
    min_passage_width_m = models.FloatField(default=8, help_text="One Amana's plan conditions (passages 8 m)")
    min_public_share_pct = models.FloatField(default=33.33, help_text="Makkah planning guide draft")
    area_tolerance_pct = models.FloatField(default=1.0, help_text="Stated vs computed area (FAO SOLA)")
    gap_overlap_tolerance_m2 = models.FloatField(default=0.5, help_text="Per piece; common practice")
    sliver_thinness = models.FloatField(default=0.1, help_text="4πA/P² below this is a sliver")
    sliver_min_width_m = models.FloatField(default=1.0)
    frontage_snap_m = models.FloatField(default=0.5, help_text="How close a lot must be to a road to front it")
    # What a building on a lot of this land use must keep (the site report, the footprint check).
    front_setback_ratio = models.FloatField(default=0.2, help_text="Of the fronting street's width; one Amana's "
                                            "sample zoning record (../shared/DOMAIN.md)")
    front_setback_max_m = models.FloatField(default=6.0, help_text="One Amana's sample zoning record")
    side_setback_m = models.FloatField(default=2.0, help_text="One Amana's sample zoning record")
    rear_setback_m = models.FloatField(default=2.0, help_text="One Amana's sample zoning record")
    max_coverage_pct = models.FloatField(default=60.0, help_text="Building footprint / lot area; one Amana's "
                                         "sample zoning record")
    snap_tolerance_m = models.FloatField(default=0.5, help_text="Gaps, overlaps, slivers and parts outside the "
                                         "parent closed by moving no vertex further than this are drafting error "
                                         "and get a suggested correction")
    corner_truncation_required = models.BooleanField(
        default=True, help_text="Check that corner lots between two streets have their corner cut (CORNER_TRUNCATION)")
    corner_truncation_ratio = models.FloatField(default=0.2, help_text="Corner truncation legs: this share of the "
                                                "wider street's width; one Amana's plan conditions")
    corner_truncation_min_m = models.FloatField(default=3.0, help_text="One Amana's plan conditions")
    corner_truncation_max_m = models.FloatField(default=6.0, help_text="One Amana's plan conditions")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["municipality", "land_use"], name="rule_set_unique")]

    def __str__(self) -> str:
        return f"{self.municipality.code} {self.land_use}"
