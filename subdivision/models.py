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
