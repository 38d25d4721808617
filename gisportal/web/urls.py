"""The web pages, included at "" after the API and layer URLs (gisportal/urls.py)."""

from django.templatetags.static import static
from django.urls import path, re_path
from django.views.generic import RedirectView

from gisportal.web import plan_views, views

app_name = "web"

urlpatterns = [
    # ---- the map, log-in and log-out: web1 ---------------------------------------------------
    path("", views.map_page, name="map"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("fonts/<str:fontstack>/<str:glyph_range>.pbf", views.glyphs, name="glyphs"),
    path("web/search/", views.search, name="search"),
    # Browsers ask for /favicon.ico on every page without a <link rel=icon> (JSON answers too).
    path("favicon.ico", RedirectView.as_view(url=static("web/favicon.svg"), permanent=True)),
]

# ---- plans pages and the dashboard: web2 (views in gisportal/web/plan_views.py) ------------
urlpatterns += [
    path("plans/", plan_views.plan_queue, name="plans"),
    re_path(r"^plans/new/?$", plan_views.plan_new, name="plan_new"),
    re_path(r"^plans/(?P<plan_id>[0-9]+)/?$", plan_views.plan_page, name="plan_detail"),
    re_path(r"^dashboard/?$", plan_views.dashboard, name="dashboard"),
]
