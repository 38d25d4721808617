"""The plan API: upload and validate subdivision plans, read them back with their findings."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.decorators import api_view, parser_classes
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from gisportal.pagination import page_links, parse_page
from gisportal.params import parse_choice, parse_positive_int
from gisportal.serializers import error_responses
from subdivision import fixes, selectors, services, transitions, versions
from subdivision.diff_serializers import VersionDiffSerializer
from subdivision.models import PlanStatus
from subdivision.plan_files import FileTooLarge
from subdivision.serializers import (
    PlanActionSerializer,
    PlanCreatedSerializer,
    PlanDetailSerializer,
    PlanEventSerializer,
    PlanFeaturePageSerializer,
    PlanFindingPageSerializer,
    PlanFixActionSerializer,
    PlanPageSerializer,
    PlanResubmitSerializer,
    PlanUploadSerializer,
    PlanValidateSerializer,
    PlanVersionDetailSerializer,
    PlanVersionSerializer,
)
from subdivision.stats import clocks_for

UPLOAD_FORM = {"multipart/form-data": PlanUploadSerializer}
UPLOAD_ERRORS = error_responses(400, 401, 403, 404, 413, 415, 422)
READ_ERRORS = error_responses(400, 401, 403, 404)
ACTION_ERRORS = error_responses(400, 401, 403, 404, 409)
PAGE_PARAMETERS = [OpenApiParameter("page", int), OpenApiParameter("page_size", int)]
VERSION_PARAMETER = OpenApiParameter("version", int, description="a version of the plan; the current one when absent")
LIST_PARAMETERS = [
    *PAGE_PARAMETERS,
    OpenApiParameter("status", str, description="only plans in this status"),
    OpenApiParameter("municipality", str, description="only plans of this municipality (code)"),
    OpenApiParameter("overdue", bool, description="true: only open plans past their municipality's target"),
]


def _checked_form(request, form_class) -> dict:
    """Return the checked fields of a multipart upload form; an oversized file is refused before reading."""
    declared = int(request.META.get("CONTENT_LENGTH") or 0)
    limit = settings.PLAN_UPLOAD_MAX_BYTES
    if declared > limit + 64 * 1024:  # refuse before reading the body; the form fields need a little room
        raise FileTooLarge(f"file: the upload is {declared:,} bytes, over the {limit:,}-byte limit")
    form = form_class(data=request.data)
    form.is_valid(raise_exception=True)
    fields = form.validated_data
    upload = fields["file"]
    if upload.size > limit:
        raise FileTooLarge(f"file: {upload.name!r} is {upload.size:,} bytes, over the {limit:,}-byte limit")
    return fields


def _upload_arguments(request) -> dict:
    """Return the checked upload fields of a multipart request."""
    fields = _checked_form(request, PlanUploadSerializer)
    upload = fields["file"]
    return {
        "upload": upload, "filename": upload.name or "upload", "municipality": fields["municipality"],
        "parents": fields["parents"], "srid": fields["srid"], "land_use": fields["land_use"] or "residential",
        **_cad_arguments(fields),
    }


def _cad_arguments(fields: dict) -> dict:
    """Return the DXF reading options of a checked upload form (layer mapping, label layers, units)."""
    return {"dxf_layers": fields.get("dxf_layers"), "label_layers": fields.get("label_layers"),
            "units": fields.get("units")}


def _plan_answer(request, plan_id: int) -> Response:
    """Answer the plan as its detail shows it to the caller."""
    plan = selectors.plan_get(user=request.user, plan_id=plan_id)
    plan.history_events = list(selectors.plan_events(plan))
    context = {"clocks": clocks_for([plan], timezone.now()), "actions": selectors.actions_for(request.user, plan)}
    return Response(PlanDetailSerializer(plan, context=context).data)


@extend_schema(operation_id="plans_create", request=UPLOAD_FORM,
               responses={201: PlanCreatedSerializer, **UPLOAD_ERRORS}, tags=["plans"], methods=["POST"])
@extend_schema(operation_id="plans_list", parameters=LIST_PARAMETERS,
               responses={200: PlanPageSerializer, **READ_ERRORS}, tags=["plans"], methods=["GET"])
@api_view(["GET", "POST"])
@parser_classes([MultiPartParser])
def plan_list(request):
    """GET: the plans you may see (summaries only), newest first, with their SLA clock; filter by status,
    municipality, overdue. POST: upload a plan; it is validated and stored as a draft of your office."""
    if request.method == "POST":
        arguments = _upload_arguments(request)
        plan = services.plan_create(user=request.user, title=request.data.get("title") or arguments["filename"],
                                    **arguments)
        return Response(PlanCreatedSerializer(plan).data, status=201)
    params = request.query_params
    page = parse_page(params, default_size=50, max_size=500)
    now = timezone.now()
    plans = selectors.plan_list(request.user, status=parse_choice("status", params.get("status"),
                                                                  set(PlanStatus.values)),
                                municipality=params.get("municipality") or None,
                                overdue=parse_choice("overdue", params.get("overdue"), {"true", "false"}), now=now)
    results = list(plans[page.start:page.stop])
    body = {**page_links(request, page, plans.count()), "results": results}
    return Response(PlanPageSerializer(body, context={"clocks": clocks_for(results, now)}).data)


FIX_PARAMETER = OpenApiParameter(
    "fix", str, enum=["snap"],
    description="snap: also apply every suggested correction; the report then carries corrections_applied, "
                "corrected_report and file: {name, media_type, srid, base64}, the corrected plan in the format "
                "uploaded")


@extend_schema(request=UPLOAD_FORM, parameters=[FIX_PARAMETER], tags=["plans"],
               responses={200: PlanValidateSerializer, **UPLOAD_ERRORS})
@api_view(["POST"])
@parser_classes([MultiPartParser])
def plan_validate(request):
    """Validate an uploaded plan and answer its report; nothing is stored. With ?fix=snap, answer the report,
    the plan with its suggested corrections applied as a file in the format uploaded, and that file's report."""
    fix = parse_choice("fix", request.query_params.get("fix"), {"snap"})
    arguments = _upload_arguments(request)
    if fix:
        return Response(PlanValidateSerializer(fixes.plan_validate_fixed(user=request.user, **arguments)).data)
    return Response(PlanValidateSerializer(services.plan_validate(user=request.user, **arguments)).data)


