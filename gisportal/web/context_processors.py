"""What every page's header needs: which navigation entries the signed-in user may use."""

from gisportal.accounts.roles import PLANNER, SURVEYOR, has_role


def navigation(request) -> dict:
    """Return the roles that decide the header's links (Plans, New plan, Dashboard)."""
    user = getattr(request, "user", None)
    is_planner = has_role(user, PLANNER)
    is_surveyor = has_role(user, SURVEYOR)
    return {
        "nav": {
            "plans": is_planner or is_surveyor,
            "new_plan": is_surveyor,
            "dashboard": is_planner,
        }
    }
