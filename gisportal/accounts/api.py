from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.response import Response

from gisportal.accounts.roles import ROLES, has_role


@extend_schema(
    responses=inline_serializer(
        "Me", {"username": serializers.CharField(), "roles": serializers.ListField(child=serializers.CharField())}
    )
)
@api_view(["GET"])
def me(request):
    """Return who the caller is and which roles they have."""
    return Response({"username": request.user.username, "roles": [r for r in ROLES if has_role(request.user, r)]})
