"""Serve a tile from the cache, or render it and cache it: the one read path of the tile views."""

from __future__ import annotations

from layers.registry import Layer
from layers.tiles import cache, mvt
from layers.tiles.cache import CachedTile


def tile_for(source: str, layers: list[Layer], z: int, x: int, y: int) -> tuple[CachedTile, bool]:
    """Return tile Z/X/Y of SOURCE (a layer id or cache.PUBLIC) holding LAYERS, and whether the cache had it.

    Access is the caller's business, checked before this is called: only bytes are cached.
    """
    cached, seen = cache.tile_lookup(source, z, x, y)  # SEEN is read before rendering, as tile_put needs
    if cached is not None:
        return cached, True
    body = mvt.tile_render(layers, z, x, y)
    body_digest = cache.digest(body)
    cache.tile_put(source, z, x, y, body, seen_generation=seen, body_digest=body_digest)
    return CachedTile(body=body, etag=f'"{body_digest.hex()}"'), False
