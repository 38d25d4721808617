"""Drop exactly the cached tiles that a data change touches, at every zoom, and no others.

Connected in ``LayersConfig.ready()``:

- ``parcels.signals.parcels_changed`` (parcels.services, the one writer of parcels): the layers
  built from parcels (``parcels``, ``parcel_history``) and the public tile, over the changed boxes;
- ``parcels.signals.layer_changed`` (parcels.layer_import): the layer of that kind;
- the saving or deleting of a subdivision plan: the ``plans`` layer over the plan's features.

Every signal arrives after its transaction committed, so a tile rendered afterwards sees the
change; ``cache.invalidate`` raises the source's generation first, so a rendering under way is
not stored (see layers/tiles/cache.py).
"""

from __future__ import annotations

import logging

from django.db import transaction

from gisportal.cache import REDIS_DOWN_ERRORS
from layers.registry import LAYERS, Access
from layers.tiles import cache
from layers.tiles.grid import Box
from layers.tiles.mvt import BUFFER, EXTENT

log = logging.getLogger(__name__)

# What changed → the layers built from it.
LAYERS_OF = {
    "parcels": ("parcels", "parcel_history"),
    "districts": ("districts",),
    "zoning": ("zoning",),
    "streets": ("streets",),
    "blocks": ("blocks",),
    "municipalities": ("municipalities",),
    "plans": ("plans",),
    "street_rows": (),  # right-of-way polygons feed the plan rules, no layer
}


def tiles_invalidate(*, layer_ids: tuple[str, ...], boxes: list[Box]) -> int:
    """Drop the cached tiles of LAYER_IDS, and of the public tile at their zooms, covering BOXES (EPSG:3857)."""
    boxes = [tuple(map(float, box)) for box in boxes if box is not None]
    if not boxes or not layer_ids:
        return 0
    margin = BUFFER / EXTENT
    dropped = 0
    public_zooms: set[int] = set()
    try:
        for layer_id in layer_ids:
            layer = LAYERS[layer_id]
            zooms = range(layer.min_zoom, layer.max_zoom + 1)
            dropped += cache.invalidate(layer_id, zooms=zooms, boxes=boxes, margin=margin)
            if layer.access is Access.PUBLIC:
                public_zooms.update(zooms)
        if public_zooms:
            dropped += cache.invalidate(cache.PUBLIC, zooms=range(min(public_zooms), max(public_zooms) + 1),
                                        boxes=boxes, margin=margin)
    except REDIS_DOWN_ERRORS as exc:
        # The cache cannot be reached, so it serves nothing either; a Redis that comes back with its
        # memory intact may hold stale tiles of these layers until they expire.
        log.error("tile cache not invalidated for %s: redis unreachable: %s", ",".join(layer_ids), exc)
        return 0
    log.info("tiles invalidated", extra={"layers": list(layer_ids), "boxes": len(boxes), "tiles": dropped})
    return dropped


def on_parcels_changed(sender, change, **kwargs) -> None:
    tiles_invalidate(layer_ids=LAYERS_OF["parcels"], boxes=list(change.bboxes))


def on_layer_changed(sender, change, **kwargs) -> None:
    tiles_invalidate(layer_ids=LAYERS_OF.get(change.kind, ()), boxes=list(change.bboxes))


def _plan_box(plan_id: int) -> Box | None:
    from django.contrib.gis.db.models import Extent

    from subdivision.models import PlanFeature

    return PlanFeature.objects.filter(plan_id=plan_id).aggregate(box=Extent("geom"))["box"]


def on_plan_saved(sender, instance, **kwargs) -> None:
    # After commit: a new plan's features are written after the plan row, in the same transaction.
    plan_id = instance.pk
    transaction.on_commit(lambda: tiles_invalidate(layer_ids=LAYERS_OF["plans"], boxes=[_plan_box(plan_id)]))


def on_plan_deleting(sender, instance, **kwargs) -> None:
    box = _plan_box(instance.pk)  # before the features are deleted with the plan
    transaction.on_commit(lambda: tiles_invalidate(layer_ids=LAYERS_OF["plans"], boxes=[box]))


def connect() -> None:
    """Connect the receivers (from LayersConfig.ready())."""
    from django.db.models.signals import post_save, pre_delete

    from parcels.signals import layer_changed, parcels_changed
    from subdivision.models import Plan

    parcels_changed.connect(on_parcels_changed, dispatch_uid="tiles.on_parcels_changed")
    layer_changed.connect(on_layer_changed, dispatch_uid="tiles.on_layer_changed")
    post_save.connect(on_plan_saved, sender=Plan, dispatch_uid="tiles.on_plan_saved")
    pre_delete.connect(on_plan_deleting, sender=Plan, dispatch_uid="tiles.on_plan_deleting")