@extend_schema(request=PlanFixActionSerializer,
               responses={200: PlanDetailSerializer, **ACTION_ERRORS, **error_responses(422)}, tags=["plans"])
@api_view(["POST"])
@parser_classes([JSONParser, FormParser, MultiPartParser])
def plan_fix(request, plan_id: int):
    """Store the plan's current version with every suggested correction applied as a new version (the plan's
    surveying office; drafts and returned plans only, 409 otherwise or when nothing is correctable). The
    status does not change; the history records a "fix"."""
    form = PlanFixActionSerializer(data=request.data)
    form.is_valid(raise_exception=True)
    fixes.plan_fix(user=request.user, plan_id=plan_id, comment=form.validated_data.get("comment") or "")
    return _plan_answer(request, plan_id)


@extend_schema(responses={200: PlanDetailSerializer, **READ_ERRORS}, tags=["plans"])
@api_view(["GET"])
def plan_detail(request, plan_id: int):
    """Return a plan, its report (at most 50 findings of each code; page through all at findings/), its
    history, its SLA clock and the workflow actions you may take on it now."""
    return _plan_answer(request, plan_id)


@extend_schema(request=PlanActionSerializer,
               responses={200: PlanDetailSerializer, **ACTION_ERRORS}, tags=["plans"])
@api_view(["POST"])
@parser_classes([JSONParser, FormParser, MultiPartParser])
def plan_act(request, plan_id: int, action: str):
    """Move the plan on: submit, assign, return, approve, reject or withdraw (comment required to return and
    reject). 409 when the plan's status does not allow it, or, for submit and approve, when the plan no
    longer validates against the parcels as they are now (the answer carries that report). Approval turns
    the plan's lots, roads and open spaces into parcels and retires its parents, in one transaction."""
    form = PlanActionSerializer(data=request.data)
    form.is_valid(raise_exception=True)
    transitions.plan_act(user=request.user, plan_id=plan_id, action=action, **form.validated_data)
    return _plan_answer(request, plan_id)


