"""The tile cache in Redis, shared by every worker, and its exact invalidation.

Layout (every key carries the Django cache's prefix, ``gisportal.cache.cache_key``):

- ``tiles:{source}:{z}:{bx}:{by}``: a Redis hash holding the cached tiles of one block of
  BLOCK x BLOCK tiles at zoom z (bx = x // BLOCK, by = y // BLOCK); field ``{x}:{y}``, value the
  16-byte digest of the tile followed by its MVT bytes (empty for an empty tile). The hash is at
  once the cache and the index that invalidation reads, so an eviction (Redis runs allkeys-lru)
  can never drop the index of a tile that is still cached.
- ``tiles:gen:{source}``: a counter raised by every invalidation of SOURCE. A tile is stored only
  if the counter has not moved since its rendering began (a Lua script checks and writes at
  once), so a tile rendered from data read before a change is never cached after that change.

SOURCE is a layer id or ``_public`` (the tile of all public layers). Only bytes are cached, never
a decision about access: the views check the caller before every hit.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from gisportal.cache import REDIS_DOWN_ERRORS, cache_key, redis_client, warn_unreachable
from layers.tiles.grid import Box, in_range, range_size, tile_range

log = logging.getLogger(__name__)

BLOCK_SHIFT = 6  # blocks of 64 x 64 tiles: at most 4,096 tiles in one hash
TTL_S = 7 * 24 * 3600  # a block not written for a week expires (memory hygiene only: invalidation keeps tiles fresh)
DIRECT_DELETE_MAX = 64  # up to this many tiles of one block are deleted by name, beyond it the block is read
SCAN_ABOVE_BLOCKS = 4096  # a box spanning more blocks at one zoom than this: scan the cached blocks instead
PUBLIC = "_public"
UNREACHABLE = "unreachable"  # the generation read when Redis cannot be reached: nothing is then stored

_PUT = """
if (redis.call('GET', KEYS[2]) or '0') == ARGV[1] then
  redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
  redis.call('EXPIRE', KEYS[1], ARGV[4])
  return 1
end
return 0
"""
_put_script = None
# Which of KEYS exist, in one command (a pipeline of EXISTS costs more in the client than in Redis).
_EXISTING = """
local held = {}
for i, key in ipairs(KEYS) do held[i] = redis.call('EXISTS', key) end
return held
"""
EXISTS_BATCH = 5000


@dataclass(frozen=True)
class CachedTile:
    body: bytes
    etag: str


def digest(body: bytes) -> bytes:
    return hashlib.blake2b(body, digest_size=16).digest()


def etag_of(body: bytes) -> str:
    """Return the strong ETag of a tile: a hash of its bytes."""
    return f'"{digest(body).hex()}"'


def _block_key(source: str, z: int, bx: int, by: int) -> str:
    return cache_key(f"tiles:{source}:{z}:{bx}:{by}")


def _gen_key(source: str) -> str:
    return cache_key(f"tiles:gen:{source}")


def tile_lookup(source: str, z: int, x: int, y: int) -> tuple[CachedTile | None, str]:
    """Return the cached tile Z/X/Y of SOURCE (or None) and SOURCE's generation, in one round trip.

    Give the generation to tile_put after rendering a missing tile: a change committed meanwhile
    voids the put. When Redis is unreachable: (None, "unreachable"), and nothing is stored.
    """
    try:
        pipe = redis_client().pipeline(transaction=False)
        pipe.hget(_block_key(source, z, x >> BLOCK_SHIFT, y >> BLOCK_SHIFT), f"{x}:{y}")
        pipe.get(_gen_key(source))
        stored, gen = pipe.execute()
    except REDIS_DOWN_ERRORS as exc:
        warn_unreachable("tile get", exc)
        return None, UNREACHABLE
    tile = None if stored is None else CachedTile(body=stored[16:], etag=f'"{stored[:16].hex()}"')
    return tile, gen.decode() if gen is not None else "0"


def queue_tile_get(pipe, source: str, z: int, x: int, y: int) -> None:
    """Queue the read of tile Z/X/Y of SOURCE on PIPE (a Redis pipeline); tile_from() reads its result."""
    pipe.hget(_block_key(source, z, x >> BLOCK_SHIFT, y >> BLOCK_SHIFT), f"{x}:{y}")


def tile_from(stored: bytes | None) -> CachedTile | None:
    """Return the cached tile of a stored hash value (digest + bytes), or None for a miss."""
    return None if stored is None else CachedTile(body=stored[16:], etag=f'"{stored[:16].hex()}"')


def tile_get(source: str, z: int, x: int, y: int) -> CachedTile | None:
    """Return the cached tile Z/X/Y of SOURCE, or None (also when Redis is unreachable)."""
    return tile_lookup(source, z, x, y)[0]


def generation(source: str) -> str:
    """Return SOURCE's invalidation counter (it moves on every invalidation of SOURCE)."""
    try:
        value = redis_client().get(_gen_key(source))
    except REDIS_DOWN_ERRORS as exc:
        warn_unreachable("tile generation", exc)
        return UNREACHABLE
    return value.decode() if value is not None else "0"


