"""Import of reference layers (districts, zoning, streets, right-of-way, blocks) from any GDAL source.

A layer is replaced as a whole, in one transaction, and only when its content changed: re-importing
the same file changes nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import shapely
from django.conf import settings
from django.contrib.gis.db.models import Extent
from django.contrib.gis.geos import GEOSGeometry
from django.db import transaction

from gisportal import crs
from parcels.geometry import check_polygons
from parcels.layer_edits import whole_layer_replaced
from parcels.models import (
    Block,
    District,
    LayerImport,
    Municipality,
    Street,
    StreetRightOfWay,
    ZoningDistrict,
)
from parcels.signals import LayerChanged, layer_changed
from parcels.sources import SourceError, read_source
from parcels.values import number, text


@dataclass(frozen=True)
class LayerKind:
    model: type
    geometry: str  # "polygon" or "line"
    geom_field: str
    fields: dict[str, tuple[str, ...]]  # model field → source field aliases
    numeric: tuple[str, ...] = ()
    lists: tuple[str, ...] = ()


KINDS: dict[str, LayerKind] = {
    "districts": LayerKind(District, "polygon", "geom", {
        "code": ("code", "district", "district_code"), "name_en": ("name_en", "name"), "name_ar": ("name_ar",)}),
    "zoning": LayerKind(ZoningDistrict, "polygon", "geom", {
        "zone_code": ("zone_code", "zone", "zone_type", "zcode"), "name_en": ("name_en", "name"),
        "name_ar": ("name_ar",), "allowed_uses": ("allowed_uses", "uses")}, lists=("allowed_uses",)),
    "streets": LayerKind(Street, "line", "centreline", {
        "name_en": ("name_en", "name", "street_name", "street"), "name_ar": ("name_ar",),
        "row_width_m": ("width_m", "row_width_m", "width")}, numeric=("row_width_m",)),
    "street_rows": LayerKind(StreetRightOfWay, "polygon", "geom", {
        "name_en": ("name_en", "name", "type"), "width_m": ("width_m", "width")}, numeric=("width_m",)),
    "blocks": LayerKind(Block, "polygon", "geom", {
        "plan_no": ("plan_no", "plan"), "block_no": ("block_no", "block", "unq_id2", "unq_id")}),
}


@dataclass
class LayerSummary:
    kind: str
    read: int
    imported: int
    repaired: int
    rejected: int
    unchanged: bool

    def line(self) -> str:
        if self.unchanged:
            return f"{self.kind}: read {self.read}, unchanged (same content as the last import)"
        return (f"{self.kind}: read {self.read}, imported {self.imported}, repaired {self.repaired}, "
                f"rejected {self.rejected}")


def _lines(geoms: np.ndarray) -> list[tuple[object, str | None]]:
    out = []
    for geom in geoms:
        if geom is None or geom.is_empty:
            out.append((None, "empty geometry"))
        elif geom.geom_type == "LineString":
            out.append((shapely.MultiLineString([geom]), None))
        elif geom.geom_type == "MultiLineString":
            out.append((geom, None))
        else:
            out.append((None, f"geometry is a {geom.geom_type}, not a line"))
    return out


def _extent(checked) -> tuple[float, float, float, float] | None:
    geoms = [geom for geom, _, _ in checked if geom is not None]
    return tuple(map(float, shapely.total_bounds(geoms))) if geoms else None


def _announce(*, municipality: Municipality, kind: str, boxes) -> None:
    """Send layer_changed once the transaction commits: tile caches drop what covers BOXES."""
    change = LayerChanged(municipality_id=municipality.pk, municipality_code=municipality.code, kind=kind,
                          bboxes=tuple(tuple(map(float, box)) for box in boxes if box is not None))
    transaction.on_commit(lambda: layer_changed.send(sender=LayerImport, change=change))


def import_layer(*, kind: str, path: str, municipality: Municipality, layer: str | None = None,
                 srid: int | None = None, field_map: dict[str, str] | None = None) -> LayerSummary:
    """Replace MUNICIPALITY's layer KIND with the features of PATH, unless they are unchanged."""
    if kind not in KINDS:
        raise SourceError(f"unknown layer kind {kind!r}; kinds are: {', '.join(KINDS)}")
    spec = KINDS[kind]
    table = read_source(path, layer=layer, srid=srid, preferred_layers=(kind,))
    by_lower = {f.lower(): f for f in table.fields}
    mapping: dict[str, str] = {}
    for target, aliases in spec.fields.items():
        found = next((by_lower[a] for a in aliases if a in by_lower), None)
        if found:
            mapping[target] = found
    for target, source in (field_map or {}).items():
        if target not in spec.fields:
            raise SourceError(f"--map names an unknown target {target!r}; targets are: {', '.join(spec.fields)}")
        if source.lower() not in by_lower:
            raise SourceError(f"field {source!r} is not in layer {table.layer!r}; its fields are: "
                              f"{', '.join(table.fields)}")
        mapping[target] = by_lower[source.lower()]

    storage = settings.STORAGE_SRID
    geoms = crs.transform(table.geoms, table.srid, storage)
    if spec.geometry == "polygon":
        checked = [(c.geom, c.reason, c.repaired) for c in
                   check_polygons(geoms, srid=storage, metric_srid=municipality.metric_srid)]
    else:
        checked = [(g, reason, False) for g, reason in _lines(geoms)]

    objects, digest, repaired, rejected = [], hashlib.sha256(), 0, 0
    for i, (geom, reason, was_repaired) in enumerate(checked):
        if geom is None:
            rejected += 1
            continue
        repaired += was_repaired
        values = {}
        for target, source in mapping.items():
            raw = table.field(source)[i]
            if target in spec.numeric:
                values[target] = number(raw)
            elif target in spec.lists:
                values[target] = [v.strip() for v in text(raw).split(",") if v.strip()]
            else:
                values[target] = text(raw)
        wkb = shapely.to_wkb(geom)
        digest.update(repr(sorted(values.items())).encode() + wkb)
        objects.append(spec.model(municipality=municipality, **values,
                                  **{spec.geom_field: GEOSGeometry(memoryview(wkb), srid=storage)}))

    content = digest.hexdigest()
    summary = LayerSummary(kind, len(table), len(objects), repaired, rejected, unchanged=False)
    with transaction.atomic():
        last = LayerImport.objects.select_for_update().filter(municipality=municipality, kind=kind).first()
        if last is not None and last.content_digest == content:
            summary.unchanged = True
            summary.imported = 0
            return summary
        before = spec.model.objects.filter(municipality=municipality).aggregate(box=Extent(spec.geom_field))["box"]
        with whole_layer_replaced():  # announced once, below, not row by row
            spec.model.objects.filter(municipality=municipality).delete()
        spec.model.objects.bulk_create(objects, batch_size=2000)
        _announce(municipality=municipality, kind=kind, boxes=[before, _extent(checked)])
        LayerImport.objects.update_or_create(
            municipality=municipality, kind=kind,
            defaults={"content_digest": content, "source": path[:500], "features": len(objects)},
        )
    return summary