@extend_schema(request={"multipart/form-data": PlanResubmitSerializer},
               responses={200: PlanDetailSerializer, **ACTION_ERRORS, **error_responses(413, 415, 422)},
               tags=["plans"])
@api_view(["POST"])
@parser_classes([MultiPartParser])
def plan_resubmit(request, plan_id: int):
    """Upload a new version of a returned plan; with no errors it goes back to the municipality."""
    fields = _checked_form(request, PlanResubmitSerializer)
    upload = fields["file"]
    transitions.plan_resubmit(user=request.user, plan_id=plan_id, upload=upload, filename=upload.name or "upload",
                              srid=fields["srid"], parents=fields.get("parents") or None,
                              title=fields.get("title") or None, comment=fields.get("comment"),
                              **_cad_arguments(fields))
    return _plan_answer(request, plan_id)


@extend_schema(responses={200: PlanEventSerializer(many=True), **READ_ERRORS}, tags=["plans"])
@api_view(["GET"])
def plan_history(request, plan_id: int):
    """Return the plan's history, oldest first: every transition, who made it, when, and why."""
    plan = selectors.plan_get(user=request.user, plan_id=plan_id)
    return Response(PlanEventSerializer(selectors.plan_events(plan), many=True).data)


@extend_schema(responses={200: PlanVersionSerializer(many=True), **READ_ERRORS}, tags=["plans"])
@api_view(["GET"])
def plan_versions(request, plan_id: int):
    """Return the plan's versions (every uploaded file and the summary of its report), oldest first."""
    plan = selectors.plan_get(user=request.user, plan_id=plan_id)
    return Response(PlanVersionSerializer(selectors.plan_versions(plan), many=True).data)


@extend_schema(responses={200: PlanVersionDetailSerializer, **READ_ERRORS}, tags=["plans"])
@api_view(["GET"])
def plan_version(request, plan_id: int, number: int):
    """Return one version of the plan with its report."""
    plan = selectors.plan_get(user=request.user, plan_id=plan_id)
    return Response(PlanVersionDetailSerializer(selectors.plan_version_get(plan, number)).data)


@extend_schema(responses={200: VersionDiffSerializer, **READ_ERRORS}, tags=["plans"])
@api_view(["GET"])
def plan_version_diff(request, plan_id: int, number: int):
    """Return what changed from version NUMBER - 1 to NUMBER: lots added, removed and reshaped (area before
    and after, the changed area as geometry), other features changed, findings resolved and new."""
    plan = selectors.plan_get(user=request.user, plan_id=plan_id)
    return Response(VersionDiffSerializer(versions.version_diff(plan, number)).data)


def _version_param(request, plan) -> int:
    return parse_positive_int("version", request.query_params.get("version"), plan.version, plan.version)


@extend_schema(parameters=[*PAGE_PARAMETERS, VERSION_PARAMETER],
               responses={200: PlanFeaturePageSerializer, **READ_ERRORS}, tags=["plans"])
@api_view(["GET"])
def plan_features(request, plan_id: int):
    """Return a page of the plan's lots, roads and open spaces as GeoJSON, with the codes of their findings."""
    page = parse_page(request.query_params, default_size=1000, max_size=5000)
    plan = selectors.plan_get(user=request.user, plan_id=plan_id)
    count, rows = selectors.plan_features_page(plan, page, version=_version_param(request, plan))
    body = {**page_links(request, page, count), "features": rows}
    return Response(PlanFeaturePageSerializer(body).data, content_type="application/geo+json")


@extend_schema(parameters=[*PAGE_PARAMETERS, VERSION_PARAMETER,
                           OpenApiParameter("code", str, description="only findings of this code")],
               responses={200: PlanFindingPageSerializer, **READ_ERRORS}, tags=["plans"])
@api_view(["GET"])
def plan_findings(request, plan_id: int):
    """Return a page of the plan's findings, one GeoJSON feature each at its location, in report order."""
    page = parse_page(request.query_params, default_size=100, max_size=1000)
    plan = selectors.plan_get(user=request.user, plan_id=plan_id)
    count, rows = selectors.plan_findings_page(plan, page, code=request.query_params.get("code") or None,
                                               version=_version_param(request, plan))
    body = {**page_links(request, page, count), "features": rows}
    return Response(PlanFindingPageSerializer(body).data, content_type="application/geo+json")
