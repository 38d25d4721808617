"""Subdivision plans submitted by surveyors, their features and validation reports."""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.db import models

from parcels.models import LandUse, Municipality, Parcel, Record
from subdivision.plan_files import (  # the readers refuse longer text
    MAX_LAND_USE_CHARS,
    MAX_LOT_NO_CHARS,
)

SRID = settings.STORAGE_SRID


class PlanStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    RETURNED = "returned", "Returned"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class FeatureKind(models.TextChoices):
    LOT = "lot", "Lot"
    ROAD = "road", "Road"
    OPEN_SPACE = "open_space", "Open space"
    UTILITY = "utility", "Utility"


class Plan(models.Model):
    municipality = models.ForeignKey(Municipality, on_delete=models.PROTECT, related_name="plans")
    title = models.CharField(max_length=200)
    status = models.CharField(max_length=12, choices=PlanStatus.choices, default=PlanStatus.DRAFT)
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

    def __str__(self) -> str:
        return f"plan {self.pk}: {self.title}"


class PlanFeature(models.Model):
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="features")
    index = models.PositiveIntegerField(help_text="Position in the uploaded file")
    kind = models.CharField(max_length=12, choices=FeatureKind.choices, default=FeatureKind.LOT)
    lot_no = models.CharField(max_length=MAX_LOT_NO_CHARS, blank=True)
    stated_area_m2 = models.FloatField(null=True, blank=True)
    area_m2 = models.FloatField(null=True, blank=True)
    land_use = models.CharField(max_length=MAX_LAND_USE_CHARS, blank=True)
    finding_codes = models.JSONField(default=list, help_text="Codes of the findings that name this feature")
    geom = models.GeometryField(srid=SRID)

    class Meta:
        ordering = ["plan", "index"]


class PlanFinding(models.Model):
    """One finding of a plan's validation report, in report order (``seq``)."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="findings")
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

    class Meta:
        ordering = ["plan", "seq"]
        constraints = [models.UniqueConstraint(fields=["plan", "seq"], name="plan_finding_seq_unique")]
        indexes = [models.Index(fields=["plan", "code", "seq"], name="plan_finding_code_idx")]


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

    class Meta:
        constraints = [models.UniqueConstraint(fields=["municipality", "land_use"], name="rule_set_unique")]

    def __str__(self) -> str:
        return f"{self.municipality.code} {self.land_use}"
