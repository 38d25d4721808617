"""The building-permit feed: a parcel's site report (JSON and a one-page PDF sketch) and the footprint check.

Thin views: parse, load the site (selectors), measure (report), draw (sketch), answer.
"""

from __future__ import annotations

import json
import math

from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.decorators import (
    api_view,
    parser_classes,
    permission_classes,
    renderer_classes,
)
from rest_framework.parsers import JSONParser
from rest_framework.permissions import BasePermission
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response

from gisportal import crs
from gisportal.accounts.roles import PARTNER, PLANNER, SURVEYOR, has_role
from gisportal.errors import InvalidParameter
from gisportal.serializers import error_responses
from subdivision.permits import footprint_input, report, selectors
from subdivision.permits.fonts import sketch_fonts
from subdivision.permits.serializers import (
    FootprintCheckSerializer,
    FootprintRequestSerializer,
    SiteReportSerializer,
)
from subdivision.permits.sketch import SketchShapes, draw_sketch

# A footprint farther than this from its parcel is a wrong CRS or swapped axes, not a design.
FOOTPRINT_FAR_M = 1000.0


class _RolePermission(BasePermission):
    """Signed in with one of ROLES, or staff; DRF answers 401 to anonymous callers and 403 to others."""

    roles: tuple[str, ...] = ()
    message = "this needs a planner or surveyor"

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not user or not user.is_authenticated or not user.is_active:
            return False
        return user.is_staff or any(has_role(user, role) for role in self.roles)


class SiteReaders(_RolePermission):
    roles = (PLANNER, SURVEYOR, PARTNER)
    message = "the site report is for planners, surveyors, partners and staff"


class FootprintCheckers(_RolePermission):
    roles = (PLANNER, SURVEYOR)
    message = "the footprint check is for planners, surveyors and staff"


class PDFRenderer(BaseRenderer):
    """Lets a client ask for application/pdf; errors on the way are still answered as JSON."""

    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, (bytes, bytearray)):
            return bytes(data)
        response = (renderer_context or {}).get("response")
        if response is not None:
            response["Content-Type"] = "application/json"
        return json.dumps(data, ensure_ascii=False).encode("utf-8")


READ_ERRORS = error_responses(401, 403, 404, 409)


@extend_schema(operation_id="parcels_site_report", responses={200: SiteReportSerializer, **READ_ERRORS},
               tags=["building permits"])
@api_view(["GET"])
@permission_classes([SiteReaders])
def site_report(request, municipality: str, parcel_code: str):
    """Return what a building permit needs about an active parcel, measured in the metric CRS."""
    site = selectors.site_get(municipality=municipality, parcel_code=parcel_code)
    facts = report.site_facts(site, today=timezone.localdate())
    return Response(SiteReportSerializer(facts.report).data)


@extend_schema(operation_id="parcels_site_report_pdf",
               parameters=[OpenApiParameter("format", exclude=True)],
               responses={(200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY,
                                                                   description="one A4 page, Arabic and English"),
                          # Errors are JSON whatever the client accepts.
                          **{(status, "application/json"): answer
                             for status, answer in {**READ_ERRORS, **error_responses(500)}.items()}},
               tags=["building permits"])
@api_view(["GET"])
@permission_classes([SiteReaders])
@renderer_classes([JSONRenderer, PDFRenderer])
def site_report_pdf(request, municipality: str, parcel_code: str):
    """Return the parcel sketch (كروكي): one A4 PDF page with the site report's facts."""
    fonts = sketch_fonts()
    site = selectors.site_get(municipality=municipality, parcel_code=parcel_code)
    facts = report.site_facts(site, today=timezone.localdate())
    shapes = SketchShapes(parcel=site.geom, neighbours=site.neighbours, streets=site.streets,
                          street_rows=site.street_rows, edges=facts.edges, buildable=facts.buildable)
    pdf = draw_sketch(report=facts.report, shapes=shapes, fonts=fonts)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="site-report-{municipality}-{parcel_code}.pdf"'
    return response


@extend_schema(operation_id="parcels_footprint_check", request=FootprintRequestSerializer,
               parameters=[OpenApiParameter("srid", int, description="EPSG code of the footprint (default 4326)")],
               responses={200: FootprintCheckSerializer, **error_responses(400, 401, 403, 404, 409)},
               tags=["building permits"])
@api_view(["POST"])
@permission_classes([FootprintCheckers])
@parser_classes([JSONParser])  # the body is read once, by footprint_input; this names its type for the schema
def footprint_check(request, municipality: str, parcel_code: str):
    """Check a proposed building footprint against the parcel's setbacks and coverage limit."""
    declared = int(request.META.get("CONTENT_LENGTH") or 0)
    if declared > footprint_input.MAX_BODY_BYTES:
        raise InvalidParameter(f"body: {declared:,} bytes, over the {footprint_input.MAX_BODY_BYTES:,}-byte limit "
                               "for a footprint")
    site = selectors.site_get(municipality=municipality, parcel_code=parcel_code)
    data = footprint_input.parse_body(request.body)
    srid = footprint_input.srid_from(data, request.query_params.get("srid"))
    geometry = footprint_input.footprint_geometry(footprint_input.geometry_of(data), srid=srid)
    footprint = crs.transform(geometry, srid, site.metric_srid)
    distance = footprint.distance(site.geom)
    if not math.isfinite(distance) or distance > FOOTPRINT_FAR_M:
        if not math.isfinite(distance):
            raise InvalidParameter(f"geometry: the footprint cannot be placed in EPSG:{site.metric_srid}: "
                                   f"is its CRS right (EPSG:{srid})?")
        raise InvalidParameter(f"geometry: the footprint lies {distance / 1000:,.1f} km from parcel {parcel_code!r}: "
                               f"is its CRS right (EPSG:{srid}), or are longitude and latitude swapped?")
    return Response(FootprintCheckSerializer(report.footprint_answer(site, footprint)).data)
