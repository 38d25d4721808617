"""OGC API Features at /ogc (layers/urls.py mounts this module at the prefix "ogc", without a slash)."""

from django.urls import include, path, re_path

from layers.ogc import views

resources = [
    path("", views.landing),
    path("api", views.api, name="api"),
    path("conformance", views.conformance, name="conformance"),
    path("collections", views.collections, name="collections"),
    path("collections/<str:collection_id>", views.collection, name="collection"),
    path("collections/<str:collection_id>/queryables", views.queryables, name="queryables"),
    path("collections/<str:collection_id>/items", views.items, name="items"),
    path("collections/<str:collection_id>/items/<str:feature_id>", views.item, name="item"),
    # Anything else under /ogc/: 404 in the OGC API exception format.
    re_path(r"^(?P<rest>.*)$", views.not_found),
]

urlpatterns = [
    path("", views.landing, name="landing"),
    path("/", include(resources)),
]
