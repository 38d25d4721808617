"""Partner keys in the Django admin: listed, searched and revoked; never shown, edited or added here.

A key is created with ``manage.py partner_key create`` (it prints the key once); the admin has
no add form because a page that shows a secret once is easy to get wrong (caches, history,
screenshots) and the command already does it. The digest is neither shown nor editable.
Revoking keeps the row, so the key's history (created, last used, revoked) stays readable.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils import timezone

from layers.models import PartnerKey


@admin.register(PartnerKey)
class PartnerKeyAdmin(admin.ModelAdmin):
    list_display = ("organisation", "prefix_shown", "layers_shown", "created_at", "last_used_at", "revoked_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("organisation", "prefix")
    ordering = ("organisation", "-created_at")
    fields = ("organisation", "prefix_shown", "layers_shown", "created_at", "last_used_at", "revoked_at")
    readonly_fields = fields
    actions = ("revoke",)

    @admin.display(description="key prefix", ordering="prefix")
    def prefix_shown(self, key: PartnerKey) -> str:
        return f"{key.prefix}…"

    @admin.display(description="layers")
    def layers_shown(self, key: PartnerKey) -> str:
        return ", ".join(key.layers)

    @admin.action(description="Revoke selected keys", permissions=["change"])
    def revoke(self, request, queryset):
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, f"{count} key(s) revoked; they are refused from now on.", messages.SUCCESS)

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # revoke instead: the row is the key's history
