"""The map page, log-in and log-out, the glyphs of the map's labels and the map's search (thin views)."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import views as auth_views
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from gisportal.web import glyphs as glyph_files
from gisportal.web import selectors


def _map_strings() -> dict[str, str]:
    """Return the words the map's script shows, in the active language."""
    return {
        "parcel": _("Parcel"), "street": _("Street"), "plan": _("Plan"), "no_results": _("Nothing found."),
        "results": _("%(count)s found."), "searching": _("Searching…"), "too_short": _("Type at least 2 characters."),
        "municipality": _("Municipality"), "plan_no": _("Plan number"), "block_no": _("Block"),
        "parcel_no": _("Parcel number"), "land_use": _("Land use"), "zone": _("Zone"), "area": _("Area"),
        "perimeter": _("Perimeter"), "frontage": _("Frontage"), "depth": _("Depth"), "edges": _("Edges"),
        "district": _("District"), "valid_from": _("Valid from"), "retired": _("Retired"),
        "zoning": _("Zoning"), "lineage": _("Lineage"), "parents": _("Came from"), "children": _("Became"),
        "none": _("none"), "site_report": _("Site report (PDF)"), "open_plan": _("Open the plan"),
        "login_for_more": _("Log in to see the measurements, the lineage and the site report."),
        "loading": _("Loading…"), "load_failed": _("Could not load this parcel."),
        "fly_to": _("Show %(code)s on the map"),
        "m": _("m"), "m2": _("m²"),
        "layer_parcels": _("Parcels"), "layer_blocks": _("Blocks"), "layer_streets": _("Streets"),
        "layer_zoning": _("Zoning"), "layer_districts": _("Districts"),
        "legend_land_use": _("Parcels by land use"), "legend_zoning": _("Zoning"),
        "residential": _("Residential"), "commercial": _("Commercial"), "mixed": _("Mixed use"),
        "industrial": _("Industrial"), "public_facility": _("Public facility"), "open_space": _("Open space"),
        "road": _("Road"), "other": _("Other"),
        "zone_R": _("Residential zone"), "zone_C": _("Commercial zone"), "zone_M": _("Mixed-use zone"),
        "zone_I": _("Industrial zone"), "zone_P": _("Public and open space zone"),
        "today": _("Today"), "as_of": _("Parcels as of %(date)s"), "current": _("The parcels as they are today."),
        "zoom_in_past": _("Zoom in to see the parcels of a past date."),
        "past_count": _("%(count)s parcels as of %(date)s."), "past_more": _("(only the first 1,000 shown)"),
        "past_failed": _("Could not load the parcels of that date."),
    }


@require_GET
def map_page(request):
    """Return the city map."""
    today = timezone.localdate()
    # At least a year back, so the slider can show the city before its parcels were recorded too.
    first = min(selectors.first_parcel_date() or today, today - timedelta(days=365))
    lang = "ar" if (get_language() or "").startswith("ar") else "en"
    return render(request, "web/map.html", {"map_config": {
        "lang": lang,
        "style": f"{reverse('styles-default')}?lang={lang}",
        "maplibre": static("web/vendor/maplibre-gl.mjs"),
        "rtlPlugin": static("web/vendor/mapbox-gl-rtl-text.js"),
        "search": reverse("web:search"),
        "parcelsApi": "/api/parcels/",
        "plansPage": "/plans/",
        "signedIn": request.user.is_authenticated,
        "extent": selectors.map_extent(),
        "firstDate": first.isoformat(),
        "today": today.isoformat(),
        "t": _map_strings(),
    }})


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    template_name = "web/logged_out.html"


@require_GET
def glyphs(request, fontstack: str, glyph_range: str):
    """Return one range of 256 glyphs of FONTSTACK as a PBF of signed distance fields; 404 when absent."""
    path = glyph_files.glyph_path(fontstack=fontstack, glyph_range=glyph_range)
    if path is None:
        raise Http404(f"no glyphs {fontstack}/{glyph_range}")
    response = FileResponse(path.open("rb"), content_type="application/x-protobuf")
    response["Cache-Control"] = "public, max-age=86400"
    return response


@require_GET
def search(request):
    """Return parcels, streets and (for those who may see them) plans matching ``q``, with boxes to fly to."""
    text = request.GET.get("q", "")[:100]
    return JsonResponse({"results": selectors.search(user=request.user, text=text)})