def tile_put(source: str, z: int, x: int, y: int, body: bytes, *, seen_generation: str,
             body_digest: bytes | None = None) -> bool:
    """Cache BODY as tile Z/X/Y of SOURCE unless SOURCE was invalidated since SEEN_GENERATION was read."""
    global _put_script
    if seen_generation == UNREACHABLE:
        return False
    client = redis_client()
    if _put_script is None:
        _put_script = client.register_script(_PUT)  # EVALSHA, loading the script when Redis lacks it
    try:
        return bool(_put_script(keys=[_block_key(source, z, x >> BLOCK_SHIFT, y >> BLOCK_SHIFT), _gen_key(source)],
                                args=[seen_generation, f"{x}:{y}", (body_digest or digest(body)) + body, TTL_S], client=client))
    except REDIS_DOWN_ERRORS as exc:
        warn_unreachable("tile put", exc)
        return False


def invalidate(source: str, *, zooms: range, boxes: list[Box], margin: float) -> int:
    """Drop SOURCE's cached tiles at ZOOMS that a tile buffered by MARGIN shares with any of BOXES.

    Boxes are EPSG:3857. Return how many cached tiles were dropped. The cost is bounded at every
    zoom: the blocks a box spans are named when they are few, and the cached blocks are scanned
    when the box spans more of them than SCAN_ABOVE_BLOCKS; inside a block, a few tiles are
    deleted by name, more are matched against the block's cached fields.
    """
    client = redis_client()
    client.incr(_gen_key(source))  # first: a rendering already under way must not store its tile
    dropped = 0
    for z in zooms:
        ranges = [tile_range(box, z, margin=margin) for box in boxes]
        ranges = [r for r in ranges if range_size(r)]
        if ranges:
            dropped += _invalidate_zoom(client, source, z, ranges)
    return dropped


def _invalidate_zoom(client, source: str, z: int, ranges: list[tuple[int, int, int, int]]) -> int:
    # Per block: the tile ranges (clipped to the block) to drop from it.
    per_block: dict[tuple[int, int], list[tuple[int, int, int, int]]] = {}
    for r in ranges:
        bx0, by0, bx1, by1 = (v >> BLOCK_SHIFT for v in r)
        if (bx1 - bx0 + 1) * (by1 - by0 + 1) > SCAN_ABOVE_BLOCKS:
            for bx, by in _cached_blocks(client, source, z):
                if bx0 <= bx <= bx1 and by0 <= by <= by1:
                    per_block.setdefault((bx, by), []).append(r)
            continue
        for bx in range(bx0, bx1 + 1):
            for by in range(by0, by1 + 1):
                per_block.setdefault((bx, by), []).append(r)

    # Only the blocks that hold tiles: after a city-wide change most of the blocks its boxes span at
    # high zooms were never rendered, and naming their tiles is most of the work. A block cached
    # after this check holds tiles rendered after the generation moved: fresh.
    keys = {block: _block_key(source, z, *block) for block in per_block}
    cached = {block for block, held in zip(keys, _existing(client, list(keys.values()))) if held}

    named: dict[str, list[str]] = {}
    to_read: list[tuple[str, list]] = []
    for (bx, by), block_ranges in per_block.items():
        if (bx, by) not in cached:
            continue
        key = keys[(bx, by)]
        size = 1 << BLOCK_SHIFT
        clipped = [(max(r[0], bx * size), max(r[1], by * size), min(r[2], (bx + 1) * size - 1),
                    min(r[3], (by + 1) * size - 1)) for r in block_ranges]
        if sum(range_size(c) for c in clipped) <= DIRECT_DELETE_MAX:
            named[key] = sorted({f"{x}:{y}" for c in clipped for x in range(c[0], c[2] + 1)
                                 for y in range(c[1], c[3] + 1)})
        else:
            to_read.append((key, clipped))

    if to_read:
        pipe = client.pipeline(transaction=False)
        for key, _ in to_read:
            pipe.hkeys(key)
        for (key, clipped), fields in zip(to_read, pipe.execute()):
            hits = []
            for field in fields:
                x, y = (int(v) for v in field.decode().split(":"))
                if any(in_range(x, y, c) for c in clipped):
                    hits.append(field)
            if hits:
                named[key] = hits
    if not named:
        return 0
    pipe = client.pipeline(transaction=False)
    for key, fields in named.items():
        pipe.hdel(key, *fields)
    return sum(pipe.execute())


def _existing(client, keys: list[str]) -> list[int]:
    """Return 1 for each of KEYS that exists, else 0."""
    script = client.register_script(_EXISTING)
    held: list[int] = []
    for i in range(0, len(keys), EXISTS_BATCH):
        held += script(keys=keys[i:i + EXISTS_BATCH], client=client)
    return held


def _cached_blocks(client, source: str, z: int):
    prefix = _block_key(source, z, 0, 0).rsplit(":", 2)[0] + ":"
    for key in client.scan_iter(match=prefix + "*", count=1000):
        bx, by = key.decode()[len(prefix):].split(":")
        yield int(bx), int(by)


def clear(source: str | None = None) -> int:
    """Drop every cached tile (of SOURCE, or of all sources); return how many blocks were dropped."""
    from gisportal.cache import delete_prefixed

    pattern = f"tiles:{source}:*" if source else "tiles:*"
    dropped = delete_prefixed(pattern)
    return dropped
