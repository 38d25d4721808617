"""E-mail about a plan's progress, in English and Arabic in one message, sent once the transition commits.

Who hears what: the plan's surveyor when it is returned, approved or rejected; the municipality's
planners when it is submitted or resubmitted. Django's e-mail backend sends it (console in
development, SMTP through the EMAIL_* settings); a failure to send is logged, never undoes the step.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction

from subdivision.models import MunicipalityPlanner, Plan

logger = logging.getLogger(__name__)

TO_SURVEYOR = {"return", "approve", "reject"}
TO_PLANNERS = {"submit", "resubmit"}

WHAT = {
    "submit": ("was submitted for review", "قُدّم للمراجعة"),
    "resubmit": ("was resubmitted (version {version})", "أعيد تقديمه (الإصدار {version})"),
    "return": ("was returned to you for changes", "أعيد إليك لإجراء تعديلات"),
    "approve": ("was approved as plan {plan_number}", "اعتُمد برقم المخطط {plan_number}"),
    "reject": ("was rejected", "رُفض"),
}


def recipients(plan: Plan, action: str) -> list[str]:
    """Return the e-mail addresses to tell about ACTION on PLAN (users without an address are skipped)."""
    if action in TO_SURVEYOR:
        users = [plan.submitted_by]
    elif action in TO_PLANNERS:
        ids = MunicipalityPlanner.objects.filter(municipality=plan.municipality_id).values_list("user_id", flat=True)
        users = list(get_user_model().objects.filter(pk__in=ids, is_active=True))
    else:
        return []
    return sorted({u.email for u in users if u.email})


def message(plan: Plan, action: str, comment: str) -> tuple[str, str]:
    """Return (subject, body) of the e-mail, English first, then Arabic."""
    en, ar = (text.format(version=plan.version, plan_number=plan.plan_number or "") for text in WHAT[action])
    url = f"{settings.PUBLIC_URL.rstrip('/')}/api/plans/{plan.pk}/"
    subject = f"Plan {plan.pk} {en} / المخطط {plan.pk} {ar}"
    lines = [
        f"Plan {plan.pk} \u201c{plan.title}\u201d ({plan.municipality.code}) {en}.",
        *([f"Comment: {comment}"] if comment else []),
        f"See it at {url}",
        "",
        f"المخطط {plan.pk} \u00ab{plan.title}\u00bb ({plan.municipality.name_ar or plan.municipality.code}) {ar}.",
        *([f"الملاحظات: {comment}"] if comment else []),
        f"التفاصيل: {url}",
    ]
    return subject, "\n".join(lines)


def notify_on_commit(plan: Plan, action: str, comment: str = "") -> None:
    """Send the e-mail for ACTION once the surrounding transaction commits."""
    if action not in TO_SURVEYOR | TO_PLANNERS:
        return
    to = recipients(plan, action)
    if not to:
        return
    subject, body = message(plan, action, comment)

    def send() -> None:
        try:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, to)
        except Exception:  # noqa: BLE001 - the plan moved; a mail server down must not say otherwise
            logger.exception("could not send the e-mail about plan %s (%s)", plan.pk, action)

    transaction.on_commit(send)
