"""Partner API keys: an organisation's key grants it a set of layers. Only a digest is stored."""

from django.contrib.postgres.fields import ArrayField
from django.db import models


class PartnerKey(models.Model):
    organisation = models.CharField(max_length=100, help_text="The partner organisation holding the key")
    layers = ArrayField(models.CharField(max_length=64), help_text="Layer ids the key may read")
    prefix = models.CharField(max_length=12, help_text="First characters of the key, to recognise it")
    digest = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the key")
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["organisation", "-created_at"]
        indexes = [models.Index(fields=["organisation"], name="partnerkey_org_idx")]

    def __str__(self) -> str:
        return f"{self.organisation} {self.prefix}…"

    @property
    def active(self) -> bool:
        return self.revoked_at is None
