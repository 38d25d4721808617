from django.contrib import admin

from subdivision.models import (
    ApprovalCalendar,
    Holiday,
    MunicipalityPlanner,
    OfficeMember,
    Plan,
    PlanEvent,
    PlanningRuleSet,
    SurveyingOffice,
)


@admin.register(PlanningRuleSet)
class PlanningRuleSetAdmin(admin.ModelAdmin):
    list_display = ("municipality", "land_use", "min_lot_area_m2", "min_frontage_m", "min_road_width_m",
                    "min_public_share_pct", "front_setback_max_m", "max_coverage_pct")
    list_filter = ("municipality", "land_use")


class PlanEventInline(admin.TabularInline):
    """The plan's history, read only: it is append-only (the database refuses changes)."""

    model = PlanEvent
    extra = 0
    can_delete = False
    fields = readonly_fields = ("at", "actor", "action", "from_status", "to_status", "version", "comment")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    """Plans move through the API's workflow; here they are read, never moved (status is read only)."""

    list_display = ("id", "title", "municipality", "office", "status", "plan_number", "valid", "submitted_by",
                    "created_at")
    list_filter = ("status", "valid", "municipality", "office")
    readonly_fields = ("status", "version", "plan_number", "record", "submitted_at", "decided_at", "report")
    search_fields = ("title", "plan_number")
    inlines = [PlanEventInline]


class OfficeMemberInline(admin.TabularInline):
    model = OfficeMember
    extra = 1


@admin.register(SurveyingOffice)
class SurveyingOfficeAdmin(admin.ModelAdmin):
    list_display = ("code", "name_en", "name_ar")
    search_fields = ("code", "name_en", "name_ar")
    inlines = [OfficeMemberInline]


@admin.register(MunicipalityPlanner)
class MunicipalityPlannerAdmin(admin.ModelAdmin):
    list_display = ("user", "municipality")
    list_filter = ("municipality",)


@admin.register(ApprovalCalendar)
class ApprovalCalendarAdmin(admin.ModelAdmin):
    list_display = ("municipality", "counting", "weekend_days")


@admin.register(Holiday)
class HolidayAdmin(admin.ModelAdmin):
    list_display = ("municipality", "date", "name_en", "name_ar")
    list_filter = ("municipality",)
    date_hierarchy = "date"
