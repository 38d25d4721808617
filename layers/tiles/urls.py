"""URLs of the tile service: vector tiles, TileJSON, the map style.

z/x/y are matched loosely and parsed in the view, so a bad one is a 400 naming it, not a 404.
"""

from django.urls import path, re_path

from layers.tiles import views

urlpatterns = [
    path("tiles/public.json", views.public_tilejson, name="tiles-public-tilejson"),
    re_path(r"^tiles/(?P<z>[^/]+)/(?P<x>[^/]+)/(?P<y>[^/]+)\.mvt$", views.public_tile, name="tiles-public"),
    re_path(r"^tiles/(?P<layer>[^/]+)/(?P<z>[^/]+)/(?P<x>[^/]+)/(?P<y>[^/]+)\.mvt$", views.layer_tile,
            name="tiles-layer"),
    re_path(r"^tiles/(?P<layer>[^/]+)\.json$", views.layer_tilejson, name="tiles-tilejson"),
    path("styles/default.json", views.default_style, name="styles-default"),
]
