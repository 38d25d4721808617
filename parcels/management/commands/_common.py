"""What the import commands share: argument parsing and turning errors into one line."""

from __future__ import annotations

from django.core.management.base import CommandError

from parcels.models import Municipality


def parse_map(items: list[str]) -> dict[str, str]:
    mapping = {}
    for item in items or []:
        target, sep, source = item.partition("=")
        if not sep or not target or not source:
            raise CommandError(f"--map takes target=source, not {item!r}")
        mapping[target.strip()] = source.strip()
    return mapping


def get_municipality(code: str) -> Municipality:
    municipality = Municipality.objects.filter(code=code).first()
    if municipality is None:
        raise CommandError(f"no municipality {code!r}; pass --create-municipality to create it")
    return municipality
