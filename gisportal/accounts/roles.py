"""The platform's roles, as Django groups."""

PLANNER = "planners"
SURVEYOR = "surveyors"
PARTNER = "partners"
ROLES = (PLANNER, SURVEYOR, PARTNER)


def has_role(user, role: str) -> bool:
    """Return True when USER is active and in ROLE (superusers have every role)."""
    if not user or not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or user.groups.filter(name=role).exists()
