"""Single edits of the reference layers (the admin, a shell) announce themselves like imports do.

``import_layer`` replaces a whole layer and sends ``layer_changed`` itself. A district, zoning
district, street, block or municipality boundary saved or deleted one at a time sends the same
signal after commit, with boxes (EPSG:3857) around its geometry before and after, so tile caches
drop exactly what the edit touched. Connected in ParcelsConfig.ready().
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar

from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_save

from parcels.models import Block, District, Municipality, Street, ZoningDistrict
from parcels.signals import LayerChanged, layer_changed

# Model -> (the layer kind announced, its geometry field).
EDITED = {
    District: ("districts", "geom"),
    ZoningDistrict: ("zoning", "geom"),
    Street: ("streets", "centreline"),
    Block: ("blocks", "geom"),
    Municipality: ("municipalities", "boundary"),
}


_replacing: ContextVar[bool] = ContextVar("replacing_layer", default=False)


@contextmanager
def whole_layer_replaced():
    """Within it, single-row signals stay silent: import_layer announces the whole layer once."""
    token = _replacing.set(True)
    try:
        yield
    finally:
        _replacing.reset(token)


def _box(geom) -> tuple[float, float, float, float] | None:
    return None if geom is None or geom.empty else tuple(map(float, geom.extent))


def _announce(sender, instance, boxes) -> None:
    if _replacing.get():
        return
    kind, _field = EDITED[sender]
    boxes = tuple(box for box in boxes if box is not None)
    if not boxes:
        return
    municipality = instance if sender is Municipality else instance.municipality
    change = LayerChanged(municipality_id=municipality.pk, municipality_code=municipality.code, kind=kind,
                          bboxes=boxes)
    transaction.on_commit(lambda: layer_changed.send(sender=sender, change=change))


def _remember_old(sender, instance, raw=False, **kwargs) -> None:
    _kind, field = EDITED[sender]
    instance._old_layer_box = None
    if instance.pk is not None and not raw and not _replacing.get():
        old = sender.objects.filter(pk=instance.pk).values_list(field, flat=True).first()
        instance._old_layer_box = _box(old)


def _saved(sender, instance, raw=False, **kwargs) -> None:
    if raw:  # fixtures: no cache to refresh
        return
    _kind, field = EDITED[sender]
    _announce(sender, instance, (getattr(instance, "_old_layer_box", None), _box(getattr(instance, field))))


def _deleted(sender, instance, **kwargs) -> None:
    _kind, field = EDITED[sender]
    _announce(sender, instance, (_box(getattr(instance, field)),))


def connect() -> None:
    for model in EDITED:
        uid = f"parcels.layer_edits.{model.__name__}"
        pre_save.connect(_remember_old, sender=model, dispatch_uid=uid + ".pre")
        post_save.connect(_saved, sender=model, dispatch_uid=uid + ".post")
        post_delete.connect(_deleted, sender=model, dispatch_uid=uid + ".del")
