from django.contrib import admin

from subdivision.models import Plan, PlanningRuleSet


@admin.register(PlanningRuleSet)
class PlanningRuleSetAdmin(admin.ModelAdmin):
    list_display = ("municipality", "land_use", "min_lot_area_m2", "min_frontage_m", "min_road_width_m",
                    "min_public_share_pct")
    list_filter = ("municipality", "land_use")


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ("id", "title", "municipality", "status", "valid", "submitted_by", "created_at")
    list_filter = ("status", "valid", "municipality")
    readonly_fields = ("report",)
    search_fields = ("title",)
