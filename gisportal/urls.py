from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from gisportal.accounts.api import me
from gisportal.health import healthz

# Errors Django answers itself: JSON {code, detail} under /api/ and /healthz, HTML pages elsewhere.
handler400 = "gisportal.exception_handler.handler400"
handler403 = "gisportal.exception_handler.handler403"
handler404 = "gisportal.exception_handler.handler404"
handler500 = "gisportal.exception_handler.handler500"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(permission_classes=[]), name="schema"),
    # The split view serves Swagger UI's start-up script as a file (?script), so the page needs
    # no inline script under the Content-Security-Policy.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema", permission_classes=[]),
         name="api-docs"),
    # Redoc's page without its Google Fonts links: the docs are served from this server only.
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema", permission_classes=[],
                                                    template_name="gisportal/redoc.html"), name="api-redoc"),
    path("api/me/", me, name="me"),
    # The building-permit feed lives in subdivision (its rule sets); parcels imports nothing of it.
    path("api/parcels/<str:municipality>/<str:parcel_code>/", include("subdivision.permits.urls")),
    path("api/parcels/<str:municipality>/<str:parcel_code>/", include("subdivision.layout.urls")),
    path("api/parcels/", include("parcels.urls")),
    path("api/plans/", include("subdivision.urls")),
    path("api/stats/", include("subdivision.stats_urls")),
    path("", include("layers.urls")),
    path("i18n/", include("django.conf.urls.i18n")),  # set_language: the web pages' language switch
    # The web pages last: "/" is the map.
    path("", include("gisportal.web.urls")),
]
