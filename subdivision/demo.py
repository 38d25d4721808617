"""The demo workflow: the demo surveyor works for a demo surveying office, the demo planner plans every
municipality, both have e-mail addresses (the console backend prints what they are sent)."""

from __future__ import annotations

from datetime import date

from django.contrib.auth import get_user_model
from django.db import transaction

from parcels.models import Municipality
from subdivision.models import (
    ApprovalCalendar,
    Holiday,
    MunicipalityPlanner,
    OfficeMember,
    SlaCounting,
    SurveyingOffice,
)

DEMO_OFFICE = ("DEMO-SURVEY", "Demo Surveying Office", "مكتب المساحة التجريبي")
# Saudi Arabia's fixed-date public holidays (the two Eids follow the Hijri calendar: add them in the admin).
DEMO_HOLIDAYS = [
    (date(year, 2, 22), "Founding Day", "يوم التأسيس") for year in (2026, 2027)
] + [(date(year, 9, 23), "National Day", "اليوم الوطني") for year in (2026, 2027)]


@transaction.atomic
def demo_workflow_ensure() -> list[str]:
    """Give the demo accounts their office and municipalities; return what was added."""
    User = get_user_model()
    added = []
    code, name_en, name_ar = DEMO_OFFICE
    office, created = SurveyingOffice.objects.get_or_create(code=code, defaults={"name_en": name_en,
                                                                                  "name_ar": name_ar})
    if created:
        added.append(f"office {code}")
    users = {u.username: u for u in User.objects.filter(username__in=["surveyor", "planner"])}
    for user in users.values():
        if not user.email:
            user.email = f"{user.username}@example.org"
            user.save(update_fields=["email"])
    if "surveyor" in users:
        _, created = OfficeMember.objects.get_or_create(user=users["surveyor"], defaults={"office": office})
        if created:
            added.append(f"surveyor in {code}")
    if "planner" in users:
        for municipality in Municipality.objects.all():
            _, created = MunicipalityPlanner.objects.get_or_create(user=users["planner"], municipality=municipality)
            if created:
                added.append(f"planner of {municipality.code}")
            ApprovalCalendar.objects.get_or_create(municipality=municipality,
                                                   defaults={"counting": SlaCounting.WORKING})
            for day, name_en, name_ar in DEMO_HOLIDAYS:
                Holiday.objects.get_or_create(municipality=municipality, date=day,
                                              defaults={"name_en": name_en, "name_ar": name_ar})
    return added
