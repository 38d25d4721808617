"""Partner keys and who may read which layer: the rules every protocol shares."""

import pytest
from django.core.management import CommandError, call_command
from django.test import RequestFactory

from gisportal.errors import (
    AuthenticationFailed,
    InvalidParameter,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
)
from layers.access import caller_for, check_layer, readable_layers
from layers.models import PartnerKey
from layers.registry import LAYERS, Access
from layers.services import partner_key_create, partner_key_revoke

pytestmark = pytest.mark.django_db
PUBLIC = {layer_id for layer_id, layer in LAYERS.items() if layer.access is Access.PUBLIC}


def _request(*, header=None, key=None, user=None):
    from django.contrib.auth.models import AnonymousUser

    params = {"key": key} if key is not None else {}
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    request = RequestFactory().get("/tiles/parcels/13/1/1.mvt", params, **extra)
    request.user = user or AnonymousUser()
    return request


def test_registry_declares_the_layers_of_each_access_level():
    assert {"municipalities", "districts", "streets", "zoning", "blocks", "parcels"} <= PUBLIC
    assert LAYERS["parcel_history"].access is Access.PARTNER
    assert LAYERS["plans"].access is Access.INTERNAL


def test_every_layer_reads_its_rows_with_its_declared_fields():
    for layer in LAYERS.values():
        qs = layer.queryset()
        list(qs.values(layer.id_field, layer.geometry_field, *[f.source for f in layer.fields])[:1])


def test_key_is_stored_as_a_digest_only():
    key = partner_key_create(organisation="WaterCo", layers=["parcels", "parcel_history"])
    stored = PartnerKey.objects.get()
    assert key not in (stored.digest, stored.prefix) and len(stored.digest) == 64
    assert key.startswith(stored.prefix) and len(stored.prefix) < len(key) // 3


def test_anonymous_reads_public_layers_and_gets_401_for_the_others():
    caller = caller_for(_request())
    assert caller.anonymous and set(caller.layers) == PUBLIC
    assert check_layer(caller, "parcels").id == "parcels"
    with pytest.raises(NotAuthenticated):
        check_layer(caller, "parcel_history")
    with pytest.raises(NotAuthenticated):
        check_layer(caller, "plans")
    with pytest.raises(NotFound):
        check_layer(caller, "no_such_layer")


@pytest.mark.parametrize("how", ["header", "query"])
def test_partner_key_grants_its_layers_only(how):
    key = partner_key_create(organisation="WaterCo", layers=["parcel_history"])
    request = _request(header=f"Bearer {key}") if how == "header" else _request(key=key)
    caller = caller_for(request)
    assert caller.kind == "partner" and caller.organisation == "WaterCo"
    assert check_layer(caller, "parcel_history").id == "parcel_history"
    with pytest.raises(PermissionDenied):
        check_layer(caller, "plans")
    assert [layer.id for layer in readable_layers(caller)] == [
        layer_id for layer_id in LAYERS if layer_id in PUBLIC | {"parcel_history"}]


def test_wrong_or_revoked_key_is_401_not_anonymous():
    key = partner_key_create(organisation="WaterCo", layers=["parcels"])
    with pytest.raises(AuthenticationFailed):
        caller_for(_request(key=key + "x"))
    assert partner_key_revoke(organisation="WaterCo") == 1
    with pytest.raises(AuthenticationFailed):
        caller_for(_request(header=f"Bearer {key}"))
    with pytest.raises(AuthenticationFailed):
        caller_for(_request(header="Basic dXNlcjpwYXNz"))


def test_planner_reads_internal_layers_surveyor_does_not(planner, surveyor):
    assert check_layer(caller_for(_request(user=planner)), "plans").id == "plans"
    with pytest.raises(PermissionDenied):
        check_layer(caller_for(_request(user=surveyor)), "plans")


def test_internal_and_unknown_layers_cannot_be_granted():
    with pytest.raises(InvalidParameter, match="plans"):
        partner_key_create(organisation="X", layers=["plans"])
    with pytest.raises(InvalidParameter, match="nope"):
        partner_key_create(organisation="X", layers=["parcels", "nope"])
    assert not PartnerKey.objects.exists()


def test_partner_key_command_prints_the_key_once_lists_and_revokes(capsys):
    call_command("partner_key", "create", "WaterCo", "--layers", "parcels,parcel_history")
    key = capsys.readouterr().out.strip()
    assert caller_for(_request(key=key)).organisation == "WaterCo"
    call_command("partner_key", "list")
    listing = capsys.readouterr().out
    assert "WaterCo" in listing and "parcels,parcel_history" in listing and key not in listing
    call_command("partner_key", "revoke", "WaterCo")
    assert "revoked 1" in capsys.readouterr().out
    with pytest.raises(CommandError, match="no active key"):
        call_command("partner_key", "revoke", "WaterCo")
    with pytest.raises(CommandError, match="unknown layer"):
        call_command("partner_key", "create", "X", "--layers", "nope")
