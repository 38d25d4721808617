"""Who is calling a layer service, and which layers they may read.

Every protocol (tiles, WFS, OGC API Features) asks the same two questions through this module:

    caller = caller_for(request)          # 401 AuthenticationFailed for a wrong key or token
    check_layer(caller, "parcels")        # 404 unknown, 401 no credentials, 403 not granted

A partner key comes as ``Authorization: Bearer <key>`` or ``?key=<key>`` (tile clients often
cannot set headers). A user comes with a session or an API token (``Authorization: Bearer`` or
``Token``). Public layers need nothing; partner layers need a key that grants them, or a staff
user (planner, admin); internal layers need a planner or an admin.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gisportal.accounts.roles import PLANNER, has_role
from gisportal.accounts.services import api_token_user
from gisportal.errors import (
    AuthenticationFailed,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
)
from layers.registry import LAYERS, Access, Layer
from layers.services import KEY_PREFIX, partner_key_lookup


@dataclass(frozen=True)
class Caller:
    """The caller of a layer service. KIND is anonymous, partner or user; IDENTITY names them in
    throttle counters and logs (never the key itself)."""

    kind: str
    identity: str
    layers: frozenset[str] = field(default_factory=frozenset)  # every layer readable
    organisation: str = ""

    @property
    def anonymous(self) -> bool:
        return self.kind == "anonymous"


def _credential(request) -> str | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() in ("bearer", "token") and value.strip():
            return value.strip()
        raise AuthenticationFailed("Authorization: use 'Bearer <key>'")
    key = request.GET.get("key")
    if key is not None:
        return key.strip()
    return None


def _readable(*, partner_layers=(), staff: bool = False) -> frozenset[str]:
    readable = {layer_id for layer_id, layer in LAYERS.items() if layer.access is Access.PUBLIC}
    readable.update(layer_id for layer_id in partner_layers if layer_id in LAYERS
                    and LAYERS[layer_id].access is not Access.INTERNAL)
    if staff:
        readable.update(LAYERS)
    return frozenset(readable)


def caller_for(request) -> Caller:
    """Return the caller of REQUEST; a key or token that is given and wrong is a 401, never anonymous."""
    credential = _credential(request)
    if credential is not None:
        if credential.startswith(KEY_PREFIX):
            key = partner_key_lookup(credential)
            if key is None:
                raise AuthenticationFailed("the key is unknown or revoked")
            return Caller(kind="partner", identity=f"key:{key.pk}", organisation=key.organisation,
                          layers=_readable(partner_layers=key.layers))
        user = api_token_user(credential)
        if user is None:
            raise AuthenticationFailed("the key or token is unknown or revoked")
        return _user_caller(user)
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.is_active:
        return _user_caller(user)
    return Caller(kind="anonymous", identity="anonymous", layers=_readable())


def _user_caller(user) -> Caller:
    staff = user.is_superuser or has_role(user, PLANNER)
    return Caller(kind="user", identity=f"user:{user.pk}", layers=_readable(staff=staff))


def check_layer(caller: Caller, layer_id: str) -> Layer:
    """Return the layer LAYER_ID if CALLER may read it: 404 unknown, 401 without credentials, 403 not granted."""
    layer = LAYERS.get(layer_id)
    if layer is None:
        raise NotFound(f"layer {layer_id!r} does not exist")
    if layer_id in caller.layers:
        return layer
    if caller.anonymous:
        raise NotAuthenticated(f"layer {layer_id!r} needs a partner key or a signed-in planner")
    raise PermissionDenied(f"your credentials do not grant layer {layer_id!r}")


def readable_layers(caller: Caller) -> list[Layer]:
    """The layers CALLER may read, in registry order (for capabilities and collection lists)."""
    return [layer for layer_id, layer in LAYERS.items() if layer_id in caller.layers]
