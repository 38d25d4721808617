"""The platform's roles, as Django groups, and the admin permissions each role's group holds."""

PLANNER = "planners"
SURVEYOR = "surveyors"
PARTNER = "partners"
ROLES = (PLANNER, SURVEYOR, PARTNER)

# Model permissions ("app_label.codename") given to each role's group, used by the admin.
# Planners keep the planning rule sets and read what the rules are checked against; parcels
# change only through imports and plans. Surveyors and partners work through the API only.
# A planner also needs "staff status" to enter the admin at all (the demo planner has it).
ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    PLANNER: (
        "subdivision.view_planningruleset",
        "subdivision.add_planningruleset",
        "subdivision.change_planningruleset",
        "subdivision.view_plan",
        "parcels.view_municipality",
        "parcels.view_district",
        "parcels.view_zoningdistrict",
        "parcels.view_street",
        "parcels.view_parcel",
        "parcels.view_parcelversion",
        "parcels.view_record",
    ),
    SURVEYOR: (),
    PARTNER: (),
}


def has_role(user, role: str) -> bool:
    """Return True when USER is active and in ROLE (superusers have every role)."""
    if not user or not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or user.groups.filter(name=role).exists()
