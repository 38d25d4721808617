"""The plan API: upload and validate subdivision plans, read them back with their findings."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.decorators import api_view, parser_classes
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from gisportal.pagination import page_links, parse_page
from gisportal.serializers import error_responses
from subdivision import selectors, services
from subdivision.plan_files import FileTooLarge
from subdivision.serializers import (
    PlanCreatedSerializer,
    PlanDetailSerializer,
    PlanFeaturePageSerializer,
    PlanFindingPageSerializer,
    PlanPageSerializer,
    PlanUploadSerializer,
    ReportSerializer,
)

UPLOAD_FORM = {"multipart/form-data": PlanUploadSerializer}
UPLOAD_ERRORS = error_responses(400, 401, 403, 404, 413, 415, 422)
READ_ERRORS = error_responses(400, 401, 403, 404)
PAGE_PARAMETERS = [OpenApiParameter("page", int), OpenApiParameter("page_size", int)]


def _upload_arguments(request) -> dict:
    """Return the checked upload fields of a multipart request."""
    declared = int(request.META.get("CONTENT_LENGTH") or 0)
    limit = settings.PLAN_UPLOAD_MAX_BYTES
    if declared > limit + 64 * 1024:  # refuse before reading the body; the form fields need a little room
        raise FileTooLarge(f"file: the upload is {declared:,} bytes, over the {limit:,}-byte limit")
    form = PlanUploadSerializer(data=request.data)
    form.is_valid(raise_exception=True)
    fields = form.validated_data
    upload = fields["file"]
    if upload.size > limit:
        raise FileTooLarge(f"file: {upload.name!r} is {upload.size:,} bytes, over the {limit:,}-byte limit")
    return {
        "upload": upload, "filename": upload.name or "upload", "municipality": fields["municipality"],
        "parents": fields["parents"], "srid": fields["srid"], "land_use": fields["land_use"] or "residential",
    }


@extend_schema(operation_id="plans_create", request=UPLOAD_FORM,
               responses={201: PlanCreatedSerializer, **UPLOAD_ERRORS}, tags=["plans"], methods=["POST"])
@extend_schema(operation_id="plans_list", parameters=PAGE_PARAMETERS,
               responses={200: PlanPageSerializer, **READ_ERRORS}, tags=["plans"], methods=["GET"])
@api_view(["GET", "POST"])
@parser_classes([MultiPartParser])
def plan_list(request):
    """GET: the plans you may see (summaries only). POST: upload a plan; it is validated and stored as a draft."""
    if request.method == "POST":
        arguments = _upload_arguments(request)
        plan = services.plan_create(user=request.user, title=request.data.get("title") or arguments["filename"],
                                    **arguments)
        return Response(PlanCreatedSerializer(plan).data, status=201)
    page = parse_page(request.query_params, default_size=50, max_size=500)
    plans = selectors.plan_list(request.user)
    body = {**page_links(request, page, plans.count()), "results": plans[page.start:page.stop]}
    return Response(PlanPageSerializer(body).data)


@extend_schema(request=UPLOAD_FORM, responses={200: ReportSerializer, **UPLOAD_ERRORS}, tags=["plans"])
@api_view(["POST"])
@parser_classes([MultiPartParser])
def plan_validate(request):
    """Validate an uploaded plan and answer its report; nothing is stored."""
    return Response(ReportSerializer(services.plan_validate(user=request.user, **_upload_arguments(request))).data)


@extend_schema(responses={200: PlanDetailSerializer, **READ_ERRORS}, tags=["plans"])
@api_view(["GET"])
def plan_detail(request, plan_id: int):
    """Return a plan and its report (at most 50 findings of each code; page through all at findings/)."""
    return Response(PlanDetailSerializer(selectors.plan_get(user=request.user, plan_id=plan_id)).data)


@extend_schema(parameters=PAGE_PARAMETERS, responses={200: PlanFeaturePageSerializer, **READ_ERRORS}, tags=["plans"])
@api_view(["GET"])
def plan_features(request, plan_id: int):
    """Return a page of the plan's lots, roads and open spaces as GeoJSON, with the codes of their findings."""
    page = parse_page(request.query_params, default_size=1000, max_size=5000)
    plan = selectors.plan_get(user=request.user, plan_id=plan_id)
    count, rows = selectors.plan_features_page(plan, page)
    body = {**page_links(request, page, count), "features": rows}
    return Response(PlanFeaturePageSerializer(body).data, content_type="application/geo+json")


@extend_schema(parameters=[*PAGE_PARAMETERS, OpenApiParameter("code", str, description="only findings of this code")],
               responses={200: PlanFindingPageSerializer, **READ_ERRORS}, tags=["plans"])
@api_view(["GET"])
def plan_findings(request, plan_id: int):
    """Return a page of the plan's findings, one GeoJSON feature each at its location, in report order."""
    page = parse_page(request.query_params, default_size=100, max_size=1000)
    plan = selectors.plan_get(user=request.user, plan_id=plan_id)
    count, rows = selectors.plan_findings_page(plan, page, code=request.query_params.get("code") or None)
    body = {**page_links(request, page, count), "features": rows}
    return Response(PlanFindingPageSerializer(body).data, content_type="application/geo+json")
