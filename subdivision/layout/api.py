"""POST /api/parcels/{municipality}/{parcel_code}/layout/: a proposed compliant layout (thin view)."""
from __future__ import annotations

import json

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view, parser_classes, permission_classes
from rest_framework.parsers import JSONParser
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from gisportal.accounts.roles import PLANNER, SURVEYOR, has_role
from gisportal.errors import BadRequest, InvalidParameter
from gisportal.serializers import error_responses

from .serializers import LayoutRequestSerializer, LayoutSerializer
from .service import layout_propose, parse_targets

MAX_BODY_BYTES = 4096


class LayoutDesigners(BasePermission):
    """Planners, surveyors and staff; DRF answers 401 to anonymous callers and 403 to others."""

    message = "a proposed layout is for planners, surveyors and staff"

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not user or not user.is_authenticated or not user.is_active:
            return False
        return user.is_staff or has_role(user, PLANNER) or has_role(user, SURVEYOR)


@extend_schema(operation_id="parcels_layout", request=LayoutRequestSerializer,
               responses={200: LayoutSerializer, **error_responses(400, 401, 403, 404, 409, 422)},
               tags=["plans"])
@api_view(["POST"])
@permission_classes([LayoutDesigners])
@parser_classes([JSONParser])  # the body is read once, below; this names its type for the schema
def parcel_layout(request, municipality: str, parcel_code: str):
    """Propose a plan for the parcel (roads joined to the streets, lots meeting every rule, open space) that
    the validator passes; 422 with the reasons when none is found."""
    declared = int(request.META.get("CONTENT_LENGTH") or 0)
    if declared > MAX_BODY_BYTES:
        raise InvalidParameter(f"body: {declared:,} bytes, over the {MAX_BODY_BYTES:,}-byte limit for layout targets")
    body = request.body[:MAX_BODY_BYTES + 1]
    if len(body) > MAX_BODY_BYTES:
        raise InvalidParameter(f"body: over the {MAX_BODY_BYTES:,}-byte limit for layout targets")
    try:
        data = json.loads(body) if body.strip() else {}
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("body: not JSON") from None
    targets = parse_targets(data)
    answer = layout_propose(municipality=municipality, parcel_code=parcel_code, targets=targets)
    return Response(LayoutSerializer(answer).data)
