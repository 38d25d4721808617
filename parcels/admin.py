from django.contrib.gis import admin

from parcels.models import (
    District,
    Municipality,
    Parcel,
    ParcelVersion,
    Record,
    Street,
    ZoningDistrict,
)
from parcels.services import VERSIONED_FIELDS


@admin.register(Municipality)
class MunicipalityAdmin(admin.GISModelAdmin):
    list_display = ("code", "name_en", "name_ar", "metric_srid", "approval_target_days")


@admin.register(Parcel)
class ParcelAdmin(admin.GISModelAdmin):
    list_display = ("parcel_code", "municipality", "land_use", "status", "area_m2", "version")
    list_filter = ("municipality", "status", "land_use")
    search_fields = ("parcel_code",)
    readonly_fields = ("area_m2", "perimeter_m", "version", "valid_from", "valid_to", "updated_at",
                       "created_by_record", "retired_by_record")

    fields = ("municipality", "parcel_code", "plan_no", "block_no", "parcel_no", "district", "land_use",
              "zone_code", "stated_area_m2", "status", "geom", *readonly_fields)

    def get_readonly_fields(self, request, obj=None):
        # Identity and status change only through imports and plans; the rest through the service.
        return self.readonly_fields + (("municipality", "parcel_code", "status") if obj else ("status",))

    def save_model(self, request, obj, form, change):
        """Save through the services, so that every change is kept as a version."""
        from parcels.services import parcel_create, parcel_update

        values = {name: form.cleaned_data[name] for name in form.changed_data if name in VERSIONED_FIELDS}
        if change:
            if values:
                parcel_update(parcel=obj, source="admin", by=request.user, **values)
        else:
            editable = {n: form.cleaned_data[n] for n in ("plan_no", "block_no", "parcel_no", "district",
                                                            "land_use", "zone_code", "stated_area_m2")}
            created = parcel_create(municipality=obj.municipality, parcel_code=obj.parcel_code, geom=obj.geom,
                                    source="admin", by=request.user, **editable)
            obj.pk = created.pk

    def has_delete_permission(self, request, obj=None):
        return False  # parcels are retired by plans, never deleted


@admin.register(Record)
class RecordAdmin(admin.ModelAdmin):
    list_display = ("reference", "kind", "municipality", "created_at")
    list_filter = ("municipality", "kind")

    def has_delete_permission(self, request, obj=None):
        return False  # the parcels it created or retired point to it


@admin.register(ParcelVersion)
class ParcelVersionAdmin(admin.GISModelAdmin):
    list_display = ("parcel", "version", "change", "valid_from", "valid_to")
    readonly_fields = [f.name for f in ParcelVersion._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


admin.site.register([District, ZoningDistrict, Street])
