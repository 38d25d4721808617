from axes.backends import AxesStandaloneBackend
from rest_framework import authentication, exceptions
from rest_framework.permissions import AllowAny

from gisportal.accounts.services import api_token_user


def _view_is_public(request) -> bool:
    """Return True when the DRF view answering REQUEST lets anyone in (no permission but AllowAny)."""
    view = (getattr(request, "parser_context", None) or {}).get("view")
    if view is None:
        return False
    return all(isinstance(permission, AllowAny) for permission in view.get_permissions())


class HashedTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Token <token>`, checked against the stored SHA-256 digests.

    On a public view (the schema, the docs) a bad token is ignored and the caller is anonymous:
    credentials are refused only where they are needed.
    """

    keyword = "Token"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        try:
            return self._authenticate_header(header)
        except exceptions.AuthenticationFailed:
            if _view_is_public(request):
                return None
            raise

    def _authenticate_header(self, header: list[bytes]):
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Invalid token header: expected 'Token <token>'.")
        try:
            token = header[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed("Invalid token header: the token is not ASCII.") from None
        user = api_token_user(token)
        if user is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked token.")
        return (user, token)

    def authenticate_header(self, request):
        return self.keyword


class LoginThrottleBackend(AxesStandaloneBackend):
    """django-axes' lock-out check for every log-in made through a web request.

    authenticate() without a request (Django's test client login, scripts) cannot come from a
    guessing client; axes would refuse it with an error, this lets the next backend decide.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
