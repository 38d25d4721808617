from rest_framework import authentication, exceptions

from gisportal.accounts.services import api_token_user


class HashedTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Token <token>`, checked against the stored SHA-256 digests."""

    keyword = "Token"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
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
