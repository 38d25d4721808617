"""TileJSON 3.0.0 documents of the layers' tiles (https://github.com/mapbox/tilejson-spec/tree/master/3.0.0)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.core.cache import cache as django_cache

from layers.bounds import layer_bounds
from layers.registry import Layer
from layers.tiles import cache as tile_cache
from layers.tiles import mvt

TILEJSON_VERSION = "3.0.0"
WORLD_BOUNDS = [-180.0, -85.0511287798066, 180.0, 85.0511287798066]
BOUNDS_TTL_S = 3600  # layers without a change signal (municipalities) get fresh bounds within the hour
FIELD_TYPES = {"string": "String", "number": "Number", "integer": "Number", "boolean": "Boolean",
               "date-time": "String"}  # MVT values carry no date type: ISO 8601 text in UTC


def layer_bounds_cached(layer: Layer) -> list[float] | None:
    """Return layer_bounds(LAYER) from the shared cache, computed again after any change to the layer.

    The key carries the layer's tile generation, which every invalidation of the layer moves.
    """
    key = f"tiles:bounds:{layer.id}:{tile_cache.generation(layer.id)}"
    found = django_cache.get(key)
    if found is None:
        found = layer_bounds(layer) or []
        django_cache.set(key, found, timeout=BOUNDS_TTL_S)
    return found or None


def _union(boxes: list[list[float] | None]) -> list[float]:
    boxes = [b for b in boxes if b]
    if not boxes:
        return WORLD_BOUNDS
    return [min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes)]


def vector_layer(layer: Layer) -> dict:
    return {
        "id": layer.id,
        "description": layer.title_en,
        "minzoom": layer.min_zoom,
        "maxzoom": layer.max_zoom,
        "fields": {field.name: FIELD_TYPES.get(field.type, "String") for field in layer.fields},
    }


def _tiles_url(request, path: str) -> str:
    """Return the absolute tile URL template under PATH; a caller that authenticates with ?key= (tile
    clients that cannot set headers) gets it in the template too (their own key, in a private answer)."""
    url = request.build_absolute_uri(path) + "{z}/{x}/{y}.mvt"
    key = request.GET.get("key")
    return f"{url}?{urlencode({'key': key})}" if key else url


def _document(*, name: str, description: str, tiles: str, layers: list[Layer], bounds: list[float]) -> dict:
    minzoom = min((layer.min_zoom for layer in layers), default=0)
    maxzoom = max((layer.max_zoom for layer in layers), default=22)
    centre_zoom = max(minzoom, min(maxzoom, 14))
    return {
        "tilejson": TILEJSON_VERSION,
        "name": name,
        "description": description,
        "scheme": "xyz",
        "tiles": [tiles],
        "minzoom": minzoom,
        "maxzoom": maxzoom,
        "bounds": bounds,
        "center": [round((bounds[0] + bounds[2]) / 2, 7), round((bounds[1] + bounds[3]) / 2, 7), centre_zoom],
        "vector_layers": [vector_layer(layer) for layer in layers],
    }


def layer_tilejson(layer: Layer, *, request) -> dict:
    """Return the TileJSON of LAYER's own tiles, with URLs absolute from REQUEST and bounds from the data."""
    return _document(name=layer.id, description=f"{layer.title_en} / {layer.title_ar}",
                     tiles=_tiles_url(request, f"/tiles/{layer.id}/"), layers=[layer],
                     bounds=_union([layer_bounds_cached(layer)]))


def public_tilejson(*, request) -> dict:
    """Return the TileJSON of the tile of all public layers (/tiles/{z}/{x}/{y}.mvt)."""
    layers = mvt.public_layers()
    return _document(name="public", description="All public layers / جميع الطبقات العامة",
                     tiles=_tiles_url(request, "/tiles/"), layers=layers,
                     bounds=_union([layer_bounds_cached(layer) for layer in layers]))
