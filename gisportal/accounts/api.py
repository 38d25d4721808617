from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view
from rest_framework.response import Response

from gisportal.accounts.roles import ROLES, has_role
from gisportal.accounts.serializers import MeSerializer
from gisportal.serializers import error_responses


@extend_schema(responses={200: MeSerializer, **error_responses(401)})
@api_view(["GET"])
def me(request):
    """Return who the caller is and which roles they have."""
    roles = [r for r in ROLES if has_role(request.user, r)]
    return Response(MeSerializer({"username": request.user.username, "roles": roles}).data)
