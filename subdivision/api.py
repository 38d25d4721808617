"""The plan API: upload and validate subdivision plans, read them back with their findings."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view, parser_classes
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from gisportal.errors import InvalidParameter, PlatformError
from gisportal.pagination import page_links, parse_page
from subdivision import selectors, services

UPLOAD_FORM = inline_serializer("PlanUpload", {
    "file": serializers.FileField(help_text="GeoJSON, zipped Shapefile, GeoPackage, KML/KMZ or DXF"),
    "municipality": serializers.CharField(),
    "parents": serializers.CharField(help_text="parent parcel codes, comma-separated"),
    "title": serializers.CharField(required=False),
    "srid": serializers.IntegerField(required=False, help_text="EPSG code, only when the file has no CRS"),
    "land_use": serializers.CharField(required=False, default="residential"),
})


class UploadTooLarge(PlatformError):
    http_status = 413
    code = "PLAN_FILE_TOO_LARGE"


def _upload_arguments(request) -> dict:
    """Return the checked upload fields of a multipart request."""
    declared = int(request.META.get("CONTENT_LENGTH") or 0)
    limit = settings.PLAN_UPLOAD_MAX_BYTES
    if declared > limit + 64 * 1024:  # refuse before reading the body; the form fields need a little room
        raise UploadTooLarge(f"file: the upload is {declared:,} bytes, over the {limit:,}-byte limit")
    upload = request.FILES.get("file")
    if upload is None:
        raise InvalidParameter("file: attach the plan file as multipart field 'file'")
    if upload.size > limit:
        raise UploadTooLarge(f"file: {upload.name!r} is {upload.size:,} bytes, over the {limit:,}-byte limit")
    raw_srid = request.data.get("srid")
    srid = None
    if raw_srid not in (None, ""):
        try:
            srid = int(raw_srid)
        except ValueError:
            raise InvalidParameter(f"srid: expected an EPSG code, got {raw_srid!r}") from None
    return {
        "upload": upload, "filename": upload.name or "upload", "municipality": request.data.get("municipality", ""),
        "parents": request.data.get("parents", ""), "srid": srid,
        "land_use": request.data.get("land_use") or "residential",
    }


@extend_schema(operation_id="plans_create", request={"multipart/form-data": UPLOAD_FORM},
               responses={201: OpenApiTypes.OBJECT}, tags=["plans"], methods=["POST"])
@extend_schema(operation_id="plans_list", parameters=[OpenApiParameter("page", int), OpenApiParameter("page_size", int)],
               responses={200: OpenApiTypes.OBJECT}, tags=["plans"], methods=["GET"])
@api_view(["GET", "POST"])
@parser_classes([MultiPartParser])
def plan_list(request):
    """GET: the plans you may see (summaries only). POST: upload a plan; it is validated and stored as a draft."""
    if request.method == "POST":
        arguments = _upload_arguments(request)
        plan = services.plan_create(user=request.user, title=request.data.get("title") or arguments["filename"],
                                    **arguments)
        return Response({"id": plan.pk, "status": plan.status, "report": plan.report}, status=201)
    page = parse_page(request.query_params, default_size=50, max_size=500)
    plans = selectors.plan_list(request.user)
    count = plans.count()
    return Response({**page_links(request, page, count),
                     "results": [selectors.plan_json(p, with_report=False) for p in plans[page.start:page.stop]]})


@extend_schema(request={"multipart/form-data": UPLOAD_FORM}, responses={200: OpenApiTypes.OBJECT}, tags=["plans"])
@api_view(["POST"])
@parser_classes([MultiPartParser])
def plan_validate(request):
    """Validate an uploaded plan and answer its report; nothing is stored."""
    return Response(services.plan_validate(user=request.user, **_upload_arguments(request)))


@extend_schema(responses={200: OpenApiTypes.OBJECT}, tags=["plans"])
@api_view(["GET"])
def plan_detail(request, plan_id: int):
    """Return a plan and its report (at most 50 findings of each code; page through all at findings/)."""
    return Response(selectors.plan_json(selectors.plan_get(user=request.user, plan_id=plan_id)))


@extend_schema(parameters=[OpenApiParameter("page", int), OpenApiParameter("page_size", int)],
               responses={200: OpenApiTypes.OBJECT}, tags=["plans"])
@api_view(["GET"])
def plan_features(request, plan_id: int):
    """Return a page of the plan's lots, roads and open spaces as GeoJSON, with the codes of their findings."""
    page = parse_page(request.query_params, default_size=1000, max_size=5000)
    plan = selectors.plan_get(user=request.user, plan_id=plan_id)
    count, features = selectors.plan_features_page(plan, page)
    return Response({"type": "FeatureCollection", **page_links(request, page, count), "features": features},
                    content_type="application/geo+json")


@extend_schema(parameters=[OpenApiParameter("page", int), OpenApiParameter("page_size", int),
                           OpenApiParameter("code", str, description="only findings of this code")],
               responses={200: OpenApiTypes.OBJECT}, tags=["plans"])
@api_view(["GET"])
def plan_findings(request, plan_id: int):
    """Return a page of the plan's findings, one GeoJSON feature each at its location, in report order."""
    page = parse_page(request.query_params, default_size=100, max_size=1000)
    plan = selectors.plan_get(user=request.user, plan_id=plan_id)
    count, features = selectors.plan_findings_page(plan, page, code=request.query_params.get("code") or None)
    return Response({"type": "FeatureCollection", **page_links(request, page, count), "features": features},
                    content_type="application/geo+json")
