"""The integrated city map: municipalities, districts, zoning, streets, blocks and parcels."""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.db import models
from django.contrib.postgres.fields import ArrayField
from django.core.validators import RegexValidator

SRID = settings.STORAGE_SRID

url_safe_code = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
    "Use letters, digits, '.', '_' and '-' only, starting with a letter or digit (it appears in URLs).",
)


class LandUse(models.TextChoices):
    RESIDENTIAL = "residential", "Residential"
    COMMERCIAL = "commercial", "Commercial"
    MIXED = "mixed", "Mixed use"
    INDUSTRIAL = "industrial", "Industrial"
    PUBLIC_FACILITY = "public_facility", "Public facility"
    OPEN_SPACE = "open_space", "Open space"
    ROAD = "road", "Road"


class ParcelStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    RETIRED = "retired", "Retired"


class Municipality(models.Model):
    code = models.CharField(max_length=16, unique=True, validators=[url_safe_code])
    name_en = models.CharField(max_length=200)
    name_ar = models.CharField(max_length=200, blank=True)
    boundary = models.MultiPolygonField(srid=SRID, null=True, blank=True)
    metric_srid = models.PositiveIntegerField(
        help_text="EPSG code of the metric CRS used for every measurement (the UTM zone of the centroid unless set)."
    )
    approval_target_days = models.PositiveSmallIntegerField(default=60)

    class Meta:
        verbose_name_plural = "municipalities"
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name_en}"


class District(models.Model):
    municipality = models.ForeignKey(Municipality, on_delete=models.CASCADE, related_name="districts")
    code = models.CharField(max_length=32)
    name_en = models.CharField(max_length=200, blank=True)
    name_ar = models.CharField(max_length=200, blank=True)
    geom = models.MultiPolygonField(srid=SRID)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["municipality", "code"], name="district_code_unique")]
        ordering = ["municipality", "code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name_en}"


class ZoningDistrict(models.Model):
    municipality = models.ForeignKey(Municipality, on_delete=models.CASCADE, related_name="zoning")
    zone_code = models.CharField(max_length=32)
    name_en = models.CharField(max_length=200, blank=True)
    name_ar = models.CharField(max_length=200, blank=True)
    allowed_uses = ArrayField(models.CharField(max_length=20, choices=LandUse.choices), default=list, blank=True)
    geom = models.MultiPolygonField(srid=SRID)

    class Meta:
        indexes = [models.Index(fields=["municipality", "zone_code"])]

    def __str__(self) -> str:
        return self.zone_code


class Street(models.Model):
    municipality = models.ForeignKey(Municipality, on_delete=models.CASCADE, related_name="streets")
    name_en = models.CharField(max_length=200, blank=True)
    name_ar = models.CharField(max_length=200, blank=True)
    row_width_m = models.FloatField(null=True, blank=True, help_text="Right-of-way width in metres")
    centreline = models.MultiLineStringField(srid=SRID)

    def __str__(self) -> str:
        return self.name_en or self.name_ar or f"street {self.pk}"


class StreetRightOfWay(models.Model):
    """A street's right-of-way polygon, where the data has one (else the buffered centreline is used)."""

    municipality = models.ForeignKey(Municipality, on_delete=models.CASCADE, related_name="street_rows")
    name_en = models.CharField(max_length=200, blank=True)
    width_m = models.FloatField(null=True, blank=True)
    geom = models.MultiPolygonField(srid=SRID)

    class Meta:
        verbose_name = "street right-of-way"


class Block(models.Model):
    municipality = models.ForeignKey(Municipality, on_delete=models.CASCADE, related_name="blocks")
    plan_no = models.CharField(max_length=32, blank=True)
    block_no = models.CharField(max_length=32, blank=True)
    geom = models.MultiPolygonField(srid=SRID)


class LayerImport(models.Model):
    """The last import of a reference layer, so that re-importing the same data changes nothing."""

    municipality = models.ForeignKey(Municipality, on_delete=models.CASCADE)
    kind = models.CharField(max_length=32)
    content_digest = models.CharField(max_length=64)
    source = models.CharField(max_length=500)
    features = models.PositiveIntegerField()
    imported_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["municipality", "kind"], name="layer_import_unique")]


class ChangeKind(models.TextChoices):
    CREATED = "created", "Created"
    UPDATED = "updated", "Updated"
    RETIRED = "retired", "Retired"


class RecordKind(models.TextChoices):
    PLAN = "plan", "Subdivision plan"
    SURVEY = "survey", "Survey or boundary correction"
    DEED = "deed", "Deed or court order"
    OTHER = "other", "Other"


