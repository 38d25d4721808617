"""Writes for accounts: API tokens and demo accounts."""

from __future__ import annotations

import hashlib
import secrets

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from gisportal.accounts.models import ApiToken
from gisportal.accounts.roles import PARTNER, PLANNER, ROLE_PERMISSIONS, ROLES, SURVEYOR

DEMO_PASSWORD = "demo-password"
DEMO_ACCOUNTS = {"admin": None, "planner": PLANNER, "surveyor": SURVEYOR, "partner": PARTNER}


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def api_token_create(*, user, name: str = "") -> str:
    """Create an API token for USER and return it; only its digest is stored."""
    token = secrets.token_urlsafe(32)
    ApiToken.objects.create(user=user, name=name, prefix=token[:8], digest=token_digest(token))
    return token


def api_token_user(token: str):
    """Return the active user owning TOKEN, or None."""
    api_token = (
        ApiToken.objects.select_related("user")
        .filter(digest=token_digest(token), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if api_token is None:
        return None
    now = timezone.now()
    if api_token.last_used_at is None or (now - api_token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=api_token.pk).update(last_used_at=now)
    return api_token.user


@transaction.atomic
def roles_ensure() -> None:
    """Create the role groups that are missing and give each the permissions of ROLE_PERMISSIONS.

    Permissions are only added: one granted by hand in the admin is kept.
    """
    wanted = {name for names in ROLE_PERMISSIONS.values() for name in names}
    app_labels = sorted({name.split(".", 1)[0] for name in wanted})
    # During the first migrate Django has not yet made the permissions of the apps after this one.
    for app_label in app_labels:
        create_permissions(apps.get_app_config(app_label), verbosity=0)
    found = {
        f"{p.content_type.app_label}.{p.codename}": p
        for p in Permission.objects.select_related("content_type").filter(content_type__app_label__in=app_labels)
    }
    missing = sorted(wanted - set(found))
    if missing:
        raise ImproperlyConfigured(f"ROLE_PERMISSIONS names unknown permissions: {', '.join(missing)}")
    for role in ROLES:
        group, _ = Group.objects.get_or_create(name=role)
        group.permissions.add(*(found[name] for name in ROLE_PERMISSIONS.get(role, ())))


@transaction.atomic
def demo_accounts_ensure() -> list[str]:
    """Create the demo accounts that are missing; return the names created."""
    roles_ensure()
    User = get_user_model()
    created = []
    for username, role in DEMO_ACCOUNTS.items():
        user, was_created = User.objects.get_or_create(
            username=username,
            defaults={"is_staff": username in ("admin", "planner"), "is_superuser": username == "admin"},
        )
        if was_created:
            user.set_password(DEMO_PASSWORD)
            user.save()
            created.append(username)
        if role:
            user.groups.add(Group.objects.get(name=role))
    return created
