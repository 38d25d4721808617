"""Writes for the layer services: partner keys (created, listed, revoked)."""

from __future__ import annotations

import hashlib
import secrets

from django.db import transaction
from django.utils import timezone

from gisportal.errors import InvalidParameter
from layers.models import PartnerKey
from layers.registry import LAYERS, Access

KEY_PREFIX = "gpk_"  # recognisable in logs and secret scanners


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def grantable_layers() -> list[str]:
    """Layer ids a partner key may be granted (internal layers need a planner or admin)."""
    return [layer_id for layer_id, layer in LAYERS.items() if layer.access is not Access.INTERNAL]


@transaction.atomic
def partner_key_create(*, organisation: str, layers: list[str]) -> str:
    """Create a key for ORGANISATION granting LAYERS and return it; only its digest is kept."""
    organisation = organisation.strip()
    if not organisation or len(organisation) > 100:
        raise InvalidParameter("organisation: give a name of 1 to 100 characters")
    layers = list(dict.fromkeys(name.strip() for name in layers if name.strip()))
    if not layers:
        raise InvalidParameter("layers: give at least one layer id")
    unknown = [name for name in layers if name not in LAYERS]
    if unknown:
        raise InvalidParameter(f"layers: unknown layer(s) {', '.join(unknown)}; "
                               f"known: {', '.join(LAYERS)}")
    internal = [name for name in layers if name not in grantable_layers()]
    if internal:
        raise InvalidParameter(f"layers: {', '.join(internal)}: internal layers are not granted to partner keys")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    PartnerKey.objects.create(organisation=organisation, layers=layers, prefix=key[:12], digest=key_digest(key))
    return key


def partner_key_revoke(*, organisation: str) -> int:
    """Revoke every active key of ORGANISATION; return how many were revoked."""
    return PartnerKey.objects.filter(organisation=organisation, revoked_at__isnull=True).update(
        revoked_at=timezone.now())


def partner_key_lookup(key: str) -> PartnerKey | None:
    """Return the active key matching KEY, or None. Marks it used at most once a minute."""
    if not key.startswith(KEY_PREFIX) or len(key) > 200:
        return None
    found = PartnerKey.objects.filter(digest=key_digest(key), revoked_at__isnull=True).first()
    if found is not None:
        now = timezone.now()
        if found.last_used_at is None or (now - found.last_used_at).total_seconds() > 60:
            PartnerKey.objects.filter(pk=found.pk).update(last_used_at=now)
    return found