class Record(models.Model):
    """The legal document that creates or retires parcels (a parcel fabric's "record"): an approved plan,
    a deed, a survey. Lineage runs through it: the parcels a record retired are the parents of those it
    created. Apps that produce such documents (subdivision plans) point to their record, never the reverse."""

    municipality = models.ForeignKey(Municipality, on_delete=models.PROTECT, related_name="records")
    kind = models.CharField(max_length=10, choices=RecordKind.choices, default=RecordKind.PLAN)
    reference = models.CharField(max_length=200, help_text="The document's number or title")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["municipality_id", "-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.reference}"


class ParcelFields(models.Model):
    """The fields a parcel has at any one time: shared by the parcel and each of its versions."""

    plan_no = models.CharField(max_length=32, blank=True)
    block_no = models.CharField(max_length=32, blank=True)
    parcel_no = models.CharField(max_length=32, blank=True)
    # Indexed where set (partial indexes on each table): an import without districts writes no entries.
    district = models.ForeignKey(District, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                 db_index=False)
    land_use = models.CharField(max_length=20, choices=LandUse.choices, default=LandUse.RESIDENTIAL)
    zone_code = models.CharField(max_length=32, blank=True)
    stated_area_m2 = models.FloatField(null=True, blank=True)
    area_m2 = models.FloatField(help_text="Computed in the municipality's metric CRS")
    perimeter_m = models.FloatField(help_text="Computed in the municipality's metric CRS")
    status = models.CharField(max_length=10, choices=ParcelStatus.choices, default=ParcelStatus.ACTIVE)
    geom = models.MultiPolygonField(srid=SRID)
    change = models.CharField(max_length=10, choices=ChangeKind.choices, default=ChangeKind.CREATED,
                              help_text="What began this state")
    change_source = models.CharField(max_length=200, blank=True, help_text="import file, plan, or user edit")
    # No index: it is read only when a user is deleted, and each index slows every bulk import.
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", db_index=False)

    class Meta:
        abstract = True


class Parcel(ParcelFields):
    """A parcel as it is now. Each earlier state is a ParcelVersion (a history table, as in SQL:2011
    system-versioned tables): the current state is never stored twice."""

    # Indexed through parcel_code_unique (municipality, parcel_code), whose first column it is.
    municipality = models.ForeignKey(Municipality, on_delete=models.PROTECT, related_name="parcels",
                                     db_index=False)
    parcel_code = models.CharField(max_length=64, validators=[url_safe_code])
    version = models.PositiveIntegerField(default=1)
    valid_from = models.DateTimeField(help_text="When the parcel came into being")
    valid_to = models.DateTimeField(null=True, blank=True, help_text="When it was retired")
    # Partial indexes below: most parcels have no record (imported), so only those with one are indexed.
    created_by_record = models.ForeignKey(
        Record, null=True, blank=True, on_delete=models.PROTECT, related_name="created_parcels", db_index=False
    )
    retired_by_record = models.ForeignKey(
        Record, null=True, blank=True, on_delete=models.PROTECT, related_name="retired_parcels", db_index=False
    )
    updated_at = models.DateTimeField(help_text="When the current state began")
    # What the last import read for this parcel (parcels.importing.row_digests): a re-import skips a
    # row whose digest is the same. Not part of the parcel's state: any other change clears it (a
    # trigger, migration 0006), so an edited parcel is compared in full on the next import.
    source_digest = models.BinaryField(null=True, blank=True, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["municipality", "parcel_code"], name="parcel_code_unique"),
        ]
        indexes = [
            # Nearly every parcel is active: a municipality's active parcels are found through
            # parcel_code_unique, and only the others (retired) need an index of their own.
            models.Index(fields=["municipality", "status"], name="parcel_inactive_idx",
                         condition=~models.Q(status="active")),
            models.Index(fields=["land_use"]),
            models.Index(fields=["district"], name="parcel_district_idx", condition=models.Q(district__isnull=False)),
            models.Index(fields=["created_by_record"], name="parcel_created_by_record_idx",
                         condition=models.Q(created_by_record__isnull=False)),
            models.Index(fields=["retired_by_record"], name="parcel_retired_by_record_idx",
                         condition=models.Q(retired_by_record__isnull=False)),
        ]
        ordering = ["municipality_id", "parcel_code"]

    def __str__(self) -> str:
        return self.parcel_code


class ParcelVersion(ParcelFields):
    """A past state of a parcel, valid over [valid_from, valid_to); the current one is the Parcel."""

    # Indexed through parcel_version_unique (parcel, version), whose first column it is.
    parcel = models.ForeignKey(Parcel, on_delete=models.CASCADE, related_name="versions", db_index=False)
    version = models.PositiveIntegerField()
    valid_from = models.DateTimeField()
    valid_to = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["parcel", "version"], name="parcel_version_unique")]
        indexes = [models.Index(fields=["valid_from", "valid_to"]),
                   models.Index(fields=["district"], name="parcel_version_district_idx",
                                condition=models.Q(district__isnull=False))]
        ordering = ["parcel_id", "-version"]
