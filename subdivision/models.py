"""Subdivision plans submitted by surveyors, their features and validation reports."""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.db import models

from parcels.models import LandUse, Municipality, Parcel

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
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="plans")
    source_name = models.CharField(max_length=255)
    source_format = models.CharField(max_length=20)
    source_srid = models.PositiveIntegerField()
    valid = models.BooleanField(default=False)
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
    lot_no = models.CharField(max_length=32, blank=True)
    stated_area_m2 = models.FloatField(null=True, blank=True)
    area_m2 = models.FloatField(null=True, blank=True)
    land_use = models.CharField(max_length=20, blank=True)
    geom = models.GeometryField(srid=SRID)

    class Meta:
        ordering = ["plan", "index"]


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
