"""GET /api/stats/plans/: a municipality's plans against its approval target."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.response import Response

from gisportal.errors import InvalidParameter
from gisportal.serializers import (
    IsoDateTimeField,
    SourceOrderSerializer,
    error_responses,
)
from subdivision import sla, stats


class CountsByStatusSerializer(SourceOrderSerializer):
    """Plans in each status (every status, zeros included)."""

    draft = serializers.IntegerField()
    submitted = serializers.IntegerField()
    under_review = serializers.IntegerField()
    returned = serializers.IntegerField()
    resubmitted = serializers.IntegerField()
    approved = serializers.IntegerField()
    rejected = serializers.IntegerField()
    withdrawn = serializers.IntegerField()


class OpenPlanSerializer(SourceOrderSerializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    status = serializers.CharField()
    submitted_at = IsoDateTimeField(help_text="first submission: the clock started")
    days_used = serializers.IntegerField()
    days_left = serializers.IntegerField(help_text="negative past the target")
    running = serializers.BooleanField(help_text="with the municipality now (false while returned)")
    overdue = serializers.BooleanField()


class PlanStatsSerializer(SourceOrderSerializer):
    """The plans of one municipality that the caller may see, against its approval target."""

    municipality = serializers.CharField()
    as_of = IsoDateTimeField()
    target_days = serializers.IntegerField()
    counting = serializers.ChoiceField(choices=sla.COUNTINGS, help_text="calendar or working days")
    plans_total = serializers.IntegerField()
    counts_by_status = CountsByStatusSerializer()
    open = serializers.IntegerField(help_text="neither decided nor withdrawn")
    overdue = serializers.IntegerField(help_text="open plans past the target")
    decided = serializers.IntegerField(help_text="approved or rejected")
    late = serializers.IntegerField(help_text="decided after the target")
    median_days_to_decision = serializers.FloatField(allow_null=True, help_text="null when none is decided")
    p90_days_to_decision = serializers.FloatField(
        allow_null=True, help_text="90th percentile, numpy's linear method; null when none is decided")
    decided_within_target_share = serializers.FloatField(
        allow_null=True, help_text="0 to 1, of decided plans; null when none is decided")
    oldest_open = OpenPlanSerializer(many=True, help_text="the 10 open plans with most days used")


@extend_schema(parameters=[OpenApiParameter("municipality", str, required=True, description="municipality code")],
               responses={200: PlanStatsSerializer, **error_responses(400, 401, 403, 404)}, tags=["stats"])
@api_view(["GET"])
def plan_stats(request):
    """Return counts by status, median and 90th-percentile days to decision, the share decided within the
    target and the oldest open plans of a municipality, over the plans you may see."""
    code = request.query_params.get("municipality")
    if not code:
        raise InvalidParameter("municipality: give the code of a municipality, e.g. ?municipality=RUH")
    body = stats.plan_stats(user=request.user, municipality_code=code, now=timezone.now())
    return Response(PlanStatsSerializer(body).data)
