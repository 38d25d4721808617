"""The layer services' URLs: vector tiles and styles, WFS 2.0, OGC API Features."""

from django.urls import include, path

urlpatterns = [
    path("", include("layers.tiles.urls")),
    path("wfs", include("layers.wfs.urls")),
    path("ogc", include("layers.ogc.urls")),
]
