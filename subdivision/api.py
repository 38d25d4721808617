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
from parcels.queries import parse_positive_int
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
    """GET: the plans you may see. POST: upload a plan; it is validated and stored as a draft."""
    if request.method == "POST":
        arguments = _upload_arguments(request)
        plan = services.plan_create(user=request.user, title=request.data.get("title") or arguments["filename"],
                                    **arguments)
        return Response({"id": plan.pk, "status": plan.status, "report": plan.report}, status=201)
    plans = selectors.plans_visible_to(request.user)
    page = parse_positive_int("page", request.query_params.get("page"), 1)
    size = parse_positive_int("page_size", request.query_params.get("page_size"), 50, 500)
    count = plans.count()
    items = plans[(page - 1) * size: page * size]
    base = request.build_absolute_uri(request.path)
    return Response({
        "count": count,
        "next": f"{base}?page={page + 1}&page_size={size}" if page * size < count else None,
        "previous": f"{base}?page={page - 1}&page_size={size}" if page > 1 else None,
        "results": [selectors.plan_json(p, with_report=False) for p in items],
    })


@extend_schema(request={"multipart/form-data": UPLOAD_FORM}, responses={200: OpenApiTypes.OBJECT}, tags=["plans"])
@api_view(["POST"])
@parser_classes([MultiPartParser])
def plan_validate(request):
    """Validate an uploaded plan and answer its report; nothing is stored."""
    return Response(services.plan_validate(user=request.user, **_upload_arguments(request)))


@extend_schema(responses={200: OpenApiTypes.OBJECT}, tags=["plans"])
@api_view(["GET"])
def plan_detail(request, plan_id: int):
    """Return a plan and its validation report."""
    return Response(selectors.plan_json(selectors.plan_get(user=request.user, plan_id=plan_id)))


@extend_schema(responses={200: OpenApiTypes.OBJECT}, tags=["plans"])
@api_view(["GET"])
def plan_features(request, plan_id: int):
    """Return the plan's lots, roads and open spaces as GeoJSON, with their findings."""
    plan = selectors.plan_get(user=request.user, plan_id=plan_id)
    return Response(selectors.plan_features_geojson(plan), content_type="application/geo+json")


@extend_schema(responses={200: OpenApiTypes.OBJECT}, tags=["plans"])
@api_view(["GET"])
def plan_findings(request, plan_id: int):
    """Return one GeoJSON feature per finding, at its location."""
    plan = selectors.plan_get(user=request.user, plan_id=plan_id)
    return Response(selectors.plan_findings_geojson(plan), content_type="application/geo+json")
